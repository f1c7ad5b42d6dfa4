/**
 * One memory size's measurement, whoever measured it: the local tuner (tools/tune/local-measurer.ts, the built
 * function under the runtime emulator in a control group) or the AWS mode (a published version per size, invoked
 * with LogType Tail). Both fill a `SizeMeasurer`; the statistics, costs, recommendations, table, JSON and chart are
 * computed from these records alone.
 */

/** How an invocation failed, as Lambda reports it. */
export type FailureKind = 'out-of-memory' | 'timeout' | 'error';

export interface Failure {
  readonly kind: FailureKind;
  /** What Lambda (or the emulator) said, e.g. "Runtime.OutOfMemory: Runtime exited with error: signal: killed". */
  readonly message: string;
  /** How many invocations at the size failed this way. */
  readonly count: number;
}

/** What a measurer found at one size, before costs are computed. */
export interface RawSizeMeasurement {
  readonly memoryMb: number;
  /** The CPU the function had, in vCPUs: Lambda's share, or the machine's cores when `capped`. */
  readonly cpuShare: number;
  /** Lambda's share was more than the machine's cores (local mode only). */
  readonly capped: boolean;
  /** Init duration of the first (cold) invocation; undefined when it failed before init finished. */
  readonly initMs: number | undefined;
  /** REPORT Durations of the warm invocations that succeeded, in the order they ran. */
  readonly warmDurationsMs: readonly number[];
  /** The most memory the function's sandbox used, MB; undefined when it could not be read. */
  readonly peakMemoryMb: number | undefined;
  /** Invocations made at this size, the cold one included. */
  readonly invocations: number;
  readonly failures: readonly Failure[];
  /** Why the size stopped early (e.g. failures in a row), if it did. */
  readonly stoppedEarly?: string;
  /** The CPU quota's scheduler period, µs (local mode with a control group). */
  readonly periodUs?: number;
  /**
   * Scheduler periods in which the size's CPU quota ran out, and the time the function waited for the next, over
   * all its invocations (local mode, where the kernel counts them): the share at work.
   */
  readonly cpuThrottled?: { readonly periods: number; readonly ms: number };
}

/** What a measurer reports while it works, for the progress line. */
export interface SizeProgress {
  readonly memoryMb: number;
  readonly phase: 'starting' | 'cold start' | 'warm' | 'done';
  /** Invocations made at this size so far, and planned (the cold one included). */
  readonly done: number;
  readonly total: number;
}

/** Measures one memory size: local (control group) and AWS (a published version) modes both implement it. */
export interface SizeMeasurer {
  measure(memoryMb: number, progress: (progress: SizeProgress) => void): Promise<RawSizeMeasurement>;
}

/** How the local tuner held the function to Lambda's CPU share and memory limit, or why it could not. */
export interface Throttling {
  readonly mode: 'cgroup-v1' | 'cgroup-v2' | 'none' | 'aws';
  /** Why there is no throttling (mode "none"). */
  readonly reason?: string;
  /**
   * The scheduler period of the CPU quota, µs: the largest one used (the period is chosen per size so that the
   * quota is at least 1 ms, the kernel's minimum).
   */
  readonly periodUs?: number;
}
