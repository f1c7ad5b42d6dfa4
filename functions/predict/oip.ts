/**
 * Open Inference Protocol v2 (the REST API KServe and Triton clients speak): request parsing and response shapes.
 * Pure: the handler runs the model between `parseInferRequest` and `inferResponse`.
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
export function parseInferRequest(json: unknown, manifest: Manifest, outputs: readonly ValueInfo[]): InferRequest {
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
  if (tensor['datatype'] !== 'FP32' && tensor['datatype'] !== 'FP64') {
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
  const values: number[] = [];
  flatten(tensor['data'], 'inputs[0].data', values);
  if (values.length !== rows * width) {
    throw new InvalidRequestError(`inputs[0].data has ${values.length} values; shape ${JSON.stringify(shape)} needs ${rows * width}`);
  }

  const requested = body['outputs'];
  const names: string[] = [];
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
    }
  }
  return { id, batch: { rows, data: Float32Array.from(values) }, outputs: names };
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
