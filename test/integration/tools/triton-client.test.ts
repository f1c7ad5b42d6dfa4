import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { TRITON_PYTHON } from '../../../tools/testbed/paths.js';
import { FIXTURES, MODELS, ROOT, maxAbsDiff, readGolden, readManifestJson } from '../../helpers/function.js';
import { startServer } from '../../helpers/serve.js';

// Triton's own Python HTTP client (tritonclient[http], installed by the test bed) against `npm start`: the Open
// Inference Protocol routes as a Triton user calls them, rows and outputs sent binary and as JSON. `npm start` builds
// each event with the project's own event builder (tools/http-api-event.ts), so API Gateway is simulated, not used.

interface TritonResult {
  live: boolean;
  ready: boolean;
  metadata: { name: string; extensions: string[] };
  infer: { binary_in: boolean; binary_out: boolean; id: string; outputs: Record<string, number[] | number[][]> }[];
}

for (const bundle of ['iris', 'diabetes']) {
  test(`${bundle}: Triton's HTTP client gets the golden outputs with binary and JSON tensors both ways`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const manifest = await readManifestJson(dir);
    const golden = await readGolden(bundle);
    const rows = golden.inputs.slice(0, 5);
    const server = await startServer(['--model', dir]);
    try {
      const url = server.url.replace('http://', '');
      const outputName = manifest['output'] as string;
      const { stdout } = await promisify(execFile)(TRITON_PYTHON, [
        path.join(ROOT, 'test', 'helpers', 'triton-infer.py'),
        url,
        manifest['name'] as string,
        manifest['input'] as string,
        JSON.stringify(rows),
        JSON.stringify([outputName]),
      ]);
      const result = JSON.parse(stdout) as TritonResult;
      t.true(result.live);
      t.true(result.ready);
      t.deepEqual(result.metadata.extensions, ['binary_tensor_data']);
      t.is(result.infer.length, 4);
      const expected = golden.outputs.slice(0, 5).flat() as number[];
      for (const call of result.infer) {
        const what = `rows ${call.binary_in ? 'binary' : 'JSON'}, outputs ${call.binary_out ? 'binary' : 'JSON'}`;
        t.is(call.id, 'triton', what);
        const values = (call.outputs[outputName] as (number | number[])[]).flat();
        t.true(maxAbsDiff(values, expected) <= 1e-4, `${what}: max diff ${maxAbsDiff(values, expected)}`);
      }
      // Binary and JSON outputs are the same float32 values.
      t.deepEqual(result.infer[0]!.outputs, result.infer[1]!.outputs);
    } finally {
      await server.stop();
    }
  });
}

interface TensorCall {
  binary_in: boolean;
  binary_out: boolean;
  outputs: Record<string, unknown>;
}

/** Runs Triton's client on a tensor fixture served from a bare model.onnx, every way of sending and receiving. */
async function tritonTensors(fixture: string, inputs: Record<string, { datatype: string; value: unknown }>, outputs: string[]): Promise<TensorCall[]> {
  const server = await startServer(['--model', path.join(FIXTURES, 'tensor', fixture)]);
  try {
    const { stdout } = await promisify(execFile)(TRITON_PYTHON, [
      path.join(ROOT, 'test', 'helpers', 'triton-infer-tensors.py'),
      server.url.replace('http://', ''),
      fixture,
      JSON.stringify(inputs),
      JSON.stringify(outputs),
    ]);
    return JSON.parse(stdout) as TensorCall[];
  } finally {
    await server.stop();
  }
}

test('Triton\'s HTTP client sends FP32 and INT64 inputs of a model with several inputs and outputs, binary and JSON', async (t) => {
  const calls = await tritonTensors(
    'multi-io',
    { pixels: { datatype: 'FP32', value: [[[1, 2], [3, 4]], [[0.5, -1], [0, 2]]] }, meta: { datatype: 'INT64', value: [[1, 2, 3], [-4, 10, 0]] } },
    ['score', 'embedding'],
  );
  t.is(calls.length, 4);
  for (const call of calls) {
    t.deepEqual(call.outputs, { score: [[8, 10, 12, 14], [7, 4, 6, 10]], embedding: [[0, 1, 2, 3, 3], [-0.5, -2, -1, 1, 10]] }, `in ${call.binary_in}, out ${call.binary_out}`);
  }
});

test('Triton\'s HTTP client sends BYTES and gets strings and INT64 codes back, binary and JSON', async (t) => {
  const calls = await tritonTensors('string-encoder', { color: { datatype: 'BYTES', value: ['red', 'blue', 'grün'] } }, ['code', 'echo']);
  t.is(calls.length, 4);
  for (const call of calls) t.deepEqual(call.outputs, { code: [0, 2, -1], echo: ['red', 'blue', 'grün'] }, `in ${call.binary_in}, out ${call.binary_out}`);
});
