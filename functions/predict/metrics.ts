/**
 * CloudWatch Embedded Metric Format (EMF), written by hand because it sits on every request's path: one line per
 * invocation (plus one per further 100 confidences), built from precomputed fragments and written synchronously
 * to stdout, which CloudWatch Logs turns into metrics. The line doubles as the request's access log: it carries
 * the request id, route and status as plain properties, searchable in Logs Insights.
 *
 * The names, units and dimension sets are the contract's (functions/contract/metrics.ts), which the alarms, the
 * dashboard and the rollout read.
 */
import { DIMENSION, DIMENSION_SETS, MAX_VALUES_PER_METRIC, METRIC, METRIC_UNIT, type MetricName } from '../contract/metrics.js';

/** One invocation's measurements; absent values are `undefined` so callers build the object in one literal. */
export interface RequestMetrics {
  readonly requestId: string;
  readonly route: string;
  readonly status: number;
  readonly requestMs: number;
  /** Present when the model ran. */
  readonly inferenceMs?: number | undefined;
  readonly batchSize?: number | undefined;
  /** One per classified row. */
  readonly confidences?: readonly number[] | undefined;
  /** Present on the first invocation of a container. */
  readonly modelLoadMs?: number | undefined;
  readonly coldStart?: boolean | undefined;
  /** The share of the request's values outside their training range, in percent (training-range.ts). */
  readonly outOfRangePercent?: number | undefined;
  /** The client-facing error message of a 4xx, or a fixed word for 5xx; a property, not a metric. */
  readonly error?: string | undefined;
}

export interface MetricsOptions {
  readonly namespace: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly modelVersion: string;
  /** Where lines go; a synchronous write to stdout in the function. */
  readonly write: (line: string) => void;
  readonly now?: () => number;
}

/** The metrics in the order a record lists them; a record's set is a bit mask over this list. */
const ORDER: readonly MetricName[] = Object.values(METRIC);

function bit(name: MetricName): number {
  return 1 << ORDER.indexOf(name);
}

const REQUEST = bit(METRIC.RequestLatency);
const INFERENCE = bit(METRIC.InferenceLatency);
const BATCH = bit(METRIC.BatchSize);
const CONFIDENCE = bit(METRIC.PredictionConfidence);
const INVALID = bit(METRIC.InvalidRequest);
const INTERNAL = bit(METRIC.InternalError);
const UNAVAILABLE = bit(METRIC.ModelUnavailable);
const COLD = bit(METRIC.ColdStart);
const LOAD = bit(METRIC.ModelLoadTime);
const OUT_OF_RANGE = bit(METRIC.OutOfTrainingRange);

/** `,"<name>":`, the start of each metric's member in a record, built once. */
const MEMBER = Object.freeze(Object.fromEntries(ORDER.map((name) => [name, `,${JSON.stringify(name)}:`])) as Record<MetricName, string>);

const DIMENSION_SETS_JSON = JSON.stringify(DIMENSION_SETS);

/** Milliseconds to three decimals; a non-finite duration (never expected) is written as 0 to keep the line valid JSON. */
function ms(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : 0;
}

/** A JSON array of the finite values in [from, to); NaN would make the whole record invalid JSON and lose it. */
function confidenceList(values: readonly number[], from: number, to: number): string {
  let out = '[';
  let first = true;
  for (let i = from; i < to; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) continue;
    out += (first ? '' : ',') + String(value);
    first = false;
  }
  return `${out}]`;
}

export class MetricsLogger {
  /** Everything after the timestamp up to the first member, per metric set; built once per set. */
  readonly #prefixes = new Map<number, string>();
  readonly #namespace: string;
  readonly #dimensions: string;
  readonly #write: (line: string) => void;
  readonly #now: () => number;

  constructor(options: MetricsOptions) {
    this.#namespace = JSON.stringify(options.namespace);
    this.#dimensions = [
      [DIMENSION.FunctionName, options.functionName],
      [DIMENSION.FunctionVersion, options.functionVersion],
      [DIMENSION.ModelVersion, options.modelVersion],
    ]
      .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`)
      .join(',');
    this.#write = options.write;
    this.#now = options.now ?? Date.now;
  }

  #prefix(mask: number): string {
    let prefix = this.#prefixes.get(mask);
    if (prefix === undefined) {
      const metrics = ORDER.filter((name) => (mask & bit(name)) !== 0).map((name) => `{"Name":"${name}","Unit":"${METRIC_UNIT[name]}"}`);
      prefix =
        `,"CloudWatchMetrics":[{"Namespace":${this.#namespace},` +
        `"Dimensions":${DIMENSION_SETS_JSON},"Metrics":[${metrics.join(',')}]}]},${this.#dimensions}`;
      this.#prefixes.set(mask, prefix);
    }
    return prefix;
  }

  /** Writes the invocation's record (and, for more than 100 classified rows, the remaining confidences). */
  record(m: RequestMetrics): void {
    const timestamp = this.#now();
    let mask = REQUEST;
    let members = `${MEMBER.RequestLatency}${ms(m.requestMs)}`;
    if (m.inferenceMs !== undefined) {
      mask |= INFERENCE;
      members += `${MEMBER.InferenceLatency}${ms(m.inferenceMs)}`;
    }
    if (m.batchSize !== undefined) {
      mask |= BATCH;
      members += `${MEMBER.BatchSize}${m.batchSize}`;
    }
    const confidences = m.confidences ?? [];
    const count = confidences.length;
    /** The k-th list of at most 100 confidences. */
    const list = (k: number) => confidenceList(confidences, k * MAX_VALUES_PER_METRIC, Math.min(count, (k + 1) * MAX_VALUES_PER_METRIC));
    if (count > 0) {
      mask |= CONFIDENCE;
      members += `${MEMBER.PredictionConfidence}${list(0)}`;
    }
    if (m.status >= 400) {
      if (m.status === 503) {
        mask |= UNAVAILABLE;
        members += `${MEMBER.ModelUnavailable}1`;
      } else if (m.status >= 500) {
        mask |= INTERNAL;
        members += `${MEMBER.InternalError}1`;
      } else {
        mask |= INVALID;
        members += `${MEMBER.InvalidRequest}1`;
      }
    }
    if (m.coldStart === true) {
      mask |= COLD;
      members += `${MEMBER.ColdStart}1`;
    }
    if (m.modelLoadMs !== undefined) {
      mask |= LOAD;
      members += `${MEMBER.ModelLoadTime}${ms(m.modelLoadMs)}`;
    }
    if (m.outOfRangePercent !== undefined && Number.isFinite(m.outOfRangePercent)) {
      mask |= OUT_OF_RANGE;
      members += `${MEMBER.OutOfTrainingRange}${ms(m.outOfRangePercent)}`;
    }
    const error = m.error === undefined ? '' : `,"error":${JSON.stringify(m.error)}`;
    const request = `,"requestId":${JSON.stringify(m.requestId)},"route":${JSON.stringify(m.route)},"status":${m.status}${error}}`;
    const head = `{"_aws":{"Timestamp":${timestamp}`;
    this.#write(head + this.#prefix(mask) + members + request);

    for (let k = 1; k * MAX_VALUES_PER_METRIC < count; k++) {
      this.#write(`${head}${this.#prefix(CONFIDENCE)}${MEMBER.PredictionConfidence}${list(k)}${request}`);
    }
  }
}
