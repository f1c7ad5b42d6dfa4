import {
  DEFAULT_DOWNLOAD_DIR,
  DEFAULT_FUNCTION_NAME,
  DEFAULT_FUNCTION_VERSION,
  DEFAULT_INTRA_OP_THREADS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_NAMESPACE,
  ENV,
  LAMBDA_ENV,
} from '../contract/env.js';
import { CaptureSampler, type CapturedRequest } from './capture.js';
import type { FunctionConfig } from './config.js';
import { quote } from './describe-value.js';
import {
  ConfigError,
  MethodNotAllowedError,
  ModelBundleError,
  ModelSourceError,
  ModelUnavailableError,
  PredictError,
  RouteNotFoundError,
  describeError,
} from './errors.js';
import { binaryResponse, jsonResponse, jsonTextResponse, readHttpEvent, type HttpRequest, type HttpResponse } from './http-event.js';
import { Logger } from './logger.js';
import { MetricsLogger, type RequestMetrics } from './metrics.js';
import { loadModel, type LoadedModel, type OutputTensor } from './model-session.js';
import { inferResponse, modelMetadata, readInferRequest } from './oip.js';
import { parseJsonBody, readPredictRequest, type InputTensors } from './predict-request.js';
import { predictionWriter } from './predict-response.js';
import { resolveRoute, type Route } from './router.js';
import { Tracing, type Blame, type InvocationTrace } from './tracing.js';
import { outOfRangePercent, readTrainingRanges, type TrainingRange } from './training-range.js';

/** The parts of Lambda's context object the handler reads. */
export interface InvocationContext {
  readonly awsRequestId: string;
}

export type Handler = (event: unknown, context: InvocationContext) => Promise<HttpResponse>;

/** The handler, and a promise that settles once the model is loaded or known to be unavailable (it never rejects). */
export type LoadingHandler = Handler & { readonly ready: Promise<void> };

type ModelState =
  | {
      readonly ok: true;
      readonly model: LoadedModel;
      readonly loadMs: number;
      readonly metrics: MetricsLogger;
      readonly writePrediction: ReturnType<typeof predictionWriter>;
      /** The training ranges of the OutOfTrainingRange metric; undefined for a bundle without baseline.json. */
      readonly ranges: readonly TrainingRange[] | undefined;
    }
  | { readonly ok: false; readonly metrics: MetricsLogger; readonly reason: string };

export interface HandlerOptions {
  /** Where log and metric lines go; each call is one line without its newline. Defaults to stdout. */
  readonly write?: (line: string) => void;
  /**
   * The current invocation's trace header, read as the invocation starts. Defaults to `_X_AMZN_TRACE_ID`, which the
   * runtime client sets before each invocation (the one per-invocation value Lambda's Node.js runtime passes in the
   * environment rather than the context).
   */
  readonly traceHeader?: () => string | undefined;
}

/** Used only to log and answer 503 when the environment itself is invalid. */
const FALLBACK_CONFIG: FunctionConfig = Object.freeze<FunctionConfig>({
  modelDir: '',
  artifact: { kind: 'bundle', file: '' },
  modelSha256: undefined,
  downloadDir: DEFAULT_DOWNLOAD_DIR,
  metricsNamespace: process.env[ENV.METRICS_NAMESPACE] ?? DEFAULT_METRICS_NAMESPACE,
  functionName: process.env[LAMBDA_ENV.FUNCTION_NAME] ?? DEFAULT_FUNCTION_NAME,
  functionVersion: process.env[LAMBDA_ENV.FUNCTION_VERSION] ?? DEFAULT_FUNCTION_VERSION,
  intraOpThreads: DEFAULT_INTRA_OP_THREADS,
  logLevel: DEFAULT_LOG_LEVEL,
  maxRequestElements: 1,
  download: {},
  xrayDaemonAddress: undefined,
  captureSampleRate: 0,
});

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Outcome {
  readonly response: HttpResponse;
  readonly inferenceMs?: number | undefined;
  readonly batchSize?: number | undefined;
  readonly confidences?: readonly number[] | undefined;
  readonly error?: string | undefined;
  /** The model's inputs and outputs of an answered request, for the drift metric and capture. */
  readonly observed?: { readonly inputs: InputTensors; readonly outputs: ReadonlyMap<string, OutputTensor> } | undefined;
}

/** What a client is told about a model that could not load: the kind of failure, never its paths or text. */
function unavailableReason(error: unknown): string {
  if (error instanceof ConfigError) return "the function's configuration is invalid";
  if (error instanceof ModelSourceError) return 'the model file could not be fetched';
  if (error instanceof ModelBundleError) return 'the model bundle is invalid';
  return 'the model could not be loaded';
}

/**
 * Builds the Lambda handler and starts loading the model at once, so that at module scope the load runs during
 * the init phase. A bad environment or a model that cannot be loaded is logged once, naming the cause; the handler
 * then answers 503 on model routes and keeps answering (no crash loop), while `/v2/health/live` stays 200.
 */
export function createHandler(configure: () => FunctionConfig, options: HandlerOptions = {}): LoadingHandler {
  const write = options.write ?? writeStdout;
  let config: FunctionConfig;
  let configError: unknown;
  try {
    config = configure();
  } catch (error) {
    configError = error;
    config = FALLBACK_CONFIG;
  }
  const logger = new Logger(config.logLevel, { function: config.functionName, functionVersion: config.functionVersion }, write);
  const readTraceHeader = options.traceHeader ?? (() => process.env[LAMBDA_ENV.TRACE_ID]);
  const tracing = new Tracing(config.xrayDaemonAddress, { function_name: config.functionName, function_version: config.functionVersion }, logger);
  const metricsFor = (modelVersion: string) =>
    new MetricsLogger({ namespace: config.metricsNamespace, functionName: config.functionName, functionVersion: config.functionVersion, modelVersion, write });

  const loadStart = performance.now();
  const load = configError === undefined ? loadModel(config) : Promise.reject(configError);
  const state: Promise<ModelState> = load.then(
    async (model) => {
      const loadMs = performance.now() - loadStart;
      const ranges = await readTrainingRanges(config.modelDir, model.manifest);
      if (!ranges.ok) logger.info('drift metric off: OutOfTrainingRange is not written', { model: model.version, reason: ranges.reason });
      logger.info('model loaded', { model: model.version, source: model.artifact.origin, format: model.format, bytes: model.artifact.bytes, sha256: model.artifact.sha256, loadMs: Math.round(loadMs * 1000) / 1000 });
      if (model.probeError !== undefined) logger.warn('the warm-up run on zero inputs failed; requests still run', { model: model.version, error: model.probeError });
      return { ok: true, model, loadMs, metrics: metricsFor(model.version), writePrediction: predictionWriter(model.served, model.version), ranges: ranges.ok ? ranges.ranges : undefined };
    },
    (error: unknown) => {
      logger.error('model could not be loaded; model routes answer 503 until a new container starts', { error: describeError(error) });
      return { ok: false, metrics: metricsFor('unavailable'), reason: unavailableReason(error) };
    },
  );
  // Liveness and readiness read the state without waiting for it: a slow or stalled load never hangs them.
  let settled: ModelState | undefined;
  void state.then((s) => {
    settled = s;
  });
  const loadingMetrics = metricsFor('loading');
  const sampler = new CaptureSampler(config.captureSampleRate, write);
  let coldStart = true;

  const handler: Handler = async function handler(event, context) {
    const started = performance.now();
    const traceHeader = tracing.enabled ? readTraceHeader() : undefined;
    const requestId = context.awsRequestId;
    let routeName = 'unmatched';
    let loaded = settled;
    let outcome: Outcome;
    try {
      const request = readHttpEvent(event);
      const route = resolveRoute(request.method, request.path);
      routeName = route.name;
      const pending = tracing.forInvocation(traceHeader);
      const trace = pending instanceof Promise ? await pending : pending;
      if (loaded === undefined && route.name !== 'GET /v2/health/live' && route.name !== 'GET /v2/health/ready') loaded = await waitForModel(state, trace);
      outcome = await serve(route, request, loaded, trace);
    } catch (error) {
      outcome = errorOutcome(error, requestId, logger);
    }
    const first = coldStart;
    coldStart = false;
    const served = loaded?.ok === true ? loaded : undefined;
    const captured: CapturedRequest | undefined =
      outcome.observed !== undefined && served !== undefined && sampler.sampled()
        ? { requestId, model: served.model.version, functionVersion: config.functionVersion, ...outcome.observed }
        : undefined;
    // The metrics line (and a capture record) is written in the next turn of the event loop: after the runtime client
    // has posted this response and before it asks for the next event, so the lines never add to the response time.
    const capture = captured === undefined ? undefined : () => writeCapture(sampler, captured, logger);
    setImmediate(afterResponse, loaded?.metrics ?? loadingMetrics, served?.ranges, outcome.observed?.inputs, capture, {
      requestId,
      route: routeName,
      status: outcome.response.statusCode,
      requestMs: performance.now() - started,
      inferenceMs: outcome.inferenceMs,
      batchSize: outcome.batchSize,
      confidences: outcome.confidences,
      coldStart: first,
      modelLoadMs: first && loaded?.ok === true ? loaded.loadMs : undefined,
      error: outcome.error,
    });
    return outcome.response;
  };
  return Object.assign(handler, { ready: state.then(() => undefined) });
}

/**
 * The model's load, awaited by an invocation that arrived before it finished (Lambda re-runs an init that ran out of
 * time inside the first invocation): traced as `model-load`, with the S3 download inside it as `s3-download`.
 */
async function waitForModel(state: Promise<ModelState>, trace: InvocationTrace): Promise<ModelState> {
  const loaded = await trace.stage('model-load', () => state);
  const downloaded = loaded.ok ? loaded.model.artifact.downloaded : undefined;
  if (downloaded !== undefined) trace.past('s3-download', downloaded.startMs, downloaded.endMs, { bytes: loaded.ok ? loaded.model.artifact.bytes : 0 });
  return loaded;
}

/** A failed stage's blame: a client's 4xx is X-Ray's `error`, anything else its `fault`. */
function blame(error: unknown): Blame {
  return error instanceof PredictError && error.status < 500 ? 'client' : 'server';
}

/**
 * Writes a sampled request's capture record. It runs after the response, outside the handler's try, where a throw
 * would end the process: a record that cannot be built is logged and dropped instead.
 */
function writeCapture(sampler: CaptureSampler, captured: CapturedRequest, logger: Logger): void {
  try {
    sampler.capture(captured);
  } catch (error) {
    logger.warn('capture record not written', { requestId: captured.requestId, error: describeError(error) });
  }
}

/** The work after a response: the drift share, the metrics line, and the capture record of a sampled request. */
function afterResponse(metrics: MetricsLogger, ranges: readonly TrainingRange[] | undefined, inputs: InputTensors | undefined, capture: (() => void) | undefined, measured: RequestMetrics): void {
  const outOfRange = ranges === undefined || inputs === undefined ? undefined : outOfRangePercent(ranges, inputs);
  metrics.record(outOfRange === undefined ? measured : { ...measured, outOfRangePercent: outOfRange });
  capture?.();
}

function requireModel(loaded: ModelState | undefined): Extract<ModelState, { ok: true }> {
  if (loaded === undefined) throw new ModelUnavailableError('the model is still loading');
  if (!loaded.ok) throw new ModelUnavailableError(loaded.reason);
  return loaded;
}

function requireNamed(model: LoadedModel, route: { readonly model: string; readonly version: string | undefined }): void {
  if (route.model !== model.manifest.name) {
    throw new RouteNotFoundError(`model ${quote(route.model)} is not served here; this function serves "${model.manifest.name}"`);
  }
  if (route.version !== undefined && route.version !== model.manifest.version) {
    throw new RouteNotFoundError(`model ${model.manifest.name} has no version ${quote(route.version)}; this function serves version "${model.manifest.version}"`);
  }
}

const PREDICT_HINT = 'send {"instances": [...]} (see the model\'s inputs at GET /v2/models/<name>)';

async function serve(route: Route, request: HttpRequest, loaded: ModelState | undefined, trace: InvocationTrace): Promise<Outcome> {
  switch (route.name) {
    case 'POST /predict': {
      const { model, writePrediction } = requireModel(loaded);
      if (trace.recording) trace.annotate({ model: model.manifest.name, model_version: model.version });
      const inputs = trace.stageSync('parse', () => readPredictRequest(parseJsonBody(request.body(), PREDICT_HINT), model.served, model.limits), blame);
      if (trace.recording) trace.annotate({ batch_size: inputs.rows });
      const t0 = performance.now();
      const outputs = await trace.stage('inference', () => model.run(inputs));
      const inferenceMs = performance.now() - t0;
      const written = trace.stageSync('serialize', () => writePrediction(outputs, inputs.rows));
      return { response: jsonTextResponse(200, written.body), inferenceMs, batchSize: inputs.rows, confidences: written.confidences, observed: { inputs, outputs } };
    }
    case 'GET /v2/health/live':
      return { response: jsonResponse(200, { live: true }) };
    case 'GET /v2/health/ready': {
      const ready = loaded?.ok === true;
      return { response: jsonResponse(ready ? 200 : 503, { ready }) };
    }
    case 'GET /v2':
      return { response: jsonResponse(200, { name: 'onnx-lambda-kit', version: '1', extensions: ['binary_tensor_data'] }) };
    case 'GET /v2/models/{model}': {
      const { model } = requireModel(loaded);
      requireNamed(model, route);
      return { response: jsonResponse(200, modelMetadata(model.served, model.inputs, model.outputs)) };
    }
    case 'GET /v2/models/{model}/ready': {
      const { model } = requireModel(loaded);
      requireNamed(model, route);
      return { response: jsonResponse(200, { name: model.manifest.name, ready: true }) };
    }
    case 'POST /v2/models/{model}/infer': {
      const { model } = requireModel(loaded);
      requireNamed(model, route);
      if (trace.recording) trace.annotate({ model: model.manifest.name, model_version: model.version });
      const infer = trace.stageSync('parse', () => readInferRequest(request, model.served, model.limits), blame);
      if (trace.recording) trace.annotate({ batch_size: infer.inputs.rows });
      const t0 = performance.now();
      const tensors = await trace.stage('inference', () => model.run(infer.inputs, infer.outputs));
      const inferenceMs = performance.now() - t0;
      const measured = { inferenceMs, batchSize: infer.inputs.rows, observed: { inputs: infer.inputs, outputs: tensors } };
      const written = trace.stageSync('serialize', () => inferResponse(model.served, infer, tensors));
      if ('json' in written) return { response: jsonTextResponse(200, written.json), ...measured };
      const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(written.headerBytes) };
      return { response: binaryResponse(200, written.bytes, headers), ...measured };
    }
  }
}

/**
 * The only place errors become status codes. 4xx messages are shown to the client; 503 and 500 show a fixed
 * message and the request id, never exception text, paths or stacks (those go to the log).
 */
function errorOutcome(error: unknown, requestId: string, logger: Logger): Outcome {
  if (error instanceof PredictError && error.status < 500) {
    const headers = error instanceof MethodNotAllowedError ? { allow: error.allow.join(', ') } : undefined;
    return { response: jsonResponse(error.status, { error: error.message }, headers), error: error.message };
  }
  if (error instanceof ModelUnavailableError) {
    return {
      response: jsonResponse(503, { error: `Model unavailable: ${error.message}; see the function log for the cause`, requestId }),
      error: 'model unavailable',
    };
  }
  logger.error('request failed', { requestId, error: describeError(error), stack: error instanceof Error ? error.stack : undefined });
  return { response: jsonResponse(500, { error: 'Internal server error', requestId }), error: 'internal error' };
}
