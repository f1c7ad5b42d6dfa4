import type { Manifest } from './manifest.js';

/**
 * The shortest decimal of 6 to 9 significant digits that reads back as the same float32, so responses show `0.97`
 * rather than `0.9700000286102295` without losing any of the model's precision. Rounds with arithmetic, not
 * `toPrecision` (five times slower, and this runs for every probability); the `Math.fround` check makes any
 * rounding slip fall through to the next digit count.
 */
export function float32ToNumber(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  for (let digits = 6; digits <= 9; digits++) {
    const power = digits - 1 - exponent;
    // Powers of ten up to 1e22 are exact doubles, so the division gives the double nearest the decimal.
    const short =
      power > 22 || power < -22
        ? Number(value.toPrecision(digits))
        : power >= 0
          ? Math.round(value * POW10[power]!) / POW10[power]!
          : Math.round(value / POW10[-power]!) * POW10[-power]!;
    if (Math.fround(short) === value) return short;
  }
  return Number(value.toPrecision(9));
}

/** 1e0 to 1e22, each an exact double. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** A float32 output value as JSON: its short form, or `null` for NaN and infinities (as JSON.stringify writes them). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(float32ToNumber(value)) : 'null';
}

/** The 200 body as JSON text, and the confidences the metrics record. */
export interface WrittenPrediction {
  readonly body: string;
  readonly confidences: number[] | undefined;
}

/**
 * Returns a function that writes the `/predict` 200 body straight from the output tensor (row-major), with the
 * labels and model version serialized once: no intermediate objects on the request path.
 */
export function predictionWriter(manifest: Manifest, modelVersion: string): (output: Float32Array, rows: number) => WrittenPrediction {
  const tail = `,"model_version":${JSON.stringify(modelVersion)}}`;
  if (manifest.task === 'regression') {
    return (output, rows) => {
      let prediction = '';
      for (let r = 0; r < rows; r++) prediction += (r === 0 ? '' : ',') + jsonNumber(output[r]!);
      return { body: `{"prediction":[${prediction}]${tail}`, confidences: undefined };
    };
  }
  const labels = (manifest.labels ?? []).map((label) => JSON.stringify(label));
  const width = labels.length;
  return (output, rows) => {
    let prediction = '';
    let confidence = '';
    let probabilities = '';
    const confidences = new Array<number>(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      let best = 0;
      let row = '';
      for (let c = 0; c < width; c++) {
        const p = output[base + c]!;
        row += (c === 0 ? '[' : ',') + jsonNumber(p);
        if (p > output[base + best]!) best = c;
      }
      const top = output[base + best]!;
      confidences[r] = Number.isFinite(top) ? float32ToNumber(top) : Number.NaN;
      const sep = r === 0 ? '' : ',';
      prediction += sep + labels[best]!;
      confidence += sep + jsonNumber(top);
      probabilities += `${sep + row}]`;
    }
    return { body: `{"prediction":[${prediction}],"confidence":[${confidence}],"probabilities":[${probabilities}]${tail}`, confidences };
  };
}
