import test from 'ava';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../../functions/predict/config.js';
import { loadModel, type LoadedModel } from '../../../functions/predict/model-session.js';
import { readPredictRequest } from '../../../functions/predict/predict-request.js';
import { MODELS, readGolden } from '../../helpers/function.js';
import { ortFolder } from '../../helpers/ort-bundles.js';
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

test('a model.ort is loaded in place from bytes the loaded model keeps, and answers as model.onnx does', async (t) => {
  const { dir, optimized } = await ortFolder(t, path.join(MODELS, 'iris'));
  for (const env of [{ MODEL_DIR: dir, MODEL_FILE: 'model.ort' }, { MODEL_DIR: dir }]) {
    const ort = await loadModel(loadConfig(env));
    t.is(ort.format, 'ort');
    t.is(ort.artifact.file, optimized.file, 'with MODEL_FILE unset, a folder without model.onnx loads its model.ort');
    t.deepEqual(ort.modelBytes, optimized.data);
    t.is(ort.version, model.version);
    t.deepEqual(ort.inputs, model.inputs);
    const request = readPredictRequest({ instances: rows }, ort.served, ort.limits);
    const got = Array.from((await ort.run(request)).get('probabilities')!.data as Float32Array);
    const want = await probabilities(rows);
    t.true(got.every((p, i) => Math.abs(p - want[i]!) < 1e-6));
  }
  t.is(model.format, 'onnx');
  t.is(model.modelBytes, undefined, 'an ONNX file is loaded by path, with no buffer to keep');
});

test('model.json is checked against a model.ort\'s own signature, as against model.onnx\'s', async (t) => {
  const { dir } = await ortFolder(t, path.join(MODELS, 'iris'));
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'model.json'), JSON.stringify({ ...manifest, input: 'input' }));
  const error = await t.throwsAsync(loadModel(loadConfig({ MODEL_DIR: dir, MODEL_FILE: 'model.ort' })));
  t.regex(error.message, /manifest input "input" is not in the ONNX file, whose inputs are "float_input"/);
});

test('a folder holding both files loads model.onnx unless MODEL_FILE names model.ort', async (t) => {
  const { dir } = await ortFolder(t, path.join(MODELS, 'iris'));
  await copyFile(path.join(MODELS, 'iris', 'model.onnx'), path.join(dir, 'model.onnx'));
  t.is((await loadModel(loadConfig({ MODEL_DIR: dir }))).format, 'onnx');
  t.is((await loadModel(loadConfig({ MODEL_DIR: dir, MODEL_FILE: 'model.ort' }))).format, 'ort');
});

test('a model.ort without model.json beside it serves as a tensor model named after its folder, like a bare model.onnx', async (t) => {
  const { optimized } = await ortFolder(t, path.join(MODELS, 'iris'));
  const dir = path.join(await tempDir(t, 'bare-ort-'), 'flowers');
  await mkdir(dir);
  await writeFile(path.join(dir, 'model.ort'), optimized.data);
  const bare = await loadModel(loadConfig({ MODEL_DIR: dir }));
  t.is(bare.format, 'ort');
  t.is(bare.manifest.name, 'flowers');
  t.is(bare.manifest.task, 'tensor');
});
