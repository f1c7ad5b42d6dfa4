/**
 * `POST /predict` bodies to input tensors (SPEC "HTTP contract", "Tensor models"). Three forms:
 * - `{"features": row}`: one row of a tabular model, an array in feature order or an object keyed by feature name;
 * - `{"instances": [instance, ...]}` (TF Serving's and KServe v1's row format): each instance one row's value
 *   (a tabular row, a nested array without the batch dimension, or an object keyed by input name);
 * - `{"inputs": {"<input name>": batched value}}` (TF Serving's columnar format), or `{"inputs": batched value}`
 *   for a model with one input.
 * Nothing is coerced: a value of the wrong type, rank or size is a 400 naming where it is.
 */
import { describeValue, quote } from './describe-value.js';
import { InvalidRequestError } from './errors.js';
import type { ServedModel, TabularInput } from './manifest.js';
import { nestedDims, writeNested } from './nested-values.js';
import { checkElements, checkRows, checkShapes, elementCount, type Feed, type RequestLimits, type TensorSpec } from './signature.js';
import type { TensorValue } from './tensor-types.js';

/** A request's input tensors, by input name, with their row count. */
export interface InputTensors {
  readonly rows: number;
  readonly tensors: ReadonlyMap<string, TensorValue>;
}

function usage(model: ServedModel): string {
  if (model.tabular !== undefined) return 'send {"features": [...]} for one row or {"instances": [[...], ...]} for a batch';
  const names = model.inputs.map((i) => i.name);
  return names.length === 1
    ? `send {"instances": [value, ...]} with one ${names[0]} value per row, or {"inputs": {"${names[0]}": [...]}}`
    : `send {"instances": [{${names.map((n) => `"${n}": ...`).join(', ')}}, ...]} or {"inputs": {${names.map((n) => `"${n}": [...]`).join(', ')}}}`;
}

/** Parses a request body as JSON; a syntax error becomes a 400 that says how to fix it. */
export function parseJsonBody(body: string, hint: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    if (body.trim() === '') throw new InvalidRequestError(`request body is empty; ${hint}`);
    // V8's message quotes the text around the error, which a client chose: keep only its start.
    const reason = error instanceof SyntaxError ? error.message.slice(0, 120) : 'unreadable';
    throw new InvalidRequestError(`request body is not valid JSON (${reason}); ${hint}`);
  }
}

/**
 * Turns a parsed `/predict` body into input tensors, checked against the model's inputs and the request limits.
 */
export function readPredictRequest(json: unknown, model: ServedModel, limits: RequestLimits): InputTensors {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidRequestError(`request body is ${describeValue(json)}, not a JSON object; ${usage(model)}`);
  }
  const body = json as Record<string, unknown>;
  const forms = ['features', 'instances', 'inputs'].filter((key) => Object.hasOwn(body, key));
  if (forms.length !== 1) {
    const which = forms.length === 0 ? 'none of "features", "instances" and "inputs"' : `${forms.map((f) => `"${f}"`).join(' and ')}`;
    throw new InvalidRequestError(`request body has ${which}; ${usage(model)}`);
  }
  const form = forms[0]!;
  if (form === 'features') {
    if (model.tabular === undefined) {
      throw new InvalidRequestError(`model ${model.manifest.name} has no feature list (model.json "features"); ${usage(model)}`);
    }
    return tabularRows([body['features']], undefined, model.tabular, limits);
  }
  if (form === 'instances') {
    const instances = body['instances'];
    if (!Array.isArray(instances)) throw new InvalidRequestError(`instances is ${describeValue(instances)}; it must be an array with one entry per row`);
    if (instances.length === 0) throw new InvalidRequestError('instances is empty; send at least one row');
    checkRows(limits, instances.length, 'instances');
    if (model.tabular !== undefined) return tabularRows(instances, 'instances', model.tabular, limits);
    return instanceRows(instances, model, limits);
  }
  return columns(body['inputs'], model, limits);
}

/** `features` or `instances[3]`: where a tabular row sits in the body, for messages. */
function rowName(list: string | undefined, row: number): string {
  return list === undefined ? 'features' : `${list}[${row}]`;
}

/** Rows of a tabular model: arrays in feature order, or objects keyed by feature name. */
function tabularRows(rows: readonly unknown[], list: string | undefined, tabular: TabularInput, limits: RequestLimits): InputTensors {
  const { spec, features, index } = tabular;
  const width = features.length;
  checkElements(limits, rows.length * width);
  const element = spec.element;
  const data = element.allocate(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const row = unwrapInput(rows[r], spec.name, index);
    const offset = r * width;
    if (Array.isArray(row)) {
      if (row.length !== width) throw new InvalidRequestError(`${rowName(list, r)} has ${row.length} values; model ${limits.model} expects ${tabular.expected}`);
      for (let i = 0; i < width; i++) {
        const value: unknown = row[i];
        const expected = element.store(data, offset + i, value);
        if (expected !== undefined) throw valueError(value, `${rowName(list, r)}[${i}]`, expected);
      }
      continue;
    }
    if (row === null || typeof row !== 'object') {
      throw new InvalidRequestError(`${rowName(list, r)} is ${describeValue(row)}; a row is an array of ${width} numbers or an object of named features (${features.join(', ')})`);
    }
    let seen = 0;
    for (const name of Object.keys(row)) {
      const column = index.get(name);
      if (column === undefined) {
        throw new InvalidRequestError(`${rowName(list, r)} has unknown feature ${quote(name)}; model ${limits.model} expects ${tabular.expected}`);
      }
      const value: unknown = (row as Record<string, unknown>)[name];
      const expected = element.store(data, offset + column, value);
      if (expected !== undefined) throw valueError(value, `${rowName(list, r)}.${name}`, expected);
      seen++;
    }
    if (seen !== width) {
      const present = new Set(Object.keys(row));
      const missing = features.filter((name) => !present.has(name));
      throw new InvalidRequestError(`${rowName(list, r)} is missing ${missing.map((m) => JSON.stringify(m)).join(', ')}; model ${limits.model} expects ${tabular.expected}`);
    }
  }
  return { rows: rows.length, tensors: new Map([[spec.name, { type: spec.type, dims: [rows.length, width], data }]]) };
}

/** A row keyed by the input's own name (TF Serving's `{"float_input": [...]}`), unless that name is a feature. */
function unwrapInput(row: unknown, input: string, features: ReadonlyMap<string, number>): unknown {
  if (row === null || typeof row !== 'object' || Array.isArray(row) || features.has(input)) return row;
  const keys = Object.keys(row);
  return keys.length === 1 && keys[0] === input ? (row as Record<string, unknown>)[input] : row;
}

function valueError(value: unknown, where: string, expected: string): InvalidRequestError {
  const hint = typeof value === 'string' ? '; send numbers, not strings' : '';
  return new InvalidRequestError(`${where} is ${describeValue(value)}; every feature value must be ${expected}${hint}`);
}

/** The value of `spec` in one instance: the instance itself for a one-input model, else the instance's key. */
function instanceValue(instance: unknown, r: number, spec: TensorSpec, model: ServedModel): unknown {
  const single = model.inputs.length === 1;
  const isObject = instance !== null && typeof instance === 'object' && !Array.isArray(instance);
  if (single && !(isObject && Object.hasOwn(instance, spec.name))) return instance;
  if (!isObject) {
    throw new InvalidRequestError(`instances[${r}] is ${describeValue(instance)}; model ${model.manifest.name} has ${model.inputs.length} inputs, so each instance is an object keyed by input name (${names(model)})`);
  }
  const record = instance as Record<string, unknown>;
  if (!Object.hasOwn(record, spec.name)) throw new InvalidRequestError(`instances[${r}] has no "${spec.name}"; model ${model.manifest.name} takes ${names(model)}`);
  return record[spec.name];
}

function names(model: ServedModel): string {
  return model.inputs.map((i) => `"${i.name}"`).join(', ');
}

function checkKeys(record: Record<string, unknown>, where: string, model: ServedModel): void {
  const known = new Set(model.inputs.map((i) => i.name));
  for (const key of Object.keys(record)) {
    if (!known.has(key)) throw new InvalidRequestError(`${where} has unknown input ${quote(key)}; model ${model.manifest.name} takes ${names(model)}`);
  }
}

/** `instances` of a tensor model: one value per input per row, shaped as instances[0] is. */
function instanceRows(instances: readonly unknown[], model: ServedModel, limits: RequestLimits): InputTensors {
  const rows = instances.length;
  if (model.inputs.length > 1 || isKeyed(instances[0], model)) {
    for (let r = 0; r < rows; r++) {
      const instance = instances[r];
      if (instance !== null && typeof instance === 'object' && !Array.isArray(instance)) checkKeys(instance as Record<string, unknown>, `instances[${r}]`, model);
    }
  }
  const feeds: Feed[] = model.inputs.map((spec) => {
    const first = instanceValue(instances[0], 0, spec, model);
    const rank = spec.shape === undefined ? undefined : spec.shape.length - 1;
    return { spec, dims: [rows, ...nestedDims(first, rank)], where: model.inputs.length === 1 ? 'instances[*]' : `instances[*].${spec.name}` };
  });
  checkShapes(limits.model, feeds);
  checkElements(limits, totalElements(feeds));
  const tensors = new Map<string, TensorValue>();
  for (const { spec, dims } of feeds) {
    const inner = dims.slice(1);
    const data = spec.element.allocate(elementCount(dims, Number.MAX_SAFE_INTEGER));
    let offset = 0;
    for (let r = 0; r < rows; r++) {
      const where = model.inputs.length === 1 && !isKeyed(instances[r], model) ? `instances[${r}]` : `instances[${r}].${spec.name}`;
      offset = writeNested(instanceValue(instances[r], r, spec, model), inner, spec.element, data, offset, where);
    }
    tensors.set(spec.name, { type: spec.type, dims, data });
  }
  return { rows, tensors };
}

function isKeyed(instance: unknown, model: ServedModel): boolean {
  return instance !== null && typeof instance === 'object' && !Array.isArray(instance) && Object.hasOwn(instance, model.inputs[0]!.name);
}

function totalElements(feeds: readonly Feed[]): number {
  let total = 0;
  for (const feed of feeds) total += elementCount(feed.dims, Number.MAX_SAFE_INTEGER);
  return total;
}

/** `inputs`: each input's whole batch, keyed by name (or, for a one-input model, the batch itself). */
function columns(inputs: unknown, model: ServedModel, limits: RequestLimits): InputTensors {
  const single = model.inputs.length === 1;
  const keyed = inputs !== null && typeof inputs === 'object' && !Array.isArray(inputs);
  if (!keyed && !single) {
    throw new InvalidRequestError(`inputs is ${describeValue(inputs)}; model ${model.manifest.name} has ${model.inputs.length} inputs, so inputs is an object keyed by input name (${names(model)})`);
  }
  const record = keyed ? (inputs as Record<string, unknown>) : { [model.inputs[0]!.name]: inputs };
  if (keyed) checkKeys(record, 'inputs', model);
  const feeds: Feed[] = model.inputs.map((spec) => {
    if (!Object.hasOwn(record, spec.name)) throw new InvalidRequestError(`inputs has no "${spec.name}"; model ${model.manifest.name} takes ${names(model)}`);
    const value = record[spec.name];
    const where = keyed ? `inputs.${spec.name}` : 'inputs';
    if (!Array.isArray(value)) throw new InvalidRequestError(`${where} is ${describeValue(value)}; it must be an array with one entry per row`);
    if (value.length === 0) throw new InvalidRequestError(`${where} is empty; send at least one row`);
    return { spec, dims: nestedDims(value, spec.shape?.length), where };
  });
  // The shape first: a value of the wrong rank is a wrong value, whatever its length.
  checkShapes(limits.model, feeds);
  checkRows(limits, feeds[0]!.dims[0]!, feeds[0]!.where);
  checkElements(limits, totalElements(feeds));
  const tensors = new Map<string, TensorValue>();
  for (const { spec, dims, where } of feeds) {
    const data = spec.element.allocate(elementCount(dims, Number.MAX_SAFE_INTEGER));
    writeNested(record[spec.name], dims, spec.element, data, 0, where);
    tensors.set(spec.name, { type: spec.type, dims, data });
  }
  return { rows: feeds[0]!.dims[0]!, tensors };
}
