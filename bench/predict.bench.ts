/**
 * `npm run bench`: the predict function's costs, each as a ratio against a baseline measured in the same run.
 *
 * 1. Request path: handler time per request vs raw `session.run` on the same input (iris single row, iris 100-row
 *    batch, breast-cancer 100-row batch), interleaved so machine noise hits both alike; one process per case
 *    (bench/request-path-worker.ts).
 * 2. Cold start: fresh processes alternately load the shipped handler bundle and answer one request, or do the
 *    floor: import onnxruntime-node, create the session, run once.
 * 3. Session options: intra-op threads and spinning, on the same inputs (the choice in model-session.ts).
 *
 * Writes bench/results/latest.json and prints a table. `--quick` runs fewer iterations.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bundleFunction } from '../build.js';
import { sessionOptions } from '../functions/predict/model-session.js';
import { httpEvent } from '../scripts/lambda-event.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const REQUESTS = quick ? 1000 : 5000;
const WARMUP = 300;
const COLD_RUNS = quick ? 5 : 15;

interface Golden {
  inputs: number[][];
}
function golden(bundle: string): number[][] {
  return (JSON.parse(readFileSync(path.join(root, 'models', bundle, 'golden.json'), 'utf8')) as Golden).inputs;
}
function rows(bundle: string, n: number): number[][] {
  const inputs = golden(bundle);
  return Array.from({ length: n }, (_, i) => inputs[i % inputs.length]!);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
const now = () => Number(process.hrtime.bigint()) / 1e6;

/**
 * The function code exactly as `npm run build` ships it (build.ts's bundler: CommonJS, minified, the S3 chunk
 * apart), written inside the project so it resolves onnxruntime-node from node_modules as Lambda resolves it from
 * the layer. Not the TypeScript sources under tsx, whose transform adds work of its own.
 */
mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
const functionDir = mkdtempSync(path.join(root, 'node_modules', '.cache', 'bench-'));
for (const entry of await bundleFunction()) writeFileSync(path.join(functionDir, entry.path), entry.data);

// --- 1. request path -------------------------------------------------------------------------------------------
interface PathResult {
  case: string;
  rawP50Us: number;
  handlerP50Us: number;
  ratioP50: number;
  rawP99Us: number;
  handlerP99Us: number;
}

function requestPath(bundle: string, batch: number): PathResult {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'bench', 'request-path-worker.ts'), functionDir, path.join(root, 'models', bundle), String(batch), String(REQUESTS), String(WARMUP)],
    { cwd: root, stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  const last = child.stderr.toString().trim().split('\n').at(-1) ?? '';
  if (child.status !== 0) throw new Error(`request-path worker failed (${child.status}): ${child.stderr.toString()}`);
  const { rawMs, handlerMs } = JSON.parse(last) as { rawMs: number[]; handlerMs: number[] };
  const rawP50 = percentile(rawMs, 50);
  const handlerP50 = percentile(handlerMs, 50);
  return {
    case: `${bundle} x${batch}`,
    rawP50Us: us(rawP50),
    handlerP50Us: us(handlerP50),
    ratioP50: Math.round((handlerP50 / rawP50) * 100) / 100,
    rawP99Us: us(percentile(rawMs, 99)),
    handlerP99Us: us(percentile(handlerMs, 99)),
  };
}

// --- 2. cold start ---------------------------------------------------------------------------------------------
interface ColdResult {
  floorP50Ms: number;
  handlerP50Ms: number;
  ratioP50: number;
  runs: number;
  bundleBytes: number;
}

async function coldStart(): Promise<ColdResult> {
  const index = pathToFileURL(path.join(functionDir, 'index.mjs')).href;
  const model = path.join(root, 'models', 'iris');
  const event = JSON.stringify(httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' } }, Buffer.from('{"features":[5.1,3.5,1.4,0.2]}'), 'cold', true));
  const handlerScript = `
    const t0 = performance.now();
    import(${JSON.stringify(index)}).then(({ handler }) => handler(${event}, { awsRequestId: 'cold' })).then((r) => {
      if (r.statusCode !== 200) throw new Error(r.body);
      process.stderr.write(String(performance.now() - t0));
    });`;
  const floorScript = `
    const t0 = performance.now();
    const ort = require('onnxruntime-node');
    ort.InferenceSession.create(${JSON.stringify(path.join(model, 'model.onnx'))}).then(async (s) => {
      await s.run({ float_input: new ort.Tensor('float32', Float32Array.from([5.1, 3.5, 1.4, 0.2]), [1, 4]) });
      process.stderr.write(String(performance.now() - t0));
    });`;
  const env = { ...process.env, MODEL_DIR: model, NODE_PATH: path.join(root, 'node_modules') };
  const once = (script: string) => {
    const child = spawnSync(process.execPath, ['-e', script], { env, cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(child.stderr.toString());
    if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`cold-start process failed (${child.status}): ${child.stderr.toString()}`);
    return ms;
  };
  const floor: number[] = [];
  const handler: number[] = [];
  once(floorScript);
  once(handlerScript);
  for (let i = 0; i < COLD_RUNS; i++) {
    floor.push(once(floorScript));
    handler.push(once(handlerScript));
  }
  const f = percentile(floor, 50);
  const h = percentile(handler, 50);
  return {
    floorP50Ms: Math.round(f * 10) / 10,
    handlerP50Ms: Math.round(h * 10) / 10,
    ratioP50: Math.round((h / f) * 100) / 100,
    runs: COLD_RUNS,
    bundleBytes: readFileSync(path.join(functionDir, 'index.mjs')).length,
  };
}

// --- 3. session options ----------------------------------------------------------------------------------------
interface OptionResult {
  case: string;
  options: string;
  p50Us: number;
  ratioToChosen: number;
}

async function sessionOptionSweep(bundle: string, batch: number): Promise<OptionResult[]> {
  const dir = path.join(root, 'models', bundle);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { input: string; output: string; features: string[] };
  const data = Float32Array.from(rows(bundle, batch).flat());
  const variants: [string, ort.InferenceSession.SessionOptions][] = [
    ['1 thread, no spinning (chosen)', sessionOptions(1)],
    ['2 threads, no spinning', sessionOptions(2)],
    ['2 threads, spinning', { ...sessionOptions(2), extra: { session: { intra_op: { allow_spinning: '1' } } } }],
    ['onnxruntime defaults', {}],
  ];
  const sessions = await Promise.all(variants.map(([, options]) => ort.InferenceSession.create(path.join(dir, 'model.onnx'), options)));
  const samples: number[][] = variants.map(() => []);
  const feed = () => ({ [manifest.input]: new ort.Tensor('float32', data, [batch, manifest.features.length]) });
  for (let i = 0; i < WARMUP; i++) for (const s of sessions) await s.run(feed(), [manifest.output]);
  for (let i = 0; i < REQUESTS / 2; i++) {
    for (let v = 0; v < sessions.length; v++) {
      const index = (v + i) % sessions.length;
      const t = now();
      await sessions[index]!.run(feed(), [manifest.output]);
      samples[index]!.push(now() - t);
    }
  }
  const chosen = percentile(samples[0]!, 50);
  return variants.map(([name], v) => ({
    case: `${bundle} x${batch}`,
    options: name,
    p50Us: us(percentile(samples[v]!, 50)),
    ratioToChosen: Math.round((percentile(samples[v]!, 50) / chosen) * 100) / 100,
  }));
}

// --- run -------------------------------------------------------------------------------------------------------
const requestPaths = [requestPath('iris', 1), requestPath('iris', 100), requestPath('breast-cancer', 100)];
const cold = await coldStart();
const options = [...(await sessionOptionSweep('iris', 1)), ...(await sessionOptionSweep('iris', 100)), ...(await sessionOptionSweep('breast-cancer', 100))];

const results = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length, onnxruntime: ort.env.versions.node },
  requests: REQUESTS,
  requestPath: requestPaths,
  coldStart: cold,
  sessionOptions: options,
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

console.log(`\nRequest path (p50 of ${REQUESTS} interleaved requests; target handler <= 1.3x raw for iris x1)`);
console.table(requestPaths);
console.log(`\nCold start (p50 of ${COLD_RUNS} fresh processes each; target handler <= 1.2x floor)`);
console.table([cold]);
console.log('\nSession options (p50 of session.run)');
console.table(options);
console.log('\nwrote bench/results/latest.json');
