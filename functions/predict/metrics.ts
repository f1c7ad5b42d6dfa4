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

export interface RequestMetrics {
  readonly requestId: string;
  readonly route: string;
  readonly status: number;
  readonly requestMs: number;
  /** Present when the model ran. */
  readonly inferenceMs?: number;
  readonly batchSize?: number;
  /** One per classified row. */
  readonly confidences?: readonly number[];
  /** Present on the first invocation of a container. */
  readonly modelLoadMs?: number;
  readonly coldStart?: boolean;
  /** The client-facing error message of a 4xx, or a fixed word for 5xx; a property, not a metric. */
  readonly error?: string;
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

function metric(name: string, unit: Unit): string {
  return `{"Name":"${name}","Unit":"${unit}"}`;
}

const DEFINITIONS = {
  RequestLatency: metric('RequestLatency', 'Milliseconds'),
  InferenceLatency: metric('InferenceLatency', 'Milliseconds'),
  BatchSize: metric('BatchSize', 'Count'),
  PredictionConfidence: metric('PredictionConfidence', 'None'),
  InvalidRequest: metric('InvalidRequest', 'Count'),
  InternalError: metric('InternalError', 'Count'),
  ModelUnavailable: metric('ModelUnavailable', 'Count'),
  ColdStart: metric('ColdStart', 'Count'),
  ModelLoadTime: metric('ModelLoadTime', 'Milliseconds'),
} as const;

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
  /** `{"_aws":{"Timestamp":` up to the timestamp. */
  readonly #head = '{"_aws":{"Timestamp":';
  /** From after the timestamp to the start of the metric definitions. */
  readonly #directive: string;
  /** The dimension values, ready to splice after the definitions. */
  readonly #dimensions: string;
  readonly #write: (line: string) => void;
  readonly #now: () => number;

  constructor(options: MetricsOptions) {
    const dimensions = '[["FunctionName","FunctionVersion"],["FunctionName","ModelVersion"]]';
    this.#directive = `,"CloudWatchMetrics":[{"Namespace":${JSON.stringify(options.namespace)},"Dimensions":${dimensions},"Metrics":[`;
    this.#dimensions =
      `"FunctionName":${JSON.stringify(options.functionName)},"FunctionVersion":${JSON.stringify(options.functionVersion)},` +
      `"ModelVersion":${JSON.stringify(options.modelVersion)}`;
    this.#write = options.write;
    this.#now = options.now ?? Date.now;
  }

  #line(timestamp: number, definitions: string[], members: string): string {
    return `${this.#head}${timestamp}${this.#directive}${definitions.join(',')}]}]},${this.#dimensions}${members}`;
  }

  /** Writes the invocation's record (and, for more than 100 classified rows, the remaining confidences). */
  record(m: RequestMetrics): void {
    const timestamp = this.#now();
    const definitions: string[] = [DEFINITIONS.RequestLatency];
    let members = `,"RequestLatency":${ms(m.requestMs)}`;
    if (m.inferenceMs !== undefined) {
      definitions.push(DEFINITIONS.InferenceLatency);
      members += `,"InferenceLatency":${ms(m.inferenceMs)}`;
    }
    if (m.batchSize !== undefined) {
      definitions.push(DEFINITIONS.BatchSize);
      members += `,"BatchSize":${m.batchSize}`;
    }
    const confidences = m.confidences;
    if (confidences !== undefined && confidences.length > 0) {
      definitions.push(DEFINITIONS.PredictionConfidence);
      members += `,"PredictionConfidence":${confidenceList(confidences, 0, Math.min(confidences.length, MAX_VALUES_PER_METRIC))}`;
    }
    if (m.status >= 400) {
      const name = m.status === 503 ? 'ModelUnavailable' : m.status >= 500 ? 'InternalError' : 'InvalidRequest';
      definitions.push(DEFINITIONS[name]);
      members += `,"${name}":1`;
    }
    if (m.coldStart === true) {
      definitions.push(DEFINITIONS.ColdStart);
      members += ',"ColdStart":1';
    }
    if (m.modelLoadMs !== undefined) {
      definitions.push(DEFINITIONS.ModelLoadTime);
      members += `,"ModelLoadTime":${ms(m.modelLoadMs)}`;
    }
    const error = m.error === undefined ? '' : `,"error":${JSON.stringify(m.error)}`;
    const request = `,"requestId":${JSON.stringify(m.requestId)},"route":${JSON.stringify(m.route)},"status":${m.status}${error}}`;
    this.#write(this.#line(timestamp, definitions, members + request));

    if (confidences !== undefined) {
      for (let from = MAX_VALUES_PER_METRIC; from < confidences.length; from += MAX_VALUES_PER_METRIC) {
        const values = confidenceList(confidences, from, Math.min(confidences.length, from + MAX_VALUES_PER_METRIC));
        this.#write(this.#line(timestamp, [DEFINITIONS.PredictionConfidence], `,"PredictionConfidence":${values}${request}`));
      }
    }
  }
}
