/**
 * The training baseline (baseline.json, functions/contract/capture.ts): computed from values, and read back with
 * every field checked. `npm run bundle -- --baseline-from` computes it here; models/train/baseline.py computes the
 * same thing in numpy (same quantile method, same bin rule), and `npm run drift` reads both through parseBaseline.
 * Pure: no I/O.
 */
import {
  BASELINE_QUANTILES,
  BASELINE_TYPE,
  BASELINE_VERSION,
  type BaselineInput,
  type BaselinePrediction,
  type TrainingBaseline,
  type ValueSummary,
} from '../../functions/contract/capture.js';
import { BaselineError } from './errors.js';

/**
 * The q-quantile of ascending `sorted` values, interpolated linearly between the two nearest ranks (numpy's
 * `np.quantile` default, Hyndman and Fan's type 7): position (n - 1) q. The arithmetic is numpy's too (from the
 * upper value when the fraction is at least a half), so baseline.py and this write the same bits.
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of no values');
  const position = (n - 1) * q;
  const low = Math.floor(position);
  const high = Math.min(low + 1, n - 1);
  const lower = sorted[low]!;
  const upper = sorted[high]!;
  const t = position - low;
  const difference = upper - lower;
  return t >= 0.5 ? upper - difference * (1 - t) : lower + difference * t;
}

/** The bin of `value` under `edges` (ascending): the number of edges below it, so an edge value falls in the bin it closes. */
export function binOf(edges: readonly number[], value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (edges[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Each bin's share of `values` under `edges`; NaN is left out. All zeros when no value counts. */
export function binShares(edges: readonly number[], values: Iterable<number>): { readonly shares: number[]; readonly count: number } {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let count = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    counts[binOf(edges, value)]! += 1;
    count++;
  }
  return { shares: counts.map((c) => (count === 0 ? 0 : c / count)), count };
}

/** The summary of `values` (NaN left out), or undefined when none is a number. */
export function summarize(values: Iterable<number>): ValueSummary | undefined {
  const kept: number[] = [];
  let sum = 0;
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    kept.push(value);
    sum += value;
  }
  if (kept.length === 0) return undefined;
  const sorted = Float64Array.from(kept).sort();
  const edges: number[] = [];
  for (const q of BASELINE_QUANTILES) {
    const edge = quantile(sorted, q);
    if (edges.length === 0 || edge !== edges[edges.length - 1]) edges.push(edge);
  }
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
    edges,
    shares: binShares(edges, sorted).shares,
  };
}

/** Each label's share of `labelIndices` (indices into `labels`), in the labels' order. */
export function labelShares(labels: readonly string[], labelIndices: Iterable<number>): { readonly shares: number[]; readonly count: number } {
  const counts = new Array<number>(labels.length).fill(0);
  let count = 0;
  for (const index of labelIndices) {
    if (index < 0 || index >= labels.length) continue;
    counts[index]! += 1;
    count++;
  }
  return { shares: counts.map((c) => (count === 0 ? 0 : c / count)), count };
}

/** The index of the first highest value in each row of `width` values (NaN never wins), as /predict picks a label. */
export function argmaxRows(values: ArrayLike<number>, width: number): number[] {
  const rows = width === 0 ? 0 : Math.floor(values.length / width);
  const best = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    let top = -1;
    let topValue = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < width; c++) {
      const value = values[r * width + c]!;
      if (value > topValue || (top === -1 && !Number.isNaN(value))) {
        top = c;
        topValue = value;
      }
    }
    best[r] = top;
  }
  return best;
}

// ---- Reading baseline.json -----------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

class Reader {
  constructor(readonly source: string) {}

  fail(field: string, value: unknown, expected: string): never {
    throw new BaselineError(`${this.source}: ${field} is ${describe(value)}; expected ${expected}. Rewrite it with npm run bundle -- <bundle dir> --baseline-from <sample inputs> (or models/train/train.sh for the bundles trained here)`);
  }

  object(value: unknown, field: string): Json {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, value, 'an object');
    return value as Json;
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string' || value === '') this.fail(field, value, 'a non-empty string');
    return value;
  }

  number(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, value, 'a finite number');
    return value;
  }

  count(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(field, value, 'a whole number, at least 1');
    return value;
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, value, 'an array');
    return value;
  }

  shares(value: unknown, field: string, length: number): number[] {
    const shares = this.array(value, field).map((s, i) => {
      const share = this.number(s, `${field}[${i}]`);
      if (share < 0 || share > 1) this.fail(`${field}[${i}]`, s, 'a share from 0 to 1');
      return share;
    });
    if (shares.length !== length) this.fail(field, value, `${length} shares`);
    const sum = shares.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) this.fail(field, value, `shares that sum to 1 (they sum to ${sum})`);
    return shares;
  }

  summary(value: unknown, field: string): ValueSummary {
    const json = this.object(value, field);
    const edges = this.array(json['edges'], `${field}.edges`).map((e, i) => this.number(e, `${field}.edges[${i}]`));
    for (let i = 1; i < edges.length; i++) if (!(edges[i]! > edges[i - 1]!)) this.fail(`${field}.edges`, json['edges'], 'ascending distinct numbers');
    const min = this.number(json['min'], `${field}.min`);
    const max = this.number(json['max'], `${field}.max`);
    if (min > max) this.fail(`${field}.min`, min, `at most max (${max})`);
    return Object.freeze({
      count: this.count(json['count'], `${field}.count`),
      min,
      max,
      mean: this.number(json['mean'], `${field}.mean`),
      edges: Object.freeze(edges),
      shares: Object.freeze(this.shares(json['shares'], `${field}.shares`, edges.length + 1)),
    });
  }
}

function parsePrediction(r: Reader, value: unknown): BaselinePrediction {
  const json = r.object(value, 'prediction');
  switch (json['kind']) {
    case 'labels': {
      const labels = r.array(json['labels'], 'prediction.labels').map((l, i) => r.string(l, `prediction.labels[${i}]`));
      if (labels.length < 2) r.fail('prediction.labels', json['labels'], 'at least two labels');
      return Object.freeze({
        kind: 'labels',
        output: r.string(json['output'], 'prediction.output'),
        count: r.count(json['count'], 'prediction.count'),
        labels: Object.freeze(labels),
        shares: Object.freeze(r.shares(json['shares'], 'prediction.shares', labels.length)),
      });
    }
    case 'values':
      return Object.freeze({ kind: 'values', output: r.string(json['output'], 'prediction.output'), summary: r.summary(json['summary'], 'prediction.summary') });
    case 'tensors':
      return Object.freeze({
        kind: 'tensors',
        outputs: Object.freeze(
          r.array(json['outputs'], 'prediction.outputs').map((o, i) => {
            const output = r.object(o, `prediction.outputs[${i}]`);
            return Object.freeze({ name: r.string(output['name'], `prediction.outputs[${i}].name`), summary: r.summary(output['summary'], `prediction.outputs[${i}].summary`) });
          }),
        ),
      });
    default:
      return r.fail('prediction.kind', json['kind'], '"labels", "values" or "tensors"');
  }
}

/** Reads baseline.json's parsed JSON; `source` names the file in messages. Frozen. */
export function parseBaseline(json: unknown, source: string): TrainingBaseline {
  const r = new Reader(source);
  const root = r.object(json, 'the file');
  if (root['_type'] !== BASELINE_TYPE) r.fail('_type', root['_type'], JSON.stringify(BASELINE_TYPE));
  if (root['version'] !== BASELINE_VERSION) r.fail('version', root['version'], `${BASELINE_VERSION} (the version this reader knows)`);
  const model = r.object(root['model'], 'model');
  const sha256 = r.string(model['sha256'], 'model.sha256');
  if (!/^[0-9a-f]{64}$/.test(sha256)) r.fail('model.sha256', sha256, '64 hex digits');
  const inputs: BaselineInput[] = r.array(root['inputs'], 'inputs').map((value, i) => {
    const input = r.object(value, `inputs[${i}]`);
    const column = input['column'];
    if (column !== undefined && !(typeof column === 'number' && Number.isInteger(column) && column >= 0)) r.fail(`inputs[${i}].column`, column, 'a column index, 0 or more');
    return Object.freeze({
      name: r.string(input['name'], `inputs[${i}].name`),
      input: r.string(input['input'], `inputs[${i}].input`),
      ...(column === undefined ? {} : { column: column as number }),
      summary: r.summary(input['summary'], `inputs[${i}].summary`),
    });
  });
  const skipped = r.array(root['skipped'] ?? [], 'skipped').map((value, i) => {
    const entry = r.object(value, `skipped[${i}]`);
    return Object.freeze({ input: r.string(entry['input'], `skipped[${i}].input`), reason: r.string(entry['reason'], `skipped[${i}].reason`) });
  });
  const names = inputs.map((i) => i.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) r.fail('inputs', repeated, 'each name once');
  return Object.freeze({
    _type: BASELINE_TYPE,
    version: BASELINE_VERSION,
    model: Object.freeze({ name: r.string(model['name'], 'model.name'), version: r.string(model['version'], 'model.version'), task: r.string(model['task'], 'model.task'), sha256 }),
    rows: r.count(root['rows'], 'rows'),
    source: r.string(root['source'], 'source'),
    writer: r.string(root['writer'], 'writer'),
    inputs: Object.freeze(inputs),
    skipped: Object.freeze(skipped),
    prediction: parsePrediction(r, root['prediction']),
  });
}

/** baseline.json's text: two-space indented, as models/train/baseline.py writes it. */
export function baselineText(baseline: TrainingBaseline): string {
  return `${JSON.stringify(baseline, null, 2)}\n`;
}
