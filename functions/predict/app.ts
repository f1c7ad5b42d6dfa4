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
import { loadModel, type LoadedModel } from './model-session.js';
import { inferResponse, modelMetadata, readInferRequest } from './oip.js';
import { parseJsonBody, readPredictRequest } from './predict-request.js';
import { predictionWriter } from './predict-response.js';
import { resolveRoute, type Route } from './router.js';

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
    }
  | { readonly ok: false; readonly metrics: MetricsLogger; readonly reason: string };

export interface HandlerOptions {
  /** Where log and metric lines go; each call is one line without its newline. Defaults to stdout. */
  readonly write?: (line: string) => void;
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
  const metricsFor = (modelVersion: string) =>
    new MetricsLogger({ namespace: config.metricsNamespace, functionName: config.functionName, functionVersion: config.functionVersion, modelVersion, write });

  const loadStart = performance.now();
  const load = configError === undefined ? loadModel(config) : Promise.reject(configError);
  const state: Promise<ModelState> = load.then(
    (model) => {
      const loadMs = performance.now() - loadStart;
      logger.info('model loaded', { model: model.version, source: model.artifact.origin, format: model.format, bytes: model.artifact.bytes, sha256: model.artifact.sha256, loadMs: Math.round(loadMs * 1000) / 1000 });
      if (model.probeError !== undefined) logger.warn('the warm-up run on zero inputs failed; requests still run', { model: model.version, error: model.probeError });
      return { ok: true, model, loadMs, metrics: metricsFor(model.version), writePrediction: predictionWriter(model.served, model.version) };
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
  let coldStart = true;

  const handler: Handler = async function handler(event, context) {
    const started = performance.now();
    const requestId = context.awsRequestId;
    let routeName = 'unmatched';
    let loaded = settled;
    let outcome: Outcome;
    try {
      const request = readHttpEvent(event);
      const route = resolveRoute(request.method, request.path);
      routeName = route.name;
      if (loaded === undefined && route.name !== 'GET /v2/health/live' && route.name !== 'GET /v2/health/ready') loaded = await state;
      outcome = await serve(route, request, loaded);
    } catch (error) {
      outcome = errorOutcome(error, requestId, logger);
    }
    const first = coldStart;
    coldStart = false;
    // The metrics line is written in the next turn of the event loop: after the runtime client has posted this
    // response and before it asks for the next event, so the line never adds to the response time.
    setImmediate(recordMetrics, loaded?.metrics ?? loadingMetrics, {
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

function recordMetrics(metrics: MetricsLogger, measured: RequestMetrics): void {
  metrics.record(measured);
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

async function serve(route: Route, request: HttpRequest, loaded: ModelState | undefined): Promise<Outcome> {
  switch (route.name) {
    case 'POST /predict': {
      const { model, writePrediction } = requireModel(loaded);
      const inputs = readPredictRequest(parseJsonBody(request.body(), PREDICT_HINT), model.served, model.limits);
      const t0 = performance.now();
      const outputs = await model.run(inputs);
      const inferenceMs = performance.now() - t0;
      const written = writePrediction(outputs, inputs.rows);
      return { response: jsonTextResponse(200, written.body), inferenceMs, batchSize: inputs.rows, confidences: written.confidences };
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
      const infer = readInferRequest(request, model.served, model.limits);
      const t0 = performance.now();
      const tensors = await model.run(infer.inputs, infer.outputs);
      const inferenceMs = performance.now() - t0;
      const measured = { inferenceMs, batchSize: infer.inputs.rows };
      const written = inferResponse(model.served, infer, tensors);
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
