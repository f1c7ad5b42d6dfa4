/**
 * The function as Lambda runs it: the built zip and runtime layer under AWS's Runtime Interface Emulator and the
 * Node.js runtime interface client (tools/emulator.ts), against the naive function (bench/entries/naive-function.mjs)
 * under the same emulator with the same layer, model and session options. Warm invocations are judged by RIE's
 * `REPORT` Duration, which is what Lambda bills; cold starts by the first invocation as the caller sees it and by
 * the `INIT REPORT` duration.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_FILE, ENV } from '../functions/contract/env.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import { reportFor, startFunction, type LambdaUnderTest } from '../tools/emulator.js';
import type { StagedArtifacts } from '../tools/stage-artifacts.js';
import { ENTRIES, floorEnv, scratch } from './baselines.js';
import { checkPrediction, predictEvent, sampled, type BenchBundle, type Sampled } from './bench-data.js';

/** The function, the naive function, or the naive function writing a line as long as the function's EMF line. */
type Kind = 'function' | 'naive' | 'naive+log';

interface Subject {
  readonly fn: LambdaUnderTest;
  readonly kind: Kind;
}

/**
 * The naive function staged as Lambda would unpack it: index.mjs beside the function's own model/ folder, with the
 * bundle's plain model.onnx (the build ships model.ort; a naive function knows nothing of it).
 */
async function stageNaive(staged: StagedArtifacts, bundle: BenchBundle): Promise<{ taskRoot: string; remove(): Promise<void> }> {
  const taskRoot = await scratch('bench-naive-function-');
  await copyFile(path.join(ENTRIES, 'naive-function.mjs'), path.join(taskRoot, 'index.mjs'));
  await cp(path.join(staged.taskRoot, DEFAULT_MODEL_DIR), path.join(taskRoot, DEFAULT_MODEL_DIR), { recursive: true });
  await copyFile(path.join(bundle.dir, DEFAULT_MODEL_FILE), path.join(taskRoot, DEFAULT_MODEL_DIR, DEFAULT_MODEL_FILE));
  return { taskRoot, remove: () => rm(taskRoot, { recursive: true, force: true }) };
}

async function start(staged: StagedArtifacts, naiveRoot: string, bundle: BenchBundle, kind: Kind, logBytes: ReadonlyMap<number, number> = new Map()): Promise<Subject> {
  const naive = kind !== 'function';
  const env = naive ? floorEnv(bundle, path.join(naiveRoot, DEFAULT_MODEL_DIR, DEFAULT_MODEL_FILE)) : { [ENV.METRICS_NAMESPACE]: 'Bench' };
  const fn = await startFunction({
    taskRoot: naive ? naiveRoot : staged.taskRoot,
    optDir: staged.optDir,
    // Lambda's one full vCPU.
    memoryMB: ONE_VCPU_MEMORY_MB,
    env: kind === 'naive+log' ? { ...env, BENCH_LOG_BYTES: JSON.stringify(Object.fromEntries(logBytes)) } : env,
  });
  return { fn, kind };
}

/** Throws unless the function answered 200 with the model's answer for `rows` golden rows. */
function check(bundle: BenchBundle, subject: Subject, rows: number, status: number, raw: string, logs: () => string): void {
  const who = `${subject.kind === 'function' ? 'function' : subject.kind === 'naive' ? 'naive function' : 'naive function writing a log line'} under the emulator`;
  let payload: { statusCode?: number; body?: string } = {};
  try {
    payload = JSON.parse(raw) as typeof payload;
  } catch {
    // reported below
  }
  if (status !== 200 || payload.statusCode !== 200) throw new Error(`${who} answered ${status}: ${raw.slice(0, 500)}\n${logs().slice(-2000)}`);
  const body = JSON.parse(payload.body ?? '') as Record<string, unknown>;
  checkPrediction(bundle, rows, who, subject.kind === 'function' ? body : (body[bundle.output] as number[]));
}

interface Call {
  /** RIE's REPORT Duration, ms: what Lambda bills (before rounding up to whole ms). */
  readonly durationMs: number;
  /** RIE's Billed Duration: the Duration rounded up to whole ms. */
  readonly billedMs: number;
  /** The invoke API's round trip as the caller sees it, ms. */
  readonly wallMs: number;
}

/**
 * One invocation through the emulator's invoke API, timed by the bench itself (the emulator runner's invoke also
 * waits for log lines, which would pad the round trip), its answer checked, its REPORT line read from the logs.
 */
async function call(bundle: BenchBundle, subject: Subject, rows: number, eventText: string): Promise<Call> {
  const requestId = randomUUID();
  const t0 = performance.now();
  const response = await fetch(subject.fn.invokeUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: eventText });
  const raw = await response.text();
  const wallMs = performance.now() - t0;
  check(bundle, subject, rows, response.status, raw, () => subject.fn.logs());
  const report = await reportFor(() => subject.fn.logs(), requestId);
  return { durationMs: report.durationMs, billedMs: report.billedMs, wallMs };
}

/** Bytes of EMF lines (`{"_aws":…}`) the function writes for one request of `rows` rows. */
async function emfBytes(bundle: BenchBundle, subject: Subject, rows: number, eventText: string): Promise<number> {
  const before = subject.fn.logs().length;
  await call(bundle, subject, rows, eventText);
  // The handler writes its EMF line in the event-loop turn after the response.
  await sleep(300);
  const lines = subject.fn.logs().slice(before).split('\n');
  return lines.filter((line) => line.startsWith('{"_aws"')).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
}

export interface WarmSide {
  readonly duration: Sampled;
  readonly billed: Sampled;
  readonly wall: Sampled;
}

export interface WarmRie {
  readonly rows: number;
  readonly function: WarmSide;
  readonly naive: WarmSide;
  /** The naive function writing, after each response, a line as long as the function's EMF line(s). */
  readonly naiveLogged: WarmSide;
  /** Bytes of EMF log the function writes per request of this size. */
  readonly emfBytes: number;
}

/**
 * Warm invocations of the function, the naive function, and the naive function writing a line as long as the
 * function's EMF line after each response (what the write alone costs), one emulator each, started once and invoked
 * for every size in `sizes`. The function is warmed up first (`warmup` calls per size) and its EMF bytes per size
 * measured, so the third subject writes as much; then the two others are warmed up, and all three take turns in runs
 * of 5 (the first of each run not kept, as it follows another subject), alternating which goes first, until each
 * has `samples` per size.
 */
export async function warmUnderEmulator(staged: StagedArtifacts, bundle: BenchBundle, sizes: readonly number[], warmup: number, samples: number): Promise<WarmRie[]> {
  const naiveRoot = await stageNaive(staged, bundle);
  const subjects: Subject[] = [];
  try {
    const events = new Map(sizes.map((rows) => [rows, JSON.stringify(predictEvent(bundle, rows))]));
    const warmUp = async (subject: Subject) => {
      for (const [rows, text] of events) for (let i = 0; i < warmup; i++) await call(bundle, subject, rows, text);
    };
    const fn = await start(staged, naiveRoot.taskRoot, bundle, 'function');
    subjects.push(fn);
    await warmUp(fn);
    const logBytes = new Map<number, number>();
    for (const [rows, text] of events) logBytes.set(rows, await emfBytes(bundle, fn, rows, text));
    for (const kind of ['naive', 'naive+log'] as const) {
      const subject = await start(staged, naiveRoot.taskRoot, bundle, kind, logBytes);
      subjects.push(subject);
      await warmUp(subject);
    }
    const RUN = 5;
    const kept = new Map(sizes.map((rows) => [rows, subjects.map(() => [] as Call[])]));
    for (let round = 0; round < Math.ceil(samples / (RUN - 1)); round++) {
      for (const [rows, text] of events) {
        for (let k = 0; k < subjects.length; k++) {
          const index = (round + k) % subjects.length;
          for (let i = 0; i < RUN; i++) {
            const timed = await call(bundle, subjects[index]!, rows, text);
            if (i > 0) kept.get(rows)![index]!.push(timed);
          }
        }
      }
    }
    const side = (calls: readonly Call[]): WarmSide => ({ duration: sampled(calls.map((c) => c.durationMs)), billed: sampled(calls.map((c) => c.billedMs)), wall: sampled(calls.map((c) => c.wallMs)) });
    return sizes.map((rows) => {
      const [fnCalls, naiveCalls, loggedCalls] = kept.get(rows)!;
      return { rows, function: side(fnCalls!), naive: side(naiveCalls!), naiveLogged: side(loggedCalls!), emfBytes: logBytes.get(rows)! };
    });
  } finally {
    for (const subject of subjects) await subject.fn.stop();
    await naiveRoot.remove();
  }
}

export interface ColdRie {
  /** `INIT REPORT` duration: the runtime client starting and the module's init, as Lambda bills it. */
  readonly handlerInit: Sampled;
  readonly floorInit: Sampled;
  /** Wall time of the first invocation as the caller sees it: runtime start, init and the request. */
  readonly handlerFirst: Sampled;
  readonly floorFirst: Sampled;
}

/**
 * Cold starts: each run starts a new emulator and invokes once with one row (the runtime starts and the module inits
 * on that first call), for the function and the naive function alternately.
 */
export async function coldUnderEmulator(staged: StagedArtifacts, bundle: BenchBundle, runs: number): Promise<ColdRie> {
  const naiveRoot = await stageNaive(staged, bundle);
  try {
    const event = predictEvent(bundle, 1);
    const once = async (naive: boolean) => {
      const subject = await start(staged, naiveRoot.taskRoot, bundle, naive ? 'naive' : 'function');
      try {
        const t0 = performance.now();
        const first = await subject.fn.invoke(event);
        const firstMs = performance.now() - t0;
        check(bundle, subject, 1, first.status, first.raw, () => first.logs);
        if (first.runtimeInitMs === undefined) throw new Error(`the emulator printed no INIT REPORT:\n${first.logs.slice(-2000)}`);
        return { init: first.runtimeInitMs, first: firstMs };
      } finally {
        await subject.fn.stop();
      }
    };
    const results: Record<'handler' | 'floor', { init: number; first: number }[]> = { handler: [], floor: [] };
    for (let i = 0; i < runs; i++) {
      for (const naive of i % 2 === 0 ? [true, false] : [false, true]) results[naive ? 'floor' : 'handler'].push(await once(naive));
    }
    return {
      handlerInit: sampled(results.handler.map((r) => r.init)),
      floorInit: sampled(results.floor.map((r) => r.init)),
      handlerFirst: sampled(results.handler.map((r) => r.first)),
      floorFirst: sampled(results.floor.map((r) => r.first)),
    };
  } finally {
    await naiveRoot.remove();
  }
}
