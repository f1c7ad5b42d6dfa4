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
import type { HttpRequest } from './http-event.js';
import { parseJsonBody, type Batch } from './validate-request.js';

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

/** The JSON object's length from the `Inference-Header-Content-Length` header, checked against the body's. */
function headerLengthOf(headerLength: string, bodyBytes: number): number {
  const length = /^\d{1,10}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : Number.NaN;
  if (!Number.isInteger(length) || length < 1 || length > bodyBytes) {
    throw new InvalidRequestError(
      `Inference-Header-Content-Length is ${JSON.stringify(headerLength)} but the body has ${bodyBytes} bytes; set it to the byte length of the JSON object that starts the body`,
    );
  }
  return length;
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
  // A view when the bytes lie on the values' alignment (the infer reader places them so); otherwise one memcpy.
  const aligned = binary.byteOffset % (datatype === 'FP32' ? 4 : 8) === 0;
  if (datatype === 'FP32') return aligned ? new Float32Array(binary.buffer, binary.byteOffset, count) : new Float32Array(Uint8Array.from(binary).buffer);
  return Float32Array.from(aligned ? new Float64Array(binary.buffer, binary.byteOffset, count) : new Float64Array(Uint8Array.from(binary).buffer));
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
 * An infer request's JSON object, read and checked: everything but the values of a binary input, which follow the
 * object in the body.
 */
export interface InferHeader {
  readonly id: string | undefined;
  readonly rows: number;
  readonly shape: readonly number[];
  /** The input's values, given inline (flattened and checked), or the binary part's layout. */
  readonly input: { readonly data: Float32Array } | { readonly datatype: 'FP32' | 'FP64'; readonly binaryDataSize: unknown };
  readonly outputs: readonly string[];
  readonly binaryOutputs: 'all' | ReadonlySet<string>;
}

/** Refuses NaN, infinities and numbers beyond float32 (which become infinities): none reaches the model, as on /predict. */
function checkFinite(data: Float32Array, width: number): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new InvalidRequestError(`inputs[0] row ${Math.floor(i / width)}, column ${i % width} is ${String(data[i])} as float32; every value must be a finite float32`);
    }
  }
}

/**
 * Reads the JSON object of `POST /v2/models/<name>/infer`: one FP32 (or FP64) input named as the model's input,
 * shape `[rows, n_features]`, data flat or nested or in the binary part; optional `outputs: [{name}]` restricted to
 * the model's outputs.
 */
export function parseInferHeader(json: unknown, manifest: Manifest, outputs: readonly ValueInfo[]): InferHeader {
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
  let values: InferHeader['input'];
  if (inputParameters['binary_data_size'] !== undefined) {
    if (tensor['data'] !== undefined) throw new InvalidRequestError('inputs[0] has both data and parameters.binary_data_size; send the values one way');
    values = { datatype, binaryDataSize: inputParameters['binary_data_size'] };
  } else {
    const flat: number[] = [];
    flatten(tensor['data'], 'inputs[0].data', flat);
    if (flat.length !== rows * width) {
      throw new InvalidRequestError(`inputs[0].data has ${flat.length} values; shape ${JSON.stringify(shape)} needs ${rows * width}`);
    }
    const data = Float32Array.from(flat);
    checkFinite(data, width);
    values = { data };
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
  return { id, rows, shape: shape as number[], input: values, outputs: names, binaryOutputs: all && names.length === 0 ? 'all' : binaryNames };
}

/** The request's batch: the inline values, or the binary part read by the header's layout. */
export function inferBatch(header: InferHeader, binary: Buffer | undefined, width: number): Batch {
  const { input, rows } = header;
  if ('data' in input) {
    if (binary !== undefined && binary.length > 0) {
      throw new InvalidRequestError(`the body has ${binary.length} bytes after its JSON object, but inputs[0] declares no parameters.binary_data_size`);
    }
    return { rows, data: input.data };
  }
  const data = binaryValues(binary, input.binaryDataSize, input.datatype, rows * width, header.shape);
  checkFinite(data, width);
  return { rows, data };
}

/** `parseInferHeader` and `inferBatch` in one step: the whole request from its JSON object and binary part. */
export function parseInferRequest(json: unknown, manifest: Manifest, outputs: readonly ValueInfo[], binary?: Buffer): InferRequest {
  const header = parseInferHeader(json, manifest, outputs);
  return { id: header.id, batch: inferBatch(header, binary, manifest.features.length), outputs: header.outputs, binaryOutputs: header.binaryOutputs };
}

/** Room for a body of `bytes` bytes: a multiple of 64 KiB, so that a run of growing bodies reallocates rarely. */
const roomFor = (bytes: number) => Math.ceil((bytes + 16) / 65_536) * 65_536;

/**
 * Reads one model's infer requests from their HTTP form.
 *
 * A client sends the same JSON object for every batch of the same shape when the values travel as binary (Triton's
 * client does), so the last such object is kept, as bytes, with what it was read as: a request whose object is byte
 * for byte the same skips JSON.parse and the checks above, which cost as much as a small model's run
 * (docs/PERFORMANCE.md). Only objects without inline data are kept (no values are ever kept), and only once they
 * have passed every check; the binary part is read and checked anew every time.
 *
 * A binary body is decoded into a buffer of the reader's own, placed so that the values start on an 8-byte
 * boundary: the batch is then a view of it, not a copy, valid until the reader's next call (the handler runs the
 * model on it before it reads another request).
 */
export function inferRequestReader(manifest: Manifest, outputs: readonly ValueInfo[]): (request: Pick<HttpRequest, 'encodedBody' | 'body' | 'header'>) => InferRequest {
  const width = manifest.features.length;
  let keptBytes: Buffer | undefined;
  let kept: InferHeader | undefined;
  let scratch = Buffer.allocUnsafeSlow(0);
  const request = (header: InferHeader, binary: Buffer | undefined): InferRequest => ({
    id: header.id,
    batch: inferBatch(header, binary, width),
    outputs: header.outputs,
    binaryOutputs: header.binaryOutputs,
  });
  return (http) => {
    const headerLength = http.header('inference-header-content-length');
    if (headerLength === undefined) return request(parseInferHeader(parseJsonBody(http.body()), manifest, outputs), undefined);
    const { text, base64 } = http.encodedBody();
    // At most this many bytes: base64 carries 3 in 4 characters, a UTF-16 code unit is at most 3 in UTF-8.
    const most = base64 ? Math.ceil(text.length / 4) * 3 : text.length * 3;
    // The JSON object's length is checked below, against the decoded body; here it only places the body.
    const shift = 7 - ((Number.parseInt(headerLength, 10) + 7) & 7);
    if (scratch.length < shift + most) scratch = Buffer.allocUnsafeSlow(roomFor(shift + most));
    const end = shift + scratch.write(text, shift, base64 ? 'base64' : 'utf8');
    const length = headerLengthOf(headerLength, end - shift);
    const json = scratch.subarray(shift, shift + length);
    const binary = scratch.subarray(shift + length, end);
    if (kept !== undefined && keptBytes !== undefined && keptBytes.equals(json)) return request(kept, binary);
    const header = parseInferHeader(parseJsonBody(json.toString('utf8')), manifest, outputs);
    const result = request(header, binary);
    if (!('data' in header.input)) {
      keptBytes = Buffer.from(json);
      kept = header;
    }
    return result;
  };
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

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes one model's binary infer responses (`inferBinaryResponse`). When every output goes as binary data, the JSON
 * object depends only on the id and on the outputs' names, types and shapes, so the last one is kept: the next
 * response with the same id and outputs reuses it and only copies the tensors' bytes after it.
 */
export function binaryInferWriter(manifest: Manifest): (id: string | undefined, tensors: readonly OutputTensor[], binaryOutputs: 'all' | ReadonlySet<string>) => { bytes: Buffer; headerBytes: number } {
  let kept: { readonly id: string | undefined; readonly tensors: readonly OutputTensor[]; readonly header: Buffer } | undefined;
  const matchesKept = (id: string | undefined, tensors: readonly OutputTensor[]) =>
    kept !== undefined &&
    kept.id === id &&
    kept.tensors.length === tensors.length &&
    tensors.every((t, i) => {
      const k = kept!.tensors[i]!;
      return k.name === t.name && k.type === t.type && sameDims(k.dims, t.dims);
    });
  return (id, tensors, binaryOutputs) => {
    // The tensors' bytes when every output goes as binary data; otherwise the general writer.
    const views: ArrayBufferView[] = [];
    for (const t of tensors) if (ArrayBuffer.isView(t.data) && (binaryOutputs === 'all' || binaryOutputs.has(t.name))) views.push(t.data);
    if (views.length !== tensors.length) return inferBinaryResponse(manifest, id, tensors, binaryOutputs);
    if (!matchesKept(id, tensors)) {
      const response = inferBinaryResponse(manifest, id, tensors, binaryOutputs);
      kept = { id, tensors: tensors.map(({ name, type, dims }) => ({ name, type, dims: [...dims], data: [] })), header: Buffer.from(response.bytes.subarray(0, response.headerBytes)) };
      return response;
    }
    const { header } = kept!;
    let total = header.length;
    for (const view of views) total += view.byteLength;
    const bytes = Buffer.allocUnsafe(total);
    header.copy(bytes, 0);
    let at = header.length;
    for (const view of views) {
      bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), at);
      at += view.byteLength;
    }
    return { bytes, headerBytes: header.length };
  };
}
