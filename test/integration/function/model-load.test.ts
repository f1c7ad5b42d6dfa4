// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES, MODELS, alteredBundle, functionFor, json, type TestFunction } from '../../helpers/function.js';

const IRIS = path.join(MODELS, 'iris');

/** The function must refuse to serve, log why once, answer 503 on every model route and keep answering. */
async function refusesToServe(t: ExecutionContext, fn: TestFunction, cause: string) {
  for (let i = 0; i < 3; i++) {
    const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
    t.is(response.statusCode, 503, response.body);
    const body = json(response);
    t.is(typeof body['requestId'], 'string');
    t.false(response.body.includes(cause), 'the cause stays in the log, not in the response');
  }
  t.is((await fn.invoke('GET', '/v2/health/live')).statusCode, 200);
  t.is((await fn.invoke('GET', '/v2/health/ready')).statusCode, 503);
  t.is((await fn.invoke('GET', '/v2/models/iris')).statusCode, 503);
  const errors = fn.records().filter((r) => r['level'] === 'ERROR');
  t.is(errors.length, 1, 'the load failure is logged once');
  t.true(String(errors[0]?.['error']).includes(cause), `log "${String(errors[0]?.['error'])}" should name "${cause}"`);
  t.is(fn.records().filter((r) => r['ModelUnavailable'] === 1).length, 5, 'three predictions, ready and metadata');
}

/** Bundles whose model.json disagrees with their model: [what, the change to iris's model.json, what the log names]. */
const BAD_MANIFESTS: readonly (readonly [what: string, change: (manifest: Record<string, unknown>) => void, cause: string])[] = [
  ['whose input name is not the model input', (m) => (m['input'] = 'input'), 'manifest input "input" is not in the ONNX file, whose inputs are "float_input"'],
  ['whose feature count differs from the model', (m) => (m['features'] = ['sepal_length', 'sepal_width', 'petal_length']), 'takes 4 features but model.json lists 3'],
  ['whose label count differs from the model output', (m) => (m['labels'] = ['setosa', 'other']), 'has 3 probability columns but model.json lists 2 labels'],
  ['whose output name is not a model output', (m) => (m['output'] = 'output_probability'), 'manifest output "output_probability" is not in the ONNX file'],
  ['that is invalid, naming the field', (m) => (m['maxBatch'] = 0), 'maxBatch must be at least 1'],
];

for (const [what, change, cause] of BAD_MANIFESTS) {
  test(`refuses a manifest ${what}`, async (t) => {
    const dir = await alteredBundle(t, IRIS, change);
    await refusesToServe(t, functionFor({ MODEL_DIR: dir }), cause);
  });
}

test('refuses a model whose output is a ZipMap, not a tensor', async (t) => {
  await refusesToServe(t, functionFor({ MODEL_DIR: path.join(FIXTURES, 'iris-zipmap') }), 'output "probabilities" is not a tensor');
});

test('refuses a folder that holds no model.onnx', async (t) => {
  await refusesToServe(t, functionFor({ MODEL_DIR: path.join(MODELS, 'no-such-bundle') }), 'no-such-bundle/model.onnx cannot be read');
});

test('refuses a model file whose sha256 differs from MODEL_SHA256', async (t) => {
  const wrong = 'a'.repeat(64);
  await refusesToServe(t, functionFor({ MODEL_DIR: IRIS, MODEL_SHA256: wrong }), `MODEL_SHA256 expects ${wrong}`);
});

test('serves a model file whose sha256 matches MODEL_SHA256', async (t) => {
  const sha = createHash('sha256').update(await readFile(path.join(IRIS, 'model.onnx'))).digest('hex');
  const fn = functionFor({ MODEL_DIR: IRIS, MODEL_SHA256: sha.toUpperCase() });
  const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
  t.is(response.statusCode, 200, response.body);
  t.is(fn.records().find((r) => r['message'] === 'model loaded')?.['sha256'], sha);
});

test('a bad environment variable is named in the log and the function answers 503', async (t) => {
  await refusesToServe(t, functionFor({ MODEL_DIR: IRIS, MODEL_BUCKET: 'models' }), 'MODEL_KEY');
});

test('a ready model reports ready and its metadata', async (t) => {
  const fn = functionFor({ MODEL_DIR: IRIS });
  await fn.handler.ready;
  t.is((await fn.invoke('GET', '/v2/health/ready')).statusCode, 200);
  t.is((await fn.invoke('GET', '/v2/models/iris/ready')).statusCode, 200);
  const metadata = json(await fn.invoke('GET', '/v2/models/iris/versions/1'));
  t.deepEqual(metadata['inputs'], [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }]);
  t.is((await fn.invoke('GET', '/v2/models/iris/versions/2')).statusCode, 404);
});
