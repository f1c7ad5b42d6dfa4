import path from 'node:path';
import {
  BYTES_PER_REQUEST_ELEMENT,
  DEFAULT_DOWNLOAD_DIR,
  DEFAULT_FUNCTION_NAME,
  DEFAULT_FUNCTION_VERSION,
  DEFAULT_INTRA_OP_THREADS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_MODEL_DIR,
  DEFAULT_MODEL_FILE,
  ENV,
  LAMBDA_ENV,
  LOCAL_MEMORY_MB,
  LOG_LEVELS,
  MAX_DOWNLOAD_ATTEMPTS,
  MAX_DOWNLOAD_TIMEOUT_MS,
  MAX_INTRA_OP_THREADS,
  MAX_REQUEST_ELEMENTS_LIMIT,
  ORT_MODEL_FILE,
  type LogLevel,
} from '../contract/env.js';
import { LAMBDA_LIMITS, MB } from '../contract/lambda-limits.js';
import { ConfigError } from './errors.js';
import type { DownloadOptions, ModelArtifactSource } from './model-artifact.js';

export interface FunctionConfig {
  /** Folder holding `model.json` (and `model.onnx`, or the build's `model.ort`, for a packaged model). */
  readonly modelDir: string;
  readonly artifact: ModelArtifactSource;
  /** Expected sha256 (hex) of the model file (model.onnx or model.ort, as it ships); checked before the session is created. */
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
   * memory: `MAX_REQUEST_ELEMENTS`, or one value per BYTES_PER_REQUEST_ELEMENT bytes of the configured memory.
   */
  readonly maxRequestElements: number;
  /** Bounds on the S3 model download (timeouts and attempts); unset ones take s3-download.ts's defaults. */
  readonly download: DownloadOptions;
  /**
   * The X-Ray daemon's address, as Lambda sets it: with it, invocations that carry a sampled trace header send their
   * stage spans there (tracing.ts). Not checked here: a malformed one turns tracing off with a warning, never the
   * function.
   */
  readonly xrayDaemonAddress: string | undefined;
  /** Share of requests, 0 to 1, whose inputs and outputs are written as capture records (contract/capture.ts). */
  readonly captureSampleRate: number;
}

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
    [ENV.MODEL_S3_CONNECT_TIMEOUT_MS, 'connectTimeoutMs', MAX_DOWNLOAD_TIMEOUT_MS],
    [ENV.MODEL_S3_ANSWER_TIMEOUT_MS, 'answerTimeoutMs', MAX_DOWNLOAD_TIMEOUT_MS],
    [ENV.MODEL_S3_IDLE_TIMEOUT_MS, 'idleTimeoutMs', MAX_DOWNLOAD_TIMEOUT_MS],
    [ENV.MODEL_S3_MAX_ATTEMPTS, 'maxAttempts', MAX_DOWNLOAD_ATTEMPTS],
  ] as const;
  for (const [name, key, max] of bounds) {
    if (optional(env, name) !== undefined) options[key] = positiveInteger(env, name, 1, max);
  }
  return options;
}

/** The packaged model: MODEL_FILE in the model folder, or else model.onnx, or model.ort where there is no model.onnx. */
function bundleArtifact(modelDir: string, file: string | undefined): ModelArtifactSource {
  if (file !== undefined) return { kind: 'bundle', file: path.resolve(modelDir, file) };
  return { kind: 'bundle', file: path.resolve(modelDir, DEFAULT_MODEL_FILE), fallback: path.resolve(modelDir, ORT_MODEL_FILE) };
}

function defaultElements(env: Env): number {
  const memoryMb = positiveInteger(env, LAMBDA_ENV.FUNCTION_MEMORY_SIZE, LOCAL_MEMORY_MB, LAMBDA_LIMITS.maxMemoryMb);
  return Math.floor((memoryMb * MB) / BYTES_PER_REQUEST_ELEMENT);
}

/**
 * Parses the function's environment once, at cold start. A missing or bad variable throws a ConfigError naming it,
 * so the failure shows in the init log rather than as `undefined` in the middle of a request.
 */
export function loadConfig(env: Env = process.env): FunctionConfig {
  const taskRoot = optional(env, LAMBDA_ENV.TASK_ROOT) ?? process.cwd();
  const modelDir = path.resolve(taskRoot, optional(env, ENV.MODEL_DIR) ?? DEFAULT_MODEL_DIR);

  const bucket = optional(env, ENV.MODEL_BUCKET);
  const key = optional(env, ENV.MODEL_KEY);
  if ((bucket === undefined) !== (key === undefined)) {
    const missing = bucket === undefined ? ENV.MODEL_BUCKET : ENV.MODEL_KEY;
    throw new ConfigError(missing, `${ENV.MODEL_BUCKET} and ${ENV.MODEL_KEY} go together; set both to load the model from S3, or neither to use the packaged model`);
  }
  const versionId = optional(env, ENV.MODEL_VERSION_ID);
  if (versionId !== undefined && bucket === undefined) {
    throw new ConfigError(ENV.MODEL_VERSION_ID, `is set but ${ENV.MODEL_BUCKET} and ${ENV.MODEL_KEY} are not; it only applies to a model loaded from S3`);
  }
  const artifact: ModelArtifactSource =
    bucket !== undefined && key !== undefined
      ? { kind: 's3', bucket, key, versionId }
      : bundleArtifact(modelDir, optional(env, ENV.MODEL_FILE));

  const sha = optional(env, ENV.MODEL_SHA256)?.toLowerCase();
  if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
    throw new ConfigError(ENV.MODEL_SHA256, `got "${sha}"; set the 64 hex digits of the model file's sha256 (sha256sum model.onnx, or model.ort where the build shipped it)`);
  }

  const logLevel = (optional(env, ENV.LOG_LEVEL)?.toLowerCase() ?? DEFAULT_LOG_LEVEL) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(ENV.LOG_LEVEL, `got "${env[ENV.LOG_LEVEL]}"; use one of ${LOG_LEVELS.join(', ')}`);
  }

  return Object.freeze({
    modelDir,
    artifact,
    modelSha256: sha,
    downloadDir: optional(env, ENV.MODEL_DOWNLOAD_DIR) ?? DEFAULT_DOWNLOAD_DIR,
    metricsNamespace: optional(env, ENV.METRICS_NAMESPACE) ?? DEFAULT_METRICS_NAMESPACE,
    functionName: optional(env, LAMBDA_ENV.FUNCTION_NAME) ?? DEFAULT_FUNCTION_NAME,
    functionVersion: optional(env, LAMBDA_ENV.FUNCTION_VERSION) ?? DEFAULT_FUNCTION_VERSION,
    intraOpThreads: positiveInteger(env, ENV.ORT_INTRA_OP_THREADS, DEFAULT_INTRA_OP_THREADS, MAX_INTRA_OP_THREADS),
    logLevel,
    maxRequestElements: positiveInteger(env, ENV.MAX_REQUEST_ELEMENTS, defaultElements(env), MAX_REQUEST_ELEMENTS_LIMIT),
    download: Object.freeze(downloadOptions(env)),
    xrayDaemonAddress: optional(env, LAMBDA_ENV.XRAY_DAEMON_ADDRESS),
    captureSampleRate: sampleRate(env),
  });
}

/** CAPTURE_SAMPLE_RATE: a number from 0 to 1; unset, 0 (nothing captured). */
function sampleRate(env: Env): number {
  const raw = optional(env, ENV.CAPTURE_SAMPLE_RATE);
  if (raw === undefined) return 0;
  const value = /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1)) {
    throw new ConfigError(ENV.CAPTURE_SAMPLE_RATE, `got "${raw}"; set the share of requests to capture, a number from 0 to 1 such as 0.05, or unset it for none`);
  }
  return value;
}
