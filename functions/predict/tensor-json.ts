/**
 * Output tensors as JSON text: float32 values as the shortest decimal that reads back as the same float32 (`0.97`,
 * not `0.9700000286102295`), 64-bit integers as their exact digits (JSON numbers have no size limit; a client that
 * reads them into doubles rounds beyond 2^53 as it would any other way), NaN and infinities as `null`, as
 * JSON.stringify writes them.
 */
import type { OutputTensor } from './model-session.js';
import { float16Values } from './tensor-types.js';

/**
 * The shortest decimal of 6 to 9 significant digits that reads back as the same float32. Rounds with arithmetic,
 * not `toPrecision`, since this runs for every probability and `toPrecision` is slower (docs/PERFORMANCE.md); the
 * `Math.fround` check makes any rounding slip fall through to the next digit count.
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

function numberText(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** The JSON text of each element of a tensor, by flat index. */
export function elementText(tensor: Pick<OutputTensor, 'type' | 'data'>): (index: number) => string {
  const { data } = tensor;
  switch (tensor.type) {
    case 'float32': {
      const values = data as Float32Array;
      return (i) => numberText(float32ToNumber(values[i]!));
    }
    case 'float16': {
      const values = float16Values(data as Uint16Array, data instanceof Uint16Array);
      return (i) => numberText(values[i]!);
    }
    case 'string': {
      const values = data as readonly string[];
      return (i) => JSON.stringify(values[i]);
    }
    case 'bool': {
      const values = data as ArrayLike<number | boolean>;
      return (i) => (values[i] ? 'true' : 'false');
    }
    default: {
      const values = data as ArrayLike<number | bigint>;
      return (i) => {
        const value = values[i]!;
        return typeof value === 'bigint' ? value.toString() : numberText(value);
      };
    }
  }
}

/** The tensor as nested JSON arrays, batch first: `[[0.1,0.2],[0.3,0.4]]` for dims [2, 2]. */
export function nestedJson(tensor: OutputTensor): string {
  const text = elementText(tensor);
  const { dims } = tensor;
  if (dims.length === 0) return text(0);
  let index = 0;
  const level = (depth: number): string => {
    const size = dims[depth]!;
    const parts = new Array<string>(size);
    if (depth === dims.length - 1) {
      for (let i = 0; i < size; i++) parts[i] = text(index++);
    } else {
      for (let i = 0; i < size; i++) parts[i] = level(depth + 1);
    }
    return `[${parts.join(',')}]`;
  };
  return level(0);
}

/** The tensor's elements as one flat JSON array, as the Open Inference Protocol's `data` carries them. */
export function flatJson(tensor: OutputTensor): string {
  const text = elementText(tensor);
  const length = tensor.data.length;
  const parts = new Array<string>(length);
  for (let i = 0; i < length; i++) parts[i] = text(i);
  return `[${parts.join(',')}]`;
}

/** The elements as numbers (float32 shortened as above), for a classifier's or regressor's output. */
export function numbersOf(tensor: Pick<OutputTensor, 'type' | 'data'>): ArrayLike<number> {
  const { data } = tensor;
  if (tensor.type === 'float32') return Float64Array.from(data as Float32Array, float32ToNumber);
  if (tensor.type === 'float16') return float16Values(data as Uint16Array, data instanceof Uint16Array);
  return Float64Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
}
