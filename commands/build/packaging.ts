/**
 * How the build packages the model, and why: which file ships (`--optimize`: model.ort or model.onnx) and where
 * (`--package`). Pure: the build hands in what it measured and tried.
 *
 * `--optimize auto` (the default) ships the model in ORT format when the build could write it and it passed golden.json,
 * and model.onnx otherwise, saying why; `ort` fails the build instead; `none` ships model.onnx without trying.
 *
 * `auto` takes the first packaging that fits, cheapest cold start first:
 * 1. zip: the model inside the function zip, while it is under the zip threshold (--zip-model-limit-mb) and the
 *    function, the model and the runtime layer unzip to at most Lambda's 250 MB;
 * 2. s3: the model in the model store, downloaded to /tmp at init, while it fits the largest /tmp Lambda offers
 *    (10,240 MB, of which the model may take MODEL_TMP_SHARE);
 * 3. image: a container image of up to 10 GB holding the function, onnxruntime and the model.
 * A model over the image limit fits nothing, and the build fails saying so.
 */
import { MODEL_PACKAGINGS, type ModelPackaging } from '../../functions/contract/build-record.js';
import { DEFAULT_MODEL_FILE, ORT_MODEL_FILE } from '../../functions/contract/env.js';
import { IMAGE_MAX_BYTES, LAMBDA_LIMITS, MB, MODEL_TMP_SHARE } from '../../functions/contract/lambda-limits.js';
import type { ModelFormat } from '../../functions/contract/model-format.js';

/** `--optimize`: which model file the build tries to ship. */
export const OPTIMIZE_CHOICES = ['auto', 'ort', 'none'] as const;
export type OptimizeChoice = (typeof OPTIMIZE_CHOICES)[number];

/** What the build's attempt at model.ort gave: its size and largest difference from golden.json, or why it failed. */
export type OrtAttempt = { readonly ok: true; readonly bytes: number; readonly maxDiff: number } | { readonly ok: false; readonly reason: string };

export interface FormatDecision {
  readonly format: ModelFormat;
  /** One line for the build's output: the format that ships, its size against model.onnx's, and why. */
  readonly line: string;
}

/** `--optimize ort` could not be honoured: model.ort cannot ship. */
export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

/** Sizes as the build's lines show them: KB below a megabyte, MB above. */
export function size(bytes: number): string {
  return bytes < MB ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / MB).toFixed(1)} MB`;
}

/** The file that ships, from `--optimize` and the build's attempt at model.ort (undefined for `none`, which makes none). */
export function chooseModelFormat(choice: OptimizeChoice, onnxBytes: number, attempt: OrtAttempt | undefined): FormatDecision {
  if (choice === 'none' || attempt === undefined) {
    return { format: 'onnx', line: `model format: ONNX, as asked (--optimize ${choice}); ${DEFAULT_MODEL_FILE} ${size(onnxBytes)}` };
  }
  if (!attempt.ok) {
    if (choice === 'ort') throw new ModelFormatError(`--optimize ort: ${ORT_MODEL_FILE} cannot ship: ${attempt.reason}; build with --optimize auto or none to ship ${DEFAULT_MODEL_FILE}`);
    return { format: 'onnx', line: `model format: ONNX, ${DEFAULT_MODEL_FILE} ${size(onnxBytes)}; ${ORT_MODEL_FILE} not shipped: ${attempt.reason}` };
  }
  const ratio = (attempt.bytes / onnxBytes).toFixed(2);
  return {
    format: 'ort',
    line:
      `model format: ORT, ${ORT_MODEL_FILE} ${size(attempt.bytes)} against ${DEFAULT_MODEL_FILE}'s ${size(onnxBytes)} (${ratio}x), golden rows within ${attempt.maxDiff.toExponential(1)}; ` +
      'init uses its bytes in place, with no protobuf to parse and the graph already optimised',
  };
}

/** `--package`: one of the build record's packagings, or `auto` to choose by size. */
export const PACKAGE_CHOICES = ['auto', ...MODEL_PACKAGINGS] as const;
export type PackageChoice = (typeof PACKAGE_CHOICES)[number];

export interface PackagingSizes {
  /** The shipped model file's size. */
  readonly modelBytes: number;
  /** The shipped model file's name, for the reason. @default "model.onnx" */
  readonly modelFile?: string;
  /** The function's code and the runtime layer, unzipped, without the model. */
  readonly codeUnzippedBytes: number;
  /** --zip-model-limit-mb in bytes. */
  readonly zipModelLimitBytes: number;
}

export interface PackagingDecision {
  readonly packaging: ModelPackaging;
  /** One sentence for the build's output: what was chosen and why. */
  readonly reason: string;
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** The most bytes a model downloaded to /tmp may have: its share of the largest ephemeral storage. */
export const MAX_TMP_MODEL_BYTES = Math.floor(LAMBDA_LIMITS.maxEphemeralMb * MB * MODEL_TMP_SHARE);

/** The ephemeral storage (MB) a model downloaded to /tmp needs, so it takes at most MODEL_TMP_SHARE of it. */
export function ephemeralMbFor(modelBytes: number): number {
  return Math.max(LAMBDA_LIMITS.minEphemeralMb, Math.ceil(modelBytes / MODEL_TMP_SHARE / MB));
}

export function choosePackaging(requested: PackageChoice, sizes: PackagingSizes): PackagingDecision {
  const model = `${sizes.modelFile ?? DEFAULT_MODEL_FILE} is ${mb(sizes.modelBytes)}`;
  if (requested !== 'auto') return { packaging: requested, reason: `${requested}, as asked (--package ${requested}); ${model}` };
  if (sizes.modelBytes > IMAGE_MAX_BYTES) {
    throw new Error(`${model}, over the ${mb(IMAGE_MAX_BYTES)} a Lambda container image may hold (the largest packaging there is); quantize or shrink the model`);
  }
  const unzipped = sizes.codeUnzippedBytes + sizes.modelBytes;
  if (sizes.modelBytes <= sizes.zipModelLimitBytes && unzipped <= LAMBDA_LIMITS.unzippedBytes) {
    return { packaging: 'zip', reason: `zip: ${model}, within the ${mb(sizes.zipModelLimitBytes)} zip threshold, and function, model and layer unzip to ${mb(unzipped)} of Lambda's ${mb(LAMBDA_LIMITS.unzippedBytes)}` };
  }
  const whyNotZip =
    sizes.modelBytes > sizes.zipModelLimitBytes
      ? `over the ${mb(sizes.zipModelLimitBytes)} zip threshold (--zip-model-limit-mb)`
      : `and function, model and layer would unzip to ${mb(unzipped)}, over Lambda's ${mb(LAMBDA_LIMITS.unzippedBytes)}`;
  if (sizes.modelBytes <= MAX_TMP_MODEL_BYTES) {
    return {
      packaging: 's3',
      reason: `s3: ${model}, ${whyNotZip}; it fits /tmp, downloaded at init from the model store (it needs --ephemeral-storage-mb ${ephemeralMbFor(sizes.modelBytes)} or more)`,
    };
  }
  return {
    packaging: 'image',
    reason: `image: ${model}, ${whyNotZip}, and over the ${mb(MAX_TMP_MODEL_BYTES)} it may take of the largest /tmp (${MODEL_TMP_SHARE * 100}% of ${LAMBDA_LIMITS.maxEphemeralMb} MB); a container image holds up to ${mb(IMAGE_MAX_BYTES)}`,
  };
}
