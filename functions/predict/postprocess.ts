import type { Manifest } from './manifest.js';
import { bodyWriter, type BodyWriter } from './number-codec.js';

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

/** A float32's bits, for its binary exponent. */
const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);
/** floor(log10(2^e)) for each biased float32 exponent e (1 to 254). */
const LOG10_OF_POW2 = Int32Array.from({ length: 256 }, (_, e) => Math.floor((e - 127) * Math.log10(2)));
/** 10^k as the nearest double, for k from -46 to 39 (index k + 46). */
const POW10_ANY = Float64Array.from({ length: 86 }, (_, i) => Number(`1e${i - 46}`));

/**
 * floor(log10(a)) for a positive finite float32 `a`, without Math.log10: the binary exponent gives it or one
 * less. No float32 lies close enough to a power of ten for the double nearest that power to decide differently
 * (the unit tests compare with Math.log10 on every float32 next to one).
 */
function decimalExponent(a: number): number {
  f32[0] = a;
  const biased = f32Bits[0]! >>> 23;
  if (biased === 0) return Math.floor(Math.log10(a));
  const e = LOG10_OF_POW2[biased]!;
  return a >= POW10_ANY[e + 47]! ? e + 1 : e;
}

/**
 * The number `float32Text` last wrote, as a double (NaN for a non-finite value): the confidence the metrics
 * record, without shortening the same value twice.
 */
let lastShort = 0;

/**
 * The JSON text of a float32 output value: `String(float32ToNumber(value))`, or `null` for NaN and infinities
 * (as JSON.stringify writes them). It runs for every probability of every row, so it writes the rounded digits
 * itself instead of formatting a double again: the same decisions as `float32ToNumber` (digit counts, rounding,
 * the `Math.fround` check), the layout of Number.prototype.toString. Outside 1e-14 to 1e28, where those decisions
 * would need `toPrecision`, it calls `float32ToNumber`.
 */
export function float32Text(value: number): string {
  if (!Number.isFinite(value)) {
    lastShort = Number.NaN;
    return 'null';
  }
  if (value === 0) {
    lastShort = value;
    return '0';
  }
  const exponent = decimalExponent(Math.abs(value));
  if (exponent >= -14 && exponent <= 27) {
    for (let digits = 6; digits <= 9; digits++) {
      const power = digits - 1 - exponent;
      let mantissa: number;
      let short: number;
      if (power >= 0) {
        mantissa = Math.round(value * POW10[power]!);
        short = mantissa / POW10[power]!;
      } else {
        mantissa = Math.round(value / POW10[-power]!);
        short = mantissa * POW10[-power]!;
      }
      if (Math.fround(short) === value) {
        lastShort = short;
        return decimalText(mantissa, power);
      }
    }
  }
  lastShort = float32ToNumber(value);
  return String(lastShort);
}

/**
 * Number.prototype.toString of `mantissa / 10^power`, for a whole `mantissa` of at most 10 digits. Such a decimal
 * is the only one of 15 digits or fewer that reads as its double, so it is that double's shortest form: its digits
 * without trailing zeros, placed by the ECMAScript rules (fixed notation from 1e-7 up to 1e21, exponential
 * outside).
 */
function decimalText(mantissa: number, power: number): string {
  const negative = mantissa < 0;
  let m = negative ? -mantissa : mantissa;
  // Whole numbers of at most 10 digits: the division and the multiplication are exact.
  let q = Math.floor(m / 10);
  while (q * 10 === m) {
    m = q;
    q = Math.floor(m / 10);
    power--;
  }
  const digits = String(m);
  const length = digits.length;
  const point = length - power;
  let text: string;
  if (point === 0) text = `0.${digits}`;
  else if (point > 0 && point < length) text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  else if (point > -6 && point < 0) text = `0.${ZEROS[-point]!}${digits}`;
  else if (point >= length && point <= 21) text = digits + '0'.repeat(point - length);
  else {
    const e = point - 1;
    text = `${digits[0]!}${length > 1 ? `.${digits.slice(1)}` : ''}e${e < 0 ? '-' : '+'}${e < 0 ? -e : e}`;
  }
  return negative ? `-${text}` : text;
}

/** Runs of zeros after the point, for values from 1e-7 up to 0.1. */
const ZEROS = ['', '0', '00', '000', '0000', '00000'];

/** The 200 body as JSON text, and the confidences the metrics record. */
export interface WrittenPrediction {
  readonly body: string;
  readonly confidences: number[] | undefined;
  /**
   * The body's confidence texts, comma-separated (`0.97,0.7`), when every one is finite: the EMF line reuses them
   * rather than formatting each number again (for 100 rows that formatting cost more than writing the body).
   */
  readonly confidenceText: string | undefined;
}

/** Writes the body by concatenating strings: for a few values, cheaper than a call into WebAssembly. */
function stringWriter(manifest: Manifest, modelVersion: string): (output: Float32Array, rows: number) => WrittenPrediction {
  const tail = `,"model_version":${JSON.stringify(modelVersion)}}`;
  if (manifest.task === 'regression') {
    return (output, rows) => {
      let prediction = '';
      for (let r = 0; r < rows; r++) prediction += (r === 0 ? '' : ',') + float32Text(output[r]!);
      return { body: `{"prediction":[${prediction}]${tail}`, confidences: undefined, confidenceText: undefined };
    };
  }
  const labels = (manifest.labels ?? []).map((label) => JSON.stringify(label));
  const width = labels.length;
  return (output, rows) => {
    let prediction = '';
    let confidence = '';
    let probabilities = '';
    const confidences = new Array<number>(rows);
    let finite = true;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      // The first highest probability (NaN never wins), its text and short value kept for `confidence` and metrics.
      let best = 0;
      let top = output[base]!;
      let row = float32Text(top);
      let topText = row;
      let topShort = lastShort;
      for (let c = 1; c < width; c++) {
        const p = output[base + c]!;
        const text = float32Text(p);
        row += `,${text}`;
        if (p > top) {
          best = c;
          top = p;
          topText = text;
          topShort = lastShort;
        }
      }
      confidences[r] = topShort;
      finite &&= Number.isFinite(topShort);
      const sep = r === 0 ? '' : ',';
      prediction += sep + labels[best]!;
      confidence += sep + topText;
      probabilities += `${sep}[${row}]`;
    }
    return {
      body: `{"prediction":[${prediction}],"confidence":[${confidence}],"probabilities":[${probabilities}]${tail}`,
      confidences,
      confidenceText: finite ? confidence : undefined,
    };
  };
}

/**
 * Up to this many output values a body is written with strings, above it in WebAssembly. Each call into the
 * WebAssembly writer costs a copy in, a call and a `Buffer.toString` out, 1 to 2 µs more than strings for a single
 * row on a request path; at 100 rows it writes in half the time (docs/PERFORMANCE.md). The limit is a round number
 * between those two measured cases, not a measured crossover.
 */
export const STRING_WRITER_MAX_VALUES = 24;

/**
 * Returns a function that writes the `/predict` 200 body straight from the output tensor (row-major): every value
 * as the text of `float32ToNumber` (`float32Text`), `null` for NaN and infinities, the labels and model version
 * serialized once. Small outputs are written with strings; larger ones in WebAssembly (number-codec.ts), which
 * takes `float32Text`'s decisions itself for values from 1e-14 to 1e28 and calls `float32ToNumber` for the others.
 * Both give the same text, byte for byte (test/unit-postprocess.test.ts).
 */
export function predictionWriter(manifest: Manifest, modelVersion: string): (output: Float32Array, rows: number) => WrittenPrediction {
  const strings = stringWriter(manifest, modelVersion);
  const width = manifest.task === 'regression' ? 1 : (manifest.labels ?? []).length;
  const wasm = codecBodyWriter(manifest, modelVersion);
  return (output, rows) => (rows * width <= STRING_WRITER_MAX_VALUES ? strings(output, rows) : wasm(output, rows));
}

/**
 * The WebAssembly writer of `predictionWriter`, for every row count; `module` is the compiled codec (the shipped
 * one by default; bench/codec-ab.ts passes another revision's).
 */
export function codecBodyWriter(manifest: Manifest, modelVersion: string, module?: () => WebAssembly.Module): BodyWriter {
  return bodyWriter(
    {
      prediction: '{"prediction":[',
      confidence: '],"confidence":[',
      probabilities: '],"probabilities":[',
      tail: `],"model_version":${JSON.stringify(modelVersion)}}`,
      labels: manifest.task === 'regression' ? [] : (manifest.labels ?? []).map((label) => JSON.stringify(label)),
    },
    manifest.maxBatch,
    { shortFloat32: float32ToNumber },
    module,
  );
}
