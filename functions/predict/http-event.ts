import { LAMBDA_LIMITS, MB } from '../contract/lambda-limits.js';
import { InvalidRequestError, PayloadTooLargeError } from './errors.js';

/** Lambda's synchronous invocation payload limit: a larger body is refused before it is parsed. */
const MAX_BODY_BYTES = LAMBDA_LIMITS.syncPayloadBytes;

/** What the router needs from an API Gateway HTTP API (payload 2.0 or 1.0) or Function URL event. */
export interface HttpRequest {
  readonly method: string;
  /** The path without the API Gateway stage prefix and without a trailing slash. */
  readonly path: string;
  /** Read lazily: GET routes never decode a body. A base64 body that is not valid UTF-8 is a 400. */
  body(): string;
  /** The body's bytes, size-checked, for binary content (the Open Inference Protocol's binary tensor data). */
  bytes(): Buffer;
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** True for a binary body, given as base64 (API Gateway and Function URLs decode it for the client). */
  readonly isBase64Encoded: boolean;
}

interface EventShape {
  readonly version?: unknown;
  readonly rawPath?: unknown;
  readonly path?: unknown;
  readonly httpMethod?: unknown;
  readonly body?: unknown;
  readonly isBase64Encoded?: unknown;
  readonly headers?: unknown;
  readonly requestContext?: { readonly stage?: unknown; readonly http?: { readonly method?: unknown } };
}

function stripStage(rawPath: string, stage: unknown): string {
  if (typeof stage === 'string' && stage !== '$default' && stage !== '') {
    const prefix = `/${stage}`;
    if (rawPath === prefix) return '/';
    if (rawPath.startsWith(`${prefix}/`)) return rawPath.slice(prefix.length);
  }
  return rawPath;
}

function checkBody(body: unknown, base64: boolean): string {
  if (body === undefined || body === null) return '';
  if (typeof body !== 'string') throw new InvalidRequestError('event body is not a string; send the request through API Gateway or a Function URL');
  // A UTF-16 code unit is at most 3 UTF-8 bytes, and base64 carries 3 bytes in 4 characters.
  const mayBeLarge = base64 ? (body.length / 4) * 3 > MAX_BODY_BYTES : body.length * 3 > MAX_BODY_BYTES;
  const bytes = mayBeLarge ? (base64 ? Buffer.byteLength(body, 'base64') : Buffer.byteLength(body, 'utf8')) : 0;
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body is ${bytes} bytes; Lambda accepts at most ${MAX_BODY_BYTES} bytes (${MAX_BODY_BYTES / MB} MB) per synchronous request; split the batch`);
  }
  return body;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBody(body: unknown, base64: boolean): string {
  const text = checkBody(body, base64);
  if (!base64) return text;
  try {
    return strictUtf8.decode(Buffer.from(text, 'base64'));
  } catch {
    throw new InvalidRequestError('request body is not valid UTF-8 text; send JSON as UTF-8 (binary tensors go after the JSON object, with an Inference-Header-Content-Length header)');
  }
}

function bodyBytes(body: unknown, base64: boolean): Buffer {
  return Buffer.from(checkBody(body, base64), base64 ? 'base64' : 'utf8');
}

/** An HTTP request read from a Lambda event; the body is decoded only when a route asks for it. */
class EventRequest implements HttpRequest {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly rawBody: unknown,
    readonly base64: boolean,
    readonly headers: unknown,
  ) {}

  body(): string {
    return decodeBody(this.rawBody, this.base64);
  }

  bytes(): Buffer {
    return bodyBytes(this.rawBody, this.base64);
  }

  /** Header lookup by lower-case name: payload 2.0 lower-cases names already; payload 1.0 keeps the client's case. */
  header(name: string): string | undefined {
    const headers = this.headers;
    if (headers === null || typeof headers !== 'object') return undefined;
    const record = headers as Record<string, unknown>;
    const exact = record[name];
    if (typeof exact === 'string') return exact;
    for (const [key, value] of Object.entries(record)) if (typeof value === 'string' && key.toLowerCase() === name) return value;
    return undefined;
  }
}

/**
 * Reads the parts of an HTTP event the function uses. Payload 2.0 (HTTP API, Function URL) is the contract;
 * payload 1.0 (REST API) is read too, since its fields differ only in name.
 */
export function readHttpEvent(event: unknown): HttpRequest {
  if (event === null || typeof event !== 'object') {
    throw new InvalidRequestError('the event is not an HTTP event; invoke the function through API Gateway (HTTP API) or a Function URL');
  }
  const e = event as EventShape;
  const method = e.requestContext?.http?.method ?? e.httpMethod;
  // Payload 2.0's rawPath carries the stage prefix; payload 1.0's path does not.
  const rawPath = e.rawPath ?? e.path;
  if (typeof method !== 'string' || typeof rawPath !== 'string') {
    throw new InvalidRequestError('the event has no HTTP method or path; invoke the function through API Gateway (HTTP API, payload 2.0) or a Function URL');
  }
  let path = typeof e.rawPath === 'string' ? stripStage(rawPath, e.requestContext?.stage) : rawPath;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return new EventRequest(method.toUpperCase(), path, e.body, e.isBase64Encoded === true, e.headers);
}

const JSON_HEADERS = Object.freeze({ 'content-type': 'application/json' });

export function jsonResponse(statusCode: number, body: unknown, headers?: Readonly<Record<string, string>>): HttpResponse {
  return jsonTextResponse(statusCode, JSON.stringify(body), headers);
}

/**
 * A binary response: `bytes` go base64-encoded, as Lambda expects them behind API Gateway or a Function URL.
 * `headers` are all the response's headers, `content-type` included.
 */
export function binaryResponse(statusCode: number, bytes: Buffer, headers: Readonly<Record<string, string>>): HttpResponse {
  return { statusCode, headers, body: bytes.toString('base64'), isBase64Encoded: true };
}

/** A response whose body is already JSON text. */
export function jsonTextResponse(statusCode: number, body: string, headers?: Readonly<Record<string, string>>): HttpResponse {
  return { statusCode, headers: headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers }, body, isBase64Encoded: false };
}
