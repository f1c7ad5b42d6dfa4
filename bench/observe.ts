/**
 * `npm run bench`'s observe section (issue 17): what tracing and prediction capture cost per request, each beside the
 * plain request in the same run, on one model at 1 and 100 rows:
 *
 * - in process (bench/observe-worker.ts): the shipped bundle once per mode, interleaved, timed to the response and to
 *   the end of the work after it (the metrics line and the capture record are written there);
 * - under the emulator: warm REPORT Durations, one emulator per mode, every one behind the trace-header proxy
 *   (tools/trace-header-proxy.ts adds a hop to each runtime API call, so the plain subject pays it too);
 * - the first traced invocation: fresh processes with the daemon address set, with and without a sampled trace
 *   header, the first invocation timed (the tracer chunk is imported then).
 *
 * The traced subjects send their spans to a UDP listener in this process (bench/daemon-listener.ts), which checks
 * that they are the stages of the invocation; every answer is checked against golden.json.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPTURE_RECORD_TYPE } from '../functions/contract/capture.js';
import { ENV, LAMBDA_ENV } from '../functions/contract/env.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import { lambdaRuntime, startFunction, type LambdaUnderTest } from '../tools/emulator.js';
import { RIE_BIN } from '../tools/testbed/paths.js';
import type { StagedArtifacts } from '../tools/stage-artifacts.js';
import { newTraceHeader } from '../tools/trace-header.js';
import { ENTRIES, scratch } from './baselines.js';
import { checkPrediction, predictEvent, type BenchBundle } from './bench-data.js';
import { daemonPayload, startDaemonListener, type DaemonListener } from './daemon-listener.js';
import { lambdaLikeEnv } from './fresh-process.js';
import type { ObserveWorkerConfig, ObserveWorkerResult } from './observe-worker.js';
import { modeSettings, OBSERVE_MODES, percentiles, type FirstInvocation, type ObserveMode, type ObserveResult, type ObserveRie, type ObserveWarm, type RieMode, type WarmMode } from './observe-report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The request sizes of the section. */
export const OBSERVE_ROWS: readonly number[] = [1, 100];
/** The stages a traced `/predict` request sends, in order. */
const STAGES = ['parse', 'inference', 'serialize'];

export interface ObserveSettings {
  /** In process: rounds of one fresh worker per mode (their order turning round by round), and each worker's settings. */
  readonly rounds: number;
  readonly budgetMs: number;
  readonly minRequests: number;
  readonly maxRequests: number;
  readonly warmupCalls: number;
  readonly warmupMs: number;
  /** Under the emulator: warm-up invocations per mode and size, then invocations kept per mode and size. */
  readonly rieWarmup: number;
  readonly rieSamples: number;
  /** Fresh processes per way for the first invocation. */
  readonly firstRuns: number;
}

/** Throws unless `sent` holds the first stage documents of traced `/predict` requests, as the daemon would receive them. */
function checkSpans(sent: { readonly count: number; readonly first: readonly string[] }, who: string): void {
  const names = sent.first.slice(0, STAGES.length).map((datagram) => (JSON.parse(daemonPayload(datagram)) as { name?: unknown; type?: unknown }).name);
  if (names.join(',') !== STAGES.join(',')) throw new Error(`${who}: the daemon listener received ${sent.count} datagrams, the first named ${JSON.stringify(names)}; expected the stages ${STAGES.join(', ')}`);
}

function runProcess(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stderr) : reject(new Error(`${what} failed (exit ${code}):\n${stderr.slice(-3000)}`))));
  });
}

/**
 * Warm requests in process: per request size, `rounds` rounds of one worker process per mode (bench/observe-worker.ts),
 * the order of the modes turning round by round, their samples pooled per mode. One mode per process, as a Lambda
 * container runs one configuration: modes taking turns in one process made the traced ones look slower
 * (docs/PERFORMANCE.md, "Tracing and capture").
 */
export async function observeInProcess(functionDir: string, bundle: BenchBundle, daemon: DaemonListener, settings: ObserveSettings): Promise<ObserveWarm[]> {
  const results: ObserveWarm[] = [];
  for (const rows of OBSERVE_ROWS) {
    const samples = new Map(OBSERVE_MODES.map((mode) => [mode, { responseUs: [] as number[], totalUs: [] as number[], logBytes: 0, logLines: 0 }]));
    const spans = { received: 0, expected: 0 };
    for (let round = 0; round < settings.rounds; round++) {
      for (let k = 0; k < OBSERVE_MODES.length; k++) {
        const mode = OBSERVE_MODES[(round + k) % OBSERVE_MODES.length]!;
        const config: ObserveWorkerConfig = { functionDir, bundleDir: bundle.dir, rows, mode, daemonAddress: daemon.address, ...settings };
        daemon.take();
        const what = `the observe worker for ${bundle.manifest.name} x${rows}, ${mode}`;
        const stderr = await runProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'observe-worker.ts'), JSON.stringify(config)], { cwd: ROOT, env: process.env }, what);
        const result = JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as ObserveWorkerResult;
        // The last datagrams may still be on their way.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const sent = daemon.take();
        if (modeSettings(mode).traced) checkSpans(sent, what);
        else if (sent.count !== 0) throw new Error(`${what}: sent ${sent.count} datagrams to the daemon address untraced`);
        spans.received += sent.count;
        spans.expected += STAGES.length * result.tracedRequests;
        const pooled = samples.get(mode)!;
        pooled.responseUs.push(...result.responseUs);
        pooled.totalUs.push(...result.totalUs);
        pooled.logBytes = result.logBytes;
        pooled.logLines = result.logLines;
      }
    }
    const modes = Object.fromEntries(
      OBSERVE_MODES.map((mode) => {
        const pooled = samples.get(mode)!;
        const warm: WarmMode = { total: percentiles(pooled.totalUs), response: percentiles(pooled.responseUs), logBytes: pooled.logBytes, logLines: pooled.logLines };
        return [mode, warm];
      }),
    ) as Record<ObserveMode, WarmMode>;
    results.push({ rows, modes, spans });
  }
  return results;
}

/** The environment of a mode: the daemon address when traced, CAPTURE_SAMPLE_RATE=1 when captured. */
function modeEnv(mode: ObserveMode, daemonAddress: string): Record<string, string> {
  const { traced, captured } = modeSettings(mode);
  return { ...(traced ? { [LAMBDA_ENV.XRAY_DAEMON_ADDRESS]: daemonAddress } : {}), ...(captured ? { [ENV.CAPTURE_SAMPLE_RATE]: '1' } : {}) };
}

/**
 * Warm invocations under the emulator, one emulator per mode, every one with the trace-header proxy and a sampled
 * header on every invocation (ignored where no daemon address is set). After `warmup` invocations per size, the
 * modes take turns in runs of 5 (the first of each run not kept), until each has `samples` per size.
 */
export async function observeUnderEmulator(staged: StagedArtifacts, bundle: BenchBundle, daemon: DaemonListener, warmup: number, samples: number): Promise<ObserveRie[]> {
  const subjects = new Map<ObserveMode, LambdaUnderTest>();
  try {
    for (const mode of OBSERVE_MODES) {
      const env = { [ENV.METRICS_NAMESPACE]: 'Bench', ...modeEnv(mode, daemon.address) };
      subjects.set(mode, await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, memoryMB: ONE_VCPU_MEMORY_MB, env, traceHeaders: true }));
    }
    const events = new Map(OBSERVE_ROWS.map((rows) => [rows, predictEvent(bundle, rows)]));
    const call = async (mode: ObserveMode, rows: number) => {
      const invocation = await subjects.get(mode)!.invoke(events.get(rows), { traceHeader: newTraceHeader() });
      const payload = invocation.payload as { statusCode?: number; body?: string };
      const who = `the ${mode} function under the emulator`;
      if (invocation.status !== 200 || payload.statusCode !== 200) throw new Error(`${who} answered ${invocation.status}: ${invocation.raw.slice(0, 500)}\n${invocation.logs.slice(-2000)}`);
      checkPrediction(bundle, rows, who, JSON.parse(payload.body ?? '') as Record<string, unknown>);
      if (invocation.report === undefined) throw new Error(`${who}: the emulator printed no REPORT line:\n${invocation.logs.slice(-2000)}`);
      return invocation.report;
    };
    daemon.take();
    for (const mode of OBSERVE_MODES) for (const rows of OBSERVE_ROWS) for (let i = 0; i < warmup; i++) await call(mode, rows);
    await new Promise((resolve) => setTimeout(resolve, 100));
    checkSpans(daemon.take(), 'traced invocations under the emulator');
    for (const [mode, subject] of subjects) {
      const captured = subject.logs().includes(`"_type":"${CAPTURE_RECORD_TYPE}"`);
      if (captured !== modeSettings(mode).captured) throw new Error(`the ${mode} function under the emulator ${captured ? 'wrote' : 'wrote no'} capture records:\n${subject.logs().slice(-2000)}`);
    }
    const RUN = 5;
    const kept = new Map(OBSERVE_ROWS.map((rows) => [rows, new Map(OBSERVE_MODES.map((mode) => [mode, [] as { durationMs: number; billedMs: number }[]]))]));
    for (let round = 0; round < Math.ceil(samples / (RUN - 1)); round++) {
      for (const rows of OBSERVE_ROWS) {
        for (let k = 0; k < OBSERVE_MODES.length; k++) {
          const mode = OBSERVE_MODES[(round + k) % OBSERVE_MODES.length]!;
          for (let i = 0; i < RUN; i++) {
            const report = await call(mode, rows);
            if (i > 0) kept.get(rows)!.get(mode)!.push(report);
          }
        }
      }
    }
    return OBSERVE_ROWS.map((rows) => {
      const modes = Object.fromEntries(
        OBSERVE_MODES.map((mode) => {
          const list = kept.get(rows)!.get(mode)!;
          const result: RieMode = { duration: percentiles(list.map((r) => r.durationMs)), billed: percentiles(list.map((r) => r.billedMs)) };
          return [mode, result];
        }),
      ) as Record<ObserveMode, RieMode>;
      return { rows, modes };
    });
  } finally {
    for (const subject of subjects.values()) await subject.stop();
  }
}

/**
 * The first invocation of fresh processes of the built function (its task root, the runtime layer on NODE_PATH, on
 * the Node of Lambda's runtime when the test bed installed it), the daemon address set in both ways, traced ones
 * with a sampled trace header: alternating, after one unmeasured run of each (the file cache).
 */
export async function firstTracedInvocation(staged: StagedArtifacts, bundle: BenchBundle, daemon: DaemonListener, runs: number): Promise<FirstInvocation> {
  const dir = await scratch('bench-first-invocation-');
  try {
    await copyFile(path.join(ENTRIES, 'first-invocation-entry.mjs'), path.join(dir, 'first-invocation-entry.mjs'));
    const runtimeNode = lambdaRuntime().node;
    const node = existsSync(runtimeNode) ? runtimeNode : process.execPath;
    const event = JSON.stringify(predictEvent(bundle, 1));
    const once = async (traced: boolean): Promise<number> => {
      const env = lambdaLikeEnv(staged, {
        BENCH_EVENT: event,
        [LAMBDA_ENV.TASK_ROOT]: staged.taskRoot,
        [LAMBDA_ENV.XRAY_DAEMON_ADDRESS]: daemon.address,
        ...(traced ? { [LAMBDA_ENV.TRACE_ID]: newTraceHeader() } : {}),
      });
      daemon.take();
      const way = traced ? 'traced' : 'untraced';
      const stderr = await runProcess(node, [path.join(dir, 'first-invocation-entry.mjs'), path.join(staged.taskRoot, 'index.mjs')], { cwd: staged.taskRoot, env }, `the first ${way} invocation`);
      const out = JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as { firstMs: number; statusCode: number; body: string };
      if (out.statusCode !== 200) throw new Error(`the first ${way} invocation answered ${out.statusCode}: ${out.body.slice(0, 300)}`);
      checkPrediction(bundle, 1, `the first ${way} invocation`, JSON.parse(out.body) as Record<string, unknown>);
      const sent = daemon.take();
      if (traced) checkSpans(sent, 'the first traced invocation');
      else if (sent.count !== 0) throw new Error(`the first untraced invocation sent ${sent.count} datagrams to the daemon address`);
      return out.firstMs;
    };
    await once(false);
    await once(true);
    const traced: number[] = [];
    const untraced: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const way of i % 2 === 0 ? [false, true] : [true, false]) (way ? traced : untraced).push(await once(way));
    }
    const version = await runProcess(node, ['-e', 'process.stderr.write(process.version)'], { cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } }, 'node --version');
    return { traced: percentiles(traced), untraced: percentiles(untraced), node: version.trim() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The whole section on `bundle`: in process, under the emulator (skipped, with the reason, where the test bed has no
 * emulator), and the first traced invocation. `functionDir` holds the function bundle inside the project;
 * `staged` the built artifacts as Lambda unpacks them.
 */
export async function observeSection(functionDir: string, staged: StagedArtifacts, bundle: BenchBundle, settings: ObserveSettings, log: (line: string) => void): Promise<ObserveResult> {
  const daemon = await startDaemonListener();
  try {
    const model = bundle.manifest.name;
    log(`observe/${model}: warm requests in process, plain / traced / captured / both, ${settings.rounds} round(s) of one worker per mode (${OBSERVE_ROWS.join(' and ')} rows)`);
    const warm = await observeInProcess(functionDir, bundle, daemon, settings);
    let rie: ObserveRie[] | string;
    if (existsSync(RIE_BIN)) {
      log(`observe/${model}/rie: warm invocations under the emulator, one per mode, every one behind the trace-header proxy`);
      try {
        rie = await observeUnderEmulator(staged, bundle, daemon, settings.rieWarmup, settings.rieSamples);
      } catch (error) {
        // A runtime that is not installed is a reason to skip; a wrong answer or a broken function fails the run.
        const message = error instanceof Error ? error.message : String(error);
        if (!/is not installed at/.test(message)) throw error;
        rie = message.split('\n')[0] ?? message;
      }
    } else {
      rie = `the Runtime Interface Emulator is not installed (${RIE_BIN}); run npx tsx tools/testbed/install.ts`;
    }
    log(`observe/${model}/first-traced-invocation: ${settings.firstRuns} fresh processes each way, alternating`);
    const first = await firstTracedInvocation(staged, bundle, daemon, settings.firstRuns);
    return { model, warm, rie, first };
  } finally {
    daemon.close();
  }
}
