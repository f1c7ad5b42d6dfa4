/**
 * A bundle must prove itself before it ships: the function's own loader checks the manifest (or derives one for a
 * bare model.onnx) against the ONNX file, then every golden row runs through onnxruntime, as `/predict` would read
 * it, and must match the training framework's own outputs: within the bundle's tolerance (default 1e-4), or for a
 * quantized bundle judged against its float model, with the stated top-1 agreement and largest error.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GoldenRecord } from '../../functions/contract/build-record.js';
import { ENV } from '../../functions/contract/env.js';
import { loadConfig } from '../../functions/predict/config.js';
import type { Manifest } from '../../functions/predict/manifest.js';
import { loadModel, type LoadedModel } from '../../functions/predict/model-session.js';
import { readPredictRequest } from '../../functions/predict/predict-request.js';
import type { TensorSpec } from '../../functions/predict/signature.js';
import { numbersOf } from '../../functions/predict/tensor-json.js';

export const GOLDEN_TOLERANCE = 1e-4;

/** What golden.json proved, as the build record's `model.golden` records it. */
export type GoldenCheck = Exclude<GoldenRecord, 'missing'>;

export interface VerifiedBundle {
  readonly manifest: Manifest;
  /** The inputs as the function serves them. */
  readonly inputs: readonly TensorSpec[];
  /** Undefined when the bundle has no golden.json and the build was told to go on without it. */
  readonly golden: GoldenCheck | undefined;
}

export class BundleError extends Error {}

interface Golden {
  readonly inputs: readonly unknown[];
  readonly outputs: readonly unknown[];
  readonly tolerance: number;
  readonly minTop1Agreement: number | undefined;
}

function parseGolden(text: string, file: string): Golden {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new BundleError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const { inputs, outputs, tolerance, minTop1Agreement } = json;
  if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length === 0 || inputs.length !== outputs.length) {
    throw new BundleError(`${file} must hold "inputs" and "outputs" arrays of the same non-zero length`);
  }
  if (tolerance !== undefined && !(typeof tolerance === 'number' && tolerance > 0 && tolerance < 1)) {
    throw new BundleError(`${file} "tolerance" is ${JSON.stringify(tolerance)}; it must be a number between 0 and 1 (the largest absolute error allowed)`);
  }
  if (minTop1Agreement !== undefined && !(typeof minTop1Agreement === 'number' && minTop1Agreement > 0 && minTop1Agreement <= 1)) {
    throw new BundleError(`${file} "minTop1Agreement" is ${JSON.stringify(minTop1Agreement)}; it must be a share between 0 and 1`);
  }
  return { inputs, outputs, tolerance: (tolerance as number | undefined) ?? GOLDEN_TOLERANCE, minTop1Agreement: minTop1Agreement as number | undefined };
}

/** Every number of a nested value, in order. */
function flatNumbers(value: unknown, where: string, into: number[] = []): number[] {
  if (typeof value === 'number') into.push(value);
  else if (Array.isArray(value)) for (const item of value) flatNumbers(item, where, into);
  else throw new BundleError(`${where} holds ${value === null ? 'null' : typeof value}; golden outputs are numbers or nested arrays of numbers`);
  return into;
}

/** The expected values of one golden row for each output it names, and the outputs to compare. */
function expectedRow(model: LoadedModel, raw: unknown, where: string): Map<string, number[]> {
  const { served } = model;
  if (served.served !== undefined) return new Map([[served.served.name, flatNumbers(raw, where)]]);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    if (served.outputs.length === 1) return new Map([[served.outputs[0]!.name, flatNumbers(raw, where)]]);
    throw new BundleError(`${where} must be an object keyed by output name (${served.outputs.map((o) => o.name).join(', ')})`);
  }
  const expected = new Map<string, number[]>();
  for (const [name, value] of Object.entries(raw)) {
    if (!served.outputs.some((o) => o.name === name)) throw new BundleError(`${where} names output "${name}", which the model lacks`);
    expected.set(name, flatNumbers(value, `${where}.${name}`));
  }
  return expected;
}

/** One row's values out of a whole output's numbers. */
function rowValues(all: ArrayLike<number>, row: number, rows: number): ArrayLike<number> {
  const width = all.length / rows;
  return Array.prototype.slice.call(all, row * width, (row + 1) * width) as number[];
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Loads the bundle as the function would and checks it against golden.json. Without golden.json the bundle is
 * refused unless `allowMissingGolden` is set.
 */
export async function verifyBundle(dir: string, options: { readonly allowMissingGolden?: boolean } = {}): Promise<VerifiedBundle> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new BundleError(`${dir} is not a folder; pass --model <bundle dir> holding model.onnx (and model.json and golden.json)`);
  }
  const model = await loadModel(loadConfig({ [ENV.MODEL_DIR]: dir }));
  const { manifest } = model;
  const goldenFile = path.join(dir, 'golden.json');
  let text: string;
  try {
    text = await readFile(goldenFile, 'utf8');
  } catch {
    if (options.allowMissingGolden === true) return { manifest, inputs: model.served.inputs, golden: undefined };
    throw new BundleError(
      `${goldenFile} is missing, so nothing shows that onnxruntime reproduces your training framework's outputs; add golden.json ` +
        '(the framework\'s own outputs for some rows; models/README.md shows how), or build with --allow-missing-golden to go on without it',
    );
  }
  const golden = parseGolden(text, goldenFile);
  if (golden.minTop1Agreement !== undefined && manifest.task !== 'classification') {
    throw new BundleError(`${goldenFile} sets minTop1Agreement, which judges a classifier's best label; model ${manifest.name} is a ${manifest.task} model`);
  }
  const limits = { model: manifest.name, maxBatch: manifest.maxBatch, maxElements: Number.MAX_SAFE_INTEGER };
  let maxDiff = 0;
  let worst = 0;
  let agreeing = 0;
  for (let start = 0; start < golden.inputs.length; start += manifest.maxBatch) {
    const rows = golden.inputs.slice(start, start + manifest.maxBatch);
    let request;
    try {
      request = readPredictRequest({ instances: rows }, model.served, limits);
    } catch (error) {
      throw new BundleError(`golden.json inputs ${start} to ${start + rows.length - 1} do not fit the model: ${error instanceof Error ? error.message : String(error)}`);
    }
    // The model's default outputs: the served one of a classifier or regressor, every tensor output otherwise.
    const outputs = new Map<string, ArrayLike<number>>();
    for (const [name, tensor] of await model.run(request)) outputs.set(name, numbersOf(tensor));
    for (let r = 0; r < rows.length; r++) {
      const where = `golden.json outputs[${start + r}]`;
      for (const [name, expected] of expectedRow(model, golden.outputs[start + r], where)) {
        const got = rowValues(outputs.get(name)!, r, rows.length);
        if (got.length !== expected.length) throw new BundleError(`${where} has ${expected.length} values for "${name}"; the model gives ${got.length} per row`);
        for (let c = 0; c < expected.length; c++) {
          const diff = Math.abs(got[c]! - expected[c]!);
          if (Number.isNaN(diff)) throw new BundleError(`model ${manifest.name}: the ONNX output "${name}" for golden row ${start + r} is NaN`);
          if (diff > maxDiff) {
            maxDiff = diff;
            worst = start + r;
          }
        }
        if (manifest.task === 'classification' && argmax(got) === argmax(expected)) agreeing++;
      }
    }
  }
  const rows = golden.inputs.length;
  if (!(maxDiff <= golden.tolerance)) {
    throw new BundleError(
      `model ${manifest.name}: the ONNX outputs differ from golden.json by ${maxDiff.toExponential(2)} (row ${worst}); the limit is ${golden.tolerance}. ` +
        'Re-export the model, or regenerate golden.json from the same trained model on float32-cast inputs',
    );
  }
  if (golden.minTop1Agreement !== undefined) {
    const agreement = agreeing / rows;
    if (agreement < golden.minTop1Agreement) {
      throw new BundleError(`model ${manifest.name}: the top-1 label agrees with golden.json on ${agreeing} of ${rows} rows (${(agreement * 100).toFixed(1)}%); the bundle states at least ${golden.minTop1Agreement * 100}%`);
    }
    return { manifest, inputs: model.served.inputs, golden: { rows, tolerance: golden.tolerance, maxDiff, top1Agreement: agreement, minTop1Agreement: golden.minTop1Agreement } };
  }
  return { manifest, inputs: model.served.inputs, golden: { rows, tolerance: golden.tolerance, maxDiff } };
}
