/**
 * The bench's inputs and checks: a bundle's golden rows as request bodies, and the check that every answer the
 * bench times is the model's answer (golden.json within 1e-4), so a fast wrong answer fails the run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { float32ToNumber } from '../functions/predict/postprocess.js';

export const GOLDEN_TOLERANCE = 1e-4;

export interface BundleManifest {
  readonly name: string;
  readonly version: string;
  readonly task: 'classification' | 'regression';
  readonly input: string;
  readonly output: string;
  readonly features: readonly string[];
  readonly labels?: readonly string[];
}

export interface BenchBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  /** `n` golden input rows, cycling through golden.json. */
  rows(n: number): number[][];
  /** The golden output of row `i` of `rows(n)`: probabilities for a classifier, `[value]` for a regressor. */
  expected(i: number): number[];
}

export function readBundle(dir: string): BenchBundle {
  const manifest = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as BundleManifest;
  const golden = JSON.parse(readFileSync(path.join(dir, 'golden.json'), 'utf8')) as { inputs: number[][]; outputs: (number | number[])[] };
  const count = golden.inputs.length;
  return {
    dir,
    manifest,
    rows: (n) => Array.from({ length: n }, (_, i) => golden.inputs[i % count]!),
    expected: (i) => {
      const out = golden.outputs[i % count]!;
      return typeof out === 'number' ? [out] : out;
    },
  };
}

/**
 * How the numbers of a request are written. `float32`: the shortest decimal that reads back as the same float32
 * (5.1), as a client writes a float32 value or the dataset's own decimals; `golden`: as golden.json stores them,
 * the float32's exact value as a double (5.099999904632568), as `json.dumps` writes a numpy float32 cast to float.
 * Both go to `/predict`. `oip-binary`: the Open Inference Protocol's infer route with the rows as binary FP32 after
 * the JSON object and the output asked back as binary, as Triton's client sends it. All give the model the same
 * float32 values.
 */
export type Spelling = 'float32' | 'golden' | 'oip-binary';

/** An infer request with binary tensor data: the body, and the header that says where its JSON object ends. */
export function binaryInferRequest(bundle: BenchBundle, rows: number): { body: Buffer; headerLength: number } {
  const { manifest } = bundle;
  const values = Float32Array.from(bundle.rows(rows).flat());
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: manifest.input, shape: [rows, manifest.features.length], datatype: 'FP32', parameters: { binary_data_size: values.byteLength } }],
      outputs: [{ name: manifest.output, parameters: { binary_data: true } }],
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

export function requestBody(bundle: BenchBundle, rows: number, spelling: 'float32' | 'golden'): string {
  const values = bundle.rows(rows).map((row) => (spelling === 'float32' ? row.map(float32ToNumber) : row));
  return JSON.stringify(rows === 1 ? { features: values[0] } : { instances: values });
}

function fail(bundle: BenchBundle, who: string, message: string): never {
  throw new Error(`wrong prediction: ${who} on ${bundle.manifest.name}: ${message}; the bench times only right answers`);
}

/**
 * Throws unless `answer` is the model's answer for `rows(rows)`: a raw output tensor (row-major), or a `/predict`
 * response body (SPEC's shape: `prediction`, and `probabilities` for a classifier).
 */
export function checkPrediction(bundle: BenchBundle, rows: number, who: string, answer: Float32Array | Record<string, unknown>): void {
  const { manifest } = bundle;
  const width = manifest.task === 'classification' ? (manifest.labels ?? []).length : 1;
  let values: ArrayLike<number>;
  if (answer instanceof Float32Array) {
    values = answer;
  } else {
    const prediction = answer['prediction'];
    if (!Array.isArray(prediction) || prediction.length !== rows) fail(bundle, who, `prediction has ${Array.isArray(prediction) ? prediction.length : 'no'} entries for ${rows} rows`);
    if (manifest.task === 'classification') {
      const probabilities = answer['probabilities'];
      if (!Array.isArray(probabilities)) fail(bundle, who, 'no probabilities');
      values = (probabilities as number[][]).flat();
      for (let r = 0; r < rows; r++) {
        const expected = bundle.expected(r);
        const sorted = [...expected].sort((a, b) => b - a);
        // The label is checked where the model's choice is clear; a near tie may go either way in float32.
        if ((sorted[0] ?? 0) - (sorted[1] ?? 0) > GOLDEN_TOLERANCE) {
          const label = manifest.labels?.[expected.indexOf(sorted[0]!)];
          if (prediction[r] !== label) fail(bundle, who, `row ${r} predicted ${JSON.stringify(prediction[r])}, golden.json says ${JSON.stringify(label)}`);
        }
      }
    } else {
      values = prediction as number[];
    }
  }
  if (values.length !== rows * width) fail(bundle, who, `${values.length} output values for ${rows} rows of ${width}`);
  for (let r = 0; r < rows; r++) {
    const expected = bundle.expected(r);
    for (let c = 0; c < width; c++) {
      const got = values[r * width + c]!;
      if (!(Math.abs(got - expected[c]!) <= GOLDEN_TOLERANCE)) fail(bundle, who, `row ${r} value ${c} is ${got}, golden.json says ${expected[c]} (limit ${GOLDEN_TOLERANCE})`);
    }
  }
}

/** The value at percentile `p` (nearest rank, no interpolation). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
