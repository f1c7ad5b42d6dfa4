// The project's own event builder, which simulates API Gateway (HTTP API and Function URLs, payload 2.0) for
// `npm start` and the bench: these tests hold it to the payload 2.0 format AWS documents.
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { arrivesAsText, httpEvent, isTextContent, lambdaContext, type RequestLike } from '../../../tools/http-api-event.js';

const NOW = new Date('2025-01-01T00:00:00.000Z');
const JSON_BODY = Buffer.from('{"features":[5.1,3.5,1.4,0.2]}');

function request(overrides: Partial<RequestLike> = {}): RequestLike {
  return {
    method: 'post',
    url: '/predict?verbose=1',
    headers: { host: 'localhost:3000', 'content-type': 'application/json', 'user-agent': 'curl/8.5' },
    httpVersion: '1.1',
    socket: { remoteAddress: '10.0.0.7' },
    ...overrides,
  };
}

test('builds a payload 2.0 event', (t) => {
  const event = httpEvent(request(), JSON_BODY, 'req-1', true, NOW);
  t.is(event.version, '2.0');
  t.is(event.routeKey, '$default');
  t.is(event.requestContext.stage, '$default');
  t.is(event.requestContext.routeKey, '$default');
});

test('sets rawPath and rawQueryString from the URL', (t) => {
  const event = httpEvent(request({ url: '/v2/models/iris/infer?a=1&b=two' }), JSON_BODY, 'req-1', true, NOW);
  t.is(event.rawPath, '/v2/models/iris/infer');
  t.is(event.rawQueryString, 'a=1&b=two');
});

test('sets an empty rawQueryString and no queryStringParameters without a query', (t) => {
  const event = httpEvent(request({ url: '/predict' }), JSON_BODY, 'req-1', true, NOW);
  t.is(event.rawQueryString, '');
  t.false('queryStringParameters' in event);
});

test('joins repeated query parameters with commas', (t) => {
  const event = httpEvent(request({ url: '/predict?a=1&a=2&b=3' }), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(event.queryStringParameters, { a: '1,2', b: '3' });
});

test('decodes query parameter values', (t) => {
  const event = httpEvent(request({ url: '/predict?name=my%20model' }), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(event.queryStringParameters, { name: 'my model' });
});

test('lower-cases header names', (t) => {
  const event = httpEvent(request({ headers: { 'Content-Type': 'application/json', 'X-Trace-Id': 'abc' } }), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(event.headers, { 'content-type': 'application/json', 'x-trace-id': 'abc' });
});

test('joins multi-value headers with commas', (t) => {
  const event = httpEvent(request({ headers: { 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'] } }), JSON_BODY, 'req-1', true, NOW);
  t.is(event.headers['x-forwarded-for'], '10.0.0.1,10.0.0.2');
});

test('moves cookies out of the headers into cookies', (t) => {
  const event = httpEvent(request({ headers: { cookie: 'a=1; b=2;c=3', host: 'localhost' } }), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(event.cookies, ['a=1', 'b=2', 'c=3']);
  t.false('cookie' in event.headers);
});

test('has no cookies key without a cookie header', (t) => {
  t.false('cookies' in httpEvent(request(), JSON_BODY, 'req-1', true, NOW));
});

test('fills requestContext.http from the request', (t) => {
  const event = httpEvent(request(), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(event.requestContext.http, {
    method: 'POST',
    path: '/predict',
    protocol: 'HTTP/1.1',
    sourceIp: '10.0.0.7',
    userAgent: 'curl/8.5',
  });
});

test('defaults the method, source IP and user agent', (t) => {
  const event = httpEvent({ headers: {} }, Buffer.alloc(0), 'req-1', true, NOW);
  t.like(event.requestContext.http, { method: 'GET', path: '/', sourceIp: '127.0.0.1', userAgent: '' });
});

test('takes the domain name and prefix from the host header', (t) => {
  const event = httpEvent(request({ headers: { host: 'abc.lambda-url.us-east-1.on.aws' } }), JSON_BODY, 'req-1', true, NOW);
  t.is(event.requestContext.domainName, 'abc.lambda-url.us-east-1.on.aws');
  t.is(event.requestContext.domainPrefix, 'abc');
});

test('sets the request id and time fields', (t) => {
  const event = httpEvent(request(), JSON_BODY, 'req-42', true, NOW);
  t.is(event.requestContext.requestId, 'req-42');
  t.is(event.requestContext.timeEpoch, NOW.getTime());
  t.is(event.requestContext.time, '01/Jan/2025:00:00:00 +0000');
});

test('passes a JSON body as a plain string', (t) => {
  const event = httpEvent(request(), JSON_BODY, 'req-1', true, NOW);
  t.is(event.body, JSON_BODY.toString('utf8'));
  t.false(event.isBase64Encoded);
});

test('base64-encodes a binary body and flags it', (t) => {
  const bytes = Buffer.from([0, 1, 2, 250, 255]);
  const event = httpEvent(request({ headers: { 'content-type': 'application/octet-stream' } }), bytes, 'req-1', false, NOW);
  t.true(event.isBase64Encoded);
  t.is(event.body, bytes.toString('base64'));
});

test('has no body key for an empty body', (t) => {
  const event = httpEvent(request({ method: 'GET' }), Buffer.alloc(0), 'req-1', true, NOW);
  t.false('body' in event);
  t.false(event.isBase64Encoded);
});

test('does not flag an empty binary body as base64', (t) => {
  t.false(httpEvent(request(), Buffer.alloc(0), 'req-1', false, NOW).isBase64Encoded);
});

test('survives JSON serialization unchanged', (t) => {
  const event = httpEvent(request({ headers: { cookie: 'a=1', host: 'h' } }), JSON_BODY, 'req-1', true, NOW);
  t.deepEqual(JSON.parse(JSON.stringify(event)), event);
});

for (const type of ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'text/csv', 'application/problem+json', 'application/xml', 'application/atom+xml', 'application/x-www-form-urlencoded', 'application/javascript']) {
  test(`treats ${type} as text`, (t) => {
    t.true(isTextContent(type));
  });
}

test('treats a request without a content type as text', (t) => {
  t.true(isTextContent(undefined));
});

for (const type of ['application/octet-stream', 'image/png', 'application/x-protobuf', 'multipart/form-data; boundary=x']) {
  test(`treats ${type} as binary`, (t) => {
    t.false(isTextContent(type));
  });
}

test('sends a body that is not valid UTF-8 base64-encoded, whatever its content type says', (t) => {
  const floats = Buffer.from(Float32Array.from([5.1, 3.5, 1.4, 0.2]).buffer);
  t.false(arrivesAsText(undefined, floats));
  t.false(arrivesAsText('application/json', floats));
  t.true(arrivesAsText(undefined, Buffer.from('{"features":[1,2,3,4]}')));
  t.true(arrivesAsText('text/plain', Buffer.from('é')));
});

test('lambdaContext carries the request id and Lambda fields', (t) => {
  const context = lambdaContext('0123456789abcdef', 30_000);
  t.is(context.awsRequestId, '0123456789abcdef');
  t.is(typeof context.functionName, 'string');
  t.true(context.functionName.length > 0);
  t.is(typeof context.functionVersion, 'string');
  t.is(context.invokedFunctionArn, `arn:aws:lambda:us-east-1:000000000000:function:${context.functionName}`);
  t.is(context.logGroupName, `/aws/lambda/${context.functionName}`);
  t.true(context.logStreamName.endsWith(`]01234567`));
  t.regex(context.memoryLimitInMB, /^\d+$/);
  t.true(context.callbackWaitsForEmptyEventLoop);
});

test('lambdaContext starts the remaining time at the timeout, less the time since it was made', (t) => {
  const before = Date.now();
  const remaining = lambdaContext('r', 30_000).getRemainingTimeInMillis();
  const elapsed = Date.now() - before;
  t.true(remaining <= 30_000 && remaining >= 30_000 - elapsed, `${remaining} ms left, ${elapsed} ms elapsed`);
});

test('lambdaContext counts the remaining time down by the time that passed', async (t) => {
  const context = lambdaContext('r', 30_000);
  const firstBefore = Date.now();
  const first = context.getRemainingTimeInMillis();
  const firstAfter = Date.now();
  await sleep(30);
  const secondBefore = Date.now();
  const second = context.getRemainingTimeInMillis();
  const secondAfter = Date.now();
  t.true(second < first, `${second} is not below ${first}`);
  // Both readings fall between the clock readings around them.
  t.true(first - second >= secondBefore - firstAfter && first - second <= secondAfter - firstBefore, `${first - second} ms counted down`);
});

test('lambdaContext never reports negative remaining time', async (t) => {
  const context = lambdaContext('r', 1);
  await sleep(10);
  t.is(context.getRemainingTimeInMillis(), 0);
});

test('lambdaContext refuses the callback-style done, fail and succeed', (t) => {
  const context = lambdaContext('r', 1000);
  t.throws(() => context.done(), { message: /return a promise/ });
  t.throws(() => context.fail('x'), { message: /return a promise/ });
  t.throws(() => context.succeed('x'), { message: /return a promise/ });
});

test('keeps query parameters named like Object.prototype members as plain parameters', (t) => {
  const event = httpEvent(request({ url: '/predict?constructor=1&__proto__=2&a=3' }), JSON_BODY, 'req-1', true, NOW);
  const params = event.queryStringParameters!;
  t.is(params['constructor'], '1');
  t.true(Object.hasOwn(params, '__proto__'));
  t.is(Object.getOwnPropertyDescriptor(params, '__proto__')?.value, '2');
  t.is(params['a'], '3');
});

test('keeps a path that starts with two slashes as the path', (t) => {
  const event = httpEvent(request({ url: '//predict?x=1' }), JSON_BODY, 'req-1', true, NOW);
  t.is(event.rawPath, '//predict');
  t.is(event.rawQueryString, 'x=1');
});
