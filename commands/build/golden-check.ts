/**
 * A bundle must prove itself before it ships: the function's own loader checks the manifest (or derives one for a
 * bare model.onnx) against the ONNX file, then every golden row runs through onnxruntime, as `/predict` would read
 * it, and must match the training framework's own outputs: within the bundle's tolerance (default 1e-4), or for a
 * quantized bundle judged against its float model, with the stated top-1 agreement and largest error. The rules
 * live in golden-rows.ts, which the rollout's traffic check applies to a deployed version's answers.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { GOLDEN_FILE, type GoldenRecord } from '../../functions/contract/build-record.js';
import { ENV } from '../../functions/contract/env.js';
import { loadConfig } from '../../functions/predict/config.js';
import type { Manifest } from '../../functions/predict/manifest.js';
import { loadModel } from '../../functions/predict/model-session.js';
import { readPredictRequest } from '../../functions/predict/predict-request.js';
import type { TensorSpec } from '../../functions/predict/signature.js';
import { numbersOf } from '../../functions/predict/tensor-json.js';
import { compareGolden, describeDifference, parseGolden } from './golden-rows.js';

/** What golden.json proved, as the build record's `model.golden` records it (the build adds where the rows ship). */
export type GoldenCheck = Omit<Exclude<GoldenRecord, 'missing'>, 'file' | 'sha256'>;

export interface VerifiedBundle {
  readonly manifest: Manifest;
  /** The inputs as the function serves them. */
  readonly inputs: readonly TensorSpec[];
  /** Undefined when the bundle has no golden.json and the build was told to go on without it. */
  readonly golden: GoldenCheck | undefined;
  /** golden.json's bytes, as the build ships them beside the function; undefined with `golden`. */
  readonly goldenFile: Buffer | undefined;
}

export class BundleError extends Error {}

/** One row's values out of a whole output's numbers. */
function rowValues(all: ArrayLike<number>, row: number, rows: number): ArrayLike<number> {
  const width = all.length / rows;
  return Array.prototype.slice.call(all, row * width, (row + 1) * width) as number[];
}

export interface VerifyOptions {
  /** Go on without golden.json (the result's `golden` is then undefined). @default false */
  readonly allowMissingGolden?: boolean;
  /**
   * The model file in the folder, as the function's MODEL_FILE names it: the build checks the model.ort it is about
   * to ship the same way, from a folder laid out as the function's (model.ort, model.json, golden.json).
   * @default model.onnx
   */
  readonly modelFile?: string;
}

/**
 * Loads the bundle as the function would and checks it against golden.json. Without golden.json the bundle is
 * refused unless `allowMissingGolden` is set.
 */
export async function verifyBundle(dir: string, options: VerifyOptions = {}): Promise<VerifiedBundle> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new BundleError(`${dir} is not a folder; pass --model <bundle dir> holding model.onnx (and model.json and golden.json)`);
  }
  const model = await loadModel(loadConfig({ [ENV.MODEL_DIR]: dir, ...(options.modelFile === undefined ? {} : { [ENV.MODEL_FILE]: options.modelFile }) }));
  const outputsOf = options.modelFile === undefined ? 'the ONNX outputs' : `the outputs of ${options.modelFile}`;
  const { manifest } = model;
  const goldenFile = path.join(dir, GOLDEN_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(goldenFile);
  } catch {
    if (options.allowMissingGolden === true) return { manifest, inputs: model.served.inputs, golden: undefined, goldenFile: undefined };
    throw new BundleError(
      `${goldenFile} is missing, so nothing shows that onnxruntime reproduces your training framework's outputs; add golden.json ` +
        '(the framework\'s own outputs for some rows; models/README.md shows how), or build with --allow-missing-golden to go on without it',
    );
  }
  const golden = parseGolden(bytes.toString('utf8'), goldenFile);
  if (golden.minTop1Agreement !== undefined && manifest.task !== 'classification') {
    throw new BundleError(`${goldenFile} sets minTop1Agreement, which judges a classifier's best label; model ${manifest.name} is a ${manifest.task} model`);
  }
  const limits = { model: manifest.name, maxBatch: manifest.maxBatch, maxElements: Number.MAX_SAFE_INTEGER };
  // The model's default outputs, batch by batch: the served one of a classifier or regressor, every tensor output otherwise.
  const batches: { readonly rows: number; readonly outputs: Map<string, ArrayLike<number>> }[] = [];
  for (let start = 0; start < golden.inputs.length; start += manifest.maxBatch) {
    const rows = golden.inputs.slice(start, start + manifest.maxBatch);
    let request;
    try {
      request = readPredictRequest({ instances: rows }, model.served, limits);
    } catch (error) {
      throw new BundleError(`golden.json inputs ${start} to ${start + rows.length - 1} do not fit the model: ${error instanceof Error ? error.message : String(error)}`);
    }
    const outputs = new Map<string, ArrayLike<number>>();
    for (const [name, tensor] of await model.run(request)) outputs.set(name, numbersOf(tensor));
    batches.push({ rows: rows.length, outputs });
  }
  const answered = { served: model.served.served?.name, all: model.served.outputs.map((o) => o.name) };
  const comparison = compareGolden(golden, manifest.task, answered, (row, name) => {
    const batch = batches[Math.floor(row / manifest.maxBatch)]!;
    const all = batch.outputs.get(name);
    return all === undefined ? undefined : rowValues(all, row % manifest.maxBatch, batch.rows);
  });
  const { difference, maxDiff, rows } = comparison;
  if (difference !== undefined && difference.kind !== 'value' && difference.kind !== 'top1') {
    throw new BundleError(`model ${manifest.name}: ${describeDifference(difference, golden.tolerance)}`);
  }
  if (difference?.kind === 'value') {
    throw new BundleError(
      `model ${manifest.name}: ${outputsOf} differ from golden.json by ${maxDiff.toExponential(2)} (row ${comparison.worstRow}); the limit is ${golden.tolerance}. ` +
        'Re-export the model, or regenerate golden.json from the same trained model on float32-cast inputs',
    );
  }
  if (difference?.kind === 'top1') throw new BundleError(`model ${manifest.name}: ${describeDifference(difference, golden.tolerance)}`);
  const check: GoldenCheck =
    golden.minTop1Agreement === undefined
      ? { rows, tolerance: golden.tolerance, maxDiff }
      : { rows, tolerance: golden.tolerance, maxDiff, top1Agreement: comparison.top1Agreement!, minTop1Agreement: golden.minTop1Agreement };
  return { manifest, inputs: model.served.inputs, golden: check, goldenFile: bytes };
}
