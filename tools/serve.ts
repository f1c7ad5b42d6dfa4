/**
 * `npm start`: serves the predict function on http://127.0.0.1:${PORT:-3000}, the way API Gateway HTTP API and
 * Function URLs call it. Each request becomes a payload 2.0 event built as API Gateway builds one (a simulation), the real handler module runs it with a
 * context like Lambda's, and its log lines (EMF included) go to stdout; the server's own messages go to stderr.
 *
 *   npm start -- --model models/breast-cancer [--timeout 30]
 *   npm start -- --model path/to/model.onnx       (a bare ONNX file, served as a tensor model under its file name)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_FUNCTION_VERSION, ENV, LAMBDA_ENV, LOCAL_MEMORY_MB } from '../functions/contract/env.js';
import { LAMBDA_LIMITS, MB } from '../functions/contract/lambda-limits.js';
import { arrivesAsText, httpEvent, lambdaContext, type RequestLike } from './http-api-event.js';
import { newTraceHeader } from './trace-header.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function fail(message: string): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      model: { type: 'string', default: path.join(root, 'models', 'iris') },
      timeout: { type: 'string', default: '30' },
      host: { type: 'string', default: '127.0.0.1' },
    },
    strict: true,
  }).values;
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}; usage: npm start -- [--model <bundle dir or .onnx file>] [--timeout <seconds>] [--host <address>]`);
}

const timeoutSeconds = Number(args.timeout);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > LAMBDA_LIMITS.maxTimeoutSeconds) {
  fail(`--timeout ${args.timeout} is not a number of seconds from 1 to ${LAMBDA_LIMITS.maxTimeoutSeconds} (Lambda's limit)`);
}
const portText = process.env['PORT'] ?? '3000';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT=${portText} is not a port number (0 to 65535; 0 picks a free one)`);

const modelPath = path.resolve(args.model);
if (modelPath.toLowerCase().endsWith('.onnx')) {
  // A bare file: served on its own (a model.json beside it applies only to a file named model.onnx).
  process.env[ENV.MODEL_DIR] = path.dirname(modelPath);
  process.env[ENV.MODEL_FILE] = path.basename(modelPath);
} else {
  process.env[ENV.MODEL_DIR] = modelPath;
}
process.env[LAMBDA_ENV.FUNCTION_NAME] ??= 'predict-local';
process.env[LAMBDA_ENV.FUNCTION_VERSION] ??= DEFAULT_FUNCTION_VERSION;
process.env[LAMBDA_ENV.FUNCTION_MEMORY_SIZE] ??= String(LOCAL_MEMORY_MB);

const { handler } = await import('../functions/predict/index.js');

/** Lambda refuses an invocation payload over this before the function runs; so does this server. */
const MAX_BODY_BYTES = LAMBDA_LIMITS.syncPayloadBytes;
/** Past this, an oversized upload is cut off instead of drained. */
const DRAIN_LIMIT_BYTES = 64 * MB;

/**
 * Reads the body, or `undefined` when it is over the limit. An oversized body is still read to its end (and
 * dropped) so the client finishes sending and receives the 413; only a huge one is cut off.
 */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > DRAIN_LIMIT_BYTES) request.destroy();
    });
    request.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks)));
    request.on('close', () => resolve(undefined));
    request.on('error', reject);
  });
}

/** A request target in absolute form: scheme, `://`, the authority, then the path and query if any. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/is;

/**
 * The request as API Gateway would see it. A proxy sends the target in absolute form (`POST http://host/predict
 * HTTP/1.1`, RFC 9112 section 3.2.2): the path and query come from that URL, and its host replaces the Host header.
 */
function originForm(request: IncomingMessage): RequestLike {
  const match = ABSOLUTE_FORM.exec(request.url ?? '/');
  if (match === null) return request;
  const authority = match[1]!.slice(match[1]!.lastIndexOf('@') + 1);
  const rest = match[2]!;
  return {
    method: request.method,
    url: rest.startsWith('/') ? rest : `/${rest}`,
    headers: authority === '' ? request.headers : { ...request.headers, host: authority },
    httpVersion: request.httpVersion,
    socket: request.socket,
  };
}

function send(response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  response.writeHead(status, headers);
  response.end(body);
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const body = await readBody(request);
  if (body === undefined) {
    if (response.destroyed) return;
    send(response, 413, { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, JSON.stringify({ error: `request body is over ${MAX_BODY_BYTES} bytes; Lambda accepts at most ${MAX_BODY_BYTES / MB} MB per synchronous request; split the batch` }));
    return;
  }
  const event = httpEvent(originForm(request), body, requestId, arrivesAsText(request.headers['content-type'], body));
  const context = lambdaContext(requestId, timeoutSeconds * 1000);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
  });
  // As Lambda's runtime client does before each invocation; the handler reads it before its first await, so a request
  // in flight never sees the next one's header.
  const traceHeader = (process.env[LAMBDA_ENV.XRAY_DAEMON_ADDRESS] ?? '').trim() === '' ? undefined : newTraceHeader();
  if (traceHeader === undefined) delete process.env[LAMBDA_ENV.TRACE_ID];
  else process.env[LAMBDA_ENV.TRACE_ID] = traceHeader;
  try {
    const result = await Promise.race([handler(event, context), timedOut]);
    if (result === 'timeout') {
      process.stderr.write(`${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds\n`);
      send(response, 504, { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, JSON.stringify({ message: 'Endpoint request timed out' }));
      return;
    }
    const headers: Record<string, string> = { ...result.headers, 'x-amzn-requestid': requestId, ...(traceHeader === undefined ? {} : { 'x-amzn-trace-id': traceHeader }) };
    send(response, result.statusCode, headers, result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
  } catch (error) {
    // What API Gateway answers when the function itself fails.
    process.stderr.write(`${requestId} handler threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    send(response, 502, { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, JSON.stringify({ message: 'Internal Server Error' }));
  } finally {
    clearTimeout(timer);
  }
}

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    process.stderr.write(`request failed: ${String(error)}\n`);
    if (!response.headersSent) send(response, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: 'Internal Server Error' }));
  });
});
server.on('error', (error) => fail(`cannot listen on ${args.host}:${port}: ${error.message}${'code' in error && error.code === 'EADDRINUSE' ? '; set PORT to a free port' : ''}`));
server.listen(port, args.host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  process.stderr.write(`serving ${modelPath} on http://${args.host}:${actual} (POST /predict, /v2/...)\n`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
