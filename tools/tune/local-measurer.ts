/**
 * The local SizeMeasurer: the built function under AWS's Runtime Interface Emulator (tools/emulator.ts), in a
 * control group per memory size with Lambda's CPU share and memory limit for it (tools/tune/control-group.ts).
 * Per size: a cold invocation (its init duration), then warm invocations (their REPORT Durations), peak memory from
 * the group, and every failure as Lambda reports it: an out-of-memory kill, a timeout, an error. A size that fails
 * several times in a row stops early; the run goes on with the next size.
 */
import { readFileSync } from 'node:fs';
import { childPids, startFunction, type FunctionOptions, type Invocation, type LambdaUnderTest } from '../emulator.js';
import { localCpuShare } from '../../commands/tune/cpu-share.js';
import type { Failure, FailureKind, RawSizeMeasurement, SizeMeasurer, SizeProgress } from '../../commands/tune/measurement.js';
import { cpuQuota, type ControlGroups, type SizeGroup } from './control-group.js';

/** Failures in a row after which a size stops: it would only fail again, each up to a timeout long. */
export const MAX_FAILURES_IN_A_ROW = 3;

/** The staged function to measure (a task root, an opt folder, its handler), as tools/stage-artifacts.ts unpacks it. */
export interface StagedFunction {
  readonly taskRoot: string;
  readonly optDir?: string;
  readonly handler?: string;
  readonly runtime?: string;
}

export interface LocalMeasurerOptions {
  readonly staged: StagedFunction;
  /** A fresh event for each invocation. */
  readonly event: (memoryMb: number) => unknown;
  /** Warm invocations per size, after the cold one. */
  readonly invocations: number;
  readonly timeoutSeconds: number;
  readonly groups: ControlGroups;
  /** The machine's cores: a larger share is capped to it. */
  readonly cores: number;
  /** Function environment variables. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** How long the emulator may take to listen. @default tools/emulator.ts's 10 s */
  readonly startTimeoutMs?: number;
  /** Starts the emulator; tests replace it to make one that never starts. @default startFunction */
  readonly start?: (options: FunctionOptions) => Promise<LambdaUnderTest>;
}

/** What the caller must end on Ctrl-C: the running function and its group. */
export interface Running {
  stop(): Promise<void>;
}

/** Lambda's name for a runtime killed for memory, with the emulator's own words after it. */
const OUT_OF_MEMORY = 'Runtime.OutOfMemory';

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Drops the request id Lambda puts in front of runtime errors, so alike failures count together. */
function withoutRequestId(message: string): string {
  return message.replace(/RequestId: [0-9a-f-]+ /gi, '').trim();
}

/** How an invocation failed, or undefined when it succeeded. `oomKilled`: the group's OOM kill count rose. */
export function classify(invocation: Invocation, oomKilled: boolean): { readonly kind: FailureKind; readonly message: string } | undefined {
  const payload = invocation.payload as { errorType?: unknown; errorMessage?: unknown; statusCode?: unknown; body?: unknown } | null;
  const errorType = typeof payload === 'object' && payload !== null ? payload.errorType : undefined;
  const errorMessage = typeof payload === 'object' && payload !== null ? payload.errorMessage : undefined;
  const said = errorType === undefined ? withoutRequestId(invocation.raw).slice(0, 300) : withoutRequestId(`${text(errorType)}: ${text(errorMessage ?? '')}`).slice(0, 300);
  if (oomKilled) {
    const exited = /Runtime exited with error: signal: killed/.exec(said)?.[0] ?? 'Runtime exited with error: signal: killed';
    return { kind: 'out-of-memory', message: `${OUT_OF_MEMORY}: ${exited}` };
  }
  if (invocation.timedOut) return { kind: 'timeout', message: said };
  if (invocation.status !== 200 || errorType !== undefined || invocation.initError) return { kind: 'error', message: said || `the emulator answered ${invocation.status}` };
  const statusCode = typeof payload === 'object' && payload !== null ? payload.statusCode : undefined;
  if (typeof statusCode === 'number' && statusCode >= 400) {
    return { kind: 'error', message: `the function answered HTTP ${statusCode}: ${text(payload?.body ?? '').slice(0, 300)}` };
  }
  return undefined;
}

/** The high-water marks of a process and its descendants' resident memory, MB: the peak where no group counts it. */
function treePeakMb(pid: number): number | undefined {
  let kb = 0;
  const visit = (p: number) => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (hwm !== null) kb += Number(hwm[1]);
    } catch {
      // gone
    }
    for (const child of childPids(p)) visit(child);
  };
  visit(pid);
  return kb === 0 ? undefined : kb / 1024;
}

function addFailure(failures: Failure[], failure: { readonly kind: FailureKind; readonly message: string }): void {
  const at = failures.findIndex((f) => f.kind === failure.kind && f.message === failure.message);
  if (at === -1) failures.push({ ...failure, count: 1 });
  else failures[at] = { ...failures[at]!, count: failures[at]!.count + 1 };
}

export class LocalMeasurer implements SizeMeasurer {
  readonly #options: LocalMeasurerOptions;
  #running: { fn: LambdaUnderTest | undefined; group: SizeGroup | undefined } | undefined;

  constructor(options: LocalMeasurerOptions) {
    this.#options = options;
  }

  /** The CPU quota's period at `memoryMb`, when a control group throttles. */
  periodUs(memoryMb: number): number | undefined {
    if (this.#options.groups.mode === 'none') return undefined;
    return cpuQuota(localCpuShare(memoryMb, this.#options.cores).share).periodUs;
  }

  /** Ends what is running (the emulator and its runtime, then the group): for Ctrl-C. */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running?.fn?.stop();
    await running?.group?.remove();
  }

  async measure(memoryMb: number, progress: (progress: SizeProgress) => void): Promise<RawSizeMeasurement> {
    const options = this.#options;
    const { share, capped } = localCpuShare(memoryMb, options.cores);
    const total = options.invocations + 1;
    const failures: Failure[] = [];
    const base = { memoryMb, cpuShare: share, capped, ...(this.periodUs(memoryMb) === undefined ? {} : { periodUs: this.periodUs(memoryMb)! }) };
    progress({ memoryMb, phase: 'starting', done: 0, total });

    const running: { fn: LambdaUnderTest | undefined; group: SizeGroup | undefined } = { fn: undefined, group: undefined };
    this.#running = running;
    let emulatorPid: number | undefined;
    try {
      if (options.groups.mode !== 'none') running.group = options.groups.create(memoryMb, cpuQuota(share));
      const group = running.group;
      try {
        running.fn = await (options.start ?? startFunction)({
          taskRoot: options.staged.taskRoot,
          ...(options.staged.optDir === undefined ? {} : { optDir: options.staged.optDir }),
          ...(options.staged.handler === undefined ? {} : { handler: options.staged.handler }),
          ...(options.staged.runtime === undefined ? {} : { runtime: options.staged.runtime }),
          ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
          env: options.env ?? {},
          memoryMB: memoryMb,
          timeoutSeconds: options.timeoutSeconds,
          functionName: 'tune',
          onSpawn: (pid) => {
            emulatorPid = pid;
            group?.place(pid);
          },
        });
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
        addFailure(failures, { kind: 'error', message: `the emulator did not start: ${message}` });
        return { ...base, initMs: undefined, warmDurationsMs: [], peakMemoryMb: undefined, invocations: 0, failures, stoppedEarly: 'the emulator did not start' };
      }
      const fn = running.fn;
      let initMs: number | undefined;
      const warm: number[] = [];
      let invocations = 0;
      let inARow = 0;
      let stoppedEarly: string | undefined;
      for (let i = 0; i < total; i++) {
        progress({ memoryMb, phase: i === 0 ? 'cold start' : 'warm', done: i, total });
        const killsBefore = group?.oomKills() ?? 0;
        const invocation = await fn.invoke(options.event(memoryMb));
        invocations++;
        const failure = classify(invocation, (group?.oomKills() ?? 0) > killsBefore);
        if (i === 0 && invocation.runtimeInitMs !== undefined) initMs = invocation.runtimeInitMs;
        if (failure !== undefined) {
          addFailure(failures, failure);
          inARow++;
          if (inARow >= MAX_FAILURES_IN_A_ROW) {
            stoppedEarly = `stopped after ${inARow} failures in a row`;
            break;
          }
          continue;
        }
        inARow = 0;
        // A cold start (the first invocation, or one after a runtime was killed or timed out) is not a warm sample.
        if (i > 0 && invocation.runtimeInitMs === undefined && invocation.report !== undefined) warm.push(invocation.report.durationMs);
      }
      // The group is charged only for pages first touched in it: the Node binary's pages, cached by earlier runs, are
      // not; the processes' resident high-water marks count them, as Lambda's fresh sandbox does.
      const peaks = [group?.peakMemoryMb(), emulatorPid === undefined ? undefined : treePeakMb(emulatorPid)].filter((mb) => mb !== undefined);
      const peakMemoryMb = peaks.length === 0 ? undefined : Math.max(...peaks);
      const cpuThrottled = group?.cpuThrottled();
      progress({ memoryMb, phase: 'done', done: invocations, total });
      return {
        ...base,
        initMs,
        warmDurationsMs: warm,
        peakMemoryMb,
        invocations,
        failures,
        ...(stoppedEarly === undefined ? {} : { stoppedEarly }),
        ...(cpuThrottled === undefined ? {} : { cpuThrottled }),
      };
    } finally {
      await running.fn?.stop();
      await running.group?.remove();
      if (this.#running === running) this.#running = undefined;
    }
  }
}
