import test from 'ava';
import path from 'node:path';
import { checkPrediction, percentile, readBundle, requestBody } from '../bench/bench-data.js';
import { MODELS, ROOT } from './helpers/function.js';

const iris = readBundle(path.join(MODELS, 'iris'));
const mlp = readBundle(path.join(ROOT, 'bench', 'models', 'digits-mlp'));

/** A /predict body that says exactly what golden.json says for the first `rows` rows. */
function goldenAnswer(rows: number): Record<string, unknown> {
  const probabilities = Array.from({ length: rows }, (_, r) => [...iris.expected(r)]);
  const labels = iris.manifest.labels!;
  return { prediction: probabilities.map((p) => labels[p.indexOf(Math.max(...p))]), probabilities };
}

test('the bench accepts the golden answer, as a body and as a raw output tensor', (t) => {
  t.notThrows(() => checkPrediction(iris, 3, 'test', goldenAnswer(3)));
  t.notThrows(() => checkPrediction(iris, 3, 'test', Float32Array.from([0, 1, 2].flatMap((r) => iris.expected(r)))));
});

test('the bench fails loudly on a probability off by more than 1e-4', (t) => {
  const answer = goldenAnswer(2);
  (answer['probabilities'] as number[][])[1]![0]! += 2e-4;
  t.throws(() => checkPrediction(iris, 2, 'test', answer), { message: /wrong prediction: test on iris: row 1 value 0/ });
});

test('the bench fails loudly on a wrong label', (t) => {
  const answer = goldenAnswer(1);
  (answer['prediction'] as string[])[0] = 'not-a-label';
  t.throws(() => checkPrediction(iris, 1, 'test', answer), { message: /row 0 predicted "not-a-label"/ });
});

test('the bench fails loudly on a missing row', (t) => {
  t.throws(() => checkPrediction(iris, 3, 'test', goldenAnswer(2)), { message: /prediction has 2 entries for 3 rows/ });
  t.throws(() => checkPrediction(iris, 3, 'test', new Float32Array(6)), { message: /6 output values for 3 rows of 3/ });
});

test('request bodies spell the same float32 values short or as golden.json stores them', (t) => {
  const short = JSON.parse(requestBody(iris, 2, 'float32')) as { instances: number[][] };
  const long = JSON.parse(requestBody(iris, 2, 'golden')) as { instances: number[][] };
  t.deepEqual(short.instances.flat().map(Math.fround), long.instances.flat().map(Math.fround));
  t.true(JSON.stringify(short).length < JSON.stringify(long).length);
  t.deepEqual(Object.keys(JSON.parse(requestBody(iris, 1, 'float32')) as object), ['features']);
});

test('rows cycle through golden.json beyond its length', (t) => {
  const rows = mlp.rows(130);
  t.is(rows.length, 130);
  t.deepEqual(rows[64], rows[0]);
  t.is(rows[0]!.length, 64);
});

test('percentile takes the nearest rank', (t) => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.is(percentile(values, 50), 51);
  t.is(percentile(values, 99), 100);
  t.true(Number.isNaN(percentile([], 50)));
});
