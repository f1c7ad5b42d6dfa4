import test from 'ava';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../../functions/predict/config.js';
import { loadModel, type LoadedModel } from '../../../functions/predict/model-session.js';
import { readPredictRequest } from '../../../functions/predict/predict-request.js';
import { MODELS, readGolden } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

// Real onnxruntime sessions through onnxruntime-node's public API.
let model: LoadedModel;
let rows: number[][];

test.before(async () => {
  model = await loadModel(loadConfig({ MODEL_DIR: path.join(MODELS, 'iris') }));
  rows = (await readGolden('iris')).inputs;
});

async function probabilities(batch: number[][]): Promise<number[]> {
  const outputs = await model.run(readPredictRequest({ instances: batch }, model.served, model.limits));
  return Array.from(outputs.get('probabilities')!.data as Float32Array);
}

test('a classifier runs its served output by default, and any outputs when named', async (t) => {
  const request = readPredictRequest({ instances: rows.slice(0, 2) }, model.served, model.limits);
  t.deepEqual([...(await model.run(request)).keys()], ['probabilities']);
  const both = await model.run(request, ['label', 'probabilities']);
  t.deepEqual(both.get('label')!.dims, [2]);
  t.is(both.get('label')!.type, 'int64');
});

test('runs started on one session before any has finished each get their own rows', async (t) => {
  // onnxruntime-node queues each run and executes them one at a time, off the caller's turn of the event loop:
  // the runs are in flight together, never computed in parallel.
  const batches = [rows.slice(0, 3), rows.slice(10, 11), rows.slice(20, 25), rows.slice(30, 32)];
  const events: string[] = [];
  const runs = batches.map((batch, i) => {
    const running = model.run(readPredictRequest({ instances: batch }, model.served, model.limits));
    events.push(`start ${i}`);
    return running.then((outputs) => {
      events.push(`end ${i}`);
      return Array.from(outputs.get('probabilities')!.data as Float32Array);
    });
  });
  const together = await Promise.all(runs);
  t.deepEqual(events.slice(0, batches.length), batches.map((_, i) => `start ${i}`), 'every run started before the first one ended');
  for (const [i, batch] of batches.entries()) {
    const alone = await probabilities(batch);
    t.is(together[i]!.length, batch.length * 3);
    t.deepEqual(together[i], alone, `batch ${i}`);
  }
});

test('a bare model.onnx is served as a tensor model named after its folder and versioned by its sha256', async (t) => {
  const dir = path.join(await tempDir(t, 'bare-'), 'my-model');
  await mkdir(dir);
  await copyFile(path.join(MODELS, 'iris', 'model.onnx'), path.join(dir, 'model.onnx'));
  const bare = await loadModel(loadConfig({ MODEL_DIR: dir }));
  t.is(bare.manifest.task, 'tensor');
  t.is(bare.version, 'my-model@3c9740424d54');
  t.deepEqual(bare.served.outputs.map((o) => o.name), ['label', 'probabilities']);
});

test('a model file named by MODEL_FILE serves under its own name', async (t) => {
  const dir = await tempDir(t, 'file-');
  await copyFile(path.join(MODELS, 'iris', 'model.onnx'), path.join(dir, 'flower classifier.onnx'));
  const named = await loadModel(loadConfig({ MODEL_DIR: dir, MODEL_FILE: 'flower classifier.onnx' }));
  t.is(named.manifest.name, 'flower-classifier');
});
