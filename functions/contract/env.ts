/**
 * The function's environment variables (SPEC "Function configuration"): their names, and the defaults the function
 * applies when one is unset. The function parses them (functions/predict/config.ts); the infrastructure sets them
 * (infra/constructs/inference-function.ts); the local tools set them for `npm start` and the emulator.
 */

import { LATEST_VERSION } from './aws-names.js';

/** Every variable the function reads, by name. */
export const ENV = Object.freeze({
  MODEL_DIR: 'MODEL_DIR',
  MODEL_FILE: 'MODEL_FILE',
  MODEL_BUCKET: 'MODEL_BUCKET',
  MODEL_KEY: 'MODEL_KEY',
  MODEL_VERSION_ID: 'MODEL_VERSION_ID',
  MODEL_SHA256: 'MODEL_SHA256',
  MODEL_DOWNLOAD_DIR: 'MODEL_DOWNLOAD_DIR',
  MODEL_S3_CONNECT_TIMEOUT_MS: 'MODEL_S3_CONNECT_TIMEOUT_MS',
  MODEL_S3_ANSWER_TIMEOUT_MS: 'MODEL_S3_ANSWER_TIMEOUT_MS',
  MODEL_S3_IDLE_TIMEOUT_MS: 'MODEL_S3_IDLE_TIMEOUT_MS',
  MODEL_S3_MAX_ATTEMPTS: 'MODEL_S3_MAX_ATTEMPTS',
  METRICS_NAMESPACE: 'METRICS_NAMESPACE',
  LOG_LEVEL: 'LOG_LEVEL',
  ORT_INTRA_OP_THREADS: 'ORT_INTRA_OP_THREADS',
  MAX_REQUEST_ELEMENTS: 'MAX_REQUEST_ELEMENTS',
  /** Share of requests (0 to 1, default 0) written as capture records (contract/capture.ts); infra/config.ts sets it per environment. */
  CAPTURE_SAMPLE_RATE: 'CAPTURE_SAMPLE_RATE',
});

/** Variables Lambda itself sets; the function reads them and never expects them from the infrastructure. */
export const LAMBDA_ENV = Object.freeze({
  TASK_ROOT: 'LAMBDA_TASK_ROOT',
  FUNCTION_NAME: 'AWS_LAMBDA_FUNCTION_NAME',
  FUNCTION_VERSION: 'AWS_LAMBDA_FUNCTION_VERSION',
  FUNCTION_MEMORY_SIZE: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  /** `host:port` of the X-Ray daemon, which takes segment documents over UDP; set in Lambda whether or not tracing is on. */
  XRAY_DAEMON_ADDRESS: 'AWS_XRAY_DAEMON_ADDRESS',
  /** The invocation's trace header (`Root=...;Parent=...;Sampled=...`), set by the runtime client before each invocation. */
  TRACE_ID: '_X_AMZN_TRACE_ID',
});

/** The function's name and version outside Lambda, where AWS_LAMBDA_FUNCTION_NAME and _VERSION are not set. */
export const DEFAULT_FUNCTION_NAME = 'local';
export const DEFAULT_FUNCTION_VERSION = LATEST_VERSION;

/** The CloudWatch namespace of the function's EMF metrics when METRICS_NAMESPACE is unset. */
export const DEFAULT_METRICS_NAMESPACE = 'OnnxLambda';

/**
 * The namespaces every part accepts: CloudWatch's custom namespaces without spaces, quotes or colons, because the
 * alarms and the dashboard put the namespace inside SEARCH and Metrics Insights strings.
 */
export const METRICS_NAMESPACE_PATTERN = /^(?!AWS\/)[A-Za-z0-9._#/-]{1,255}$/;
export const METRICS_NAMESPACE_RULE = 'a custom CloudWatch namespace: 1 to 255 letters, digits, ".", "_", "#", "/" or "-", not starting with "AWS/"';

/** MODEL_DIR's default, under the function's task root; the build packages the bundle there. */
export const DEFAULT_MODEL_DIR = 'model';
/** MODEL_FILE's default, inside MODEL_DIR. */
export const DEFAULT_MODEL_FILE = 'model.onnx';
/**
 * The model in ORT format, as `npm run build` ships it (model-format.ts): MODEL_FILE names it, and with MODEL_FILE
 * unset the function loads it from a model folder that holds no model.onnx.
 */
export const ORT_MODEL_FILE = 'model.ort';
/** The bundle's manifest, inside MODEL_DIR. */
export const MODEL_MANIFEST_FILE = 'model.json';
/** MODEL_DOWNLOAD_DIR's default: Lambda's writable /tmp. */
export const DEFAULT_DOWNLOAD_DIR = '/tmp';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** ORT_INTRA_OP_THREADS' default and upper bound. */
export const DEFAULT_INTRA_OP_THREADS = 1;
export const MAX_INTRA_OP_THREADS = 64;

/** The upper bounds of the MODEL_S3_*_TIMEOUT_MS variables and of MODEL_S3_MAX_ATTEMPTS. */
export const MAX_DOWNLOAD_TIMEOUT_MS = 600_000;
export const MAX_DOWNLOAD_ATTEMPTS = 10;

/** MAX_REQUEST_ELEMENTS' upper bound. */
export const MAX_REQUEST_ELEMENTS_LIMIT = 2 ** 31;

/** Bytes of function memory per request value, for MAX_REQUEST_ELEMENTS' default (128 MB: 524,288 values). */
export const BYTES_PER_REQUEST_ELEMENT = 256;
/** Memory assumed outside Lambda (npm start), where AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set. */
export const LOCAL_MEMORY_MB = 1024;
