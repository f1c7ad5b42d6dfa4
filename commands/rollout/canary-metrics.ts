/**
 * Reads what each version did over a window from CloudWatch with GetMetricData, for the canary analysis:
 * - Lambda's own per-version metrics of alias invocations (namespace AWS/Lambda, dimensions FunctionName,
 *   Resource = "<function>:<alias>", ExecutedVersion): Invocations, Errors, Duration;
 * - the function's EMF metrics (namespace METRICS_NAMESPACE, dimensions FunctionName, FunctionVersion; see
 *   functions/contract/metrics.ts): RequestLatency, InternalError, ModelUnavailable, InvalidRequest,
 *   PredictionConfidence.
 * Sums and sample counts are asked for in one call and added up over the window, so averages are exact. The p99s are
 * asked for in a second call that may fail or come back empty (moto, for one, computes no percentiles); the analysis
 * then compares averages and says so.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { aliasResource, DIMENSION, LAMBDA_DIMENSION, LAMBDA_METRIC, LAMBDA_NAMESPACE, METRIC } from '../../functions/contract/metrics.js';
import type { VersionStats } from './canary-analysis.js';

export interface MetricsTarget {
  readonly functionName: string;
  readonly alias: string;
  /** The function's EMF namespace (its METRICS_NAMESPACE). */
  readonly namespace: string;
}

type Source = 'lambda' | 'emf';

interface Wanted {
  readonly key: string;
  readonly source: Source;
  readonly metric: string;
  readonly stat: string;
}

const TOTALS: readonly Wanted[] = [
  { key: 'invocations', source: 'lambda', metric: LAMBDA_METRIC.Invocations, stat: 'Sum' },
  { key: 'lambdaErrors', source: 'lambda', metric: LAMBDA_METRIC.Errors, stat: 'Sum' },
  { key: 'durationSum', source: 'lambda', metric: LAMBDA_METRIC.Duration, stat: 'Sum' },
  { key: 'durationCount', source: 'lambda', metric: LAMBDA_METRIC.Duration, stat: 'SampleCount' },
  { key: 'latencySum', source: 'emf', metric: METRIC.RequestLatency, stat: 'Sum' },
  { key: 'latencyCount', source: 'emf', metric: METRIC.RequestLatency, stat: 'SampleCount' },
  { key: 'internal', source: 'emf', metric: METRIC.InternalError, stat: 'Sum' },
  { key: 'unavailable', source: 'emf', metric: METRIC.ModelUnavailable, stat: 'Sum' },
  { key: 'invalid', source: 'emf', metric: METRIC.InvalidRequest, stat: 'Sum' },
  { key: 'confidenceSum', source: 'emf', metric: METRIC.PredictionConfidence, stat: 'Sum' },
  { key: 'confidenceCount', source: 'emf', metric: METRIC.PredictionConfidence, stat: 'SampleCount' },
];

const PERCENTILES: readonly Wanted[] = [
  { key: 'latencyP99', source: 'emf', metric: METRIC.RequestLatency, stat: 'p99' },
  { key: 'durationP99', source: 'lambda', metric: LAMBDA_METRIC.Duration, stat: 'p99' },
];

/** GetMetricData periods are whole minutes from 60 s up; one period spans the window, so p99s cover all of it. */
export function periodFor(startMs: number, endMs: number): number {
  return Math.max(60, Math.ceil((endMs - startMs) / 60_000) * 60);
}

function queries(target: MetricsTarget, versions: readonly string[], wanted: readonly Wanted[], period: number): MetricDataQuery[] {
  return versions.flatMap((version, v) =>
    wanted.map((w) => ({
      Id: `v${v}_${w.key}`,
      MetricStat: {
        Metric: {
          Namespace: w.source === 'lambda' ? LAMBDA_NAMESPACE : target.namespace,
          MetricName: w.metric,
          Dimensions:
            w.source === 'lambda'
              ? [
                  { Name: LAMBDA_DIMENSION.FunctionName, Value: target.functionName },
                  { Name: LAMBDA_DIMENSION.Resource, Value: aliasResource(target.functionName, target.alias) },
                  { Name: LAMBDA_DIMENSION.ExecutedVersion, Value: version },
                ]
              : [
                  { Name: DIMENSION.FunctionName, Value: target.functionName },
                  { Name: DIMENSION.FunctionVersion, Value: version },
                ],
        },
        Period: period,
        Stat: w.stat,
      },
      ReturnData: true,
    })),
  );
}

/** Runs the queries, following NextToken; returns each query's datapoints. */
async function collect(client: CloudWatchClient, list: MetricDataQuery[], start: Date, end: Date): Promise<Map<string, number[]>> {
  const values = new Map<string, number[]>();
  let token: string | undefined;
  do {
    const page = await client.send(new GetMetricDataCommand({ MetricDataQueries: list, StartTime: start, EndTime: end, NextToken: token }));
    for (const result of page.MetricDataResults ?? []) {
      if (result.Id === undefined) continue;
      const finite = (result.Values ?? []).filter((value) => typeof value === 'number' && Number.isFinite(value));
      values.set(result.Id, [...(values.get(result.Id) ?? []), ...finite]);
    }
    token = page.NextToken;
  } while (token !== undefined);
  return values;
}

export interface WindowStats {
  readonly stats: readonly VersionStats[];
  /** Why percentiles are missing, when they are. */
  readonly percentileNote?: string | undefined;
}

/** What each of `versions` did between `start` and `end`. */
export async function readWindow(client: CloudWatchClient, target: MetricsTarget, versions: readonly string[], start: Date, end: Date): Promise<WindowStats> {
  const period = periodFor(start.getTime(), end.getTime());
  const totals = await collect(client, queries(target, versions, TOTALS, period), start, end);
  let percentiles = new Map<string, number[]>();
  let percentileNote: string | undefined;
  try {
    percentiles = await collect(client, queries(target, versions, PERCENTILES, period), start, end);
  } catch (error) {
    percentileNote = `p99 query failed (${error instanceof Error ? error.name : 'error'}): the metrics service did not compute percentiles`;
  }
  const sum = (map: Map<string, number[]>, v: number, key: string): number => (map.get(`v${v}_${key}`) ?? []).reduce((a, b) => a + b, 0);
  const max = (v: number, key: string): number | undefined => {
    const list = percentiles.get(`v${v}_${key}`) ?? [];
    return list.length === 0 ? undefined : Math.max(...list);
  };
  const stats = versions.map((version, v): VersionStats => {
    const latencyCount = sum(totals, v, 'latencyCount');
    const durationCount = sum(totals, v, 'durationCount');
    const ownLatency = latencyCount > 0;
    const confidenceRows = sum(totals, v, 'confidenceCount');
    return {
      version,
      requests: Math.max(sum(totals, v, 'invocations'), latencyCount),
      errors: sum(totals, v, 'lambdaErrors') + sum(totals, v, 'internal') + sum(totals, v, 'unavailable'),
      invalid: sum(totals, v, 'invalid'),
      latency: ownLatency
        ? { metric: METRIC.RequestLatency, average: sum(totals, v, 'latencySum') / latencyCount, p99: max(v, 'latencyP99') }
        : { metric: LAMBDA_METRIC.Duration, average: durationCount > 0 ? sum(totals, v, 'durationSum') / durationCount : undefined, p99: max(v, 'durationP99') },
      confidence: confidenceRows > 0 ? { mean: sum(totals, v, 'confidenceSum') / confidenceRows, rows: confidenceRows } : undefined,
    };
  });
  return { stats, percentileNote };
}
