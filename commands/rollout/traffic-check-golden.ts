/**
 * The golden rows a traffic check sends, from the build record of the version being rolled out: `npm run build`
 * copies the bundle's golden.json beside build.json and records its sha256 in `model.golden` (SPEC "Build
 * artifacts"). A build made with --allow-missing-golden has none; the rollout then refuses the version unless told
 * to skip the check.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUILD_RECORD_FILE } from '../../functions/contract/build-record.js';
import { DEFAULT_MAX_BATCH } from '../../functions/predict/manifest.js';
import { GoldenFileError, parseGolden, type GoldenRows } from '../build/golden-rows.js';
import { PreconditionError } from './errors.js';

/** The golden rows cannot be found, read or trusted, or cannot be sent: the check cannot run. */
export class GoldenRowsError extends PreconditionError {}

/** A build's golden rows, ready to send. */
export interface GoldenSet {
  /** `<name>@<version>` of the model the build packaged, as responses' `model_version` spell it. */
  readonly model: string;
  /** The manifest's task: how answers carry their values (`probabilities`, `prediction` or `outputs`). */
  readonly task: string;
  /** The most rows one request may carry. */
  readonly maxBatch: number;
  readonly golden: GoldenRows;
  /** The golden file read, and its sha256 (as build.json records it). */
  readonly file: string;
  readonly sha256: string;
}

/** What a traffic check has to go on: the build's golden rows, or why it goes without. */
export type GoldenLoad = { readonly kind: 'rows'; readonly set: GoldenSet } | { readonly kind: 'skipped'; readonly reason: string };

export interface GoldenLoadOptions {
  /** Go on without golden rows when the build has none ("missing"); the result says so. @default false */
  readonly allowMissing?: boolean;
  /** How a user skips the check, for the refusal's message. @default 'tell the rollout to skip the check' */
  readonly howToSkip?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Reads the golden rows of the build whose record is `build` (a build.json, or the folder holding one). The golden
 * file is looked up beside build.json (where the build writes it, so a dist folder can move) and must have the
 * sha256 build.json records. Throws GoldenRowsError naming the field, the value and the fix.
 */
export function loadGoldenSet(build: string, options: GoldenLoadOptions = {}): GoldenLoad {
  const recordFile = statSync(build, { throwIfNoEntry: false })?.isDirectory() === true ? path.join(build, BUILD_RECORD_FILE) : build;
  const rebuild = 'rerun npm run build for the version you roll out';
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(recordFile, 'utf8'));
  } catch (error) {
    throw new GoldenRowsError(`the build record ${recordFile} cannot be read (${error instanceof Error ? error.message : String(error)}); the traffic check takes its golden rows from it; ${rebuild}, or point to its folder`);
  }
  const field = (name: string, value: unknown, expected: string): never => {
    throw new GoldenRowsError(`${recordFile} ${name} is ${JSON.stringify(value)}; expected ${expected}; ${rebuild}`);
  };
  const model = (record as { model?: unknown } | null)?.model;
  if (typeof model !== 'object' || model === null) field('model', model, 'the model the build packaged');
  const { name, version, task, maxBatch, golden } = model as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') field('model.name', name, "the model's name");
  if (typeof version !== 'string' || version === '') field('model.version', version, "the model's version");
  if (typeof task !== 'string' || task === '') field('model.task', task, "the model's task");
  if (maxBatch !== undefined && !(Number.isSafeInteger(maxBatch) && (maxBatch as number) >= 1)) field('model.maxBatch', maxBatch, 'a whole number of rows, at least 1');
  const modelName = `${name as string}@${version as string}`;

  if (golden === 'missing') {
    const reason = `${recordFile} says model.golden is "missing": ${modelName} was built with --allow-missing-golden, so there are no golden rows to send`;
    if (options.allowMissing === true) return { kind: 'skipped', reason };
    throw new GoldenRowsError(`${reason}, and a version is not given traffic unchecked; add golden.json to the bundle and ${rebuild}, or ${options.howToSkip ?? 'tell the rollout to skip the check'}`);
  }
  if (typeof golden !== 'object' || golden === null) field('model.golden', golden, 'the golden check\'s record, or "missing"');
  const { file, sha256 } = golden as Record<string, unknown>;
  if (typeof file !== 'string' || file === '') field('model.golden.file', file, 'the golden.json the build copied beside build.json (builds before golden rows shipped lack it)');
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) field('model.golden.sha256', sha256, '64 lowercase hex digits');

  const goldenFile = path.join(path.dirname(recordFile), path.basename(file as string));
  let bytes: Buffer;
  try {
    bytes = readFileSync(goldenFile);
  } catch (error) {
    throw new GoldenRowsError(`${goldenFile}, the golden rows ${recordFile} lists, cannot be read (${error instanceof Error ? error.message : String(error)}); ${rebuild}`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256) {
    throw new GoldenRowsError(`${goldenFile} has sha256 ${actual}, but ${recordFile} records ${sha256 as string}: the folder mixes files of two builds; ${rebuild}`);
  }
  let rows: GoldenRows;
  try {
    rows = parseGolden(bytes.toString('utf8'), goldenFile);
  } catch (error) {
    if (error instanceof GoldenFileError) throw new GoldenRowsError(`${error.message}; fix the bundle's golden.json and ${rebuild}`);
    throw error;
  }
  return {
    kind: 'rows',
    set: { model: modelName, task: task as string, maxBatch: (maxBatch as number | undefined) ?? DEFAULT_MAX_BATCH, golden: rows, file: goldenFile, sha256: actual },
  };
}
