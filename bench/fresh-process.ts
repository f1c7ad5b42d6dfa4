/**
 * Cold starts and peak memory of fresh plain processes, on the built artifacts unpacked as Lambda unpacks them (the
 * function in a task root, the runtime layer's `nodejs/node_modules` on NODE_PATH), each against the least
 * onnxruntime-node itself needs, in processes that alternate so the machine's load hits both alike.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_FILE, LAMBDA_ENV } from '../functions/contract/env.js';
import type { StagedArtifacts } from '../tools/stage-artifacts.js';
import { ENTRIES, floorEnv, scratch } from './baselines.js';
import { checkPrediction, predictEvent, sampled, type BenchBundle, type Sampled } from './bench-data.js';

/** An environment like Lambda's for a process: nothing of the bench's own (no tsx), the layer on NODE_PATH. */
export function lambdaLikeEnv(staged: StagedArtifacts, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC', NODE_PATH: path.join(staged.optDir, 'nodejs', 'node_modules'), ...extra };
}

/** The floor's model: the bundle's plain model.onnx, what a function without the kit would load. */
function floorModel(bundle: BenchBundle): string {
  return path.join(bundle.dir, DEFAULT_MODEL_FILE);
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
    const handlerEnv = lambdaLikeEnv(staged, { BENCH_EVENT: JSON.stringify(event), [LAMBDA_ENV.TASK_ROOT]: staged.taskRoot });
    const floorEnvironment = lambdaLikeEnv(staged, { ...floorEnv(bundle, floorModel(bundle)), BENCH_INSTANCES: JSON.stringify(bundle.rows(1)) });
    const runHandler = () => {
      const out = runEntry([path.join(dir, 'handler-entry.mjs'), path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, handlerEnv, 'cold-start process (handler)');
      if (out['statusCode'] !== 200) throw new Error(`cold-start handler answered ${String(out['statusCode'])}: ${String(out['body'])}`);
      checkPrediction(bundle, 1, 'handler after a cold start', JSON.parse(String(out['body'])) as Record<string, unknown>);
      return out as { totalMs: number; moduleMs: number };
    };
    const runFloor = () => {
      const out = runEntry([path.join(dir, 'floor-entry.mjs')], dir, floorEnvironment, 'cold-start process (floor)');
      checkPrediction(bundle, 1, 'floor after a cold start', out['output'] as number[]);
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
    const handlerEnv = lambdaLikeEnv(staged, { ...common, [LAMBDA_ENV.TASK_ROOT]: staged.taskRoot });
    const floorEnvironment = lambdaLikeEnv(staged, { ...common, ...floorEnv(bundle, floorModel(bundle)) });
    const handler: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      const h = runEntry([path.join(dir, 'serve-entry.mjs'), 'handler', path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, handlerEnv, 'memory process (handler)');
      const answers = h['answers'] as { statusCode: number; body: string }[];
      answers.forEach((a, k) => checkPrediction(bundle, k === 0 ? 1 : 100, 'handler in the memory process', JSON.parse(a.body) as Record<string, unknown>));
      handler.push(h['peakRssMb'] as number);
      const f = runEntry([path.join(dir, 'serve-entry.mjs'), 'floor'], dir, floorEnvironment, 'memory process (floor)');
      (f['answers'] as number[][]).forEach((a, k) => checkPrediction(bundle, k === 0 ? 1 : 100, 'floor in the memory process', a));
      floor.push(f['peakRssMb'] as number);
    }
    return { handler: sampled(handler), floor: sampled(floor) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
