// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { FIXTURES, MODELS, functionFor, json } from '../../helpers/function.js';

// One real iris session serves the table's cases: bad input must be refused by the handler in front of a real model.
const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
const EXPECTS = 'model iris expects 4: sepal_length, sepal_width, petal_length, petal_width';

async function refused(t: ExecutionContext, status: number, body: string | Buffer, fragments: readonly string[], method = 'POST', route = '/predict') {
  const response = await fn.invoke(method, route, body);
  t.is(response.statusCode, status, response.body);
  t.is(response.headers['content-type'], 'application/json');
  const message = json(response)['error'];
  t.is(typeof message, 'string');
  for (const fragment of fragments) t.true((message as string).includes(fragment), `"${String(message)}" should include "${fragment}"`);
}

interface BadRequest {
  readonly title: string;
  readonly body: string;
  readonly status: number;
  /** Parts of the error message the client must see. */
  readonly says: readonly string[];
  readonly route?: string;
}

const BAD_REQUESTS: readonly BadRequest[] = [
  { title: 'rejects a body that is not JSON', body: 'features=5.1,3.5', status: 400, says: ['request body is not valid JSON'] },
  { title: 'rejects an empty body', body: '', status: 400, says: ['request body is empty'] },
  { title: 'rejects a JSON body that is not an object', body: '[5.1,3.5,1.4,0.2]', status: 400, says: ['not a JSON object'] },
  { title: 'rejects a body with neither features nor instances', body: '{"rows":[[1,2,3,4]]}', status: 400, says: ['none of "features", "instances" and "inputs"'] },
  { title: 'rejects a body with both features and instances', body: '{"features":[1,2,3,4],"instances":[[1,2,3,4]]}', status: 400, says: ['has "features" and "instances"'] },
  { title: 'rejects an empty instances list', body: '{"instances":[]}', status: 400, says: ['instances is empty'] },
  {
    title: 'rejects a row of the wrong length, naming the row and the expected features',
    body: JSON.stringify({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4, 5]] }),
    status: 400,
    says: ['instances[3] has 5 values', EXPECTS],
  },
  { title: 'rejects numbers sent as strings instead of coercing them', body: '{"features":["5.1",3.5,1.4,0.2]}', status: 400, says: ['features[0] is the string "5.1"'] },
  { title: 'rejects a null value', body: '{"features":[5.1,null,1.4,0.2]}', status: 400, says: ['features[1] is null'] },
  { title: 'rejects a boolean value', body: '{"instances":[[5.1,3.5,true,0.2]]}', status: 400, says: ['instances[0][2] is the boolean true'] },
  { title: 'rejects a nested array inside a row', body: '{"features":[5.1,[3.5],1.4,0.2]}', status: 400, says: ['features[1] is an array'] },
  { title: 'rejects a NaN token as invalid JSON', body: '{"features":[NaN,3.5,1.4,0.2]}', status: 400, says: ['not valid JSON'] },
  { title: 'rejects 1e999, which overflows to Infinity', body: '{"features":[1e999,3.5,1.4,0.2]}', status: 400, says: ['features[0] is Infinity; every feature value must be a finite number'] },
  {
    title: 'rejects an unknown feature name',
    body: '{"features":{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_wdth":0.2}}',
    status: 400,
    says: ['unknown feature "petal_wdth"'],
  },
  { title: 'rejects a missing feature name', body: '{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}]}', status: 400, says: ['instances[0] is missing "petal_width"'] },
  {
    title: 'rejects a batch over maxBatch with 413',
    body: JSON.stringify({ instances: Array.from({ length: 257 }, () => [5.1, 3.5, 1.4, 0.2]) }),
    status: 413,
    says: ['instances has 257 rows; model iris accepts at most 256'],
  },
  { title: 'rejects a 7 MB body with 413 before parsing it', body: `{"features":[5.1,3.5,1.4,0.2],"pad":"${'x'.repeat(7 * 1024 * 1024)}"}`, status: 413, says: ['at most 6291456 bytes'] },
  { title: 'answers 404 for an unknown route', route: '/predictions', body: '', status: 404, says: ['no route for "/predictions"'] },
  { title: 'answers 404 for an Open Inference Protocol call to another model', route: '/v2/models/resnet/infer', body: '{}', status: 404, says: ['model "resnet" is not served here'] },
];

for (const bad of BAD_REQUESTS) {
  test(bad.title, async (t) => {
    await refused(t, bad.status, bad.body, bad.says, 'POST', bad.route);
  });
}

test('rejects "__proto__" as a feature name, never reading features through it nor touching any prototype', async (t) => {
  // A row copied with Object.assign would take the __proto__ object as its prototype and find all four features
  // there (a 200); a deep merge would write them onto Object.prototype.
  const smuggled = '{"features":{"__proto__":{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}}}';
  await refused(t, 400, smuggled, ['unknown feature "__proto__"']);
  t.false(Object.hasOwn(Object.prototype, 'sepal_length'), 'Object.prototype was polluted');
});

test('rejects GET on /predict with 405 and an Allow header', async (t) => {
  const response = await fn.invoke('GET', '/predict');
  t.is(response.statusCode, 405);
  t.is(response.headers['allow'], 'POST');
  t.true(String(json(response)['error']).includes('GET is not allowed on /predict'));
});

test('every refused request is counted as InvalidRequest in its EMF record', async (t) => {
  const own = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  await own.invoke('POST', '/predict', '{"features":[1,2]}');
  const record = own.records().find((r) => '_aws' in r);
  t.is(record?.['InvalidRequest'], 1);
  t.is(record?.['status'], 400);
  t.is(typeof record?.['requestId'], 'string');
});

test('an internal failure answers 500 with the request id and no exception text, and logs the cause', async (t) => {
  // The batch1 fixture's batch dimension is fixed to 1, so onnxruntime itself fails on two rows.
  const own = functionFor({ MODEL_DIR: path.join(FIXTURES, 'iris-batch1') });
  const ok = await own.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
  t.is(ok.statusCode, 200, ok.body);
  const response = await own.invoke('POST', '/predict', '{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}');
  t.is(response.statusCode, 500);
  const body = json(response);
  t.deepEqual(Object.keys(body).sort(), ['error', 'requestId']);
  t.is(body['error'], 'Internal server error');
  t.false(response.body.includes('/'), 'no path or stack in the body');
  const logged = own.records().find((r) => r['level'] === 'ERROR');
  t.is(logged?.['requestId'], body['requestId']);
  t.true(String(logged?.['error']).length > 0);
  t.is(own.records().filter((r) => 'InternalError' in r).length, 1);
});

const deep = (inner: string) => '['.repeat(8000) + inner + ']'.repeat(8000);

/** Bodies nested 8,000 levels deep in one field each: the parsers' walks are bounded, so none may overflow the stack. */
const DEEP_BODIES: readonly (readonly [field: string, route: string, body: string])[] = [
  ['an Open Inference Protocol input\'s data', '/v2/models/iris/infer', `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":${deep('1')}}]}`],
  ['an Open Inference Protocol input\'s shape', '/v2/models/iris/infer', `{"inputs":[{"name":"float_input","shape":${deep('1')},"datatype":"FP32","data":[1,2,3,4]}]}`],
  ['an Open Inference Protocol input\'s name', '/v2/models/iris/infer', `{"inputs":[{"name":${deep('"x"')},"shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`],
  ['an Open Inference Protocol input\'s datatype', '/v2/models/iris/infer', `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":${deep('"FP32"')},"data":[1,2,3,4]}]}`],
  ['an Open Inference Protocol output\'s name', '/v2/models/iris/infer', `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":${deep('"label"')}}]}`],
  ['an Open Inference Protocol input\'s parameters', '/v2/models/iris/infer', `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":${deep('{}')}}]}`],
  ['/predict instances', '/predict', `{"instances":${deep('1')}}`],
];

for (const [field, route, body] of DEEP_BODIES) {
  test(`a body nested 8,000 levels deep in ${field} is a 400, never a 500 that would count as an internal error`, async (t) => {
    const own = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
    const response = await own.invoke('POST', route, body);
    t.is(response.statusCode, 400, response.body.slice(0, 200));
    t.is(own.records().filter((r) => 'InternalError' in r).length, 0);
    t.is(own.records().filter((r) => r['InvalidRequest'] === 1).length, 1);
  });
}

test('a 5.8 MB body of quotes and backslashes in a feature name gets a short 400, and no log line nears CloudWatch\'s event limit', async (t) => {
  const own = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const key = '"\\'.repeat(1_450_000);
  const body = JSON.stringify({ features: { [key]: 1, sepal_length: 1 } });
  t.true(body.length > 5_700_000 && body.length < 6_291_456, `${body.length} bytes`);
  const response = await own.invoke('POST', '/predict', body);
  t.is(response.statusCode, 400);
  t.true(response.body.length < 400, `${response.body.length} bytes of response`);
  t.regex(json(response)['error'] as string, /^features has unknown feature "(\\"\\\\)+\.\.\."; model iris expects 4/);
  for (const line of own.lines) t.true(Buffer.byteLength(line) < 64 * 1024, `a log line of ${Buffer.byteLength(line)} bytes`);
});
