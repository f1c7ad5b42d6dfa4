/**
 * Open Inference Protocol v2 (the REST API KServe and Triton clients speak): request parsing and response shapes,
 * with the binary tensor data extension (tensors as raw little-endian bytes after the JSON, whose length the
 * `Inference-Header-Content-Length` header gives; Triton's HTTP client sends and asks for it by default).
 * Pure: the handler runs the model between `parseInferRequest` and `inferResponse` or `inferBinaryResponse`.
 */
import { InvalidRequestError, PayloadTooLargeError } from './errors.js';
import type { Manifest, ValueInfo } from './manifest.js';
import type { OutputTensor } from './model-session.js';
import { float32ToNumber } from './postprocess.js';
import type { Batch } from './validate-request.js';

const DATATYPES: Readonly<Record<string, string>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

export function oipDatatype(type: string): string {
  return DATATYPES[type] ?? type.toUpperCase();
}

function oipShape(shape: readonly (number | string)[]): number[] {
  return shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
}

function tensorMetadata(values: readonly ValueInfo[]) {
  return values.flatMap((v) => (v.isTensor ? [{ name: v.name, datatype: oipDatatype(v.type), shape: oipShape(v.shape) }] : []));
}

/** `GET /v2/models/<name>`: the model's name, version, platform and tensor metadata. */
export function modelMetadata(manifest: Manifest, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]) {
  return {
    name: manifest.name,
    versions: [manifest.version],
    platform: 'onnxruntime_onnx',
    inputs: tensorMetadata(inputs),
    outputs: tensorMetadata(outputs),
  };
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly batch: Batch;
  /** Requested output names; empty means all. */
  readonly outputs: readonly string[];
  /**
   * Outputs to return as binary data: every one (`binary_data_output` with no outputs named), or those named with
   * `binary_data: true`, or with `binary_data_output` and not `binary_data: false`.
   */
  readonly binaryOutputs: 'all' | ReadonlySet<string>;
}

/** The parts of a request with binary tensor data: the JSON object, and the bytes after it. */
export interface InferBody {
  readonly json: string;
  readonly binary: Buffer | undefined;
}

/**
 * Splits a request body at the JSON header's length, from the `Inference-Header-Content-Length` header; without
 * that header the whole body is JSON.
 */
export function splitInferBody(bytes: () => Buffer, text: () => string, headerLength: string | undefined): InferBody {
  if (headerLength === undefined) return { json: text(), binary: undefined };
  const body = bytes();
  const length = /^\d{1,10}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : Number.NaN;
  if (!Number.isInteger(length) || length < 1 || length > body.length) {
    throw new InvalidRequestError(
      `Inference-Header-Content-Length is ${JSON.stringify(headerLength)} but the body has ${body.length} bytes; set it to the byte length of the JSON object that starts the body`,
    );
  }
  return { json: body.subarray(0, length).toString('utf8'), binary: body.subarray(length) };
}

function parameters(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidRequestError(`${where} must be an object when present`);
  return value as Record<string, unknown>;
}

function flag(params: Record<string, unknown>, name: string, where: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidRequestError(`${where}.${name} is ${JSON.stringify(value)}; use true or false`);
  return value;
}

/** The input's values from the binary part: `rows * width` little-endian FP32 or FP64 values, nothing more. */
function binaryValues(binary: Buffer | undefined, declared: unknown, datatype: 'FP32' | 'FP64', count: number, shape: unknown): Float32Array {
  const where = 'inputs[0].parameters.binary_data_size';
  if (binary === undefined) {
    throw new InvalidRequestError(`${where} is set but the request has no binary part; send the JSON object's byte length in the Inference-Header-Content-Length header`);
  }
  const size = count * (datatype === 'FP32' ? 4 : 8);
  if (declared !== size) {
    throw new InvalidRequestError(`${where} is ${JSON.stringify(declared)}; shape ${JSON.stringify(shape)} of ${datatype} needs ${size} bytes`);
  }
  if (binary.length !== size) {
    throw new InvalidRequestError(`the body has ${binary.length} bytes after its JSON object; ${where} says ${size}`);
  }
  // Copied out (one memcpy): the body's bytes need not be aligned for a typed array.
  const bytes = new Uint8Array(size);
  bytes.set(binary);
  return datatype === 'FP32' ? new Float32Array(bytes.buffer) : Float32Array.from(new Float64Array(bytes.buffer));
}

function flatten(data: unknown, where: string, into: number[]): void {
  if (!Array.isArray(data)) {
    throw new InvalidRequestError(`${where} must be an array of numbers (flat, or nested to match "shape")`);
  }
  for (let i = 0; i < data.length; i++) {
    const value: unknown = data[i];
    if (Array.isArray(value)) flatten(value, `${where}[${i}]`, into);
    else if (typeof value === 'number' && Number.isFinite(value)) into.push(value);
    else throw new InvalidRequestError(`${where}[${i}] is ${value === null ? 'null' : typeof value === 'string' ? `the string ${JSON.stringify(value)}` : String(value)}; every value must be a finite number`);
  }
}

/**
 * Reads `POST /v2/models/<name>/infer`: one FP32 (or FP64) input named as the model's input, shape
 * `[rows, n_features]`, data flat or nested; optional `outputs: [{name}]` restricted to the model's outputs.
 */
export function parseInferRequest(json: unknown, manifest: Manifest, outputs: readonly ValueInfo[], binary?: Buffer): InferRequest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidRequestError('request body must be a JSON object with "inputs": [{"name", "shape", "datatype", "data"}]');
  }
  const body = json as Record<string, unknown>;
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw new InvalidRequestError('id must be a string when present');
  const inputs = body['inputs'];
  if (!Array.isArray(inputs) || inputs.length !== 1) {
    throw new InvalidRequestError(`inputs must be an array with exactly one tensor, "${manifest.input}"; got ${Array.isArray(inputs) ? `${inputs.length} tensors` : typeof inputs}`);
  }
  const input: unknown = inputs[0];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidRequestError('inputs[0] must be an object with name, shape, datatype and data');
  const tensor = input as Record<string, unknown>;
  if (tensor['name'] !== manifest.input) {
    throw new InvalidRequestError(`inputs[0].name is ${JSON.stringify(tensor['name'])}; model ${manifest.name} has one input, "${manifest.input}"`);
  }
  const datatype = tensor['datatype'];
  if (datatype !== 'FP32' && datatype !== 'FP64') {
    throw new InvalidRequestError(`inputs[0].datatype is ${JSON.stringify(tensor['datatype'])}; use "FP32"`);
  }
  const width = manifest.features.length;
  const shape = tensor['shape'];
  if (
    !Array.isArray(shape) ||
    shape.length !== 2 ||
    !shape.every((d) => Number.isInteger(d) && (d as number) > 0) ||
    shape[1] !== width
  ) {
    throw new InvalidRequestError(`inputs[0].shape is ${JSON.stringify(shape)}; model ${manifest.name} expects [rows, ${width}] with rows >= 1`);
  }
  const rows = shape[0] as number;
  if (rows > manifest.maxBatch) {
    throw new PayloadTooLargeError(`inputs[0].shape asks for ${rows} rows; model ${manifest.name} accepts at most ${manifest.maxBatch} per request (maxBatch); split the batch`);
  }
  const inputParameters = parameters(tensor['parameters'], 'inputs[0].parameters');
  let data: Float32Array;
  if (inputParameters['binary_data_size'] !== undefined) {
    if (tensor['data'] !== undefined) throw new InvalidRequestError('inputs[0] has both data and parameters.binary_data_size; send the values one way');
    data = binaryValues(binary, inputParameters['binary_data_size'], datatype, rows * width, shape);
  } else {
    if (binary !== undefined && binary.length > 0) {
      throw new InvalidRequestError(`the body has ${binary.length} bytes after its JSON object, but inputs[0] declares no parameters.binary_data_size`);
    }
    const values: number[] = [];
    flatten(tensor['data'], 'inputs[0].data', values);
    if (values.length !== rows * width) {
      throw new InvalidRequestError(`inputs[0].data has ${values.length} values; shape ${JSON.stringify(shape)} needs ${rows * width}`);
    }
    data = Float32Array.from(values);
  }
  // NaN and infinities (binary data can hold them) and numbers beyond float32 (which become infinities) never reach
  // the model, as on /predict.
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InvalidRequestError(`inputs[0] row ${Math.floor(i / width)}, column ${i % width} is ${String(data[i])} as float32; every value must be a finite float32`);
    }
  }

  const all = flag(parameters(body['parameters'], 'parameters'), 'binary_data_output', 'parameters') === true;
  const requested = body['outputs'];
  const names: string[] = [];
  const binaryNames = new Set<string>();
  if (requested !== undefined) {
    if (!Array.isArray(requested)) throw new InvalidRequestError('outputs must be an array of {"name": ...} when present');
    const known = new Set(outputs.filter((o) => o.isTensor).map((o) => o.name));
    for (let i = 0; i < requested.length; i++) {
      const entry: unknown = requested[i];
      const name = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>)['name'] : undefined;
      if (typeof name !== 'string' || !known.has(name)) {
        throw new InvalidRequestError(`outputs[${i}].name is ${JSON.stringify(name)}; model ${manifest.name} has outputs ${[...known].map((n) => `"${n}"`).join(', ')}`);
      }
      names.push(name);
      // An output's own binary_data overrides the request's binary_data_output.
      if (flag(parameters((entry as Record<string, unknown>)['parameters'], `outputs[${i}].parameters`), 'binary_data', `outputs[${i}].parameters`) ?? all) binaryNames.add(name);
    }
  }
  return { id, batch: { rows, data }, outputs: names, binaryOutputs: all && names.length === 0 ? 'all' : binaryNames };
}

/** Tensor data as JSON-ready values: int64 as numbers, float32 in its shortest exact decimal form. */
function plain(tensor: OutputTensor): (number | string | boolean)[] {
  const { data } = tensor;
  const float32 = tensor.type === 'float32';
  const out = new Array<number | string | boolean>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = typeof v === 'bigint' ? Number(v) : float32 && typeof v === 'number' ? float32ToNumber(v) : v;
  }
  return out;
}

/** The infer response: every requested output tensor, flat, with its OIP datatype. */
export function inferResponse(manifest: Manifest, id: string | undefined, tensors: readonly OutputTensor[]) {
  return {
    model_name: manifest.name,
    model_version: manifest.version,
    ...(id === undefined ? {} : { id }),
    outputs: tensors.map((t) => ({ name: t.name, datatype: oipDatatype(t.type), shape: [...t.dims], data: plain(t) })),
  };
}

/** A tensor's data as the binary extension lays it out: native little-endian values; BYTES with a 4-byte length each. */
function tensorBytes(tensor: OutputTensor): Buffer {
  const { data } = tensor;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (typeof v === 'string') {
      const text = Buffer.from(v, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      parts.push(length, text);
    } else {
      parts.push(Buffer.from([v === true || v === 1 ? 1 : 0]));
    }
  }
  return Buffer.concat(parts);
}

/**
 * The infer response with the binary extension: the JSON object (outputs asked as binary carry
 * `parameters.binary_data_size` instead of `data`), then their bytes in output order. `headerBytes` is the JSON's
 * length, for the `Inference-Header-Content-Length` header.
 */
export function inferBinaryResponse(manifest: Manifest, id: string | undefined, tensors: readonly OutputTensor[], binaryOutputs: 'all' | ReadonlySet<string>): { bytes: Buffer; headerBytes: number } {
  const parts: Buffer[] = [];
  const outputs = tensors.map((t) => {
    const meta = { name: t.name, datatype: oipDatatype(t.type), shape: [...t.dims] };
    if (binaryOutputs !== 'all' && !binaryOutputs.has(t.name)) return { ...meta, data: plain(t) };
    const bytes = tensorBytes(t);
    parts.push(bytes);
    return { ...meta, parameters: { binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ model_name: manifest.name, model_version: manifest.version, ...(id === undefined ? {} : { id }), outputs }), 'utf8');
  return { bytes: Buffer.concat([header, ...parts]), headerBytes: header.length };
}
