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
 * The scanning runs in WebAssembly, over the body's bytes (number-codec.ts); this file is its contract.
 */
export type PredictBodyScanner = (body: string) => Batch | undefined;

/** A scanner for one model's rows: `width` values each, at most `maxBatch` rows. */
export function predictBodyScanner(spec: FeatureSpec): PredictBodyScanner {
  const width = spec.features.length;
  if (width === 0) return () => undefined;
  return rowScanner(width, spec.maxBatch);
}
