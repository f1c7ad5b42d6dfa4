/**
 * Open Inference Protocol v2 (the REST API KServe and Triton clients speak): model metadata, infer requests with
 * every input of every datatype, and the binary tensor data extension (tensors as raw little-endian bytes after the
 * JSON object, whose length the `Inference-Header-Content-Length` header gives; Triton's HTTP client sends and asks
 * for it by default). Pure: the handler runs the model between `readInferRequest` and `inferResponse`.
 */
import { describeValue, quote } from './describe-value.js';
import { InvalidRequestError } from './errors.js';
import type { HttpRequest } from './http-event.js';
import type { ServedModel } from './manifest.js';
import type { OutputTensor } from './model-session.js';
import { writeFlat } from './nested-values.js';
import { parseJsonBody, type InputTensors } from './predict-request.js';
import { MAX_RANK, checkElements, checkRows, checkShapes, elementCount, shapeText, type Feed, type RequestLimits, type TensorSpec, type ValueInfo } from './signature.js';
import { ELEMENT_TYPES, elementTypeOfDatatype, oipDatatype, type ElementType, type TensorData, type TensorValue } from './tensor-types.js';
import { flatJson } from './tensor-json.js';

const HINT = 'send {"inputs": [{"name", "shape", "datatype", "data"}, ...]}';
/** A request id is echoed in the response: a longer one is refused rather than sent back. */
export const MAX_ID_CHARS = 256;

function shape(d: number | string): number {
  return typeof d === 'number' && d >= 0 ? d : -1;
}

function tensorMetadata(values: readonly ValueInfo[]) {
  return values.flatMap((v) => (v.isTensor ? [{ name: v.name, datatype: oipDatatype(v.type), shape: v.shape.map(shape) }] : []));
}

/** `GET /v2/models/<name>`: the model's name, version, platform and every tensor input and output. */
export function modelMetadata(model: ServedModel, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]) {
  return {
    name: model.manifest.name,
    versions: [model.manifest.version],
    platform: 'onnxruntime_onnx',
    inputs: tensorMetadata(inputs),
    outputs: tensorMetadata(outputs),
  };
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly inputs: InputTensors;
  /** Requested output names; every tensor output when the request names none. */
  readonly outputs: readonly string[];
  /**
   * Outputs to return as binary data: every one (`binary_data_output` with no outputs named), or those named with
   * `binary_data: true`, or with `binary_data_output` and not `binary_data: false`.
   */
  readonly binaryOutputs: 'all' | ReadonlySet<string>;
}

function object(value: unknown, where: string, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidRequestError(`${where} is ${describeValue(value)}; it must be ${what}`);
  return value as Record<string, unknown>;
}

function parameters(value: unknown, where: string): Record<string, unknown> {
  return value === undefined ? {} : object(value, where, 'an object when present');
}

function flag(params: Record<string, unknown>, name: string, where: string): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new InvalidRequestError(`${where}.${name} is ${describeValue(value)}; use true or false`);
  return value;
}

/** The JSON object's length from the `Inference-Header-Content-Length` header, checked against the body's. */
function headerLengthOf(headerLength: string, bodyBytes: number): number {
  const length = /^\d{1,10}$/.test(headerLength.trim()) ? Number(headerLength.trim()) : Number.NaN;
  if (!Number.isInteger(length) || length < 1 || length > bodyBytes) {
    throw new InvalidRequestError(
      `Inference-Header-Content-Length is ${quote(headerLength)} but the body has ${bodyBytes} bytes; set it to the byte length of the JSON object that starts the body`,
    );
  }
  return length;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array, where: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InvalidRequestError(`${where} is not valid UTF-8; send text as UTF-8`);
  }
}

/** One input's tensor, read but for the values of a binary input. */
interface InputHeader extends Feed {
  readonly element: ElementType;
  readonly data: unknown;
  readonly binarySize: number | undefined;
}

function readShape(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RANK) {
    throw new InvalidRequestError(`${where} is ${describeValue(value)}; it must be an array of 1 to ${MAX_RANK} dimension sizes, batch first`);
  }
  const dims: number[] = [];
  for (let d = 0; d < value.length; d++) {
    const size: unknown = value[d];
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > 2 ** 31) {
      throw new InvalidRequestError(`${where}[${d}] is ${describeValue(size)}; a dimension size is a whole number from 0 to 2^31`);
    }
    dims.push(size);
  }
  return dims;
}

/** The request's element type for an input: its own datatype, or FP64 values for an FP32 input (converted). */
function datatypeOf(value: unknown, spec: TensorSpec, where: string): ElementType {
  const expected = spec.element.datatype;
  if (value === expected) return spec.element;
  if (value === 'FP64' && spec.type === 'float32') return ELEMENT_TYPES.float64;
  // A datatype the protocol does not know gets a reminder of what the names look like.
  const known = typeof value === 'string' && elementTypeOfDatatype(value) !== undefined;
  const hint = known ? '' : ' (an OIP datatype such as FP32, INT64, BOOL or BYTES)';
  throw new InvalidRequestError(`${where} is ${describeValue(value)}; input "${spec.name}" is ${expected}: use "${expected}"${hint}`);
}

function readInputs(value: unknown, model: ServedModel): InputHeader[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidRequestError(`inputs is ${describeValue(value)}; ${HINT} with one tensor per model input`);
  const specs = new Map(model.inputs.map((spec) => [spec.name, spec]));
  const seen = new Map<string, number>();
  const headers: InputHeader[] = [];
  for (let i = 0; i < value.length; i++) {
    const where = `inputs[${i}]`;
    const tensor = object(value[i], where, 'an object with name, shape, datatype and data');
    const name = tensor['name'];
    if (typeof name !== 'string') throw new InvalidRequestError(`${where}.name is ${describeValue(name)}; it must be the name of a model input (${[...specs.keys()].map((n) => `"${n}"`).join(', ')})`);
    const spec = specs.get(name);
    if (spec === undefined) throw new InvalidRequestError(`${where}.name is ${quote(name)}; model ${model.manifest.name} has inputs ${[...specs.keys()].map((n) => `"${n}"`).join(', ')}`);
    const earlier = seen.get(name);
    if (earlier !== undefined) throw new InvalidRequestError(`${where} repeats input "${name}" of inputs[${earlier}]; send each input once`);
    seen.set(name, i);
    const element = datatypeOf(tensor['datatype'], spec, `${where}.datatype`);
    const dims = readShape(tensor['shape'], `${where}.shape`);
    const params = parameters(tensor['parameters'], `${where}.parameters`);
    const size = params['binary_data_size'];
    let binarySize: number | undefined;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw new InvalidRequestError(`${where}.parameters.binary_data_size is ${describeValue(size)}; it must be the byte length of the input's binary data`);
      }
      if (tensor['data'] !== undefined) throw new InvalidRequestError(`${where} has both data and parameters.binary_data_size; send the values one way`);
      binarySize = size;
    } else if (tensor['data'] === undefined) {
      throw new InvalidRequestError(`${where} has no data; put the values in data (flat, row-major) or in the binary part with parameters.binary_data_size`);
    }
    headers.push({ spec, element, dims, where, data: tensor['data'], binarySize });
  }
  const missing = model.inputs.filter((spec) => !seen.has(spec.name));
  if (missing.length > 0) {
    throw new InvalidRequestError(`inputs has no ${missing.map((m) => `"${m.name}"`).join(', ')}; model ${model.manifest.name} takes ${model.inputs.map((s) => `"${s.name}"`).join(', ')}`);
  }
  return headers;
}

/** A binary input's values: `count` elements of its datatype, copied out of the body. */
function binaryValues(header: InputHeader, bytes: Uint8Array, count: number): TensorData {
  const { element, where } = header;
  if (element.type === 'string') {
    const strings = new Array<string>(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (at + 4 > bytes.length) throw new InvalidRequestError(`${where}'s binary data ends before element ${i}; BYTES elements are each a 4-byte little-endian length and that many bytes`);
      const length = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
      at += 4;
      if (at + length > bytes.length) throw new InvalidRequestError(`${where}'s binary element ${i} claims ${length} bytes but only ${bytes.length - at} remain`);
      strings[i] = utf8(bytes.subarray(at, at + length), `${where}'s binary element ${i}`);
      at += length;
    }
    if (at !== bytes.length) throw new InvalidRequestError(`${where}'s binary data has ${bytes.length - at} bytes after its ${count} elements`);
    return strings;
  }
  const size = count * element.bytes;
  if (bytes.length !== size) {
    throw new InvalidRequestError(`${where}.parameters.binary_data_size is ${bytes.length}; shape [${header.dims.join(', ')}] of ${element.datatype} needs ${size} bytes`);
  }
  const data = element.fromBytes!(bytes, count);
  if (element.type === 'float32' || element.type === 'float64') {
    const values = data as Float32Array | Float64Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new InvalidRequestError(`${where}'s binary element ${i} is ${String(values[i])}; every value must be a finite number`);
    }
  }
  return data;
}

/** FP64 values sent for an FP32 input, converted, each checked to fit float32. */
function toFloat32(data: TensorData, where: string): Float32Array {
  const out = new Float32Array(data.length);
  const element = ELEMENT_TYPES.float32;
  for (let i = 0; i < data.length; i++) {
    const expected = element.store(out, i, data[i]);
    if (expected !== undefined) throw new InvalidRequestError(`${where} element ${i} is ${String(data[i])}; expected ${expected}`);
  }
  return out;
}

function readOutputs(body: Record<string, unknown>, model: ServedModel): Pick<InferRequest, 'outputs' | 'binaryOutputs'> {
  const all = flag(parameters(body['parameters'], 'parameters'), 'binary_data_output', 'parameters') === true;
  const requested = body['outputs'];
  const names: string[] = [];
  const binary = new Set<string>();
  if (requested !== undefined) {
    if (!Array.isArray(requested)) throw new InvalidRequestError(`outputs is ${describeValue(requested)}; it must be an array of {"name": ...} when present`);
    const known = new Set(model.outputs.map((o) => o.name));
    for (let i = 0; i < requested.length; i++) {
      const entry = object(requested[i], `outputs[${i}]`, 'an object with a name');
      const name = entry['name'];
      if (typeof name !== 'string' || !known.has(name)) {
        throw new InvalidRequestError(`outputs[${i}].name is ${describeValue(name)}; model ${model.manifest.name} has outputs ${[...known].map((n) => `"${n}"`).join(', ')}`);
      }
      if (names.includes(name)) throw new InvalidRequestError(`outputs[${i}] repeats "${name}"; ask for each output once`);
      names.push(name);
      // An output's own binary_data overrides the request's binary_data_output.
      if (flag(parameters(entry['parameters'], `outputs[${i}].parameters`), 'binary_data', `outputs[${i}].parameters`) ?? all) binary.add(name);
    }
  }
  return { outputs: names.length > 0 ? names : model.outputs.map((o) => o.name), binaryOutputs: all && names.length === 0 ? 'all' : binary };
}

/**
 * Reads an infer request's JSON object and binary part into input tensors: every model input once, each with its
 * datatype and a shape that fits the model, the values inline (flat or nested) or in the binary part.
 */
export function parseInferRequest(json: unknown, binary: Uint8Array | undefined, model: ServedModel, limits: RequestLimits): InferRequest {
  const body = object(json, 'request body', `a JSON object; ${HINT}`);
  const id = body['id'];
  if (id !== undefined && (typeof id !== 'string' || id.length > MAX_ID_CHARS)) {
    throw new InvalidRequestError(`id is ${describeValue(id)}; it must be a string of at most ${MAX_ID_CHARS} characters when present`);
  }
  const headers = readInputs(body['inputs'], model);
  checkShapes(limits.model, headers);
  checkRows(limits, headers[0]!.dims[0]!, `${headers[0]!.where}.shape`);
  let total = 0;
  for (const header of headers) total += elementCount(header.dims, Number.MAX_SAFE_INTEGER);
  checkElements(limits, total);
  const outputs = readOutputs(body, model);

  const declared = headers.reduce((sum, h) => sum + (h.binarySize ?? 0), 0);
  const binaryBytes = binary?.length ?? 0;
  if (declared !== binaryBytes) {
    throw new InvalidRequestError(
      binaryBytes === 0 && declared > 0
        ? 'inputs declare parameters.binary_data_size but the request has no binary part; send the JSON object\'s byte length in the Inference-Header-Content-Length header and the data after it'
        : `the body has ${binaryBytes} bytes after its JSON object, but the inputs' parameters.binary_data_size add up to ${declared}`,
    );
  }
  const tensors = new Map<string, TensorValue>();
  let at = 0;
  for (const header of headers) {
    const { spec, element, dims, where } = header;
    const count = elementCount(dims, Number.MAX_SAFE_INTEGER);
    let data: TensorData;
    if (header.binarySize !== undefined) {
      data = binaryValues(header, binary!.subarray(at, at + header.binarySize), count);
      at += header.binarySize;
    } else {
      data = element.allocate(count);
      const written = writeFlat(header.data, Math.max(dims.length, 1), element, data, count, `${where}.data`);
      if (written !== count) throw new InvalidRequestError(`${where}.data has ${written} values; shape ${shapeText(dims)} needs ${count}`);
    }
    if (element !== spec.element) data = toFloat32(data, `${where}.data`);
    tensors.set(spec.name, { type: spec.type, dims, data });
  }
  return { id: id as string | undefined, inputs: { rows: headers[0]!.dims[0]!, tensors }, ...outputs };
}

/**
 * Reads `POST /v2/models/<name>/infer` from its HTTP form: a JSON body, or with the binary extension a JSON object
 * of `Inference-Header-Content-Length` bytes followed by the binary tensor data.
 */
export function readInferRequest(http: Pick<HttpRequest, 'body' | 'bytes' | 'header'>, model: ServedModel, limits: RequestLimits): InferRequest {
  const headerLength = http.header('inference-header-content-length');
  if (headerLength === undefined) return parseInferRequest(parseJsonBody(http.body(), HINT), undefined, model, limits);
  const bytes = http.bytes();
  const length = headerLengthOf(headerLength, bytes.length);
  const json = parseJsonBody(utf8(bytes.subarray(0, length), 'the JSON object'), HINT);
  return parseInferRequest(json, bytes.subarray(length), model, limits);
}

/** A tensor's data as the binary extension lays it out: native little-endian values; BYTES with a 4-byte length each. */
function tensorBytes(tensor: OutputTensor): Buffer {
  const { data } = tensor;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts: Buffer[] = [];
  for (const value of data as Iterable<unknown>) {
    if (typeof value === 'string') {
      const text = Buffer.from(value, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(text.length);
      parts.push(length, text);
    } else {
      parts.push(Buffer.from([value === true || value === 1 ? 1 : 0]));
    }
  }
  return Buffer.concat(parts);
}

function outputHead(tensor: OutputTensor): string {
  return `{"name":${JSON.stringify(tensor.name)},"datatype":${JSON.stringify(oipDatatype(tensor.type))},"shape":[${tensor.dims.join(',')}]`;
}

/**
 * The infer response: JSON text, or with binary outputs the JSON object (outputs asked as binary carry
 * `parameters.binary_data_size` instead of `data`) followed by their bytes; `headerBytes` is then the JSON's length,
 * for the `Inference-Header-Content-Length` header.
 */
export function inferResponse(
  model: ServedModel,
  request: Pick<InferRequest, 'id' | 'binaryOutputs'>,
  tensors: ReadonlyMap<string, OutputTensor>,
): { readonly json: string } | { readonly bytes: Buffer; readonly headerBytes: number } {
  const { binaryOutputs } = request;
  const parts: Buffer[] = [];
  const outputs: string[] = [];
  for (const tensor of tensors.values()) {
    if (binaryOutputs === 'all' || binaryOutputs.has(tensor.name)) {
      const bytes = tensorBytes(tensor);
      parts.push(bytes);
      outputs.push(`${outputHead(tensor)},"parameters":{"binary_data_size":${bytes.length}}}`);
    } else {
      outputs.push(`${outputHead(tensor)},"data":${flatJson(tensor)}}`);
    }
  }
  const id = request.id === undefined ? '' : `,"id":${JSON.stringify(request.id)}`;
  const json = `{"model_name":${JSON.stringify(model.manifest.name)},"model_version":${JSON.stringify(model.manifest.version)}${id},"outputs":[${outputs.join(',')}]}`;
  if (parts.length === 0) return { json };
  const header = Buffer.from(json, 'utf8');
  return { bytes: Buffer.concat([header, ...parts]), headerBytes: header.length };
}
