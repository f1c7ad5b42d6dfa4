import test from 'ava';
import path from 'node:path';
import { FIXTURES, MODELS, functionFor, json } from '../../helpers/function.js';

// One real iris session serves every case: bad input must be refused by the handler in front of a real model.
const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
const EXPECTS = 'model iris expects 4: sepal_length, sepal_width, petal_length, petal_width';

async function refused(t: import('ava').ExecutionContext, status: number, body: string | Buffer, fragment: string, method = 'POST', route = '/predict') {
  const response = await fn.invoke(method, route, body);
  t.is(response.statusCode, status, response.body);
  t.is(response.headers['content-type'], 'application/json');
  const message = json(response)['error'];
  t.is(typeof message, 'string');
  t.true((message as string).includes(fragment), `"${String(message)}" should include "${fragment}"`);
  return message as string;
}

test('rejects a body that is not JSON', async (t) => {
  await refused(t, 400, 'features=5.1,3.5', 'request body is not valid JSON');
});

test('rejects an empty body', async (t) => {
  await refused(t, 400, '', 'request body is empty');
});

test('rejects a JSON body that is not an object', async (t) => {
  await refused(t, 400, '[5.1,3.5,1.4,0.2]', 'not a JSON object');
});

test('rejects a body with neither features nor instances', async (t) => {
  await refused(t, 400, '{"rows":[[1,2,3,4]]}', 'none of "features", "instances" and "inputs"');
});

test('rejects a body with both features and instances', async (t) => {
  await refused(t, 400, '{"features":[1,2,3,4],"instances":[[1,2,3,4]]}', 'has "features" and "instances"');
});

test('rejects an empty instances list', async (t) => {
  await refused(t, 400, '{"instances":[]}', 'instances is empty');
});

test('rejects a row of the wrong length, naming the row and the expected features', async (t) => {
  const message = await refused(t, 400, JSON.stringify({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4, 5]] }), 'instances[3] has 5 values');
  t.true(message.includes(EXPECTS), message);
});

test('rejects numbers sent as strings instead of coercing them', async (t) => {
  await refused(t, 400, '{"features":["5.1",3.5,1.4,0.2]}', 'features[0] is the string "5.1"');
});

test('rejects a null value', async (t) => {
  await refused(t, 400, '{"features":[5.1,null,1.4,0.2]}', 'features[1] is null');
});

test('rejects a boolean value', async (t) => {
  await refused(t, 400, '{"instances":[[5.1,3.5,true,0.2]]}', 'instances[0][2] is the boolean true');
});

test('rejects a nested array inside a row', async (t) => {
  await refused(t, 400, '{"features":[5.1,[3.5],1.4,0.2]}', 'features[1] is an array');
});

test('rejects a NaN token as invalid JSON', async (t) => {
  await refused(t, 400, '{"features":[NaN,3.5,1.4,0.2]}', 'not valid JSON');
});

test('rejects 1e999, which overflows to Infinity', async (t) => {
  await refused(t, 400, '{"features":[1e999,3.5,1.4,0.2]}', 'features[0] is Infinity; every feature value must be a finite number');
});

test('rejects "__proto__" as a feature name without touching any prototype', async (t) => {
  await refused(t, 400, '{"features":{"__proto__":1,"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}}', 'unknown feature "__proto__"');
  t.is(({} as Record<string, unknown>)['sepal_length'], undefined);
});

test('rejects an unknown feature name', async (t) => {
  await refused(t, 400, '{"features":{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_wdth":0.2}}', 'unknown feature "petal_wdth"');
});

test('rejects a missing feature name', async (t) => {
  await refused(t, 400, '{"instances":[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4}]}', 'instances[0] is missing "petal_width"');
});

test('rejects a batch over maxBatch with 413', async (t) => {
  const rows = Array.from({ length: 257 }, () => [5.1, 3.5, 1.4, 0.2]);
  await refused(t, 413, JSON.stringify({ instances: rows }), 'instances has 257 rows; model iris accepts at most 256');
});

test('rejects a 7 MB body with 413 before parsing it', async (t) => {
  const body = `{"features":[5.1,3.5,1.4,0.2],"pad":"${'x'.repeat(7 * 1024 * 1024)}"}`;
  await refused(t, 413, body, 'at most 6291456 bytes');
});

test('rejects GET on /predict with 405 and an Allow header', async (t) => {
  const response = await fn.invoke('GET', '/predict');
  t.is(response.statusCode, 405);
  t.is(response.headers['allow'], 'POST');
  t.true(String(json(response)['error']).includes('GET is not allowed on /predict'));
});

test('answers 404 for an unknown route', async (t) => {
  await refused(t, 404, '', 'no route for "/predictions"', 'POST', '/predictions');
});

test('answers 404 for an Open Inference Protocol call to another model', async (t) => {
  await refused(t, 404, '{}', 'model "resnet" is not served here', 'POST', '/v2/models/resnet/infer');
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

test('an Open Inference Protocol body nested 8,000 levels deep in any field is a 400, never a 500 that would count as an internal error', async (t) => {
  const own = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const deep = (inner: string) => '['.repeat(8000) + inner + ']'.repeat(8000);
  const bodies = [
    `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":${deep('1')}}]}`,
    `{"inputs":[{"name":"float_input","shape":${deep('1')},"datatype":"FP32","data":[1,2,3,4]}]}`,
    `{"inputs":[{"name":${deep('"x"')},"shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`,
    `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":${deep('"FP32"')},"data":[1,2,3,4]}]}`,
    `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":${deep('"label"')}}]}`,
    `{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":${deep('{}')}}]}`,
  ];
  for (const body of bodies) {
    const response = await own.invoke('POST', '/v2/models/iris/infer', body);
    t.is(response.statusCode, 400, response.body.slice(0, 200));
  }
  const predict = await own.invoke('POST', '/predict', `{"instances":${deep('1')}}`);
  t.is(predict.statusCode, 400);
  t.is(own.records().filter((r) => 'InternalError' in r).length, 0);
  t.is(own.records().filter((r) => r['InvalidRequest'] === 1).length, bodies.length + 1);
});

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
