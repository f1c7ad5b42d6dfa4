/**
 * Which memory size to choose, from the measured sizes: the cheapest, the fastest, and the best balance of the two
 * among the sizes that meet a latency limit. Pure; only sizes whose every invocation succeeded are considered.
 *
 * - cheapest: the lowest cost per million requests on the run's architecture; a tie goes to the smaller size.
 * - fastest: the lowest mean warm duration (the mean, not p50, carries the throttling waits); a tie goes to the
 *   cheaper size.
 * - balanced: among the sizes whose p99 is within `maxLatencyMs` (all of them without a limit), the lowest sum of
 *   cost / cheapest cost and mean duration / fastest mean duration, both over the sizes considered: a size twice as
 *   dear as the cheapest but as fast as the fastest scores 3, like one as cheap but twice as slow. A tie goes to the
 *   smaller size.
 */
import type { Arch } from '../../functions/contract/build-record.js';

/** What a recommendation needs of a size. */
export interface Candidate {
  readonly memoryMb: number;
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly cost: number;
  /** Every invocation succeeded. */
  readonly clean: boolean;
}

export interface Recommendations {
  readonly cheapest: number | null;
  readonly fastest: number | null;
  /** Null when no clean size meets the latency limit. */
  readonly balanced: number | null;
  readonly maxLatencyMs: number | null;
  /** The architecture whose prices chose them. */
  readonly arch: Arch;
}

function best(candidates: readonly Candidate[], score: (c: Candidate) => number, tie: (c: Candidate) => number): number | null {
  let chosen: Candidate | undefined;
  for (const candidate of candidates) {
    if (chosen === undefined) chosen = candidate;
    else {
      const [a, b] = [score(candidate), score(chosen)];
      if (a < b || (a === b && tie(candidate) < tie(chosen))) chosen = candidate;
    }
  }
  return chosen?.memoryMb ?? null;
}

export function recommend(candidates: readonly Candidate[], arch: Arch, maxLatencyMs: number | null): Recommendations {
  const clean = candidates.filter((c) => c.clean);
  const cheapest = best(clean, (c) => c.cost, (c) => c.memoryMb);
  const fastest = best(clean, (c) => c.meanMs, (c) => c.cost);
  const within = clean.filter((c) => maxLatencyMs === null || c.p99Ms <= maxLatencyMs);
  const minCost = Math.min(...within.map((c) => c.cost));
  const minMean = Math.min(...within.map((c) => c.meanMs));
  const balanced = best(within, (c) => c.cost / minCost + c.meanMs / minMean, (c) => c.memoryMb);
  return Object.freeze({ cheapest, fastest, balanced, maxLatencyMs, arch });
}
