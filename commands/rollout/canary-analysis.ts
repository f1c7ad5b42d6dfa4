/**
 * The canary analysis, pure: the new version's behaviour over a step against the stable version's over the same
 * window. It decides pass, fail (with the metric, both values and the threshold) or wait (too little traffic: the
 * step is extended, never passed). The figures come from canary-metrics.ts.
 */
import { METRIC } from '../../functions/contract/metrics.js';

/** What one version did in the window, summed over it. */
export interface VersionStats {
  readonly version: string;
  /** Requests served: Lambda's Invocations, or the function's own count when Lambda's is absent. */
  readonly requests: number;
  /** Failed requests: Lambda's Errors (crashes, timeouts) plus the function's InternalError and ModelUnavailable. */
  readonly errors: number;
  /** Requests the function rejected as invalid (4xx): a new model that expects other features shows up here. */
  readonly invalid: number;
  /** Request latency in ms; `p99` only where the metrics service computes percentiles. */
  readonly latency: { readonly p99?: number | undefined; readonly average?: number | undefined; readonly metric: string };
  /** Mean top-class probability over classified rows; absent for regressors or when no row was classified. */
  readonly confidence?: { readonly mean: number; readonly rows: number } | undefined;
}

/** Limits on how much worse the new version may be than the stable one. */
export interface Thresholds {
  /** Requests the new version must serve in a step before it can pass; 0 lets alarms alone decide. */
  readonly minRequests: number;
  /** Error rate may exceed the stable version's by at most this many points (0.01 = 1 percentage point). */
  readonly maxErrorRateIncrease: number;
  /** Invalid-request rate may exceed the stable version's by at most this many points. */
  readonly maxInvalidRateIncrease: number;
  /** Latency (p99, or the average where percentiles are absent) may be at most this multiple of the stable one's… */
  readonly maxLatencyRatio: number;
  /** …unless the difference is under this many ms, which is noise at small latencies. */
  readonly latencySlackMs: number;
  /** Mean confidence may fall below the stable version's by at most this much (0.05 = 5 points). */
  readonly maxConfidenceDrop: number;
}

/** One comparison made, for the report; `passed` false means this one failed the step. */
export interface Comparison {
  readonly metric: string;
  readonly canary: number;
  readonly stable: number | undefined;
  readonly limit: number;
  readonly rule: string;
  readonly passed: boolean;
}

export type Verdict =
  | { readonly outcome: 'pass'; readonly comparisons: readonly Comparison[]; readonly notes: readonly string[] }
  | { readonly outcome: 'fail'; readonly reason: string; readonly comparisons: readonly Comparison[]; readonly notes: readonly string[] }
  | { readonly outcome: 'wait'; readonly reason: string; readonly comparisons: readonly Comparison[]; readonly notes: readonly string[] };

function percent(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}

function ms(value: number): string {
  return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
}

function rate(count: number, requests: number): number {
  return requests === 0 ? 0 : count / requests;
}

export function analyse(canary: VersionStats, stable: VersionStats, thresholds: Thresholds): Verdict {
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  if (thresholds.minRequests === 0) {
    notes.push('--min-requests 0: alarms alone decide; no canary comparison');
    return { outcome: 'pass', comparisons, notes };
  }
  if (canary.requests < thresholds.minRequests) {
    const reason = `version ${canary.version} served ${canary.requests} of the ${thresholds.minRequests} requests the step needs`;
    return { outcome: 'wait', reason, comparisons, notes };
  }
  const stableKnown = stable.requests > 0;
  if (!stableKnown) notes.push(`version ${stable.version} served no requests in the window: rates compared against 0, latency and confidence not compared`);

  const failures: string[] = [];
  const rateCheck = (metric: string, canaryCount: number, stableCount: number, increase: number): void => {
    const canaryRate = rate(canaryCount, canary.requests);
    const stableRate = rate(stableCount, stable.requests);
    const limit = stableRate + increase;
    const passed = canaryRate <= limit;
    comparisons.push({ metric, canary: canaryRate, stable: stableKnown ? stableRate : undefined, limit, rule: `at most ${percent(increase)} points above the stable version`, passed });
    if (!passed) {
      failures.push(`${metric}: version ${canary.version} ${percent(canaryRate)} (${canaryCount}/${canary.requests}) vs version ${stable.version} ${percent(stableRate)} (${stableCount}/${stable.requests}); threshold: at most ${percent(limit)} (+${percent(increase)})`);
    }
  };
  rateCheck('error rate', canary.errors, stable.errors, thresholds.maxErrorRateIncrease);
  rateCheck('invalid-request rate', canary.invalid, stable.invalid, thresholds.maxInvalidRateIncrease);

  if (stableKnown) {
    const bothP99 = canary.latency.p99 !== undefined && stable.latency.p99 !== undefined;
    const statistic = bothP99 ? 'p99' : 'average';
    const canaryLatency = bothP99 ? canary.latency.p99 : canary.latency.average;
    const stableLatency = bothP99 ? stable.latency.p99 : stable.latency.average;
    if (!bothP99) notes.push(`no p99 latency for both versions from the metrics service: compared average ${canary.latency.metric}`);
    if (canaryLatency !== undefined && stableLatency !== undefined) {
      const limit = Math.max(stableLatency * thresholds.maxLatencyRatio, stableLatency + thresholds.latencySlackMs);
      const passed = canaryLatency <= limit;
      const metric = `${statistic} ${canary.latency.metric}`;
      comparisons.push({ metric, canary: canaryLatency, stable: stableLatency, limit, rule: `at most ${thresholds.maxLatencyRatio}x the stable version (or +${thresholds.latencySlackMs} ms)`, passed });
      if (!passed) {
        failures.push(`${metric}: version ${canary.version} ${ms(canaryLatency)} vs version ${stable.version} ${ms(stableLatency)}; threshold: at most ${ms(limit)} (${thresholds.maxLatencyRatio}x, or +${thresholds.latencySlackMs} ms)`);
      }
    } else {
      notes.push('no latency data for one of the versions: latency not compared');
    }

    if (canary.confidence !== undefined && stable.confidence !== undefined) {
      const limit = stable.confidence.mean - thresholds.maxConfidenceDrop;
      const passed = canary.confidence.mean >= limit;
      comparisons.push({ metric: 'mean confidence', canary: canary.confidence.mean, stable: stable.confidence.mean, limit, rule: `at most ${thresholds.maxConfidenceDrop} below the stable version`, passed });
      if (!passed) {
        failures.push(`mean confidence: version ${canary.version} ${canary.confidence.mean.toFixed(4)} (${canary.confidence.rows} rows) vs version ${stable.version} ${stable.confidence.mean.toFixed(4)} (${stable.confidence.rows} rows); threshold: at least ${limit.toFixed(4)} (-${thresholds.maxConfidenceDrop})`);
      }
    } else if (canary.confidence !== undefined || stable.confidence !== undefined) {
      notes.push(`only version ${canary.confidence === undefined ? stable.version : canary.version} reported ${METRIC.PredictionConfidence}: confidence not compared`);
    } else {
      notes.push(`no ${METRIC.PredictionConfidence} from either version (a regressor, or no classified rows): confidence not compared`);
    }
  }

  if (failures.length > 0) return { outcome: 'fail', reason: failures.join('; '), comparisons, notes };
  return { outcome: 'pass', comparisons, notes };
}
