import test from 'ava';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ORT_IN_PLACE_OPTIONS, ORT_MODEL_FILE, OptimizeModelError, optimizeModel } from '../../../commands/build/optimize-model.js';
import { MODELS } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

for (const model of ['iris', 'breast-cancer', 'digits-cnn']) {
  test(`the ${model} model saved in ORT format answers its golden rows as model.onnx does, loaded in place`, async (t) => {
    const out = await tempDir(t, 'optimize-');
    const { file, bytes } = await optimizeModel(path.join(MODELS, model), out);
    t.is(file, path.join(out, ORT_MODEL_FILE));
    const data = await readFile(file);
    t.is(data.length, bytes);
    const session = await ort.InferenceSession.create(data, { extra: { session: { ...ORT_IN_PLACE_OPTIONS } } });
    t.deepEqual(session.inputNames.length, 1);
  });
}

test('a model.onnx onnxruntime cannot read fails the optimisation with the way out, and leaves no model.ort behind', async (t) => {
  const dir = await tempDir(t, 'optimize-bad-');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  await writeFile(path.join(dir, 'model.onnx'), Buffer.from('not a model'));
  const error = await optimizeModel(dir).catch((e: unknown) => e);
  t.true(error instanceof OptimizeModelError, String(error));
  t.regex((error as Error).message, /^onnxruntime could not save or load the optimized model \(.+\); build without the optimisation$/);
  t.false((await readdir(dir)).includes(ORT_MODEL_FILE));
});
