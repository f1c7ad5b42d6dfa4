import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { canonicalOrt, OptimizeModelError, optimizeModel } from '../../../commands/build/optimize-model.js';
import { ENV, ORT_MODEL_FILE } from '../../../functions/contract/env.js';
import { loadConfig } from '../../../functions/predict/config.js';
import { loadModel } from '../../../functions/predict/model-session.js';
import { MODELS, ROOT } from '../../helpers/function.js';
import { multiIoBundle, ortFolder } from '../../helpers/ort-bundles.js';
import { tempDir } from '../../helpers/temp-dir.js';

for (const model of ['iris', 'breast-cancer', 'digits-cnn', 'digits-cnn-int8']) {
  test(`the ${model} model saved in ORT format passes its golden rows through the function's loader, which uses it in place`, async (t) => {
    const before = await readdir(path.join(MODELS, model));
    const { dir, optimized } = await ortFolder(t, path.join(MODELS, model));
    t.is(optimized.file, path.join(dir, ORT_MODEL_FILE));
    t.deepEqual(await readFile(optimized.file), optimized.data);
    t.true(optimized.golden.maxDiff <= optimized.golden.tolerance);
    const loaded = await loadModel(loadConfig({ [ENV.MODEL_DIR]: dir, [ENV.MODEL_FILE]: ORT_MODEL_FILE }));
    t.is(loaded.format, 'ort');
    t.deepEqual(loaded.modelBytes, optimized.data, 'the loaded model keeps the bytes its session points into');
    t.deepEqual(await readdir(path.join(MODELS, model)), before, 'nothing is written into the bundle folder');
  });
}

test('a tensor model with several inputs of two types is saved and checked the same way', async (t) => {
  const bundle = await multiIoBundle(t);
  const { optimized } = await ortFolder(t, bundle, { name: 'multi-io', version: '1', task: 'tensor' });
  t.is(optimized.golden.rows, 3);
  t.true(optimized.golden.maxDiff < 1e-6);
});

test('without golden.json nothing can show model.ort answers right, and it is not made', async (t) => {
  const workDir = await tempDir(t, 'ort-');
  const error = await optimizeModel({ onnxFile: path.join(MODELS, 'iris', 'model.onnx'), manifestJson: await readFile(path.join(MODELS, 'iris', 'model.json')), goldenJson: undefined, workDir }).catch((e: unknown) => e);
  t.true(error instanceof OptimizeModelError, String(error));
  t.is((error as Error).message, 'the bundle has no golden.json to check model.ort against (--allow-missing-golden)');
  t.deepEqual(await readdir(workDir), []);
});

test('a model.onnx onnxruntime cannot read gives the reason onnxruntime gave', async (t) => {
  const bundle = await tempDir(t, 'bad-');
  await cp(path.join(MODELS, 'iris'), bundle, { recursive: true });
  await writeFile(path.join(bundle, 'model.onnx'), Buffer.from('not a model'));
  const error = await ortFolder(t, bundle).catch((e: unknown) => e);
  t.true(error instanceof OptimizeModelError, String(error));
  t.regex((error as Error).message, /^onnxruntime could not save it in ORT format \(.+\)$/);
});

test('a model.ort that answers outside golden.json\'s tolerance is refused with the golden check\'s own words', async (t) => {
  const bundle = await tempDir(t, 'shifted-');
  await cp(path.join(MODELS, 'iris'), bundle, { recursive: true });
  const golden = JSON.parse(await readFile(path.join(bundle, 'golden.json'), 'utf8')) as { outputs: number[][] };
  golden.outputs[2]![0]! += 0.01;
  await writeFile(path.join(bundle, 'golden.json'), JSON.stringify(golden));
  const error = await ortFolder(t, bundle).catch((e: unknown) => e);
  t.true(error instanceof OptimizeModelError, String(error));
  t.regex((error as Error).message, /^model\.ort does not pass golden\.json \(model iris: the outputs of model\.ort differ from golden\.json by 1\.00e-2 \(row 2\); the limit is 0\.0001/);
});

test('saves of one model in separate processes, which onnxruntime writes in different orders, give the same canonical bytes', async (t) => {
  const dir = await tempDir(t, 'saves-');
  const source = path.join(MODELS, 'digits-cnn', 'model.onnx');
  const script = "require('onnxruntime-node').InferenceSession.create(process.argv[1], { graphOptimizationLevel: 'extended', optimizedModelFilePath: process.argv[2] })";
  const files = Array.from({ length: 6 }, (_, i) => path.join(dir, `save-${i}.ort`));
  for (const file of files) await promisify(execFile)(process.execPath, ['-e', script, source, file], { cwd: ROOT });
  const canonical = await Promise.all(files.map(async (file) => canonicalOrt(await readFile(file)).toString('base64')));
  t.is(new Set(canonical).size, 1);
  const { optimized } = await ortFolder(t, path.join(MODELS, 'digits-cnn'));
  t.is(optimized.data.toString('base64'), canonical[0]!, 'the build ships the canonical form');
});

test('a file that is not in ORT format cannot be made canonical', (t) => {
  t.throws(() => canonicalOrt(Buffer.from('not an ORT file at all')), { message: 'the file identifier is not "ORTM"' });
  const truncated = Buffer.alloc(16);
  truncated.write('ORTM', 4, 'latin1');
  truncated.writeUInt32LE(4096, 0);
  t.throws(() => canonicalOrt(truncated), { message: /^offset \d+ is outside the file \(16 bytes\)$/ });
});
