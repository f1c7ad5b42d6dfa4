import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkPrediction, optionalBundle, percentile, readBundle, requestBody, type BenchBundle } from '../../../bench/bench-data.js';
import { MODELS } from '../../helpers/function.js';

const iris = readBundle(path.join(MODELS, 'iris'));
const breastCancer = readBundle(path.join(MODELS, 'breast-cancer'));

/** A /predict body that says exactly what golden.json says for the first `rows` rows. */
function goldenAnswer(bundle: BenchBundle, rows: number): Record<string, unknown> {
  const probabilities = Array.from({ length: rows }, (_, r) => [...bundle.expected(r)]);
  const labels = bundle.manifest.labels!;
  return { prediction: probabilities.map((p) => labels[p.indexOf(Math.max(...p))]), probabilities };
}

/** A bundle of images [1][2][2] with two classes, written to a temp folder; golden.json states its tolerance. */
async function imageBundle(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-data-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({ name: 'images', version: '1', task: 'classification', output: 'probabilities', labels: ['a', 'b'] }));
  const inputs = [
    [[[0.1, 0.2], [0.3, 0.4]]],
    [[[0.5, 0.6], [0.7, 0.8]]],
  ];
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify({ inputs, outputs: [[0.9, 0.1], [0.2, 0.8]], tolerance: 0.05 }));
  await writeFile(path.join(dir, 'model.onnx'), '');
  return dir;
}

test('the bench accepts the golden answer, as a body and as a raw output tensor', (t) => {
  t.notThrows(() => checkPrediction(iris, 3, 'test', goldenAnswer(iris, 3)));
  t.notThrows(() => checkPrediction(iris, 3, 'test', Float32Array.from([0, 1, 2].flatMap((r) => iris.expected(r)))));
  t.notThrows(() => checkPrediction(iris, 2, 'test', [0, 1].flatMap((r) => iris.expected(r))));
});

test('the bench fails loudly on a probability off by more than the tolerance', (t) => {
  const answer = goldenAnswer(iris, 2);
  (answer['probabilities'] as number[][])[1]![0]! += 2e-4;
  t.throws(() => checkPrediction(iris, 2, 'test', answer), { message: /wrong prediction: test on iris: row 1 value 0 .*limit 0.0001/ });
});

test('the bench fails loudly on a wrong label', (t) => {
  const answer = goldenAnswer(iris, 1);
  (answer['prediction'] as string[])[0] = 'not-a-label';
  t.throws(() => checkPrediction(iris, 1, 'test', answer), { message: /row 0 predicted "not-a-label"/ });
});

test('the bench fails loudly on a missing row', (t) => {
  t.throws(() => checkPrediction(iris, 3, 'test', goldenAnswer(iris, 2)), { message: /prediction has 2 entries for 3 rows/ });
  t.throws(() => checkPrediction(iris, 3, 'test', new Float32Array(6)), { message: /6 output values for 3 rows of 3/ });
});

test('request bodies are instances, spelling the same float32 values short or as golden.json stores them', (t) => {
  const short = JSON.parse(requestBody(iris, 2, 'float32')) as { instances: number[][] };
  const long = JSON.parse(requestBody(iris, 2, 'golden')) as { instances: number[][] };
  t.deepEqual(short.instances.flat().map(Math.fround), long.instances.flat().map(Math.fround));
  t.true(JSON.stringify(short).length < JSON.stringify(long).length);
  t.deepEqual(Object.keys(JSON.parse(requestBody(iris, 1, 'float32')) as object), ['instances']);
});

test('rows cycle through golden.json beyond its length', (t) => {
  const rows = breastCancer.rows(130);
  t.is(rows.length, 130);
  t.deepEqual(rows[64], rows[0]);
  t.deepEqual(breastCancer.rowDims, [30]);
  t.is(breastCancer.values(3).length, 90);
});

test('nested rows keep their shape in the body and flatten row-major into the tensor values', async (t) => {
  const bundle = readBundle(await imageBundle(t));
  t.deepEqual(bundle.rowDims, [1, 2, 2]);
  t.deepEqual(Array.from(bundle.values(3)), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.1, 0.2, 0.3, 0.4].map(Math.fround));
  const body = JSON.parse(requestBody(bundle, 2, 'float32')) as { instances: number[][][][] };
  t.deepEqual(body.instances[1], [[[0.5, 0.6], [0.7, 0.8]]]);
});

test('golden.json\'s own tolerance applies, and a label is checked only where the golden margin is clear', async (t) => {
  const bundle = readBundle(await imageBundle(t));
  t.is(bundle.tolerance, 0.05);
  t.notThrows(() => checkPrediction(bundle, 2, 'test', { prediction: ['a', 'b'], probabilities: [[0.86, 0.14], [0.24, 0.76]] }));
  t.throws(() => checkPrediction(bundle, 2, 'test', { prediction: ['a', 'b'], probabilities: [[0.84, 0.16], [0.2, 0.8]] }), { message: /row 0 value 0 is 0.84.*limit 0.05/ });
  t.throws(() => checkPrediction(bundle, 2, 'test', { prediction: ['b', 'b'], probabilities: [[0.9, 0.1], [0.2, 0.8]] }), { message: /row 0 predicted "b"/ });
});

test('a bundle folder without its files is a reason to skip, not an error', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-data-empty-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.regex(optionalBundle(dir) as string, /has no model\.json, model\.onnx, golden\.json/);
  t.is(typeof optionalBundle(path.join(MODELS, 'iris')), 'object');
});

test('percentile takes the nearest rank', (t) => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.is(percentile(values, 50), 51);
  t.is(percentile(values, 99), 100);
  t.true(Number.isNaN(percentile([], 50)));
});
