/**
 * Cold starts and peak memory, measured on the built artifacts unpacked as Lambda unpacks them (the function in a
 * task root, the runtime layer's `nodejs/node_modules` on NODE_PATH), each against the least onnxruntime-node
 * itself needs, in fresh processes that alternate so the machine's load hits both alike.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionOptions } from '../functions/predict/model-session.js';
import { startFunction, type Invocation } from '../scripts/emulator.js';
import { httpEvent } from '../scripts/lambda-event.js';
import type { StagedArtifacts } from '../scripts/stage-artifacts.js';
import { checkPrediction, percentile, requestBody, type BenchBundle } from './bench-data.js';

const ENTRIES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'entries');

export interface Sampled {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export function sampled(values: readonly number[]): Sampled {
  return { p50: percentile(values, 50), p99: percentile(values, 99), n: values.length };
}

/** A payload 2.0 event asking for one row, or a batch of `rows`. */
export function predictEvent(bundle: BenchBundle, rows: number): ReturnType<typeof httpEvent> {
  return httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(requestBody(bundle, rows, 'float32')), 'bench', true);
}

/** An environment like Lambda's for a process: nothing of the bench's own (no tsx), the layer on NODE_PATH. */
function lambdaLikeEnv(staged: StagedArtifacts, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC', NODE_PATH: path.join(staged.optDir, 'nodejs', 'node_modules'), ...extra };
}

function floorEnv(bundle: BenchBundle, model: string): Record<string, string> {
  return {
    BENCH_MODEL: model,
    BENCH_INPUT: bundle.manifest.input,
    BENCH_OUTPUT: bundle.manifest.output,
    BENCH_SESSION_OPTIONS: JSON.stringify(sessionOptions(1)),
    BENCH_WIDTH: String(bundle.manifest.features.length),
  };
}

function runEntry(args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Record<string, unknown> {
  const child = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  try {
    if (child.status !== 0) throw new Error(`exit ${child.status}`);
    return JSON.parse(child.stderr) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${what} failed (${error instanceof Error ? error.message : String(error)}): ${child.stderr.slice(0, 2000)}`, { cause: error });
  }
}

/** A folder outside the project, so that a script there finds onnxruntime-node only through NODE_PATH. */
async function scratch(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export interface ColdInProcess {
  /** ms from process start to the first response. */
  readonly handler: Sampled;
  readonly floor: Sampled;
  /** ms from the entry script's first line to the response: the module work alone, without node's own start. */
  readonly handlerModule: Sampled;
  readonly floorModule: Sampled;
}

/**
 * Fresh processes to the first response: the shipped function (ES module entry imports index.mjs, which loads its
 * model at top level, then one invocation) against the floor (ES module entry, require onnxruntime-node, create the
 * session with the same options, run the same row). One unmeasured run of each first, for the file cache.
 */
export async function coldInProcess(staged: StagedArtifacts, bundle: BenchBundle, runs: number): Promise<ColdInProcess> {
  const dir = await scratch('bench-cold-');
  try {
    await copyFile(path.join(ENTRIES, 'handler-entry.mjs'), path.join(dir, 'handler-entry.mjs'));
    await copyFile(path.join(ENTRIES, 'floor-entry.mjs'), path.join(dir, 'floor-entry.mjs'));
    const event = predictEvent(bundle, 1);
    const handlerEnv = lambdaLikeEnv(staged, { BENCH_EVENT: JSON.stringify(event), LAMBDA_TASK_ROOT: staged.taskRoot });
    const floor = floorEnv(bundle, path.join(staged.taskRoot, 'model', 'model.onnx'));
    const floorEnvironment = lambdaLikeEnv(staged, { ...floor, BENCH_FEATURES: JSON.stringify(bundle.rows(1)[0]) });
    const runHandler = () => {
      const out = runEntry([path.join(dir, 'handler-entry.mjs'), path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, handlerEnv, 'cold-start process (handler)');
      if (out['statusCode'] !== 200) throw new Error(`cold-start handler answered ${String(out['statusCode'])}: ${String(out['body'])}`);
      checkPrediction(bundle, 1, 'handler after a cold start', JSON.parse(String(out['body'])) as Record<string, unknown>);
      return out as { totalMs: number; moduleMs: number };
    };
    const runFloor = () => {
      const out = runEntry([path.join(dir, 'floor-entry.mjs')], dir, floorEnvironment, 'cold-start process (floor)');
      checkPrediction(bundle, 1, 'floor after a cold start', Float32Array.from(out['output'] as number[]));
      return out as { totalMs: number; moduleMs: number };
    };
    runFloor();
    runHandler();
    const handler: { totalMs: number; moduleMs: number }[] = [];
    const floorRuns: { totalMs: number; moduleMs: number }[] = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        floorRuns.push(runFloor());
        handler.push(runHandler());
      } else {
        handler.push(runHandler());
        floorRuns.push(runFloor());
      }
    }
    return {
      handler: sampled(handler.map((r) => r.totalMs)),
      floor: sampled(floorRuns.map((r) => r.totalMs)),
      handlerModule: sampled(handler.map((r) => r.moduleMs)),
      floorModule: sampled(floorRuns.map((r) => r.moduleMs)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ColdRie {
  /** `INIT REPORT` duration: the runtime client starting and the module's init, as Lambda bills it. */
  readonly handlerInit: Sampled;
  readonly floorInit: Sampled;
  /** Wall time of the first invocation as the caller sees it: runtime start, init and the request. */
  readonly handlerFirst: Sampled;
  readonly floorFirst: Sampled;
  /** `REPORT` Duration of warm invocations (ms). */
  readonly handlerWarm: Sampled;
  readonly floorWarm: Sampled;
}

/**
 * Cold starts under AWS's Runtime Interface Emulator and Node.js runtime interface client: each run starts a new
 * emulator, invokes once (the runtime starts and the module inits on that first call), then a few warm calls.
 * The floor is bench/entries/floor-function.mjs with the same layer, model and session options.
 */
export async function coldUnderEmulator(staged: StagedArtifacts, bundle: BenchBundle, runs: number, warmCalls: number): Promise<ColdRie> {
  const floorRoot = await scratch('bench-floor-function-');
  try {
    await copyFile(path.join(ENTRIES, 'floor-function.mjs'), path.join(floorRoot, 'index.mjs'));
    await cp(path.join(staged.taskRoot, 'model'), path.join(floorRoot, 'model'), { recursive: true });
    const event = predictEvent(bundle, 1);
    const answer = (invocation: Invocation, who: string) => {
      const payload = invocation.payload as { statusCode?: number; body?: string };
      if (invocation.status !== 200 || payload.statusCode !== 200) throw new Error(`${who} under the emulator answered ${invocation.status}: ${invocation.raw.slice(0, 500)}\n${invocation.logs.slice(-2000)}`);
      const body = JSON.parse(payload.body ?? '') as Record<string, unknown>;
      if (who.startsWith('floor')) checkPrediction(bundle, 1, who, Float32Array.from((body['probabilities'] as number[][]).flat()));
      else checkPrediction(bundle, 1, who, body);
    };
    const once = async (floor: boolean) => {
      const fn = await startFunction({
        taskRoot: floor ? floorRoot : staged.taskRoot,
        optDir: staged.optDir,
        memoryMB: 1769,
        env: floor ? floorEnv(bundle, path.join(floorRoot, 'model', 'model.onnx')) : { METRICS_NAMESPACE: 'Bench' },
      });
      try {
        const who = floor ? 'floor function' : 'function';
        const t0 = performance.now();
        const first = await fn.invoke(event);
        const firstMs = performance.now() - t0;
        answer(first, who);
        if (first.runtimeInitMs === undefined) throw new Error(`the emulator printed no INIT REPORT for the ${who}:\n${first.logs.slice(-2000)}`);
        const warm: number[] = [];
        for (let i = 0; i < warmCalls; i++) {
          const invocation = await fn.invoke(event);
          answer(invocation, who);
          if (invocation.report !== undefined) warm.push(invocation.report.durationMs);
        }
        return { init: first.runtimeInitMs, first: firstMs, warm };
      } finally {
        await fn.stop();
      }
    };
    const results: Record<'handler' | 'floor', { init: number; first: number; warm: number[] }[]> = { handler: [], floor: [] };
    for (let i = 0; i < runs; i++) {
      for (const floor of i % 2 === 0 ? [true, false] : [false, true]) results[floor ? 'floor' : 'handler'].push(await once(floor));
    }
    return {
      handlerInit: sampled(results.handler.map((r) => r.init)),
      floorInit: sampled(results.floor.map((r) => r.init)),
      handlerFirst: sampled(results.handler.map((r) => r.first)),
      floorFirst: sampled(results.floor.map((r) => r.first)),
      handlerWarm: sampled(results.handler.flatMap((r) => r.warm)),
      floorWarm: sampled(results.floor.flatMap((r) => r.warm)),
    };
  } finally {
    await rm(floorRoot, { recursive: true, force: true });
  }
}

export interface PeakMemory {
  /** MB (2^20 bytes), as Lambda's Max Memory Used. */
  readonly handler: Sampled;
  readonly floor: Sampled;
}

/**
 * Peak RSS of a process serving `requests` requests (single rows and 100-row batches, alternately) through the
 * shipped function, against a process doing only onnxruntime's part of the same work.
 */
export async function peakMemory(staged: StagedArtifacts, bundle: BenchBundle, requests: number, runs: number): Promise<PeakMemory> {
  const dir = await scratch('bench-memory-');
  try {
    await copyFile(path.join(ENTRIES, 'serve-entry.mjs'), path.join(dir, 'serve-entry.mjs'));
    const events = [predictEvent(bundle, 1), predictEvent(bundle, 100)];
    const common = { BENCH_EVENTS: JSON.stringify(events), BENCH_REQUESTS: String(requests) };
    const handlerEnv = lambdaLikeEnv(staged, { ...common, LAMBDA_TASK_ROOT: staged.taskRoot, MODEL_DIR: bundle.dir });
    const floorEnvironment = lambdaLikeEnv(staged, { ...common, ...floorEnv(bundle, path.join(bundle.dir, 'model.onnx')) });
    const handler: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      const h = runEntry([path.join(dir, 'serve-entry.mjs'), 'handler', path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, handlerEnv, 'memory process (handler)');
      const answers = h['answers'] as { statusCode: number; body: string }[];
      answers.forEach((a, k) => checkPrediction(bundle, k === 0 ? 1 : 100, 'handler in the memory process', JSON.parse(a.body) as Record<string, unknown>));
      handler.push(h['peakRssMb'] as number);
      const f = runEntry([path.join(dir, 'serve-entry.mjs'), 'floor'], dir, floorEnvironment, 'memory process (floor)');
      (f['answers'] as number[][]).forEach((a, k) => checkPrediction(bundle, k === 0 ? 1 : 100, 'floor in the memory process', Float32Array.from(a)));
      floor.push(f['peakRssMb'] as number);
    }
    return { handler: sampled(handler), floor: sampled(floor) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
