import { readFile } from 'node:fs/promises';
import test from 'ava';
import { CODEC_MODULE, codecModuleText, compileCodec } from '../scripts/build-wasm.js';

// The function loads the compiled number codec from a generated module; a change to the AssemblyScript source
// without `npm run build:wasm` would ship the old code.
test('the committed WebAssembly is what the AssemblyScript source compiles to, byte for byte', async (t) => {
  t.timeout(120_000);
  const [first, second] = [await compileCodec(), await compileCodec()];
  t.deepEqual(Buffer.from(first), Buffer.from(second), 'two compiles of the same source differ');
  t.is(await readFile(CODEC_MODULE, 'utf8'), codecModuleText(first), 'functions/predict/number-codec-wasm.ts is out of date: run npm run build:wasm');
});
