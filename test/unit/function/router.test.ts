import test from 'ava';
import { MethodNotAllowedError, RouteNotFoundError } from '../../../functions/predict/errors.js';
import { resolveRoute } from '../../../functions/predict/router.js';

const fixed = [
  ['POST', '/predict'],
  ['GET', '/v2/health/live'],
  ['GET', '/v2/health/ready'],
  ['GET', '/v2'],
] as const;

for (const [method, path] of fixed) {
  test(`routes ${method} ${path}`, (t) => {
    t.deepEqual(resolveRoute(method, path), { name: `${method} ${path}` });
  });

  const wrong = method === 'GET' ? 'POST' : 'GET';
  test(`answers ${wrong} ${path} with 405 allowing ${method}`, (t) => {
    const error = t.throws(() => resolveRoute(wrong, path), { instanceOf: MethodNotAllowedError });
    t.is(error.status, 405);
    t.deepEqual(error.allow, [method]);
    t.is(error.message, `${wrong} is not allowed on ${path}; use ${method}`);
  });
}

test('routes model metadata', (t) => {
  t.deepEqual(resolveRoute('GET', '/v2/models/iris'), { name: 'GET /v2/models/{model}', model: 'iris', version: undefined });
});

test('routes model readiness', (t) => {
  t.deepEqual(resolveRoute('GET', '/v2/models/iris/ready'), { name: 'GET /v2/models/{model}/ready', model: 'iris', version: undefined });
});

test('routes inference', (t) => {
  t.deepEqual(resolveRoute('POST', '/v2/models/iris/infer'), { name: 'POST /v2/models/{model}/infer', model: 'iris', version: undefined });
});

test('reads the version of a versioned infer path', (t) => {
  t.deepEqual(resolveRoute('POST', '/v2/models/iris/versions/1/infer'), { name: 'POST /v2/models/{model}/infer', model: 'iris', version: '1' });
});

test('reads the version of versioned metadata and readiness paths', (t) => {
  t.deepEqual(resolveRoute('GET', '/v2/models/iris/versions/2'), { name: 'GET /v2/models/{model}', model: 'iris', version: '2' });
  t.deepEqual(resolveRoute('GET', '/v2/models/iris/versions/2/ready'), { name: 'GET /v2/models/{model}/ready', model: 'iris', version: '2' });
});

test('URL-decodes the model name and version', (t) => {
  t.deepEqual(resolveRoute('POST', '/v2/models/my%20model/versions/v%231/infer'), { name: 'POST /v2/models/{model}/infer', model: 'my model', version: 'v#1' });
});

test('keeps a model name that is not valid percent-encoding as it is', (t) => {
  t.like(resolveRoute('GET', '/v2/models/100%'), { model: '100%' });
});

test('answers GET on infer with 405 allowing POST', (t) => {
  const error = t.throws(() => resolveRoute('GET', '/v2/models/iris/versions/1/infer'), { instanceOf: MethodNotAllowedError });
  t.deepEqual(error.allow, ['POST']);
});

test('answers POST on model metadata with 405 allowing GET', (t) => {
  const error = t.throws(() => resolveRoute('POST', '/v2/models/iris'), { instanceOf: MethodNotAllowedError });
  t.deepEqual(error.allow, ['GET']);
});

test('answers POST on model readiness with 405 allowing GET', (t) => {
  const error = t.throws(() => resolveRoute('POST', '/v2/models/iris/ready'), { instanceOf: MethodNotAllowedError });
  t.deepEqual(error.allow, ['GET']);
});

for (const path of ['/', '/predictions', '/predict/extra', '/v2/models', '/v2/models/', '/v2/models/iris/explain', '/v2/models/iris/versions/1/2/infer', '/v3/health/live', '/PREDICT']) {
  test(`answers ${path} with 404`, (t) => {
    const error = t.throws(() => resolveRoute('GET', path), { instanceOf: RouteNotFoundError });
    t.is(error.status, 404);
    t.true(error.message.includes(JSON.stringify(path)));
  });
}

test('prefers 404 to 405 for an unknown path', (t) => {
  t.throws(() => resolveRoute('DELETE', '/nowhere'), { instanceOf: RouteNotFoundError });
});

test('shortens a long unknown path in the 404 message', (t) => {
  const error = t.throws(() => resolveRoute('GET', `/${'a'.repeat(500)}`), { instanceOf: RouteNotFoundError });
  t.true(error.message.length < 300);
});

test('a path resolved just before with another method still answers 405, and a new path its own route', (t) => {
  t.is(resolveRoute('POST', '/v2/models/iris/infer').name, 'POST /v2/models/{model}/infer');
  t.throws(() => resolveRoute('GET', '/v2/models/iris/infer'), { instanceOf: MethodNotAllowedError });
  t.deepEqual(resolveRoute('POST', '/v2/models/iris/infer'), { name: 'POST /v2/models/{model}/infer', model: 'iris', version: undefined });
  t.deepEqual(resolveRoute('POST', '/v2/models/other/infer'), { name: 'POST /v2/models/{model}/infer', model: 'other', version: undefined });
  t.throws(() => resolveRoute('POST', '/nowhere'), { instanceOf: RouteNotFoundError });
});
