import path from 'node:path';
import { ConfigError } from './errors.js';
import type { DownloadOptions } from './s3-download.js';

/** Where the ONNX file comes from. The manifest (`model.json`) always comes from `modelDir`. */
export type ModelArtifactSource =
  | { readonly kind: 'bundle'; readonly file: string }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly versionId: string | undefined;
    };

export interface FunctionConfig {
  /** Folder holding `model.json` (and `model.onnx` for a packaged model). */
  readonly modelDir: string;
  readonly artifact: ModelArtifactSource;
  /** Expected sha256 (hex) of the ONNX file; checked before the session is created. */
  readonly modelSha256: string | undefined;
  /** Folder the S3 artifact is downloaded to (Lambda's `/tmp`). */
  readonly downloadDir: string;
  readonly metricsNamespace: string;
  readonly functionName: string;
  readonly functionVersion: string;
  /** Intra-op threads for onnxruntime; 1 unless measured otherwise (see docs/PERFORMANCE.md). */
  readonly intraOpThreads: number;
  readonly logLevel: LogLevel;
  /**
   * The most values one request may hold over all its inputs, so that no request can exhaust the function's
   * memory: `MAX_REQUEST_ELEMENTS`, or one value per 256 bytes of the configured memory.
   */
  readonly maxRequestElements: number;
  /** Bounds on the S3 model download (timeouts and attempts); unset ones take s3-download.ts's defaults. */
  readonly download: DownloadOptions;
}

/** Bytes of function memory per request value, for the default element cap (128 MB: 524,288 values). */
export const BYTES_PER_REQUEST_ELEMENT = 256;
/** Memory assumed outside Lambda (npm start), where AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set. */
export const LOCAL_MEMORY_MB = 1024;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

type Env = Readonly<Record<string, string | undefined>>;

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function positiveInteger(env: Env, name: string, fallback: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(name, `got "${raw}"; set a whole number from 1 to ${max}, or unset it for ${fallback}`);
  }
  return value;
}

/** `MODEL_S3_*` bounds, only those set: a stalled S3 endpoint must fail the load, never hang it. */
function downloadOptions(env: Env): DownloadOptions {
  const options: { -readonly [K in keyof DownloadOptions]: number } = {};
  const bounds = [
    ['MODEL_S3_CONNECT_TIMEOUT_MS', 'connectTimeoutMs', 600_000],
    ['MODEL_S3_ANSWER_TIMEOUT_MS', 'answerTimeoutMs', 600_000],
    ['MODEL_S3_IDLE_TIMEOUT_MS', 'idleTimeoutMs', 600_000],
    ['MODEL_S3_MAX_ATTEMPTS', 'maxAttempts', 10],
  ] as const;
  for (const [name, key, max] of bounds) {
    if (optional(env, name) !== undefined) options[key] = positiveInteger(env, name, 1, max);
  }
  return options;
}

function defaultElements(env: Env): number {
  const memoryMb = positiveInteger(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', LOCAL_MEMORY_MB, 10_240);
  return Math.floor((memoryMb * 1024 * 1024) / BYTES_PER_REQUEST_ELEMENT);
}

/**
 * Parses the function's environment once, at cold start. A missing or bad variable throws a ConfigError naming it,
 * so the failure shows in the init log rather than as `undefined` in the middle of a request.
 */
export function loadConfig(env: Env = process.env): FunctionConfig {
  const taskRoot = optional(env, 'LAMBDA_TASK_ROOT') ?? process.cwd();
  const modelDir = path.resolve(taskRoot, optional(env, 'MODEL_DIR') ?? 'model');

  const bucket = optional(env, 'MODEL_BUCKET');
  const key = optional(env, 'MODEL_KEY');
  if ((bucket === undefined) !== (key === undefined)) {
    const missing = bucket === undefined ? 'MODEL_BUCKET' : 'MODEL_KEY';
    throw new ConfigError(missing, 'MODEL_BUCKET and MODEL_KEY go together; set both to load the model from S3, or neither to use the packaged model');
  }
  const versionId = optional(env, 'MODEL_VERSION_ID');
  if (versionId !== undefined && bucket === undefined) {
    throw new ConfigError('MODEL_VERSION_ID', 'is set but MODEL_BUCKET and MODEL_KEY are not; it only applies to a model loaded from S3');
  }
  const artifact: ModelArtifactSource =
    bucket !== undefined && key !== undefined
      ? { kind: 's3', bucket, key, versionId }
      : { kind: 'bundle', file: path.resolve(modelDir, optional(env, 'MODEL_FILE') ?? 'model.onnx') };

  const sha = optional(env, 'MODEL_SHA256')?.toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new ConfigError('MODEL_SHA256', `got "${sha}"; set the 64 hex digits of the model file's sha256 (sha256sum model.onnx)`);
  }

  const logLevel = (optional(env, 'LOG_LEVEL')?.toLowerCase() ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `got "${env['LOG_LEVEL']}"; use one of ${LOG_LEVELS.join(', ')}`);
  }

  return Object.freeze({
    modelDir,
    artifact,
    modelSha256: sha,
    downloadDir: optional(env, 'MODEL_DOWNLOAD_DIR') ?? '/tmp',
    metricsNamespace: optional(env, 'METRICS_NAMESPACE') ?? 'OnnxLambda',
    functionName: optional(env, 'AWS_LAMBDA_FUNCTION_NAME') ?? 'local',
    functionVersion: optional(env, 'AWS_LAMBDA_FUNCTION_VERSION') ?? '$LATEST',
    intraOpThreads: positiveInteger(env, 'ORT_INTRA_OP_THREADS', 1, 64),
    logLevel,
    maxRequestElements: positiveInteger(env, 'MAX_REQUEST_ELEMENTS', defaultElements(env), 2 ** 31),
    download: Object.freeze(downloadOptions(env)),
  });
}
