import test from 'ava';
import { LAMBDA_LIMITS } from '../../../functions/contract/lambda-limits.js';
import { InvalidRequestError, PayloadTooLargeError } from '../../../functions/predict/errors.js';
import { jsonResponse, readHttpEvent } from '../../../functions/predict/http-event.js';

const BODY = '{"features":[5.1,3.5,1.4,0.2]}';

/** A payload 2.0 event as API Gateway HTTP API sends it, trimmed to what matters plus typical noise. */
function v2Event(overrides: { rawPath?: string; method?: string; stage?: string; body?: string; isBase64Encoded?: boolean } = {}) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: overrides.rawPath ?? '/predict',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      http: { method: overrides.method ?? 'POST', path: overrides.rawPath ?? '/predict', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8' },
      requestId: 'req-1',
      routeKey: '$default',
      stage: overrides.stage ?? '$default',
      time: '01/Jan/2025:00:00:00 +0000',
      timeEpoch: 1_735_689_600_000,
    },
    body: overrides.body ?? BODY,
    isBase64Encoded: overrides.isBase64Encoded ?? false,
  };
}

test('reads method, path and body from a payload 2.0 event', (t) => {
  const request = readHttpEvent(v2Event());
  t.is(request.method, 'POST');
  t.is(request.path, '/predict');
  t.is(request.body(), BODY);
});

test('reads a Function URL event', (t) => {
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/v2/health/live',
    rawQueryString: '',
    headers: { host: 'abcdefg.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefg',
      http: { method: 'GET', path: '/v2/health/live', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'curl/8' },
      requestId: 'req-2',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2025:00:00:00 +0000',
      timeEpoch: 1_735_689_600_000,
    },
    isBase64Encoded: false,
  };
  const request = readHttpEvent(event);
  t.is(request.method, 'GET');
  t.is(request.path, '/v2/health/live');
});

test('reads an empty body when the event has none', (t) => {
  const { body: _omitted, ...event } = v2Event();
  t.is(readHttpEvent(event).body(), '');
});

test('reads an empty body when the body is null', (t) => {
  t.is(readHttpEvent({ ...v2Event(), body: null }).body(), '');
});

test('reads a payload 1.0 event from httpMethod and path', (t) => {
  const request = readHttpEvent({
    version: '1.0',
    resource: '/predict',
    path: '/predict',
    httpMethod: 'POST',
    headers: {},
    requestContext: { stage: '$default', httpMethod: 'POST', path: '/predict' },
    body: BODY,
    isBase64Encoded: false,
  });
  t.is(request.method, 'POST');
  t.is(request.path, '/predict');
  t.is(request.body(), BODY);
});

test('upper-cases the method', (t) => {
  t.is(readHttpEvent(v2Event({ method: 'post' })).method, 'POST');
});

test('strips the API Gateway stage prefix from the path', (t) => {
  t.is(readHttpEvent(v2Event({ stage: 'prod', rawPath: '/prod/predict' })).path, '/predict');
});

test('maps the bare stage path to the root', (t) => {
  t.is(readHttpEvent(v2Event({ stage: 'prod', rawPath: '/prod' })).path, '/');
});

test('does not strip a path segment that merely starts with the stage name', (t) => {
  t.is(readHttpEvent(v2Event({ stage: 'prod', rawPath: '/production/predict' })).path, '/production/predict');
});

test('leaves the path alone for the $default stage', (t) => {
  t.is(readHttpEvent(v2Event({ stage: '$default', rawPath: '/$default/predict' })).path, '/$default/predict');
});

test('removes a trailing slash', (t) => {
  t.is(readHttpEvent(v2Event({ rawPath: '/predict/' })).path, '/predict');
});

test('removes a trailing slash after stripping the stage', (t) => {
  t.is(readHttpEvent(v2Event({ stage: 'prod', rawPath: '/prod/v2/health/live/' })).path, '/v2/health/live');
});

test('keeps the root path', (t) => {
  t.is(readHttpEvent(v2Event({ rawPath: '/' })).path, '/');
});

test('decodes a base64 body', (t) => {
  const request = readHttpEvent(v2Event({ body: Buffer.from(BODY).toString('base64'), isBase64Encoded: true }));
  t.is(request.body(), BODY);
});

test('decodes a base64 body with non-ASCII text as UTF-8', (t) => {
  const text = '{"note":"café ✓"}';
  t.is(readHttpEvent(v2Event({ body: Buffer.from(text).toString('base64'), isBase64Encoded: true })).body(), text);
});

test('does not decode a body that is not flagged base64', (t) => {
  const encoded = Buffer.from(BODY).toString('base64');
  t.is(readHttpEvent(v2Event({ body: encoded, isBase64Encoded: false })).body(), encoded);
});

test('rejects a 7 MB plain body with a 413 naming the size and the limit', (t) => {
  const body = 'x'.repeat(7 * 1024 * 1024);
  const request = readHttpEvent(v2Event({ body }));
  const error = t.throws(() => request.body(), { instanceOf: PayloadTooLargeError });
  t.is(error.status, 413);
  t.true(error.message.includes(`request body is ${body.length} bytes`));
  t.true(error.message.includes(String(LAMBDA_LIMITS.syncPayloadBytes)));
});

test('rejects a 7 MB body sent base64-encoded with a 413', (t) => {
  const body = Buffer.alloc(7 * 1024 * 1024, 'x').toString('base64');
  const request = readHttpEvent(v2Event({ body, isBase64Encoded: true }));
  const error = t.throws(() => request.body(), { instanceOf: PayloadTooLargeError });
  t.is(error.status, 413);
});

test('counts UTF-8 bytes, not characters, against the limit', (t) => {
  const body = 'é'.repeat(3.5 * 1024 * 1024);
  t.true(body.length < LAMBDA_LIMITS.syncPayloadBytes);
  const request = readHttpEvent(v2Event({ body }));
  t.throws(() => request.body(), { instanceOf: PayloadTooLargeError });
});

test('accepts a body of exactly 6 MB', (t) => {
  const body = 'x'.repeat(LAMBDA_LIMITS.syncPayloadBytes);
  t.is(readHttpEvent(v2Event({ body })).body().length, LAMBDA_LIMITS.syncPayloadBytes);
});

test('accepts a base64 body that decodes to exactly 6 MB', (t) => {
  const body = Buffer.alloc(LAMBDA_LIMITS.syncPayloadBytes, 'x').toString('base64');
  t.is(readHttpEvent(v2Event({ body, isBase64Encoded: true })).body().length, LAMBDA_LIMITS.syncPayloadBytes);
});

test('does not read the body until asked', (t) => {
  t.notThrows(() => readHttpEvent(v2Event({ body: 'x'.repeat(7 * 1024 * 1024) })));
});

test('rejects a body that is not a string', (t) => {
  const request = readHttpEvent({ ...v2Event(), body: { features: [1] } });
  const error = t.throws(() => request.body(), { instanceOf: InvalidRequestError });
  t.is(error.status, 400);
});

for (const [label, event] of [
  ['null', null],
  ['undefined', undefined],
  ['a string', 'POST /predict'],
  ['a number', 42],
] as const) {
  test(`rejects an event that is ${label}`, (t) => {
    const error = t.throws(() => readHttpEvent(event), { instanceOf: InvalidRequestError });
    t.is(error.status, 400);
  });
}

test('rejects an object event without a method or path', (t) => {
  const error = t.throws(() => readHttpEvent({ Records: [] }), { instanceOf: InvalidRequestError });
  t.regex(error.message, /no HTTP method or path/);
});

test('jsonResponse builds a JSON response with the status and serialized body', (t) => {
  t.deepEqual(jsonResponse(200, { ok: true }), {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"ok":true}',
    isBase64Encoded: false,
  });
});

test('jsonResponse merges extra headers with the content type', (t) => {
  t.deepEqual(jsonResponse(405, { error: 'no' }, { allow: 'POST' }).headers, { 'content-type': 'application/json', allow: 'POST' });
});

test('jsonResponse does not let one response mutate the shared default headers', (t) => {
  const first = jsonResponse(200, {});
  t.throws(() => {
    (first.headers as Record<string, string>)['x-leak'] = '1';
  });
  t.false('x-leak' in jsonResponse(200, {}).headers);
});

test('does not strip the stage from a payload 1.0 path, which never carries it', (t) => {
  const request = readHttpEvent({ version: '1.0', path: '/v2/health/live', httpMethod: 'GET', requestContext: { stage: 'v2' } });
  t.is(request.path, '/v2/health/live');
});

test('gives a base64 body as its decoded bytes', (t) => {
  const bytes = Buffer.from([0x7b, 0x7d, 0x00, 0xff, 0x80, 0x3f]);
  const request = readHttpEvent(v2Event({ body: bytes.toString('base64'), isBase64Encoded: true }));
  t.deepEqual(request.bytes(), bytes);
});

test('gives a text body as its UTF-8 bytes', (t) => {
  t.deepEqual(readHttpEvent(v2Event({ body: 'é' })).bytes(), Buffer.from('é', 'utf8'));
});

test('rejects a 7 MB base64 body with a 413 when its bytes are asked for', (t) => {
  const request = readHttpEvent(v2Event({ body: Buffer.alloc(7 * 1024 * 1024).toString('base64'), isBase64Encoded: true }));
  t.throws(() => request.bytes(), { instanceOf: PayloadTooLargeError });
});

test('refuses a base64 body that is not valid UTF-8 where text is expected, with a 400', (t) => {
  const request = readHttpEvent(v2Event({ body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('base64'), isBase64Encoded: true }));
  t.throws(() => request.body(), { instanceOf: InvalidRequestError, message: /request body is not valid UTF-8 text/ });
});

test('reads a header by its lower-case name, in payload 2.0 and in payload 1.0 whatever its case', (t) => {
  t.is(readHttpEvent(v2Event()).header('content-type'), 'application/json');
  t.is(readHttpEvent(v2Event()).header('inference-header-content-length'), undefined);
  const v1 = { httpMethod: 'POST', path: '/v2/models/iris/infer', headers: { 'Inference-Header-Content-Length': '42', constructor: 'x' }, body: '' };
  t.is(readHttpEvent(v1).header('inference-header-content-length'), '42');
  t.is(readHttpEvent({ httpMethod: 'GET', path: '/v2', headers: null }).header('host'), undefined);
});
