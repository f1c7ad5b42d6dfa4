import test from 'ava';
import type { ServedModel } from '../../../functions/predict/manifest.js';
import { predictionWriter } from '../../../functions/predict/predict-response.js';
import { outputs, servedIris, servedRegression, servedTensorModel, tensor } from '../../helpers/unit-manifests.js';

const iris = servedIris();

function probabilities(values: readonly number[], rows: number) {
  return outputs({ name: 'probabilities', type: 'float32', dims: [rows, values.length / rows], data: Float32Array.from(values) });
}

function body(model: ServedModel, version: string, out: ReturnType<typeof outputs>, rows: number): Record<string, unknown> {
  return JSON.parse(predictionWriter(model, version)(out, rows).body) as Record<string, unknown>;
}

test('predicts the label of the highest probability for each row', (t) => {
  const response = body(iris, 'iris@1', probabilities([0.97, 0.02, 0.01, 0.1, 0.2, 0.7, 0.05, 0.9, 0.05], 3), 3);
  t.deepEqual(response['prediction'], ['setosa', 'virginica', 'versicolor']);
});

test('reports the highest probability as the confidence, in its short float32 form', (t) => {
  t.deepEqual(body(iris, 'iris@1', probabilities([0.97, 0.02, 0.01, 0.1, 0.2, 0.7], 2), 2)['confidence'], [0.97, 0.7]);
});

test('lists probabilities per row in label order', (t) => {
  t.deepEqual(body(iris, 'iris@1', probabilities([0.97, 0.02, 0.01, 0.1, 0.2, 0.7], 2), 2)['probabilities'], [
    [0.97, 0.02, 0.01],
    [0.1, 0.2, 0.7],
  ]);
});

test('picks the first label when probabilities tie', (t) => {
  t.deepEqual(body(iris, 'iris@1', probabilities([0.2, 0.4, 0.4, 0.5, 0.5, 0], 2), 2)['prediction'], ['versicolor', 'setosa']);
});

test('sets model_version', (t) => {
  t.is(body(iris, 'iris@1', probabilities([1, 0, 0], 1), 1)['model_version'], 'iris@1');
});

test('returns the confidences the metrics record, one per row, and none for a regressor', (t) => {
  t.deepEqual(predictionWriter(iris, 'iris@1')(probabilities([0.97, 0.02, 0.01, 0.1, 0.2, 0.7], 2), 2).confidences, [0.97, 0.7]);
  const regression = outputs({ name: 'variable', type: 'float32', dims: [1, 1], data: Float32Array.from([1]) });
  t.is(predictionWriter(servedRegression(), 'price@3')(regression, 1).confidences, undefined);
});

test('returns one number per row and no classifier fields for a regressor', (t) => {
  const out = outputs({ name: 'variable', type: 'float32', dims: [3, 1], data: Float32Array.from([1.5, -2.25, 0.1]) });
  t.deepEqual(body(servedRegression(), 'price@3', out, 3), { prediction: [1.5, -2.25, 0.1], model_version: 'price@3' });
});

test('writes a NaN model output as null so the body stays valid JSON', (t) => {
  const out = outputs({ name: 'variable', type: 'float32', dims: [2, 1], data: Float32Array.from([Number.NaN, 2]) });
  t.deepEqual(body(servedRegression(), 'price@3', out, 2)['prediction'], [null, 2]);
});

test('escapes labels and the model version as JSON strings, outside ASCII too', (t) => {
  const model = servedIris({ labels: ['say "hi"', 'back\\slash', 'versicolor 🌸'] });
  const response = body(model, 'iris@ü', probabilities([0.9, 0.05, 0.05, 0, 0, 1], 2), 2);
  t.deepEqual(response['prediction'], ['say "hi"', 'versicolor 🌸']);
  t.is(response['model_version'], 'iris@ü');
});

test('a classifier takes a float64 probabilities output as well', (t) => {
  const response = body(iris, 'iris@1', outputs({ name: 'probabilities', type: 'float64', dims: [1, 3], data: Float64Array.from([0.1, 0.3, 0.6]) }), 1);
  t.deepEqual(response['probabilities'], [[0.1, 0.3, 0.6]]);
});

test('a classifier whose output has another width than its labels is an internal error, not a wrong answer', (t) => {
  const error = t.throws(() => predictionWriter(iris, 'iris@1')(probabilities([0.5, 0.5], 1), 1));
  t.regex(error.message, /2 probability columns but model.json lists 3 labels/);
});

test('a tensor model answers every output nested batch first, in the types it has', (t) => {
  const model = servedTensorModel('t-multi', [tensor('x', 'float32', ['batch', 2])], [tensor('score', 'float32', ['batch', 2]), tensor('ids', 'int64', ['batch']), tensor('name', 'string', ['batch']), tensor('ok', 'bool', ['batch'])]);
  const out = outputs(
    { name: 'score', type: 'float32', dims: [2, 2], data: Float32Array.from([0.3, 0.31, 0.17, 0.22]) },
    { name: 'ids', type: 'int64', dims: [2], data: BigInt64Array.from([9007199254740993n, -1n]) },
    { name: 'name', type: 'string', dims: [2], data: ['a "b"', 'é'] },
    { name: 'ok', type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
  );
  const text = predictionWriter(model, 't-multi@3f9a0c2b1d4e')(out, 2).body;
  t.is(text, '{"outputs":{"score":[[0.3,0.31],[0.17,0.22]],"ids":[9007199254740993,-1],"name":["a \\"b\\"","é"],"ok":[true,false]},"model_version":"t-multi@3f9a0c2b1d4e"}');
});
