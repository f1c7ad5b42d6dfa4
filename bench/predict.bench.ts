/**
 * `npm run bench`: the predict function's costs, each as a ratio against a baseline measured in the same run.
 *
 * 1. Request path: handler time per request vs raw `session.run` on the same input (iris single row, iris 100-row
 *    batch, breast-cancer 100-row batch), interleaved so machine noise hits both alike.
 * 2. Cold start: fresh processes alternately load the bundled handler (esbuild, CommonJS, as Lambda runs it) and
 *    answer one request, or do the floor: import onnxruntime-node, create the session, run once.
 * 3. Session options: intra-op threads and spinning, on the same inputs (the choice in model-session.ts).
 *
 * Writes bench/results/latest.json and prints a table. `--quick` runs fewer iterations.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import * as ort from 'onnxruntime-node';
import { createRequire } from 'node:module';
import type { createHandler as CreateHandler } from '../functions/predict/app.js';
import type { loadConfig as LoadConfig } from '../functions/predict/config.js';
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
 * The function code as Lambda runs it: one esbuild bundle (CommonJS, minified, onnxruntime-node external), not the
 * TypeScript sources under tsx, whose transform adds work of its own.
 */
// Inside the project so the bundles resolve onnxruntime-node from node_modules, as Lambda resolves it from the layer.
mkdirSync(path.join(root, 'node_modules', '.cache'), { recursive: true });
const work = mkdtempSync(path.join(root, 'node_modules', '.cache', 'bench-'));
async function bundle(entry: { contents: string } | string, outfile: string): Promise<string> {
  await build({
    ...(typeof entry === 'string' ? { entryPoints: [entry] } : { stdin: { contents: entry.contents, resolveDir: root, loader: 'ts' } }),
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['onnxruntime-node', '@aws-sdk/*'],
    outfile: path.join(work, outfile),
    logLevel: 'silent',
  });
  return path.join(work, outfile);
}
const app = createRequire(import.meta.url)(
  await bundle({ contents: "export { createHandler } from './functions/predict/app.ts'; export { loadConfig } from './functions/predict/config.ts';" }, 'app.cjs'),
) as { createHandler: typeof CreateHandler; loadConfig: typeof LoadConfig };

// --- 1. request path -------------------------------------------------------------------------------------------
interface PathResult {
  case: string;
  rawP50Us: number;
  handlerP50Us: number;
  ratioP50: number;
  rawP99Us: number;
  handlerP99Us: number;
}

async function requestPath(bundle: string, batch: number): Promise<PathResult> {
  const dir = path.join(root, 'models', bundle);
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { input: string; output: string; features: string[] };
  const input = rows(bundle, batch);
  const body = JSON.stringify(batch === 1 ? { features: input[0] } : { instances: input });
  const event = httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(body), 'bench', true);

  // The handler writes its EMF line synchronously, as it does to stdout in Lambda; /dev/null keeps the terminal quiet.
  const devNull = openSync('/dev/null', 'w');
  const handler = app.createHandler(() => app.loadConfig({ MODEL_DIR: dir }), { write: (line) => writeSync(devNull, `${line}\n`) });
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), sessionOptions(1));
  const data = Float32Array.from(input.flat());
  const raw = () => session.run({ [manifest.input]: new ort.Tensor('float32', data, [batch, manifest.features.length]) }, [manifest.output]);
  const context = { awsRequestId: randomUUID() };

  // The handler writes its EMF line in the next event-loop turn, after Lambda has the response (see app.ts); the
  // write is billed but not waited for, so it is let run outside the timed window rather than inside the next one.
  const afterResponse = () => new Promise((resolve) => setImmediate(resolve));
  const first = await handler(event, context);
  if (first.statusCode !== 200) throw new Error(`handler answered ${first.statusCode}: ${first.body}`);
  for (let i = 0; i < WARMUP; i++) {
    await raw();
    await handler(event, context);
    await afterResponse();
  }
  const rawMs: number[] = [];
  const handlerMs: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    // Alternate which goes first so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      let t = now();
      await raw();
      rawMs.push(now() - t);
      t = now();
      await handler(event, context);
      handlerMs.push(now() - t);
      await afterResponse();
    } else {
      let t = now();
      await handler(event, context);
      handlerMs.push(now() - t);
      await afterResponse();
      t = now();
      await raw();
      rawMs.push(now() - t);
    }
  }
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
  const index = await bundle(path.join(root, 'functions', 'predict', 'index.ts'), 'index.cjs');
  const model = path.join(root, 'models', 'iris');
  const event = JSON.stringify(httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' } }, Buffer.from('{"features":[5.1,3.5,1.4,0.2]}'), 'cold', true));
  const handlerScript = `
    const t0 = performance.now();
    const { handler } = require(${JSON.stringify(index)});
    handler(${event}, { awsRequestId: 'cold' }).then((r) => {
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
    bundleBytes: readFileSync(index).length,
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
const requestPaths = [await requestPath('iris', 1), await requestPath('iris', 100), await requestPath('breast-cancer', 100)];
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
