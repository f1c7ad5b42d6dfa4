import { rowScanner } from './number-codec.js';
import type { Batch, FeatureSpec } from './validate-request.js';

/**
 * A scanner for the two `/predict` bodies nearly every client sends: `{"features": [n, ...]}` and
 * `{"instances": [[n, ...], ...]}` with every row an array of numbers. It reads the numbers straight into the
 * Float32Array the model gets, without `JSON.parse` building an array of rows of boxed doubles first (most of the
 * handler's own time on a batch, see docs/PERFORMANCE.md).
 *
 * It either gives exactly the batch that `JSON.parse` and `parsePredictRequest` would give, or `undefined`: for
 * anything else (named features, extra keys, escapes, a value that is not a number, a wrong row length, too many
 * rows, a value beyond float32, invalid JSON) the caller takes the general path, which alone produces errors. So
 * the scanner never decides what is valid; it only recognises a valid common case.
 *
 * Same float32 values: `JSON.parse` rounds the decimal to the nearest double, and the store into a Float32Array
 * rounds that double to float32. The scanner computes the same double exactly when the digits fit 2^53 and the
 * power of ten is at most 22 (both operands exact, one correctly rounded operation). For longer decimals (the 17
 * digits of a float32 written as a double) it computes a double within a few units in the last place, and uses it
 * only when that double is far (64 units) from the middle between two float32 values, where no error of that size
 * can change the float32 it rounds to; otherwise it asks `Number()` for the exact double.
 *
 * There are two scanners that make the same decisions: one over the body's UTF-16 code units in JavaScript, for
 * short bodies, and one over its bytes in WebAssembly (number-codec.ts), for the rest. The WebAssembly one reads a
 * 100-row body in half the time; for a single row its fixed cost (copying the body in, the call, copying the rows
 * out) is more than the whole JavaScript scan (docs/PERFORMANCE.md).
 *
 * A batch of several rows is a view of the scanner's own memory, valid until its next call: the model copies it into
 * its input before the handler reads another request, and a copy per request would cost more than the copy it saves
 * for a large batch (and leave the model's run colder caches).
 */
export type PredictBodyScanner = (body: string) => Batch | undefined;

const TWO_53 = 2 ** 53;
/** 1e0 to 1e22, each an exact double. */
const POW10 = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
/** More significant digits than this and the rounding errors of the approximation are no longer bounded as assumed. */
const MAX_DIGITS = 30;
/** The largest finite float32 (as validate-request.ts refuses anything above it). */
const FLOAT32_MAX = 3.4028234663852886e38;

/** A double's bits, to see how close it lies to the middle between two float32 values. */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The 29 low mantissa bits of a double that sits exactly between two adjacent float32 values. */
const FLOAT32_MIDPOINT = 0x1000_0000;
const MIDPOINT_MARGIN = 64;
/** Double exponents (biased) of normal float32 values below 2^127: there the 29-bit test above is valid. */
const MIN_EXPONENT = 1023 - 126;
const MAX_EXPONENT = 1023 + 126;

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Where the scanner is in the body, between the steps of one scan. */
let at = 0;

function skipSpace(s: string): void {
  let c = s.charCodeAt(at);
  // JSON whitespace: space, tab, line feed, carriage return.
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++at);
}

/**
 * The double for `mantissa * 10^scale` (negated when `negative`), the digits of which are `s[start, end)`: the
 * double `JSON.parse` gives it, or, for a long decimal far from a float32 rounding boundary, a double that rounds to
 * the same float32 (see the top of this file).
 */
function decimalValue(mantissa: number, scale: number, negative: boolean, digits: number, s: string, start: number, end: number): number {
  if (scale >= -22 && scale <= 22) {
    const value = scale < 0 ? mantissa / POW10[-scale]! : mantissa * POW10[scale]!;
    if (mantissa < TWO_53) return negative ? -value : value;
    if (LITTLE_ENDIAN && digits <= MAX_DIGITS) {
      bits[0] = value;
      const exponent = (words[1]! >>> 20) & 0x7ff;
      const offset = (words[0]! & 0x1fff_ffff) - FLOAT32_MIDPOINT;
      if (exponent >= MIN_EXPONENT && exponent <= MAX_EXPONENT && (offset > MIDPOINT_MARGIN || offset < -MIDPOINT_MARGIN)) return negative ? -value : value;
    }
  }
  return Number(s.slice(start, end));
}

/**
 * Reads `[n, n, ...]` of exactly `width` JSON numbers at `at` into `target` at `offset`; false (give up) for
 * anything else, a value beyond float32 included. One loop with the index in a local: this runs for every value of
 * every request.
 */
function readRow(s: string, width: number, target: Float32Array, offset: number): boolean {
  let i = at;
  if (s.charCodeAt(i) !== OPEN_BRACKET) return false;
  let c = s.charCodeAt(++i);
  for (let column = 0; column < width; column++) {
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++i);
    const start = i;
    const negative = c === MINUS;
    if (negative) c = s.charCodeAt(++i);
    let mantissa = 0;
    let scale = 0;
    if (c === ZERO) {
      c = s.charCodeAt(++i);
      if (c >= ZERO && c <= NINE) return false; // a leading zero is not JSON
    } else if (c > ZERO && c <= NINE) {
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        c = s.charCodeAt(++i);
      } while (c >= ZERO && c <= NINE);
    } else {
      return false;
    }
    // Digits, leading zeros included: a bound on the significant digits, for the error bound.
    let digits = i - start;
    if (c === DOT) {
      const fraction = ++i;
      c = s.charCodeAt(i);
      if (!(c >= ZERO && c <= NINE)) return false;
      do {
        mantissa = mantissa * 10 + (c - ZERO);
        c = s.charCodeAt(++i);
      } while (c >= ZERO && c <= NINE);
      scale = fraction - i;
      digits += i - fraction;
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = s.charCodeAt(++i);
      const negativeExponent = c === MINUS;
      if (negativeExponent || c === PLUS) c = s.charCodeAt(++i);
      if (!(c >= ZERO && c <= NINE)) return false;
      let exponent = 0;
      do {
        if (exponent < 10_000) exponent = exponent * 10 + (c - ZERO);
        c = s.charCodeAt(++i);
      } while (c >= ZERO && c <= NINE);
      scale += negativeExponent ? -exponent : exponent;
    }
    const value = mantissa === 0 ? (negative ? -0 : 0) : decimalValue(mantissa, scale, negative, digits, s, start, i);
    // Values beyond float32 fail the comparison.
    if (!(Math.abs(value) <= FLOAT32_MAX)) return false;
    target[offset + column] = value;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++i);
    if (c !== (column === width - 1 ? CLOSE_BRACKET : COMMA)) return false;
    c = s.charCodeAt(++i);
  }
  at = i;
  return true;
}

/** `}` then nothing but whitespace. */
function atEnd(s: string): boolean {
  skipSpace(s);
  if (s.charCodeAt(at) !== CLOSE_BRACE) return false;
  at++;
  skipSpace(s);
  return at === s.length;
}

/** The JavaScript scanner for one model's rows: `width` values each, at most `maxBatch` rows. */
export function textScanner(spec: FeatureSpec): PredictBodyScanner {
  const width = spec.features.length;
  if (width === 0) return () => undefined;
  // Rows are read here first, since their number is known only at the end; the batch is a view of them.
  const scratch = new Float32Array(width * spec.maxBatch);
  return (s) => {
    at = 0;
    skipSpace(s);
    if (s.charCodeAt(at) !== OPEN_BRACE) return undefined;
    at++;
    skipSpace(s);
    if (s.charCodeAt(at) !== QUOTE) return undefined;
    if (s.startsWith('"features"', at)) {
      at += 10;
      skipSpace(s);
      if (s.charCodeAt(at++) !== COLON) return undefined;
      skipSpace(s);
      const data = new Float32Array(width);
      return readRow(s, width, data, 0) && atEnd(s) ? { rows: 1, data } : undefined;
    }
    if (!s.startsWith('"instances"', at)) return undefined;
    at += 11;
    skipSpace(s);
    if (s.charCodeAt(at++) !== COLON) return undefined;
    skipSpace(s);
    if (s.charCodeAt(at++) !== OPEN_BRACKET) return undefined;
    let rows = 0;
    for (;;) {
      if (rows === spec.maxBatch) return undefined;
      skipSpace(s);
      if (!readRow(s, width, scratch, rows * width)) return undefined;
      rows++;
      skipSpace(s);
      const c = s.charCodeAt(at++);
      if (c === CLOSE_BRACKET) break;
      if (c !== COMMA) return undefined;
    }
    return atEnd(s) ? { rows, data: scratch.subarray(0, rows * width) } : undefined;
  };
}

/**
 * Bodies up to this many UTF-16 code units are scanned in JavaScript, longer ones in WebAssembly: a round number
 * between the measured cases (single rows of 30 to 224 characters, faster in JavaScript; 100-row bodies of 1.7 KB
 * and more, faster in WebAssembly), not a measured crossover.
 */
export const TEXT_SCANNER_MAX_LENGTH = 512;

/** Both scanners for one model, each usable alone (the tests run every case through both). */
export function predictBodyScanners(spec: FeatureSpec): { readonly text: PredictBodyScanner; readonly bytes: PredictBodyScanner } {
  const width = spec.features.length;
  return { text: textScanner(spec), bytes: width === 0 ? () => undefined : rowScanner(width, spec.maxBatch) };
}

/** A scanner for one model's rows: `width` values each, at most `maxBatch` rows. */
export function predictBodyScanner(spec: FeatureSpec): PredictBodyScanner {
  const { text, bytes } = predictBodyScanners(spec);
  return (body) => (body.length <= TEXT_SCANNER_MAX_LENGTH ? text(body) : bytes(body));
}
