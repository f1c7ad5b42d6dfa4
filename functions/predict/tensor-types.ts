/**
 * The tensor element types the function serves, as onnxruntime-node names them, with what a request may send for
 * each: its Open Inference Protocol datatype, the typed array onnxruntime takes, the JSON values it accepts and the
 * bytes of one element in the binary tensor extension. Pure: no onnxruntime, no I/O.
 */
import { getFloat16, setFloat16 } from '@petamoriken/float16';

export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string';

/** Typed data as onnxruntime-node takes and returns it (strings as a plain array). */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

/** A tensor in the order onnxruntime lays it out: row-major, batch first. */
export interface TensorValue {
  readonly type: TensorType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

/** What one element type accepts and how it is stored. */
export interface ElementType {
  readonly type: TensorType;
  /** The Open Inference Protocol's name (KServe v2, Triton). */
  readonly datatype: string;
  /** Bytes per element in the binary tensor extension; 0 for BYTES, which carry a 4-byte length each. */
  readonly bytes: number;
  /** A new zero-filled array of `length` elements. */
  allocate(length: number): TensorData;
  /**
   * Stores a JSON value at `index`, or returns what was expected when the value does not fit (no exception on the
   * hot path: the caller builds the message with the value's location).
   */
  store(data: TensorData, index: number, value: unknown): string | undefined;
  /** Reads `count` little-endian elements from binary bytes (a copy, never a view). */
  fromBytes?(bytes: Uint8Array, count: number): TensorData;
}

/** The largest finite float16; numbers from 65520 up round to Infinity. */
const FLOAT16_MAX = 65504;
const FLOAT16_ROUNDS_TO_INFINITY = 65520;

/** A copy of the first `length` bytes in an ArrayBuffer of their own (Buffer's own `slice` would share memory). */
function copyBytes(source: Uint8Array, length: number): ArrayBuffer {
  const copy = new Uint8Array(length);
  copy.set(source.subarray(0, length));
  return copy.buffer;
}

/** The typed arrays of number elements: made by length, or over a buffer of little-endian values. */
type NumberArrayConstructor = (new (length: number) => TensorData) & (new (buffer: ArrayBuffer) => TensorData);

function numeric(
  type: TensorType,
  datatype: string,
  bytes: number,
  Array: NumberArrayConstructor,
  fits: (value: number) => boolean,
  expected: string,
): ElementType {
  return {
    type,
    datatype,
    bytes,
    allocate: (length) => new Array(length),
    store(data, index, value) {
      if (typeof value === 'number' && fits(value)) {
        (data as Float64Array)[index] = value;
        return undefined;
      }
      return expected;
    },
    fromBytes: (source, count) => new Array(copyBytes(source, count * bytes)),
  };
}

function integer(type: TensorType, datatype: string, bytes: number, Array: NumberArrayConstructor, min: number, max: number): ElementType {
  return numeric(type, datatype, bytes, Array, (v) => Number.isInteger(v) && v >= min && v <= max, `an integer from ${min} to ${max} (${datatype})`);
}

function bigint(type: 'int64' | 'uint64', datatype: string): ElementType {
  const signed = type === 'int64';
  // A JSON number of 2^53 or more may be another integer rounded on parsing (9007199254740993 reads as 2^53), so
  // only safe integers are taken from JSON; the binary extension carries the full range.
  const expected = signed
    ? `an integer from -(2^53-1) to 2^53-1 (${datatype}; JSON numbers beyond that lose precision: send such values as binary data)`
    : `an integer from 0 to 2^53-1 (${datatype}; JSON numbers beyond that lose precision: send such values as binary data)`;
  return {
    type,
    datatype,
    bytes: 8,
    allocate: (length) => (signed ? new BigInt64Array(length) : new BigUint64Array(length)),
    store(data, index, value) {
      if (typeof value === 'number' && Number.isSafeInteger(value) && (signed || value >= 0)) {
        (data as BigInt64Array)[index] = BigInt(value);
        return undefined;
      }
      return expected;
    },
    fromBytes: (source, count) => {
      const buffer = copyBytes(source, count * 8);
      return signed ? new BigInt64Array(buffer) : new BigUint64Array(buffer);
    },
  };
}

/**
 * float16 travels as its bits in a Uint16Array, as onnxruntime-node takes it where JavaScript has no Float16Array
 * (where it has one, onnxruntime-node 1.30 cannot take float16 inputs at all: signature.ts float16InputMessage).
 */
const FLOAT16: ElementType = {
  type: 'float16',
  datatype: 'FP16',
  bytes: 2,
  allocate: (length) => new Uint16Array(length),
  store(data, index, value) {
    if (typeof value !== 'number' || !(Math.abs(value) < FLOAT16_ROUNDS_TO_INFINITY)) return `a finite number within ±${FLOAT16_MAX} (FP16)`;
    const view = new DataView((data as Uint16Array).buffer, (data as Uint16Array).byteOffset);
    setFloat16(view, index * 2, value, true);
    return undefined;
  },
  fromBytes: (source, count) => new Uint16Array(copyBytes(source, count * 2)),
};

const BOOL: ElementType = {
  type: 'bool',
  datatype: 'BOOL',
  bytes: 1,
  allocate: (length) => new Uint8Array(length),
  store(data, index, value) {
    if (typeof value !== 'boolean') return 'true or false (BOOL)';
    (data as Uint8Array)[index] = value ? 1 : 0;
    return undefined;
  },
  fromBytes: (source, count) => {
    const data = new Uint8Array(copyBytes(source, count));
    for (let i = 0; i < data.length; i++) data[i] = data[i] === 0 ? 0 : 1;
    return data;
  },
};

const STRING: ElementType = {
  type: 'string',
  datatype: 'BYTES',
  bytes: 0,
  allocate: (length) => new Array<string>(length).fill(''),
  store(data, index, value) {
    if (typeof value !== 'string') return 'a string (BYTES)';
    (data as string[])[index] = value;
    return undefined;
  },
};

export const ELEMENT_TYPES: Readonly<Record<TensorType, ElementType>> = Object.freeze({
  // Any number that rounds to a finite float32, so that the shortest text of the largest (3.4028235e38) reads back.
  float32: numeric('float32', 'FP32', 4, Float32Array, (v) => Number.isFinite(Math.fround(v)), 'a finite number within the float32 range, about ±3.4e38 (FP32)'),
  float64: numeric('float64', 'FP64', 8, Float64Array, (v) => Number.isFinite(v), 'a finite number (FP64)'),
  float16: FLOAT16,
  int8: integer('int8', 'INT8', 1, Int8Array, -128, 127),
  int16: integer('int16', 'INT16', 2, Int16Array, -32768, 32767),
  int32: integer('int32', 'INT32', 4, Int32Array, -2147483648, 2147483647),
  int64: bigint('int64', 'INT64'),
  uint8: integer('uint8', 'UINT8', 1, Uint8Array, 0, 255),
  uint16: integer('uint16', 'UINT16', 2, Uint16Array, 0, 65535),
  uint32: integer('uint32', 'UINT32', 4, Uint32Array, 0, 4294967295),
  uint64: bigint('uint64', 'UINT64'),
  bool: BOOL,
  string: STRING,
});

/** The element type of an onnxruntime type name, or undefined for a type the function cannot serve. */
export function elementType(type: string): ElementType | undefined {
  return Object.hasOwn(ELEMENT_TYPES, type) ? ELEMENT_TYPES[type as TensorType] : undefined;
}

/** The element type of an Open Inference Protocol datatype name. */
export function elementTypeOfDatatype(datatype: string): ElementType | undefined {
  return Object.values(ELEMENT_TYPES).find((t) => t.datatype === datatype);
}

/** The OIP datatype of an onnxruntime type (upper-cased for a type outside the table). */
export function oipDatatype(type: string): string {
  return elementType(type)?.datatype ?? type.toUpperCase();
}

/** A float16 output element as a number, whether onnxruntime gave a Float16Array or the raw bits. */
export function float16Values(data: ArrayLike<number> & { readonly buffer: ArrayBufferLike; readonly byteOffset: number }, asBits: boolean): Float64Array {
  const out = new Float64Array(data.length);
  if (!asBits) {
    for (let i = 0; i < data.length; i++) out[i] = data[i]!;
    return out;
  }
  const view = new DataView(data.buffer, data.byteOffset);
  for (let i = 0; i < data.length; i++) out[i] = getFloat16(view, i * 2, true);
  return out;
}
