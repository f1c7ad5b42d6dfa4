import { InvalidRequestError, PayloadTooLargeError } from './errors.js';
import type { Manifest } from './manifest.js';
import type { PredictBodyScanner } from './scan-predict-body.js';

/** Rows ready for the model: `rows` rows of `width` float32 values, row-major. */
export interface Batch {
  readonly rows: number;
  readonly data: Float32Array;
}

/** What request validation needs to know about the model, derived once from the manifest. */
export interface FeatureSpec {
  readonly model: string;
  readonly features: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly maxBatch: number;
  /** "4: sepal_length, sepal_width, ..." for messages. */
  readonly expected: string;
}

export function featureSpec(manifest: Manifest): FeatureSpec {
  return Object.freeze({
    model: manifest.name,
    features: manifest.features,
    index: new Map(manifest.features.map((name, i) => [name, i])),
    maxBatch: manifest.maxBatch,
    expected: `${manifest.features.length}: ${manifest.features.join(', ')}`,
  });
}

const USAGE = 'send {"features": [...]} for one row or {"instances": [[...], ...]} for a batch';

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value === 'boolean' ? 'the boolean' : 'a'} ${String(value)}`;
}

/** Parses a request body as JSON; a syntax error becomes a 400 that says how to fix it. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    if (body.trim() === '') throw new InvalidRequestError(`request body is empty; ${USAGE}`);
    const reason = error instanceof SyntaxError ? error.message : 'unreadable';
    throw new InvalidRequestError(`request body is not valid JSON (${reason}); ${USAGE}`);
  }
}

/** The largest finite float32; a larger number would reach the model as Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** The error for a value that is not a finite float32; built only on the error path. */
function valueError(value: unknown, where: string): InvalidRequestError {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    const hint = typeof value === 'string' ? '; send numbers, not strings' : '';
    return new InvalidRequestError(`${where} is ${kind(value)}; every feature value must be a finite number${hint}`);
  }
  return new InvalidRequestError(`${where} is ${value}, beyond the float32 range the model computes in (about ±3.4e38); send a finite float32 value`);
}

/** `features` or `instances[3]`: where a row sits in the body, for messages. */
function rowName(row: number | undefined): string {
  return row === undefined ? 'features' : `instances[${row}]`;
}

/**
 * Writes one row at `offset`. Locations for messages are built only when a value is refused, so a valid row costs
 * one type check and one store per value.
 */
function writeRow(row: unknown, rowIndex: number | undefined, spec: FeatureSpec, target: Float32Array, offset: number): void {
  const width = spec.features.length;
  if (Array.isArray(row)) {
    if (row.length !== width) {
      throw new InvalidRequestError(`${rowName(rowIndex)} has ${row.length} values; model ${spec.model} expects ${spec.expected}`);
    }
    for (let i = 0; i < width; i++) {
      const value: unknown = row[i];
      // NaN and ±Infinity fail the comparison, so one test covers non-finite numbers and the float32 range.
      if (typeof value === 'number' && Math.abs(value) <= FLOAT32_MAX) target[offset + i] = value;
      else throw valueError(value, `${rowName(rowIndex)}[${i}]`);
    }
    return;
  }
  if (row === null || typeof row !== 'object') {
    throw new InvalidRequestError(`${rowName(rowIndex)} is ${kind(row)}; a row is an array of ${width} numbers or an object of named features (${spec.features.join(', ')})`);
  }
  let seen = 0;
  for (const name of Object.keys(row)) {
    const column = spec.index.get(name);
    if (column === undefined) {
      throw new InvalidRequestError(`${rowName(rowIndex)} has unknown feature ${JSON.stringify(name)}; model ${spec.model} expects ${spec.expected}`);
    }
    const value: unknown = (row as Record<string, unknown>)[name];
    if (typeof value === 'number' && Math.abs(value) <= FLOAT32_MAX) target[offset + column] = value;
    else throw valueError(value, `${rowName(rowIndex)}.${name}`);
    seen++;
  }
  if (seen !== width) {
    const present = new Set(Object.keys(row));
    const missing = spec.features.filter((name) => !present.has(name));
    throw new InvalidRequestError(`${rowName(rowIndex)} is missing ${missing.map((m) => JSON.stringify(m)).join(', ')}; model ${spec.model} expects ${spec.expected}`);
  }
}

/**
 * Turns a parsed `/predict` body into a batch. Exactly one of `features` (one row) and `instances` (rows) is
 * accepted; each row is an array in feature order or an object keyed by feature name. Nothing is coerced: a
 * string, null, boolean, nested array or non-finite number is a 400 naming where it is.
 */
export function parsePredictRequest(json: unknown, spec: FeatureSpec): Batch {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new InvalidRequestError(`request body is ${kind(json)}, not a JSON object; ${USAGE}`);
  }
  const body = json as Record<string, unknown>;
  const hasFeatures = Object.hasOwn(body, 'features');
  const hasInstances = Object.hasOwn(body, 'instances');
  if (hasFeatures === hasInstances) {
    const which = hasFeatures ? 'both "features" and "instances"' : 'neither "features" nor "instances"';
    throw new InvalidRequestError(`request body has ${which}; ${USAGE}`);
  }
  const width = spec.features.length;
  if (hasFeatures) {
    const data = new Float32Array(width);
    writeRow(body['features'], undefined, spec, data, 0);
    return { rows: 1, data };
  }
  const instances = body['instances'];
  if (!Array.isArray(instances)) {
    throw new InvalidRequestError(`instances is ${kind(instances)}; it must be an array of rows`);
  }
  if (instances.length === 0) throw new InvalidRequestError('instances is empty; send at least one row');
  if (instances.length > spec.maxBatch) {
    throw new PayloadTooLargeError(`instances has ${instances.length} rows; model ${spec.model} accepts at most ${spec.maxBatch} per request (maxBatch); split the batch`);
  }
  const data = new Float32Array(instances.length * width);
  for (let r = 0; r < instances.length; r++) writeRow(instances[r], r, spec, data, r * width);
  return { rows: instances.length, data };
}

/**
 * A `/predict` body to a batch. The common bodies (rows of numbers) are scanned straight into the batch; anything
 * else, every refused body included, goes through `JSON.parse` and `parsePredictRequest`, which alone decide what
 * is refused and with which message.
 */
export function readPredictBody(body: string, spec: FeatureSpec, scan: PredictBodyScanner): Batch {
  return scan(body) ?? parsePredictRequest(parseJsonBody(body), spec);
}
