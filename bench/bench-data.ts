/**
 * The bench's inputs, checks and statistics: a bundle's golden rows as request bodies and events, the check that
 * every answer the bench times is the model's answer (golden.json, within the bundle's tolerance), so a fast wrong
 * answer fails the run, and percentiles. Rows are whatever golden.json holds in `/predict`'s instance form: a flat
 * array of numbers for a tabular model, a nested array (one image, without the batch dimension) for a tensor model
 * such as the CNN.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE } from '../functions/contract/env.js';
import { float32ToNumber } from '../functions/predict/tensor-json.js';
import { httpEvent } from '../tools/http-api-event.js';

/** golden.json's tolerance when it states none, as commands/build/golden-check.ts applies it. */
export const GOLDEN_TOLERANCE = 1e-4;

/** One row of golden.json: numbers, nested to the rank of one instance. */
export type Row = number | readonly Row[];

/** The fields of model.json the bench reads; a tensor model's has no `input` or `features`. */
export interface BundleManifest {
  readonly name: string;
  readonly version: string;
  readonly task: 'classification' | 'regression' | 'tensor';
  readonly input?: string;
  readonly output?: string;
  readonly features?: readonly string[];
  readonly labels?: readonly string[];
}

export interface BenchBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  /** The output the function serves (model.json's `output`), which every baseline fetches too. */
  readonly output: string;
  /** The largest absolute error allowed against golden.json (its `tolerance`, 1e-4 when it has none). */
  readonly tolerance: number;
  /** The dimensions of one row, without the batch dimension: `[4]` for iris, `[1, 8, 8]` for the CNN. */
  readonly rowDims: readonly number[];
  /** `n` golden input rows, cycling through golden.json. */
  rows(n: number): Row[];
  /** The values of `rows(n)`, row-major, as the float32 tensor the model takes. */
  values(n: number): Float32Array;
  /** The golden output of row `i` of `rows(n)`: probabilities for a classifier, `[value]` for a regressor. */
  expected(i: number): number[];
}

function dimsOf(row: Row): number[] {
  const dims: number[] = [];
  for (let value: Row = row; Array.isArray(value); value = (value as readonly Row[])[0]!) dims.push((value as readonly Row[]).length);
  return dims;
}

function flatten(rows: readonly Row[]): number[] {
  return (rows as unknown[]).flat(Infinity) as number[];
}

export function readBundle(dir: string): BenchBundle {
  const manifest = JSON.parse(readFileSync(path.join(dir, MODEL_MANIFEST_FILE), 'utf8')) as BundleManifest;
  const golden = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { inputs: Row[]; outputs: (number | number[])[]; tolerance?: number };
  if (manifest.output === undefined) throw new Error(`${dir}/model.json names no "output"; the bench times classifiers and regressors, whose answers golden.json checks`);
  const count = golden.inputs.length;
  const rows = (n: number) => Array.from({ length: n }, (_, i) => golden.inputs[i % count]!);
  return {
    dir,
    manifest,
    output: manifest.output,
    tolerance: golden.tolerance ?? GOLDEN_TOLERANCE,
    rowDims: dimsOf(golden.inputs[0]!),
    rows,
    values: (n) => Float32Array.from(flatten(rows(n))),
    expected: (i) => {
      const out = golden.outputs[i % count]!;
      return typeof out === 'number' ? [out] : out;
    },
  };
}

/** A bundle when its folder holds one, or why not: the CNN bundles are trained separately (models/train). */
export function optionalBundle(dir: string): BenchBundle | string {
  const missing = [MODEL_MANIFEST_FILE, DEFAULT_MODEL_FILE, 'golden.json'].filter((file) => !existsSync(path.join(dir, file)));
  return missing.length === 0 ? readBundle(dir) : `${dir} has no ${missing.join(', ')} (train it with models/train/train.sh)`;
}

/**
 * How the numbers of a request are written. `float32`: the shortest decimal that reads back as the same float32
 * (5.1), as a client writes a float32 value or the dataset's own decimals; `golden`: as golden.json stores them,
 * the float32's exact value as a double (5.099999904632568), as `json.dumps` writes a numpy float32 cast to float.
 * Both go to `/predict` as `{"instances": [...]}`. `oip-binary`: the Open Inference Protocol's infer route with the
 * rows as binary FP32 after the JSON object and the output asked back as binary, as Triton's client sends it. All
 * give the model the same float32 values.
 */
export type Spelling = 'float32' | 'golden' | 'oip-binary';

function shortRow(row: Row): Row {
  return typeof row === 'number' ? float32ToNumber(Math.fround(row)) : row.map(shortRow);
}

export function requestBody(bundle: BenchBundle, rows: number, spelling: 'float32' | 'golden'): string {
  const instances = bundle.rows(rows);
  return JSON.stringify({ instances: spelling === 'float32' ? instances.map(shortRow) : instances });
}

/**
 * A payload 2.0 event asking `/predict` for `rows` golden rows, as `{"instances": [...]}`: what API Gateway would
 * hand the function, built by the project's own event builder (tools/http-api-event.ts).
 */
export function predictEvent(bundle: BenchBundle, rows: number): ReturnType<typeof httpEvent> {
  return httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(requestBody(bundle, rows, 'float32')), 'bench', true);
}

/** An infer request with binary tensor data: the body, and the header that says where its JSON object ends. */
export function binaryInferRequest(bundle: BenchBundle, rows: number, input: string, output: string): { body: Buffer; headerLength: number } {
  const values = bundle.values(rows);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: input, shape: [rows, ...bundle.rowDims], datatype: 'FP32', parameters: { binary_data_size: values.byteLength } }],
      outputs: [{ name: output, parameters: { binary_data: true } }],
    }),
  );
  return { body: Buffer.concat([header, Buffer.from(values.buffer)]), headerLength: header.length };
}

/** The float32 values of the one binary output of an infer response (base64 in the function's response). */
export function binaryInferOutput(response: { body: string; isBase64Encoded?: boolean; headers?: Record<string, string> }): Float32Array {
  const bytes = Buffer.from(response.body, response.isBase64Encoded === true ? 'base64' : 'utf8');
  const length = Number(response.headers?.['inference-header-content-length']);
  return new Float32Array(Uint8Array.from(bytes.subarray(length)).buffer);
}

function fail(bundle: BenchBundle, who: string, message: string): never {
  throw new Error(`wrong prediction: ${who} on ${bundle.manifest.name}: ${message}; the bench times only right answers`);
}

/**
 * Throws unless `answer` is the model's answer for `rows(rows)`: a raw output tensor's values (row-major), or a
 * `/predict` response body (`prediction`, and `probabilities` for a classifier). A label is checked where the
 * golden probabilities leave no doubt: the best beats the second by more than twice the tolerance.
 */
export function checkPrediction(bundle: BenchBundle, rows: number, who: string, answer: ArrayLike<number> | Record<string, unknown>): void {
  const { manifest, tolerance } = bundle;
  const width = bundle.expected(0).length;
  let values: ArrayLike<number>;
  if (!('prediction' in answer) && typeof (answer as ArrayLike<number>).length === 'number') {
    values = answer as ArrayLike<number>;
  } else {
    const body = answer as Record<string, unknown>;
    const prediction = body['prediction'];
    if (!Array.isArray(prediction) || prediction.length !== rows) fail(bundle, who, `prediction has ${Array.isArray(prediction) ? prediction.length : 'no'} entries for ${rows} rows`);
    if (manifest.task === 'classification') {
      const probabilities = body['probabilities'];
      if (!Array.isArray(probabilities)) fail(bundle, who, 'no probabilities');
      values = (probabilities as number[][]).flat();
      for (let r = 0; r < rows; r++) {
        const expected = bundle.expected(r);
        const sorted = [...expected].sort((a, b) => b - a);
        if ((sorted[0] ?? 0) - (sorted[1] ?? 0) > 2 * tolerance) {
          const label = manifest.labels?.[expected.indexOf(sorted[0]!)];
          if (prediction[r] !== label) fail(bundle, who, `row ${r} predicted ${JSON.stringify(prediction[r])}, golden.json says ${JSON.stringify(label)}`);
        }
      }
    } else {
      values = (prediction as unknown[]).flat(Infinity) as number[];
    }
  }
  if (values.length !== rows * width) fail(bundle, who, `${values.length} output values for ${rows} rows of ${width}`);
  for (let r = 0; r < rows; r++) {
    const expected = bundle.expected(r);
    for (let c = 0; c < width; c++) {
      const got = values[r * width + c]!;
      if (!(Math.abs(got - expected[c]!) <= tolerance)) fail(bundle, who, `row ${r} value ${c} is ${got}, golden.json says ${expected[c]} (limit ${tolerance})`);
    }
  }
}

/** The value at percentile `p` (nearest rank, no interpolation). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export interface Sampled {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export function sampled(values: readonly number[]): Sampled {
  return { p50: percentile(values, 50), p99: percentile(values, 99), n: values.length };
}
