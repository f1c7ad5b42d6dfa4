/**
 * Before/after for a change to the WebAssembly number codec (functions/predict/assembly/number-codec.ts): the
 * module committed at a git revision against the working tree's, both driven by the function's own reader and
 * writer (number-codec.ts, postprocess.ts) in this one process, reading the same `/predict` body and writing the
 * same response, interleaved in runs of 10 calls (the first of each not kept). Both must give the same float32
 * rows bit for bit and the same body byte for byte before anything is timed. In-process, so the machine's slow and
 * fast phases hit both alike; the figure to read is `after / before`.
 *
 *   tsx bench/codec-ab.ts <git revision> [--model breast-cancer] [--rows 100] [--spelling float32|golden] [--rounds 2300]
 *
 * `golden` writes each number as golden.json stores it (17 digits for float32 values kept as doubles).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../functions/predict/config.js';
import { loadModel } from '../functions/predict/model-session.js';
import { rowScanner } from '../functions/predict/number-codec.js';
import { codecBodyWriter } from '../functions/predict/postprocess.js';
import { percentile, readBundle, requestBody } from './bench-data.js';
import { revisionArgs } from './revision-args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { revision, values } = revisionArgs('usage: tsx bench/codec-ab.ts <git revision> [--model breast-cancer] [--rows 100] [--spelling float32|golden] [--rounds 2300]', {
  model: 'breast-cancer',
  rows: '100',
  spelling: 'float32',
  rounds: '2300',
});
const modelName = values.model;
const rows = Number(values.rows);
const spelling = values.spelling as 'float32' | 'golden';
/** Rounds of 10 calls per module; the first quarter (at most 300) is warm-up, not kept. */
const rounds = Number(values.rounds);
const warmupRounds = Math.min(300, Math.floor(rounds / 4));

/** The compiled module as number-codec-wasm.ts held it at `rev`. */
function moduleAt(rev: string): WebAssembly.Module {
  const text = execFileSync('git', ['show', `${rev}:functions/predict/number-codec-wasm.ts`], { cwd: root, encoding: 'utf8' });
  const lines = [...text.matchAll(/'([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]!);
  if (lines.length === 0) throw new Error(`no base64 module in functions/predict/number-codec-wasm.ts at ${rev}`);
  return new WebAssembly.Module(Buffer.from(lines.join(''), 'base64'));
}

const dir = modelName === 'digits-mlp' ? path.join(root, 'bench', 'models', modelName) : path.join(root, 'models', modelName);
const bundle = readBundle(dir);
const model = await loadModel(loadConfig({ MODEL_DIR: dir }));
const width = bundle.manifest.features.length;
const body = requestBody(bundle, rows, spelling);
const output = model.predict({ rows, data: Float32Array.from(bundle.rows(rows).flat()) }).slice();

/** The function's reader and writer over one module (the shipped one when `module` is undefined). */
function codec(module: (() => WebAssembly.Module) | undefined): { read: () => Float32Array; write: () => string } {
  const scan = rowScanner(width, model.manifest.maxBatch, module);
  const write = codecBodyWriter(model.manifest, model.version, module);
  return {
    read: () => scan(body)?.data ?? new Float32Array(0),
    write: () => write(output, rows).body,
  };
}

const revisionModule = moduleAt(revision);
const before = codec(() => revisionModule);
const after = codec(undefined);
const [rowsBefore, rowsAfter] = [Float32Array.from(before.read()), after.read()];
if (rowsBefore.length !== rows * width || rowsAfter.length !== rowsBefore.length || !rowsBefore.every((v, i) => Object.is(v, rowsAfter[i]))) {
  throw new Error('the two modules read different rows from the same body');
}
if (before.write() !== after.write()) throw new Error('the two modules write different bodies for the same output');

function time(calls: readonly (() => unknown)[]): number[] {
  const samples = calls.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < calls.length; k++) {
      const j = (k + round) % calls.length;
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        calls[j]!();
        const us = (performance.now() - t) * 1000;
        if (i > 0 && round >= warmupRounds) samples[j]!.push(us);
      }
    }
  }
  return samples.map((values) => percentile(values, 50));
}

const [readBefore, readAfter] = time([before.read, after.read]);
const [writeBefore, writeAfter] = time([before.write, after.write]);
console.log(`${modelName}, ${rows} rows, ${spelling} (${body.length} bytes in), p50 µs: ${revision} → working tree`);
console.log(`read:  ${readBefore!.toFixed(2)} → ${readAfter!.toFixed(2)}  (after / before ${(readAfter! / readBefore!).toFixed(3)})`);
console.log(`write: ${writeBefore!.toFixed(2)} → ${writeAfter!.toFixed(2)}  (after / before ${(writeAfter! / writeBefore!).toFixed(3)})`);
