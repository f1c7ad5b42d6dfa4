/**
 * A model's inputs and outputs as the request path sees them, derived once from onnxruntime's metadata, and the
 * shape rules every request is held to: the rank and fixed dimensions the file declares, one batch size across
 * inputs, and one value per symbolic dimension name across inputs (token ids and their mask both `[batch, seq]`).
 * Pure: no onnxruntime.
 */
import { InvalidRequestError, ModelBundleError, PayloadTooLargeError } from './errors.js';
import { elementType, type ElementType, type TensorType } from './tensor-types.js';

/** onnxruntime's description of one input or output (the public `InferenceSession.ValueMetadata`). */
export type ValueInfo =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly (number | string)[] };

/** A tensor input or output the function can serve. */
export interface TensorSpec {
  readonly name: string;
  readonly type: TensorType;
  readonly element: ElementType;
  /**
   * Dimensions, batch first: a number is fixed, a string is symbolic (the empty string for an unnamed dynamic
   * dimension). `undefined` when the file declares no shape, in which case the request decides the rank.
   */
  readonly shape: readonly (number | string)[] | undefined;
}

/** The most dimensions a tensor of undeclared shape may have in a request. */
export const MAX_RANK = 32;

/** `[batch, 1, 28, 28]` for messages. */
export function shapeText(shape: readonly (number | string)[] | undefined): string {
  return shape === undefined ? '[any shape]' : `[${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;
}

function tensorSpec(info: ValueInfo, role: 'input' | 'output', model: string): TensorSpec {
  if (!info.isTensor) {
    throw new ModelBundleError(`model ${model}: ${role} "${info.name}" is not a tensor (a map or sequence, such as a ZipMap); re-export without it (skl2onnx: options {"zipmap": False})`);
  }
  const element = elementType(info.type);
  if (element === undefined) {
    throw new ModelBundleError(`model ${model}: ${role} "${info.name}" is a ${info.type} tensor, which onnxruntime-node cannot exchange with JavaScript; convert it in the graph (a Cast node) or re-export`);
  }
  return Object.freeze({ name: info.name, type: element.type, element, shape: info.shape.length === 0 ? undefined : Object.freeze([...info.shape]) });
}

/**
 * The input specs. Every input needs a leading batch dimension: a model whose input is a scalar cannot take a
 * batch. Outputs that are not tensors are left out (they cannot be fetched); `outputs` lists the rest.
 */
export function inputSpecs(model: string, inputs: readonly ValueInfo[]): TensorSpec[] {
  if (inputs.length === 0) throw new ModelBundleError(`model ${model}: the ONNX file has no inputs; a served model takes at least one`);
  return inputs.map((info) => tensorSpec(info, 'input', model));
}

export function outputSpecs(model: string, outputs: readonly ValueInfo[]): TensorSpec[] {
  const tensors: TensorSpec[] = [];
  for (const info of outputs) {
    if (!info.isTensor) continue;
    tensors.push(tensorSpec(info, 'output', model));
  }
  if (tensors.length === 0) {
    throw new ModelBundleError(`model ${model}: none of the ONNX file's outputs (${outputs.map((o) => `"${o.name}"`).join(', ')}) is a tensor; re-export the model without ZipMap or sequence outputs`);
  }
  return tensors;
}

/** A request's tensors before they become onnxruntime tensors. */
export interface Feed {
  readonly spec: TensorSpec;
  readonly dims: readonly number[];
  /** Where the tensor sits in the request, for messages: `inputs.input_ids`, `instances[*].pixels`. */
  readonly where: string;
}

/**
 * Checks the dimensions a request gives each input against the model: rank, fixed dimensions, one batch size, and
 * one value per symbolic name. `dims` include the batch.
 */
export function checkShapes(model: string, feeds: readonly Feed[]): void {
  const bound = new Map<string, { readonly value: number; readonly where: string }>();
  let batch: { readonly value: number; readonly where: string } | undefined;
  for (const { spec, dims, where } of feeds) {
    const shape = spec.shape;
    if (shape !== undefined && dims.length !== shape.length) {
      throw new InvalidRequestError(`${where} has ${dims.length} dimensions ${dimsText(dims)}; input "${spec.name}" of model ${model} has ${shape.length}: ${shapeText(shape)}`);
    }
    if (shape === undefined && dims.length > MAX_RANK) {
      throw new InvalidRequestError(`${where} has ${dims.length} dimensions; at most ${MAX_RANK} are accepted`);
    }
    if (batch === undefined) batch = { value: dims[0]!, where };
    else if (dims[0] !== batch.value) {
      throw new InvalidRequestError(`${where} has ${dims[0]} rows but ${batch.where} has ${batch.value}; every input needs the same batch size`);
    }
    if (shape === undefined) continue;
    for (let d = 0; d < shape.length; d++) {
      const declared = shape[d]!;
      const got = dims[d]!;
      if (typeof declared === 'number') {
        if (got !== declared) {
          throw new InvalidRequestError(`${where} has size ${got} in dimension ${d} ${dimsText(dims)}; input "${spec.name}" of model ${model} needs ${declared} there: ${shapeText(shape)}`);
        }
      } else if (declared !== '' && d > 0) {
        const earlier = bound.get(declared);
        if (earlier === undefined) bound.set(declared, { value: got, where: `${where} dimension ${d}` });
        else if (earlier.value !== got) {
          throw new InvalidRequestError(
            `${where} has size ${got} in dimension ${d} ("${declared}") but ${earlier.where} has ${earlier.value}; model ${model} needs the same "${declared}" in both`,
          );
        }
      }
    }
  }
}

function dimsText(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Elements in a tensor of `dims`, or Infinity past `limit` (no overflow, however large the client's numbers).
 */
export function elementCount(dims: readonly number[], limit: number): number {
  let count = 1;
  for (const d of dims) {
    count *= d;
    if (count > limit) return Number.POSITIVE_INFINITY;
  }
  return count;
}

/** The request limits of one model: rows per request and elements over all inputs. */
export interface RequestLimits {
  readonly model: string;
  readonly maxBatch: number;
  readonly maxElements: number;
}

export function checkRows(limits: RequestLimits, rows: number, where: string): void {
  if (rows > limits.maxBatch) {
    throw new PayloadTooLargeError(`${where} has ${rows} rows; model ${limits.model} accepts at most ${limits.maxBatch} per request (maxBatch); split the batch`);
  }
}

export function checkElements(limits: RequestLimits, elements: number): void {
  if (elements > limits.maxElements) {
    const shown = Number.isFinite(elements) ? String(elements) : `more than ${limits.maxElements}`;
    throw new PayloadTooLargeError(
      `the request's inputs hold ${shown} values; model ${limits.model} accepts at most ${limits.maxElements} per request (MAX_REQUEST_ELEMENTS, set from the function's memory); split the batch`,
    );
  }
}

/**
 * onnxruntime-node 1.30 cannot take float16 inputs where JavaScript has Float16Array (Node.js 23 and later, so
 * Lambda's nodejs24.x): onnxruntime-common hands the binding a Float16Array, whose byte length the binding reads as
 * 0 (microsoft/onnxruntime#32323, open). Outputs are not affected.
 */
export function float16InputMessage(model: string, inputs: readonly TensorSpec[]): string | undefined {
  const names = inputs.filter((i) => i.type === 'float16').map((i) => `"${i.name}"`);
  if (names.length === 0) return undefined;
  return (
    `model ${model}: input ${names.join(', ')} is float16, which onnxruntime-node 1.30 cannot take on Node.js 23 and later ` +
    "(Lambda's nodejs24.x) because of an onnxruntime bug (Float16Array inputs reach it empty; microsoft/onnxruntime#32323); " +
    'give the graph a float32 input and a Cast to float16 after it (the weights stay float16), or build for --runtime nodejs22.x'
  );
}
