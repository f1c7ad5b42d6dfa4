/**
 * The numbers of one memory size's warm invocations: duration percentiles and mean, and what Lambda bills for them.
 * Pure, so the arithmetic is checked against hand calculations (test/unit/tune/statistics.test.ts).
 *
 * The mean sits beside the percentiles on purpose: a CPU quota is enforced per scheduler period, so a request of a
 * few milliseconds can run at full speed until its period's quota is spent and the next one then waits; the
 * percentiles of many such requests can look unthrottled while the mean carries the waits.
 */

/** Lambda bills duration in 1 ms units, rounded up, at least 1 ms. */
export function billedMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/**
 * The `p`th percentile (0 < p <= 100) by the nearest-rank method: the smallest value with at least p% of the values
 * at or below it. `sorted` must be in ascending order and not empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of no values');
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export interface DurationStats {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export interface BilledStats {
  /** The mean of each invocation's billed milliseconds: what a million such requests cost, per request. */
  readonly mean: number;
  readonly p50: number;
}

/** Duration and billed statistics of `durationsMs` (REPORT Durations), or undefined when there are none. */
export function summarize(durationsMs: readonly number[]): { readonly durationMs: DurationStats; readonly billedMs: BilledStats } | undefined {
  if (durationsMs.length === 0) return undefined;
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const billed = sorted.map(billedMs);
  return {
    durationMs: { mean: mean(sorted), p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
    billedMs: { mean: mean(billed), p50: percentile(billed, 50) },
  };
}
