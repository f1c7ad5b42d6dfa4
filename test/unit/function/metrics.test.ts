import test from 'ava';
import type { ExecutionContext } from 'ava';
import { MAX_VALUES_PER_METRIC } from '../../../functions/contract/metrics.js';
import { MetricsLogger, type RequestMetrics } from '../../../functions/predict/metrics.js';

const NOW = 1_735_689_600_123;

interface MetricDefinition {
  Name: string;
  Unit: string;
}
interface Directive {
  Namespace: string;
  Dimensions: string[][];
  Metrics: MetricDefinition[];
}
interface EmfRecord {
  _aws: { Timestamp: number; CloudWatchMetrics: Directive[] };
  [member: string]: unknown;
}

function record(m: Partial<RequestMetrics> = {}, namespace = 'OnnxLambda'): string[] {
  const lines: string[] = [];
  const logger = new MetricsLogger({
    namespace,
    functionName: 'predict',
    functionVersion: '7',
    modelVersion: 'iris@1',
    write: (line) => lines.push(line),
    now: () => NOW,
  });
  logger.record({ requestId: 'req-1', route: 'POST /predict', status: 200, requestMs: 4.5, ...m });
  return lines;
}

/** Parses a line and checks it against the EMF specification's structural rules. */
function emf(t: ExecutionContext, line: string): EmfRecord {
  t.false(line.includes('\n'));
  const parsed = JSON.parse(line) as EmfRecord;
  t.is(typeof parsed._aws.Timestamp, 'number');
  t.true(Array.isArray(parsed._aws.CloudWatchMetrics));
  for (const directive of parsed._aws.CloudWatchMetrics) {
    t.is(typeof directive.Namespace, 'string');
    t.true(directive.Metrics.length >= 1 && directive.Metrics.length <= 100);
    for (const set of directive.Dimensions) {
      t.true(set.length >= 1 && set.length <= 30);
      for (const name of set) t.is(typeof parsed[name], 'string', `dimension ${name} has no string member`);
    }
    for (const definition of directive.Metrics) {
      const value = parsed[definition.Name];
      const values = Array.isArray(value) ? value : [value];
      t.true(values.length >= 1 && values.length <= MAX_VALUES_PER_METRIC, `metric ${definition.Name} has ${values.length} values`);
      for (const v of values) t.true(typeof v === 'number' && Number.isFinite(v), `metric ${definition.Name} has value ${String(v)}`);
      t.true(['Milliseconds', 'Count', 'None'].includes(definition.Unit));
    }
  }
  return parsed;
}

function only(t: ExecutionContext, lines: string[]): EmfRecord {
  t.is(lines.length, 1);
  return emf(t, lines[0]!);
}

function metricNames(r: EmfRecord): string[] {
  return r._aws.CloudWatchMetrics.flatMap((d) => d.Metrics.map((m) => m.Name));
}

test('writes one valid EMF line for a plain request', (t) => {
  const r = only(t, record());
  t.deepEqual(metricNames(r), ['RequestLatency']);
  t.is(r['RequestLatency'], 4.5);
});

test('uses the timestamp from now', (t) => {
  t.is(only(t, record())._aws.Timestamp, NOW);
});

test('takes the namespace from the options', (t) => {
  t.is(only(t, record({}, 'Team/Models'))._aws.CloudWatchMetrics[0]!.Namespace, 'Team/Models');
});

test('declares dimensions per function version and per model version', (t) => {
  const r = only(t, record());
  t.deepEqual(r._aws.CloudWatchMetrics[0]!.Dimensions, [
    ['FunctionName', 'FunctionVersion'],
    ['FunctionName', 'ModelVersion'],
  ]);
  t.is(r['FunctionName'], 'predict');
  t.is(r['FunctionVersion'], '7');
  t.is(r['ModelVersion'], 'iris@1');
});

test('carries the request id, route and status as properties', (t) => {
  t.like(only(t, record({ requestId: 'abc', route: 'GET /v2/health/ready', status: 200 })), { requestId: 'abc', route: 'GET /v2/health/ready', status: 200 });
});

test('records inference latency, batch size and confidences when the model ran', (t) => {
  const r = only(t, record({ inferenceMs: 1.25, batchSize: 2, confidences: [0.97, 0.6] }));
  t.deepEqual(metricNames(r), ['RequestLatency', 'InferenceLatency', 'BatchSize', 'PredictionConfidence']);
  t.is(r['InferenceLatency'], 1.25);
  t.is(r['BatchSize'], 2);
  t.deepEqual(r['PredictionConfidence'], [0.97, 0.6]);
});

test('gives latencies in milliseconds, batch size as a count and confidence without a unit', (t) => {
  const r = only(t, record({ inferenceMs: 1, batchSize: 1, confidences: [0.5], modelLoadMs: 100, coldStart: true }));
  const units = Object.fromEntries(r._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit]));
  t.deepEqual(units, {
    RequestLatency: 'Milliseconds',
    InferenceLatency: 'Milliseconds',
    BatchSize: 'Count',
    PredictionConfidence: 'None',
    ColdStart: 'Count',
    ModelLoadTime: 'Milliseconds',
  });
});

test('rounds latencies to microseconds', (t) => {
  t.is(only(t, record({ requestMs: 1.23456789 }))['RequestLatency'], 1.235);
});

test('omits PredictionConfidence for an empty confidence list', (t) => {
  t.false(metricNames(only(t, record({ confidences: [] }))).includes('PredictionConfidence'));
});

test('records ColdStart and ModelLoadTime when given', (t) => {
  const r = only(t, record({ coldStart: true, modelLoadMs: 812.5 }));
  t.is(r['ColdStart'], 1);
  t.is(r['ModelLoadTime'], 812.5);
  t.true(metricNames(r).includes('ColdStart'));
  t.true(metricNames(r).includes('ModelLoadTime'));
});

test('omits ColdStart and ModelLoadTime on a warm invocation', (t) => {
  const r = only(t, record({ coldStart: false }));
  t.false('ColdStart' in r);
  t.false('ModelLoadTime' in r);
  t.deepEqual(metricNames(r), ['RequestLatency']);
});

for (const status of [400, 404, 405, 413]) {
  test(`counts an InvalidRequest for status ${status}`, (t) => {
    const r = only(t, record({ status, error: 'bad' }));
    t.is(r['InvalidRequest'], 1);
    t.false('InternalError' in r);
    t.false('ModelUnavailable' in r);
  });
}

test('counts an InternalError for status 500', (t) => {
  const r = only(t, record({ status: 500 }));
  t.is(r['InternalError'], 1);
  t.false('InvalidRequest' in r);
});

test('counts a ModelUnavailable for status 503', (t) => {
  const r = only(t, record({ status: 503 }));
  t.is(r['ModelUnavailable'], 1);
  t.false('InternalError' in r);
});

test('counts no error metric for a success', (t) => {
  const names = metricNames(only(t, record({ status: 200 })));
  t.false(names.includes('InvalidRequest') || names.includes('InternalError') || names.includes('ModelUnavailable'));
});

test('carries the error message as an escaped property', (t) => {
  const message = 'features[0] is the string "5.1"; every feature value must be a finite number\n';
  t.is(only(t, record({ status: 400, error: message }))['error'], message);
});

test('escapes quotes in dimension values and the namespace', (t) => {
  const lines: string[] = [];
  new MetricsLogger({ namespace: 'a"b', functionName: 'f"n', functionVersion: '1', modelVersion: 'm\\1', write: (l) => lines.push(l), now: () => NOW }).record({
    requestId: 'r"1',
    route: 'POST /predict',
    status: 200,
    requestMs: 1,
  });
  const r = only(t, lines);
  t.is(r['FunctionName'], 'f"n');
  t.is(r['ModelVersion'], 'm\\1');
  t.is(r._aws.CloudWatchMetrics[0]!.Namespace, 'a"b');
  t.is(r['requestId'], 'r"1');
});

test('writes 100 confidences in a single line', (t) => {
  const lines = record({ batchSize: 100, confidences: Array.from({ length: 100 }, () => 0.5) });
  t.is(lines.length, 1);
  t.is((emf(t, lines[0]!)['PredictionConfidence'] as number[]).length, 100);
});

test('splits 250 confidences into three records of at most 100 values', (t) => {
  const confidences = Array.from({ length: 250 }, (_, i) => (i + 1) / 1000);
  const lines = record({ batchSize: 250, confidences });
  t.is(lines.length, 3);
  const records = lines.map((line) => emf(t, line));
  t.deepEqual(
    records.map((r) => (r['PredictionConfidence'] as number[]).length),
    [100, 100, 50],
  );
  t.deepEqual(
    records.flatMap((r) => r['PredictionConfidence'] as number[]),
    confidences,
  );
});

test('counts request metrics once when confidences are split', (t) => {
  const lines = record({ inferenceMs: 2, batchSize: 250, confidences: Array.from({ length: 250 }, () => 0.9), coldStart: true, modelLoadMs: 10 });
  const records = lines.map((line) => emf(t, line));
  for (const name of ['RequestLatency', 'InferenceLatency', 'BatchSize', 'ColdStart', 'ModelLoadTime']) {
    t.is(records.filter((r) => name in r).length, 1, name);
  }
  for (const r of records.slice(1)) t.deepEqual(metricNames(r), ['PredictionConfidence']);
});

test('keeps dimensions, request id and timestamp on every split record', (t) => {
  const lines = record({ requestId: 'req-9', batchSize: 201, confidences: Array.from({ length: 201 }, () => 0.9) });
  t.is(lines.length, 3);
  for (const line of lines) {
    t.like(emf(t, line), { _aws: { Timestamp: NOW }, FunctionName: 'predict', FunctionVersion: '7', ModelVersion: 'iris@1', requestId: 'req-9' });
  }
});

test('defaults the timestamp to the current time', (t) => {
  const lines: string[] = [];
  const before = Date.now();
  new MetricsLogger({ namespace: 'N', functionName: 'f', functionVersion: '1', modelVersion: 'm', write: (l) => lines.push(l) }).record({
    requestId: 'r',
    route: 'POST /predict',
    status: 200,
    requestMs: 1,
  });
  const timestamp = only(t, lines)._aws.Timestamp;
  t.true(timestamp >= before && timestamp <= Date.now());
});

test('leaves non-finite confidences out so the record stays valid JSON', (t) => {
  const lines = record({ confidences: [0.5, Number.NaN, 0.75, Number.POSITIVE_INFINITY] });
  const parsed = JSON.parse(lines[0]!) as EmfRecord;
  t.deepEqual(parsed['PredictionConfidence'], [0.5, 0.75]);
});

test('writes a non-finite latency as 0 so the record stays valid JSON', (t) => {
  const parsed = JSON.parse(record({ requestMs: Number.NaN })[0]!) as EmfRecord;
  t.is(parsed['RequestLatency'], 0);
});
