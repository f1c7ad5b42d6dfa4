/**
 * Builds what Lambda hands a function behind API Gateway HTTP API or a Function URL: the payload 2.0 event for an
 * HTTP request, and a context object with Lambda's fields.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { lambdaLogGroup } from '../functions/contract/aws-names.js';
import { DEFAULT_FUNCTION_VERSION, LAMBDA_ENV, LOCAL_MEMORY_MB } from '../functions/contract/env.js';

/**
 * Whether a body arrives as text in the event: a text content type (or none) and valid UTF-8. Anything else arrives
 * base64-encoded, as API Gateway does it; a JSON string cannot carry bytes that are not UTF-8, so such a body is
 * never decoded as text (Triton's HTTP client sends binary tensor data without a content type).
 */
export function arrivesAsText(contentType: string | undefined, body: Buffer): boolean {
  return isTextContent(contentType) && isUtf8(body);
}

/** Bodies of these types arrive as text; anything else arrives base64-encoded, as API Gateway does it. */
export function isTextContent(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/x-www-form-urlencoded'
  );
}

export interface RequestLike {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion?: string;
  readonly socket?: { readonly remoteAddress?: string | undefined };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time` as API Gateway writes it: `27/Nov/2026:12:00:00 +0000`. */
export function requestTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/** A payload 2.0 event as API Gateway builds one (a simulation of API Gateway): lower-cased headers joined by commas, cookies split out, body as a string. */
export function httpEvent(request: RequestLike, body: Buffer, requestId: string, text: boolean, now = new Date()): APIGatewayProxyEventV2 {
  // Split by hand: new URL() would read a path starting with "//" as a host name.
  const target = request.url ?? '/';
  const mark = target.indexOf('?');
  const rawPath = mark === -1 ? target : target.slice(0, mark);
  const rawQueryString = mark === -1 ? '' : target.slice(mark + 1);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      cookies = (Array.isArray(value) ? value.join('; ') : value).split(/;\s*/).filter((c) => c !== '');
      continue;
    }
    headers[lower] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(rawQueryString)) query.set(key, query.has(key) ? `${query.get(key)},${value}` : value);
  const host = headers['host'] ?? 'localhost';
  const method = (request.method ?? 'GET').toUpperCase();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0] ?? host,
      http: {
        method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
        sourceIp: request.socket?.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: body.length > 0 && !text,
  };
  if (cookies !== undefined) event.cookies = cookies;
  // fromEntries defines own properties, so "__proto__" or "constructor" are kept as plain parameters.
  if (query.size > 0) event.queryStringParameters = Object.fromEntries(query);
  if (body.length > 0) event.body = text ? body.toString('utf8') : body.toString('base64');
  return event;
}

/** A context with Lambda's fields; `getRemainingTimeInMillis` counts down from the configured timeout. */
export function lambdaContext(requestId: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = process.env[LAMBDA_ENV.FUNCTION_NAME] ?? 'predict-local';
  const functionVersion = process.env[LAMBDA_ENV.FUNCTION_VERSION] ?? DEFAULT_FUNCTION_VERSION;
  const unsupported = () => {
    throw new Error('done/fail/succeed are not supported; return a promise from the handler');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: process.env[LAMBDA_ENV.FUNCTION_MEMORY_SIZE] ?? String(LOCAL_MEMORY_MB),
    awsRequestId: requestId,
    logGroupName: lambdaLogGroup(functionName),
    logStreamName: `local/[${functionVersion}]${requestId.slice(0, 8)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
