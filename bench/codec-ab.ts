/**
 * Before/after for a change to the WebAssembly number codec (functions/predict/assembly/number-codec.ts): the
 * module committed at a git revision against the working tree's, both instantiated in this one process, reading
 * the same `/predict` body and writing the same response, interleaved in runs of 10 calls (the first of each not
 * kept). Both must give the same float32 rows bit for bit and the same body byte for byte before anything is timed.
 * In-process, so the machine's slow and fast phases hit both alike; the figure to read is `after / before`.
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
import { NUMBER_CODEC_WASM } from '../functions/predict/number-codec-wasm.js';
import { percentile, readBundle, requestBody } from './bench-data.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const revision = args[0];
if (revision === undefined || revision.startsWith('--')) {
  console.error('usage: tsx bench/codec-ab.ts <git revision> [--model breast-cancer] [--rows 100] [--spelling float32|golden] [--rounds 2300]');
  process.exit(1);
}
const modelName = option('model', 'breast-cancer');
const rows = Number(option('rows', '100'));
const spelling = option('spelling', 'float32') as 'float32' | 'golden';
/** Rounds of 10 calls per module; the first quarter (at most 300) is warm-up, not kept. */
const rounds = Number(option('rounds', '2300'));
const warmupRounds = Math.min(300, Math.floor(rounds / 4));

/** The base64 module as number-codec-wasm.ts held it at `revision`. */
function moduleAt(rev: string): string {
  const text = execFileSync('git', ['show', `${rev}:functions/predict/number-codec-wasm.ts`], { cwd: root, encoding: 'utf8' });
  const lines = [...text.matchAll(/'([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]!);
  if (lines.length === 0) throw new Error(`no base64 module in functions/predict/number-codec-wasm.ts at ${rev}`);
  return lines.join('');
}

interface CodecExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  scanPredictBody(body: number, length: number, width: number, maxBatch: number, target: number): number;
  setTexts(table: number): void;
  writeClassification(output: number, rows: number, width: number, out: number, confidences: number, columns: number): number;
  writeRegression(output: number, rows: number, out: number): number;
}

const dir = modelName === 'digits-mlp' ? path.join(root, 'bench', 'models', modelName) : path.join(root, 'models', modelName);
const bundle = readBundle(dir);
const model = await loadModel(loadConfig({ MODEL_DIR: dir }));
const width = bundle.manifest.features.length;
const body = requestBody(bundle, rows, spelling);
const output = model.predict({ rows, data: Float32Array.from(bundle.rows(rows).flat()) }).slice();
const labels = bundle.manifest.task === 'regression' ? [] : (bundle.manifest.labels ?? []).map((label) => JSON.stringify(label));

/** One instance of a module, laid out as number-codec.ts lays it out, with a reader and a writer over it. */
function codec(base64: string): { read: () => Float32Array; write: () => string } {
  let bytes = Buffer.alloc(0);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), {
    env: {
      exactNumber: (start: number, end: number) => Number(bytes.toString('latin1', start, end)),
      outOfRangeText: (value: number, at: number) => bytes.write(String(value), at, 'latin1'),
    },
  });
  const codecExports = instance.exports as unknown as CodecExports;
  const align = (n: number) => Math.ceil(n / 16) * 16;
  const start = align(codecExports.heapBase());
  const pieces = ['{"prediction":[', '],"confidence":[', '],"probabilities":[', `],"model_version":"${modelName}@1"}`, ...labels].map((t) => Buffer.from(t));
  const rowsAt = start;
  const bodyAt = align(rowsAt + 256 * width * 4);
  const table = align(bodyAt + body.length + 64);
  const textsAt = align(table + pieces.length * 8);
  const outputAt = align(textsAt + pieces.reduce((sum, p) => sum + p.length, 0));
  const confidencesAt = align(outputAt + output.length * 4);
  const columnsAt = align(confidencesAt + rows * 8);
  const outAt = align(columnsAt + rows * 8);
  const need = outAt + rows * 64 * Math.max(1, labels.length) + 4096;
  const have = codecExports.memory.buffer.byteLength;
  if (need > have) codecExports.memory.grow(Math.ceil((need - have) / 65_536));
  bytes = Buffer.from(codecExports.memory.buffer);
  const floats = new Float32Array(codecExports.memory.buffer);
  const offsets = new Int32Array(codecExports.memory.buffer, table, pieces.length * 2);
  let at = textsAt;
  pieces.forEach((piece, i) => {
    bytes.set(piece, at);
    offsets[2 * i] = at;
    offsets[2 * i + 1] = piece.length;
    at += piece.length;
  });
  codecExports.setTexts(table);
  floats.set(output, outputAt / 4);
  const encoder = new TextEncoder();
  return {
    read: () => {
      const { written } = encoder.encodeInto(body, bytes.subarray(bodyAt));
      bytes[bodyAt + written] = 0;
      const count = codecExports.scanPredictBody(bodyAt, written, width, 256, rowsAt);
      return floats.subarray(rowsAt / 4, rowsAt / 4 + count * width);
    },
    write: () => {
      const end = labels.length === 0 ? codecExports.writeRegression(outputAt, rows, outAt) : codecExports.writeClassification(outputAt, rows, labels.length, outAt, confidencesAt, columnsAt);
      return bytes.toString('latin1', outAt, end);
    },
  };
}

const before = codec(moduleAt(revision));
const after = codec(NUMBER_CODEC_WASM);
const [rowsBefore, rowsAfter] = [before.read(), after.read()];
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
