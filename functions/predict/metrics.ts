/**
 * CloudWatch Embedded Metric Format (EMF), written by hand because it sits on every request's path: one line per
 * invocation (plus one per further 100 confidences), built from precomputed fragments and written synchronously
 * to stdout, which CloudWatch Logs turns into metrics. The line doubles as the request's access log: it carries
 * the request id, route and status as plain properties, searchable in Logs Insights.
 *
 * Dimension sets: [FunctionName, FunctionVersion] lets the rollout compare a canary version with the stable one;
 * [FunctionName, ModelVersion] follows a model across function versions.
 */

/** EMF allows at most 100 values per metric in one record. */
export const MAX_VALUES_PER_METRIC = 100;

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

type Unit = 'Milliseconds' | 'Count' | 'None';

/** Metric definitions in the order a record lists them; a record's set is a bit mask over this list. */
const DEFINITIONS: readonly (readonly [string, Unit])[] = [
  ['RequestLatency', 'Milliseconds'],
  ['InferenceLatency', 'Milliseconds'],
  ['BatchSize', 'Count'],
  ['PredictionConfidence', 'None'],
  ['InvalidRequest', 'Count'],
  ['InternalError', 'Count'],
  ['ModelUnavailable', 'Count'],
  ['ColdStart', 'Count'],
  ['ModelLoadTime', 'Milliseconds'],
];
const INFERENCE = 1 << 1;
const BATCH = 1 << 2;
const CONFIDENCE = 1 << 3;
const INVALID = 1 << 4;
const INTERNAL = 1 << 5;
const UNAVAILABLE = 1 << 6;
const COLD = 1 << 7;
const LOAD = 1 << 8;

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
    this.#dimensions =
      `"FunctionName":${JSON.stringify(options.functionName)},"FunctionVersion":${JSON.stringify(options.functionVersion)},` +
      `"ModelVersion":${JSON.stringify(options.modelVersion)}`;
    this.#write = options.write;
    this.#now = options.now ?? Date.now;
  }

  #prefix(mask: number): string {
    let prefix = this.#prefixes.get(mask);
    if (prefix === undefined) {
      const metrics = DEFINITIONS.filter((_, bit) => (mask & (1 << bit)) !== 0).map(([name, unit]) => `{"Name":"${name}","Unit":"${unit}"}`);
      prefix =
        `,"CloudWatchMetrics":[{"Namespace":${this.#namespace},` +
        `"Dimensions":[["FunctionName","FunctionVersion"],["FunctionName","ModelVersion"]],"Metrics":[${metrics.join(',')}]}]},${this.#dimensions}`;
      this.#prefixes.set(mask, prefix);
    }
    return prefix;
  }

  /** Writes the invocation's record (and, for more than 100 classified rows, the remaining confidences). */
  record(m: RequestMetrics): void {
    const timestamp = this.#now();
    let mask = 1;
    let members = `,"RequestLatency":${ms(m.requestMs)}`;
    if (m.inferenceMs !== undefined) {
      mask |= INFERENCE;
      members += `,"InferenceLatency":${ms(m.inferenceMs)}`;
    }
    if (m.batchSize !== undefined) {
      mask |= BATCH;
      members += `,"BatchSize":${m.batchSize}`;
    }
    const confidences = m.confidences ?? [];
    const count = confidences.length;
    /** The k-th list of at most 100 confidences. */
    const list = (k: number) => confidenceList(confidences, k * MAX_VALUES_PER_METRIC, Math.min(count, (k + 1) * MAX_VALUES_PER_METRIC));
    if (count > 0) {
      mask |= CONFIDENCE;
      members += `,"PredictionConfidence":${list(0)}`;
    }
    if (m.status >= 400) {
      if (m.status === 503) {
        mask |= UNAVAILABLE;
        members += ',"ModelUnavailable":1';
      } else if (m.status >= 500) {
        mask |= INTERNAL;
        members += ',"InternalError":1';
      } else {
        mask |= INVALID;
        members += ',"InvalidRequest":1';
      }
    }
    if (m.coldStart === true) {
      mask |= COLD;
      members += ',"ColdStart":1';
    }
    if (m.modelLoadMs !== undefined) {
      mask |= LOAD;
      members += `,"ModelLoadTime":${ms(m.modelLoadMs)}`;
    }
    const error = m.error === undefined ? '' : `,"error":${JSON.stringify(m.error)}`;
    const request = `,"requestId":${JSON.stringify(m.requestId)},"route":${JSON.stringify(m.route)},"status":${m.status}${error}}`;
    const head = `{"_aws":{"Timestamp":${timestamp}`;
    this.#write(head + this.#prefix(mask) + members + request);

    for (let k = 1; k * MAX_VALUES_PER_METRIC < count; k++) {
      this.#write(`${head}${this.#prefix(CONFIDENCE)},"PredictionConfidence":${list(k)}${request}`);
    }
  }
}
