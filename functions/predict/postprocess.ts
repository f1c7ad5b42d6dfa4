import type { Manifest } from './manifest.js';

/** The 200 body of `/predict` (SPEC "HTTP contract"). */
export interface PredictResponse {
  readonly prediction: readonly (string | number)[];
  readonly confidence?: readonly number[];
  readonly probabilities?: readonly (readonly number[])[];
  readonly model_version: string;
}

/**
 * The shortest decimal (at least 6 significant digits) that reads back as the same float32, so responses show
 * `0.97` rather than `0.9700000286102295` without losing any of the model's precision.
 */
export function float32ToNumber(value: number): number {
  for (let digits = 6; digits < 9; digits++) {
    const short = Number(value.toPrecision(digits));
    if (Math.fround(short) === value) return short;
  }
  return Number(value.toPrecision(9));
}

/** Builds the response for `rows` rows from the model's output tensor data (row-major). */
export function toPredictResponse(manifest: Manifest, modelVersion: string, output: Float32Array, rows: number): PredictResponse {
  if (manifest.task === 'regression') {
    const prediction = new Array<number>(rows);
    for (let r = 0; r < rows; r++) prediction[r] = float32ToNumber(output[r]!);
    return { prediction, model_version: modelVersion };
  }
  const labels = manifest.labels ?? [];
  const width = labels.length;
  const prediction = new Array<string>(rows);
  const confidence = new Array<number>(rows);
  const probabilities = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    const row = new Array<number>(width);
    let best = 0;
    for (let c = 0; c < width; c++) {
      const p = output[base + c]!;
      row[c] = float32ToNumber(p);
      if (p > output[base + best]!) best = c;
    }
    prediction[r] = labels[best]!;
    confidence[r] = row[best]!;
    probabilities[r] = row;
  }
  return { prediction, confidence, probabilities, model_version: modelVersion };
}
