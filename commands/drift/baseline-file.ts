/**
 * Finds and reads the baseline `npm run drift -- --model <dir>` compares with: baseline.json in a bundle folder
 * (beside model.json), or in a build folder (beside build.json, where `npm run build` copies it). The baseline names
 * its model; it is checked against the bundle's model.json or the build record, so records are never compared with
 * another model's training data.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_RECORD_FILE } from '../../functions/contract/build-record.js';
import { BASELINE_FILE, type TrainingBaseline } from '../../functions/contract/capture.js';
import { DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE } from '../../functions/contract/env.js';
import { parseBaseline } from './baseline.js';
import { BaselineError } from './errors.js';

export interface LoadedBaseline {
  readonly baseline: TrainingBaseline;
  readonly file: string;
  /** Said in the report: the baseline's predictions were computed with another model file than this folder's. */
  readonly warnings: readonly string[];
}

async function readJson(file: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BaselineError(`${file} cannot be read (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BaselineError(`${file} is not valid JSON (${(error as Error).message.slice(0, 100)}); rewrite it with npm run bundle -- <bundle dir> --baseline-from <sample inputs>`);
  }
}

function field(json: unknown, ...keys: string[]): unknown {
  let value = json;
  for (const key of keys) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** A path as messages show it: relative to the working folder when inside it. */
export function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative || '.';
}

/** The fix for a bundle without a baseline. */
export function missingBaselineFix(dir: string): string {
  return `write one with npm run bundle -- ${shownPath(dir)} --baseline-from <sample inputs.json> (a JSON array of rows in /predict's instance form, ideally the training rows); for the bundles trained in models/, bash models/train/train.sh writes them`;
}

/** Reads the baseline of a bundle or build folder, checked against the folder's model. */
export async function loadBaseline(dir: string): Promise<LoadedBaseline> {
  const shown = shownPath(dir);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new BaselineError(`--model ${shown} is not a folder; give a bundle folder (models/<name>) or a build folder (one holding ${BUILD_RECORD_FILE})`);
  }
  const file = path.join(dir, BASELINE_FILE);
  const buildRecord = await readJson(path.join(dir, BUILD_RECORD_FILE));
  const manifest = buildRecord === undefined ? await readJson(path.join(dir, MODEL_MANIFEST_FILE)) : undefined;
  const modelFile = path.join(dir, DEFAULT_MODEL_FILE);
  const hasModel = (await stat(modelFile).catch(() => undefined))?.isFile() === true;
  if (buildRecord === undefined && manifest === undefined && !hasModel) {
    throw new BaselineError(`--model ${shown} holds neither a bundle (${MODEL_MANIFEST_FILE}, ${DEFAULT_MODEL_FILE}) nor a build (${BUILD_RECORD_FILE}); give models/<name> or the folder npm run build wrote`);
  }
  const json = await readJson(file);
  if (json === undefined) {
    if (buildRecord !== undefined) {
      throw new BaselineError(
        `${shown} has no ${BASELINE_FILE} beside ${BUILD_RECORD_FILE}, so there is nothing to compare the captures with: its bundle had none when it was built. Add one to the bundle (npm run bundle -- <bundle dir> --baseline-from <sample inputs.json>) and rebuild, or pass --model <bundle dir>`,
      );
    }
    throw new BaselineError(`${shown} has no ${BASELINE_FILE}, so there is nothing to compare the captures with; ${missingBaselineFix(dir)}`);
  }
  const baseline = parseBaseline(json, file);
  const warnings: string[] = [];
  const owner = buildRecord ?? manifest;
  const ownerFile = buildRecord === undefined ? MODEL_MANIFEST_FILE : BUILD_RECORD_FILE;
  const name = field(owner, ...(buildRecord === undefined ? ['name'] : ['model', 'name']));
  const version = field(owner, ...(buildRecord === undefined ? ['version'] : ['model', 'version']));
  if (owner !== undefined && (name !== baseline.model.name || version !== baseline.model.version)) {
    throw new BaselineError(
      `${file} was written for model ${baseline.model.name}@${baseline.model.version}, but ${ownerFile} is ${String(name)}@${String(version)}; rewrite the baseline for this model (${missingBaselineFix(dir)})`,
    );
  }
  const sha256 = buildRecord !== undefined ? field(buildRecord, 'model', 'sha256') : hasModel ? createHash('sha256').update(await readFile(modelFile)).digest('hex') : undefined;
  if (typeof sha256 === 'string' && sha256 !== baseline.model.sha256) {
    warnings.push(`${BASELINE_FILE}'s prediction distribution was computed with another model file (sha256 ${baseline.model.sha256.slice(0, 12)}, this one ${sha256.slice(0, 12)}): its feature distributions hold, its prediction shift may be the model's change`);
  }
  return { baseline, file, warnings };
}
