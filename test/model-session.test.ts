import test from 'ava';
import path from 'node:path';
import { loadConfig } from '../functions/predict/config.js';
import { loadModel, type LoadedModel } from '../functions/predict/model-session.js';
import { MODELS, readGolden } from './helpers/function.js';

// Real onnxruntime sessions on the iris bundle, whose maxBatch is 256.
let model: LoadedModel;
let rows: number[][];

test.before(async () => {
  model = await loadModel(loadConfig({ MODEL_DIR: path.join(MODELS, 'iris') }));
  rows = (await readGolden('iris')).inputs;
});

/** The model's output for `batch` through the path that builds a fresh tensor every time (the OIP route's). */
async function reference(batch: number[][]): Promise<number[]> {
  const [tensor] = model.run({ rows: batch.length, data: Float32Array.from(batch.flat()) }, ['probabilities']);
  return Array.from(tensor!.data as Float32Array);
}

async function predict(batch: number[][]): Promise<number[]> {
  return Array.from(model.predict({ rows: batch.length, data: Float32Array.from(batch.flat()) }));
}

test('predictions that overlap each get their own rows', async (t) => {
  const batches = [rows.slice(0, 3), rows.slice(10, 11), rows.slice(20, 25), rows.slice(30, 32)];
  // Started together: each must copy its rows into the shared input buffer and run before the next one does.
  const together = await Promise.all(batches.map(predict));
  for (const [i, batch] of batches.entries()) t.deepEqual(together[i], await reference(batch), `batch ${i}`);
});

test('a small batch after a large one reads only its own rows', async (t) => {
  await predict(rows.slice(0, 40));
  t.deepEqual(await predict(rows.slice(5, 6)), await reference(rows.slice(5, 6)));
  t.deepEqual(await predict(rows.slice(7, 9)), await reference(rows.slice(7, 9)));
});

test('the same row count twice runs the new rows, not the previous ones', async (t) => {
  const first = await predict(rows.slice(0, 2));
  const second = await predict(rows.slice(2, 4));
  t.deepEqual(second, await reference(rows.slice(2, 4)));
  t.notDeepEqual(first, second);
});

test('a batch over maxBatch still runs on its own array', async (t) => {
  const big = Array.from({ length: 300 }, (_, i) => rows[i % rows.length]!);
  const output = await predict(big);
  t.is(output.length, 300 * 3);
  t.deepEqual(output.slice(-6), (await reference(big.slice(-2))));
});
