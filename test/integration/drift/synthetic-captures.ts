/**
 * Capture records drawn from a bundle's own baseline, as the function would write them (the contract's
 * buildCaptureRecord): each value falls in a training bin with the bin's training share, uniformly inside it, so a
 * window of them has the training distribution; `shift` moves chosen features, `labelShares` the predictions.
 * Seeded, so every run draws the same records.
 */
import { buildCaptureRecord, type CaptureRecord, type TrainingBaseline, type ValueSummary } from '../../../functions/contract/capture.js';

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(shares: readonly number[], random: () => number): number {
  let u = random();
  for (let i = 0; i < shares.length; i++) {
    u -= shares[i]!;
    if (u < 0) return i;
  }
  return shares.length - 1;
}

/** A value drawn from the summary's bins: a bin by its share, then uniformly between its ends (min and max outside). */
export function drawValue(summary: ValueSummary, random: () => number): number {
  const bin = pick(summary.shares, random);
  const low = bin === 0 ? summary.min : summary.edges[bin - 1]!;
  const high = bin === summary.edges.length ? summary.max : summary.edges[bin]!;
  return low + (high - low) * random();
}

export interface SyntheticOptions {
  readonly records: number;
  readonly rowsPerRecord: number;
  readonly seed: number;
  /** The first record's time; each next one a minute later. */
  readonly start: Date;
  /** Added to a feature's values, by feature name. */
  readonly shift?: Readonly<Record<string, number>>;
  /** The share of each label the predictions are drawn with (default: the baseline's). */
  readonly labelShares?: readonly number[];
  /** `<name>@<version>` to write (default: the baseline's model). */
  readonly model?: string;
}

/** Records of a tabular classifier's baseline (one float32 input, features as columns, labels as prediction). */
export function syntheticRecords(baseline: TrainingBaseline, options: SyntheticOptions): CaptureRecord[] {
  const random = seeded(options.seed);
  const prediction = baseline.prediction;
  if (prediction.kind !== 'labels') throw new Error('syntheticRecords draws a classifier\'s records');
  const input = baseline.inputs[0]!.input;
  const width = baseline.inputs.length;
  const records: CaptureRecord[] = [];
  for (let r = 0; r < options.records; r++) {
    const rows = options.rowsPerRecord;
    const data = new Float32Array(rows * width);
    const probabilities = new Float32Array(rows * prediction.labels.length);
    const labels: string[] = [];
    for (let row = 0; row < rows; row++) {
      baseline.inputs.forEach((feature, column) => {
        data[row * width + column] = drawValue(feature.summary, random) + (options.shift?.[feature.name] ?? 0);
      });
      const label = pick(options.labelShares ?? prediction.shares, random);
      probabilities[row * prediction.labels.length + label] = 1;
      labels.push(prediction.labels[label]!);
    }
    records.push(
      buildCaptureRecord({
        requestId: `synthetic-${options.seed}-${r}`,
        time: new Date(options.start.getTime() + r * 60_000),
        model: options.model ?? `${baseline.model.name}@${baseline.model.version}`,
        functionVersion: '3',
        rows,
        inputs: new Map([[input, { type: 'float32', dims: [rows, width], data }]]),
        outputs: new Map([[prediction.output, { type: 'float32', dims: [rows, prediction.labels.length], data: probabilities }]]),
        prediction: labels,
      }),
    );
  }
  return records;
}

/** The records as the function's log lines, one JSON object a line. */
export function captureLines(records: readonly CaptureRecord[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/**
 * The records as a Firehose delivery of a CloudWatch Logs subscription: DATA_MESSAGE objects back to back, each with
 * log events whose messages are the function's lines behind Lambda's text prefix, and an EMF line among them.
 */
export function subscriptionMessages(records: readonly CaptureRecord[], perMessage: number): string {
  const messages: string[] = [];
  for (let i = 0; i < records.length; i += perMessage) {
    const events = records.slice(i, i + perMessage).flatMap((record, j) => [
      { id: `${i + j}`, timestamp: Date.parse(record.time), message: `${record.time}\t${record.requestId}\tINFO\t${JSON.stringify(record)}\n` },
      { id: `${i + j}-emf`, timestamp: Date.parse(record.time), message: JSON.stringify({ _aws: { Timestamp: Date.parse(record.time), CloudWatchMetrics: [] }, RequestLatency: 3 }) },
    ]);
    messages.push(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: '/aws/lambda/onnx-lambda-dev-predict', logStream: 'stream', subscriptionFilters: ['capture'], logEvents: events }));
  }
  return messages.join('');
}
