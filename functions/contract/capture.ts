/**
 * What production traffic is compared with the training data through (SPEC "Function configuration",
 * `CAPTURE_SAMPLE_RATE`; docs/DRIFT.md): the capture record the function writes as its own log line for a sampled
 * request, and the training baseline a bundle carries. The function writes records, the infrastructure routes them
 * to S3, and `npm run drift` reads them; the training scripts, `npm run bundle` and `npm run drift` share the
 * baseline's shape. Pure: no I/O, no imports.
 */

/** The `_type` of a capture log line: a subscription filter selects the lines by it. */
export const CAPTURE_RECORD_TYPE = 'prediction-capture';

/** The record's schema version; a reader refuses versions it does not know. */
export const CAPTURE_RECORD_VERSION = 1;

/**
 * How much of one request a record keeps. A request may hold 6 MB of values, and one log event at most 256 KB
 * (CloudWatch Logs); drift statistics need a sample of rows, not every value, so each tensor keeps its first
 * elements, and the whole line stays under `recordBytes`, far under the event limit, so one sampled request never
 * costs more than that in log ingestion.
 */
export const CAPTURE_LIMITS = Object.freeze({
  /**
   * Elements kept per tensor, in row-major order. Whole rows are kept where a row fits (1,000 elements are 250 rows
   * of a 4-feature model, 15 images of 8x8), so the rows a reader finds are complete.
   */
  elementsPerTensor: 1000,
  /** UTF-16 code units kept per string element (a string input can be the whole 6 MB on its own). */
  charsPerString: 1024,
  /** UTF-8 bytes of the whole JSON line; past them the largest tensors give up rows until it fits. */
  recordBytes: 128 * 1024,
});

export type CaptureLimits = typeof CAPTURE_LIMITS;

/** One element as JSON holds it: numbers, strings, booleans; NaN and infinities as null (as JSON.stringify does). */
export type CapturedValue = number | string | boolean | null;

/** One input or output tensor of a captured request. */
export interface CapturedTensor {
  /** onnxruntime's element type: `float32`, `int64`, `string`, ... */
  readonly type: string;
  /** The whole tensor's dimensions, batch first, as the request had them (not only the kept part). */
  readonly shape: readonly number[];
  /**
   * The first elements, flat in row-major order. 64-bit integers beyond 2^53 are strings of their digits, so no
   * value is rounded silently.
   */
  readonly data: readonly CapturedValue[];
  /** Present when something was left out: the tensor's elements, those kept, and the strings cut short. */
  readonly truncated?: { readonly elements: number; readonly kept: number; readonly stringsCut?: number };
}

/** The JSON of one capture log line. */
export interface CaptureRecord {
  readonly _type: typeof CAPTURE_RECORD_TYPE;
  readonly version: typeof CAPTURE_RECORD_VERSION;
  /** Lambda's request id (the `REPORT` line's), to find the request's other log lines. */
  readonly requestId: string;
  /** When the request was answered, ISO 8601 in UTC: the drift window is chosen by it. */
  readonly time: string;
  /** `<name>@<version>`, as responses and metrics show it. */
  readonly model: string;
  /** The Lambda version that answered (`$LATEST` outside a published version). */
  readonly functionVersion: string;
  /** Rows in the request. */
  readonly rows: number;
  readonly inputs: Readonly<Record<string, CapturedTensor>>;
  readonly outputs: Readonly<Record<string, CapturedTensor>>;
  /**
   * The response's `prediction` for a classifier (labels) or regressor (numbers), one per row, at most
   * `limits.elementsPerTensor` of them; absent for a tensor model.
   */
  readonly prediction?: readonly (string | number | null)[];
  /** The caps this record was written under. */
  readonly limits: CaptureLimits;
}

/** A tensor as the function holds it: an input it built or an output onnxruntime returned. */
export interface CaptureTensorSource {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint | string | boolean>;
}

export interface CaptureRequest {
  readonly requestId: string;
  readonly time: Date;
  readonly model: string;
  readonly functionVersion: string;
  readonly rows: number;
  readonly inputs: ReadonlyMap<string, CaptureTensorSource>;
  readonly outputs: ReadonlyMap<string, CaptureTensorSource>;
  readonly prediction?: readonly (string | number)[];
}

/** The shortest decimal of 6 to 9 significant digits that reads back as the same float32 (records stay small). */
function float32Value(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  for (let digits = 6; digits < 9; digits++) {
    const short = Number(value.toPrecision(digits));
    if (Math.fround(short) === value) return short;
  }
  return Number(value.toPrecision(9));
}

/** A float16's value from its 16 bits (onnxruntime-node hands float16 outputs over as Uint16Array bits). */
function float16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A string cut to `chars` code units, never between the halves of a surrogate pair. */
function cutString(value: string, chars: number): string {
  let end = chars;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return value.slice(0, end);
}

function elementValue(type: string, raw: number | bigint | string | boolean, bitsOfFloat16: boolean): CapturedValue {
  if (typeof raw === 'bigint') return raw >= BigInt(Number.MIN_SAFE_INTEGER) && raw <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(raw) : raw.toString();
  if (typeof raw === 'string' || typeof raw === 'boolean') return raw;
  if (type === 'bool') return raw !== 0;
  const value = type === 'float16' && bitsOfFloat16 ? float16Bits(raw) : raw;
  if (type === 'float32') return float32Value(value);
  return Number.isFinite(value) ? value : null;
}

/** Elements per row (the product of the dimensions after the batch); 0 for a tensor without rows. */
function rowElements(dims: readonly number[]): number {
  return dims.slice(1).reduce((product, d) => product * d, 1);
}

/** At most `budget` elements, whole rows where one row fits in the budget. */
function keptElements(dims: readonly number[], total: number, budget: number): number {
  const perRow = rowElements(dims);
  const kept = Math.min(total, budget);
  return perRow > 0 && perRow <= kept ? Math.floor(kept / perRow) * perRow : kept;
}

interface Draft {
  readonly source: CaptureTensorSource;
  readonly values: CapturedValue[];
  /** Indices of the strings cut short, ascending. */
  readonly cutAt: readonly number[];
  kept: number;
}

function draftTensor(source: CaptureTensorSource, limits: CaptureLimits): Draft {
  const total = source.data.length;
  const kept = keptElements(source.dims, total, limits.elementsPerTensor);
  const bitsOfFloat16 = source.type === 'float16' && source.data instanceof Uint16Array;
  const values: CapturedValue[] = new Array<CapturedValue>(kept);
  const cutAt: number[] = [];
  for (let i = 0; i < kept; i++) {
    let value = elementValue(source.type, source.data[i]!, bitsOfFloat16);
    if (typeof value === 'string' && value.length > limits.charsPerString) {
      value = cutString(value, limits.charsPerString);
      cutAt.push(i);
    }
    values[i] = value;
  }
  return { source, values, cutAt, kept };
}

function tensorOf(draft: Draft): CapturedTensor {
  const elements = draft.source.data.length;
  const data = draft.kept === draft.values.length ? draft.values : draft.values.slice(0, draft.kept);
  const cut = draft.cutAt.filter((i) => i < draft.kept).length;
  const truncated = draft.kept < elements || cut > 0 ? { elements, kept: draft.kept, ...(cut > 0 ? { stringsCut: cut } : {}) } : undefined;
  return { type: draft.source.type, shape: [...draft.source.dims], data, ...(truncated === undefined ? {} : { truncated }) };
}

const utf8 = new TextEncoder();

/**
 * The capture record of one answered request, within `limits`: each tensor keeps its first elements (whole rows
 * where a row fits), strings are cut to `charsPerString`, and while the JSON line is over `recordBytes` the tensor
 * taking the most room keeps half its rows, down to none; every cut is noted in the tensor's `truncated`. Escaping
 * is JSON.stringify's, so any string a client sent is safe in the line. The function writes
 * `JSON.stringify(record)` as one log line.
 */
export function buildCaptureRecord(request: CaptureRequest, limits: CaptureLimits = CAPTURE_LIMITS): CaptureRecord {
  const inputs = [...request.inputs].map(([name, source]) => [name, draftTensor(source, limits)] as const);
  const outputs = [...request.outputs].map(([name, source]) => [name, draftTensor(source, limits)] as const);
  let prediction = request.prediction?.slice(0, limits.elementsPerTensor).map((value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
  const record = (): CaptureRecord => ({
    _type: CAPTURE_RECORD_TYPE,
    version: CAPTURE_RECORD_VERSION,
    requestId: request.requestId,
    time: request.time.toISOString(),
    model: request.model,
    functionVersion: request.functionVersion,
    rows: request.rows,
    inputs: Object.fromEntries(inputs.map(([name, draft]) => [name, tensorOf(draft)])),
    outputs: Object.fromEntries(outputs.map(([name, draft]) => [name, tensorOf(draft)])),
    ...(prediction === undefined ? {} : { prediction }),
    limits,
  });
  const drafts = [...inputs, ...outputs].map(([, draft]) => draft);
  for (;;) {
    const built = record();
    if (utf8.encode(JSON.stringify(built)).length <= limits.recordBytes) return built;
    const widest = drafts
      .filter((d) => d.kept > 0)
      .map((d) => ({ d, bytes: JSON.stringify(d.values.slice(0, d.kept)).length }))
      .sort((a, b) => b.bytes - a.bytes)[0];
    if (widest !== undefined) widest.d.kept = widest.d.kept === 1 ? 0 : keptElements(widest.d.source.dims, widest.d.kept, Math.floor(widest.d.kept / 2));
    else if (prediction !== undefined && prediction.length > 0) prediction = prediction.slice(0, Math.floor(prediction.length / 2));
    else return built;
  }
}

// ---- The training baseline ----------------------------------------------------------------------------------------

/** A bundle's training baseline, beside model.json; `npm run build` copies it beside build.json. */
export const BASELINE_FILE = 'baseline.json';

/** The `_type` of a baseline file. */
export const BASELINE_TYPE = 'training-baseline';

/** The baseline's schema version; a reader refuses versions it does not know. */
export const BASELINE_VERSION = 1;

/**
 * The quantiles whose values cut a distribution into bins: deciles, ten bins of a tenth of the training values each
 * when the values are distinct. Equal cut points (a feature with few distinct values) are written once, so such a
 * feature has fewer, unequal bins, and `shares` says how much of the training data each holds.
 */
export const BASELINE_QUANTILES: readonly number[] = Object.freeze([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);

/**
 * The distribution of a set of numbers. Bin i holds the values v with edges[i-1] < v <= edges[i] (the first bin
 * has no lower end, the last no upper end): edges.length + 1 bins, whose shares of the values sum to 1. Quantiles
 * are interpolated linearly between the sorted values (numpy's default, `method="linear"`).
 */
export interface ValueSummary {
  /** Values summarised (NaN left out). */
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  /** The distinct quantile values at BASELINE_QUANTILES, ascending. */
  readonly edges: readonly number[];
  /** Share of the values in each bin; edges.length + 1 entries. */
  readonly shares: readonly number[];
}

/**
 * One summarised input: a feature of a tabular model (`column` of the `input` tensor's rows), or, for any other
 * model, every value of the input tensor (no `column`).
 */
export interface BaselineInput {
  /** The feature's name, or the tensor's. */
  readonly name: string;
  /** The input tensor. */
  readonly input: string;
  readonly column?: number;
  readonly summary: ValueSummary;
}

/**
 * What the model answered on the training rows: a classifier's share of each label (its highest probability,
 * labels in model.json's order), a regressor's predicted values, or every value of each output of a tensor model.
 */
export type BaselinePrediction =
  | { readonly kind: 'labels'; readonly output: string; readonly count: number; readonly labels: readonly string[]; readonly shares: readonly number[] }
  | { readonly kind: 'values'; readonly output: string; readonly summary: ValueSummary }
  | { readonly kind: 'tensors'; readonly outputs: readonly { readonly name: string; readonly summary: ValueSummary }[] };

/** The JSON of baseline.json. */
export interface TrainingBaseline {
  readonly _type: typeof BASELINE_TYPE;
  readonly version: typeof BASELINE_VERSION;
  readonly model: {
    readonly name: string;
    readonly version: string;
    readonly task: string;
    /** Hex sha256 of the model.onnx whose answers `prediction` holds. */
    readonly sha256: string;
  };
  /** Rows the baseline was computed on. */
  readonly rows: number;
  /** Where the rows came from, for people. */
  readonly source: string;
  /** What wrote the file: `models/train/baseline.py` or `npm run bundle`. */
  readonly writer: string;
  readonly inputs: readonly BaselineInput[];
  /** Inputs without a summary (strings), with the reason. */
  readonly skipped: readonly { readonly input: string; readonly reason: string }[];
  readonly prediction: BaselinePrediction;
}
