import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../functions/predict/model-session.js';
import { openNativeSession } from '../functions/predict/native-session.js';
import { BUNDLES, FIXTURES, MODELS, readGolden, readManifestJson } from './helpers/function.js';

// The function calls onnxruntime-node's internal binding directly (functions/predict/native-session.ts). These
// tests hold it to the public InferenceSession on real sessions, so an onnxruntime-node upgrade that changes the
// binding fails here.

for (const bundle of BUNDLES) {
  test(`${bundle}: describes inputs and outputs as InferenceSession does`, async (t) => {
    const file = path.join(MODELS, bundle, 'model.onnx');
    const reference = await ort.InferenceSession.create(file, sessionOptions(1));
    const native = openNativeSession(file, sessionOptions(1));
    t.deepEqual(native.inputs, reference.inputMetadata);
    t.deepEqual(native.outputs, reference.outputMetadata);
  });

  test(`${bundle}: gives session.run's outputs, bit for bit, for every golden row at once and one by one`, async (t) => {
    const file = path.join(MODELS, bundle, 'model.onnx');
    const manifest = (await readManifestJson(path.join(MODELS, bundle))) as { input: string; features: string[] };
    const { inputs } = await readGolden(bundle);
    const reference = await ort.InferenceSession.create(file, sessionOptions(1));
    const native = openNativeSession(file, sessionOptions(1));
    const all = Object.fromEntries(reference.outputNames.map((name) => [name, null] as const));
    for (const batch of [inputs, ...inputs.slice(0, 5).map((row) => [row])]) {
      const feeds = { [manifest.input]: new ort.Tensor('float32', Float32Array.from(batch.flat()), [batch.length, manifest.features.length]) };
      const expected = await reference.run(feeds);
      const actual = native.run(feeds, all);
      t.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
      for (const name of Object.keys(expected)) {
        t.true(actual[name] instanceof ort.Tensor, `${name} is an onnxruntime Tensor`);
        t.deepEqual(actual[name]!.dims, expected[name]!.dims, name);
        t.deepEqual(actual[name]!.data, expected[name]!.data, name);
      }
    }
  });
}

test('describes a ZipMap output (a sequence of maps, not a tensor) as InferenceSession does', async (t) => {
  const file = path.join(FIXTURES, 'iris-zipmap', 'model.onnx');
  const reference = await ort.InferenceSession.create(file, sessionOptions(1));
  const native = openNativeSession(file, sessionOptions(1));
  t.true(native.outputs.some((o) => !o.isTensor));
  t.deepEqual(native.outputs, reference.outputMetadata);
});

test('returns only the outputs asked for', (t) => {
  const native = openNativeSession(path.join(MODELS, 'iris', 'model.onnx'), sessionOptions(1));
  const result = native.run({ float_input: new ort.Tensor('float32', new Float32Array(4), [1, 4]) }, { probabilities: null });
  t.deepEqual(Object.keys(result), ['probabilities']);
});

test('throws onnxruntime\'s error for a file that is not ONNX', async (t) => {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'not-onnx-')), 'model.onnx');
  await writeFile(file, 'this is not a protobuf');
  t.throws(() => openNativeSession(file, sessionOptions(1)), { message: /protobuf|parsing|Load model/i });
});

test('throws onnxruntime\'s error for an input of the wrong width, without crashing the process', (t) => {
  const native = openNativeSession(path.join(MODELS, 'iris', 'model.onnx'), sessionOptions(1));
  t.throws(() => native.run({ float_input: new ort.Tensor('float32', new Float32Array(5), [1, 5]) }, { probabilities: null }), { message: /dimension|shape|Got: 5/i });
});
