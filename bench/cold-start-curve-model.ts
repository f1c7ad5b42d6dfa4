/**
 * Models of any size for the cold-start curve, made on the fly (never committed): an ONNX regressor whose one large
 * initializer is really used, so onnxruntime must load all of it and graph optimisation cannot drop it, and whose
 * answer is known without onnxruntime, so every cold start's answer is checked.
 *
 *   y = sum(W[int(x0)], W[int(x1)], W[int(x2)], W[int(x3)])    W: float32 [rows, 16], W[i] = hash(i) / 2^32
 *
 * as Cast, Gather, ReduceSum and Reshape (opset 11, IR 6). The protobuf is written by hand (the project has no ONNX
 * writer): a model is about `megabytes` of W plus a few hundred bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE } from '../functions/contract/env.js';
import { MB } from '../functions/contract/lambda-limits.js';

const COLUMNS = 16;
/** Four float32 indices must stay exact: float32 holds integers exactly up to 2^24. */
const MAX_ROWS = 2 ** 24;
/** Sums of 64 values in [0, 1) in float32 stay well inside this. */
const TOLERANCE = 1e-3;
const FLOAT = 1;
const INT64 = 7;

function varint(value: number | bigint): Buffer {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, BigInt(value));
  while (v > 0x7fn) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

/** A protobuf field: varint (wire type 0) for numbers, length-delimited (2) for strings, bytes and messages. */
function field(number: number, value: number | bigint | string | Buffer | readonly Buffer[]): Buffer {
  if (typeof value === 'number' || typeof value === 'bigint') return Buffer.concat([varint((number << 3) | 0), varint(value)]);
  const bytes = typeof value === 'string' ? Buffer.from(value) : Buffer.isBuffer(value) ? value : Buffer.concat(value);
  return Buffer.concat([varint((number << 3) | 2), varint(bytes.length), bytes]);
}

const message = (...fields: Buffer[]): Buffer => Buffer.concat(fields);

function tensor(name: string, type: number, dims: readonly number[], raw: Buffer): Buffer {
  return message(...dims.map((d) => field(1, d)), field(2, type), field(8, name), field(9, raw));
}

function valueInfo(name: string, dims: readonly (number | string)[]): Buffer {
  const shape = message(...dims.map((d) => field(1, typeof d === 'number' ? field(1, d) : field(2, d))));
  return message(field(1, name), field(2, field(1, message(field(1, FLOAT), field(2, shape)))));
}

function node(op: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly Buffer[] = []): Buffer {
  return message(...inputs.map((i) => field(1, i)), ...outputs.map((o) => field(2, o)), field(3, op.toLowerCase()), field(4, op), ...attributes.map((a) => field(5, a)));
}

const intAttribute = (name: string, value: number) => message(field(1, name), field(3, value), field(20, 2));
const intsAttribute = (name: string, values: readonly number[]) => message(field(1, name), ...values.map((v) => field(8, v)), field(20, 7));

/** W[i], row-major: a multiplicative hash of i scaled to [0, 1), rounded to float32. */
function weight(i: number): number {
  return Math.fround((Math.imul(i + 1, 0x9e3779b1) >>> 0) / 2 ** 32);
}

export interface CurveModel {
  readonly dir: string;
  readonly megabytes: number;
  readonly modelBytes: number;
  readonly file: string;
}

/**
 * Writes a bundle (model.onnx, model.json, golden.json) of a model of about `megabytes` MB to `dir`. golden.json's
 * outputs are computed here from W, not by onnxruntime.
 */
export function writeCurveModel(dir: string, megabytes: number): CurveModel {
  const rows = Math.max(4, Math.floor((megabytes * MB) / (COLUMNS * 4)));
  if (rows > MAX_ROWS) throw new Error(`a ${megabytes} MB curve model needs ${rows} rows, over the ${MAX_ROWS} a float32 index reaches`);
  const weights = new Float32Array(rows * COLUMNS);
  for (let i = 0; i < weights.length; i++) weights[i] = weight(i);
  const shape = Buffer.alloc(16);
  shape.writeBigInt64LE(-1n, 0);
  shape.writeBigInt64LE(1n, 8);
  const graph = message(
    field(1, node('Cast', ['x'], ['index'], [intAttribute('to', INT64)])),
    field(1, node('Gather', ['W', 'index'], ['picked'])),
    field(1, node('ReduceSum', ['picked'], ['sum'], [intsAttribute('axes', [1, 2]), intAttribute('keepdims', 0)])),
    field(1, node('Reshape', ['sum', 'shape'], ['y'])),
    field(2, 'cold-start-curve'),
    field(5, tensor('W', FLOAT, [rows, COLUMNS], Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength))),
    field(5, tensor('shape', INT64, [2], shape)),
    field(11, valueInfo('x', ['N', 4])),
    field(12, valueInfo('y', ['N', 1])),
  );
  const model = message(field(1, 6), field(2, 'onnx-lambda-kit bench'), field(7, graph), field(8, message(field(1, ''), field(2, 11))));

  const inputs = [
    [0, 1, 2, 3],
    [rows - 1, Math.floor(rows / 2), Math.floor(rows / 3), 7],
    [Math.floor(rows / 5), rows - 2, 1, Math.floor((rows * 3) / 4)],
  ];
  const outputs = inputs.map((row) => [row.reduce((sum, r) => sum + Array.from({ length: COLUMNS }, (_, c) => weight(r * COLUMNS + c)).reduce((a, b) => a + b, 0), 0)]);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, DEFAULT_MODEL_FILE);
  writeFileSync(file, model);
  const manifest = { name: `curve-${megabytes}mb`, version: '1', task: 'regression', input: 'x', features: ['i0', 'i1', 'i2', 'i3'], output: 'y', maxBatch: 16 };
  writeFileSync(path.join(dir, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(dir, 'golden.json'), `${JSON.stringify({ inputs, outputs, tolerance: TOLERANCE })}\n`);
  return { dir, megabytes, modelBytes: model.length, file };
}
