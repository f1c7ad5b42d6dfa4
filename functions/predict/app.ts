import type { FunctionConfig } from './config.js';
import { MethodNotAllowedError, ModelUnavailableError, PredictError, RouteNotFoundError, describeError } from './errors.js';
import { binaryResponse, jsonResponse, jsonTextResponse, readHttpEvent, type HttpRequest, type HttpResponse } from './http-event.js';
import { Logger } from './logger.js';
import { MetricsLogger, type RequestMetrics } from './metrics.js';
import { loadModel, type LoadedModel } from './model-session.js';
import { binaryInferWriter, inferRequestReader, inferResponse, modelMetadata, type InferRequest } from './oip.js';
import { predictionWriter, type WrittenPrediction } from './postprocess.js';
import { resolveRoute, type Route } from './router.js';
import { predictBodyScanner, type PredictBodyScanner } from './scan-predict-body.js';
import { readPredictBody } from './validate-request.js';

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
      readonly writePrediction: (output: Float32Array, rows: number) => WrittenPrediction;
      readonly scanBody: PredictBodyScanner;
      readonly readInfer: (request: HttpRequest) => InferRequest;
      readonly writeBinaryInfer: ReturnType<typeof binaryInferWriter>;
    }
  | { readonly ok: false; readonly metrics: MetricsLogger };

export interface HandlerOptions {
  /** Where log and metric lines go; each call is one line without its newline. Defaults to stdout. */
  readonly write?: (line: string) => void;
}

/** Used only to log and answer 503 when the environment itself is invalid. */
const FALLBACK_CONFIG: FunctionConfig = Object.freeze<FunctionConfig>({
  modelDir: '',
  artifact: { kind: 'bundle', file: '' },
  modelSha256: undefined,
  downloadDir: '/tmp',
  metricsNamespace: process.env['METRICS_NAMESPACE'] ?? 'OnnxLambda',
  functionName: process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'local',
  functionVersion: process.env['AWS_LAMBDA_FUNCTION_VERSION'] ?? '$LATEST',
  intraOpThreads: 1,
  logLevel: 'info',
});

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Outcome {
  readonly response: HttpResponse;
  readonly inferenceMs?: number | undefined;
  readonly batchSize?: number | undefined;
  readonly confidences?: readonly number[] | undefined;
  readonly confidenceText?: string | undefined;
  readonly error?: string | undefined;
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
  // Once settled, the state is read synchronously: no await on the request path.
  let settled: ModelState | undefined;
  const state: Promise<ModelState> = load.then(
    (model) => {
      const loadMs = performance.now() - loadStart;
      logger.info('model loaded', { model: model.version, source: model.artifact.origin, bytes: model.artifact.bytes, sha256: model.artifact.sha256, loadMs: Math.round(loadMs * 1000) / 1000 });
      return {
        ok: true,
        model,
        loadMs,
        metrics: metricsFor(model.version),
        writePrediction: predictionWriter(model.manifest, model.version),
        scanBody: predictBodyScanner(model.spec),
        readInfer: inferRequestReader(model.manifest, model.outputs),
        writeBinaryInfer: binaryInferWriter(model.manifest),
      };
    },
    (error: unknown) => {
      logger.error('model could not be loaded; model routes answer 503 until a new container starts', { error: describeError(error) });
      return { ok: false, metrics: metricsFor('unavailable') };
    },
  );
  void state.then((s) => {
    settled = s;
  });
  let coldStart = true;

  const handler: Handler = async function handler(event, context) {
    const started = performance.now();
    const requestId = context.awsRequestId;
    const loaded = settled ?? (await state);
    let routeName = 'unmatched';
    let outcome: Outcome;
    try {
      const request = readHttpEvent(event);
      const route = resolveRoute(request.method, request.path);
      routeName = route.name;
      outcome = serve(route, request, loaded);
    } catch (error) {
      outcome = errorOutcome(error, requestId, logger);
    }
    const first = coldStart;
    coldStart = false;
    // The metrics line is written in the next turn of the event loop: after the runtime client has posted this
    // response (it does so synchronously when the handler's promise settles) and before it asks for the next
    // event, so the line is never lost to a freeze and never adds to the response time.
    setImmediate(recordMetrics, loaded.metrics, {
      requestId,
      route: routeName,
      status: outcome.response.statusCode,
      requestMs: performance.now() - started,
      inferenceMs: outcome.inferenceMs,
      batchSize: outcome.batchSize,
      confidences: outcome.confidences,
      confidenceText: outcome.confidenceText,
      coldStart: first,
      modelLoadMs: first && loaded.ok ? loaded.loadMs : undefined,
      error: outcome.error,
    });
    return outcome.response;
  };
  return Object.assign(handler, { ready: state.then(() => undefined) });
}

function recordMetrics(metrics: MetricsLogger, measured: RequestMetrics): void {
  metrics.record(measured);
}

function requireModel(loaded: ModelState): LoadedModel {
  if (!loaded.ok) throw new ModelUnavailableError('model not loaded');
  return loaded.model;
}

function requireNamed(model: LoadedModel, route: { readonly model: string; readonly version: string | undefined }): void {
  if (route.model !== model.manifest.name) {
    throw new RouteNotFoundError(`model ${JSON.stringify(route.model)} is not served here; this function serves "${model.manifest.name}"`);
  }
  if (route.version !== undefined && route.version !== model.manifest.version) {
    throw new RouteNotFoundError(`model ${model.manifest.name} has no version ${JSON.stringify(route.version)}; this function serves version "${model.manifest.version}"`);
  }
}

/** Synchronous from end to end: a request is served without a promise or a turn of the event loop. */
function serve(route: Route, request: HttpRequest, loaded: ModelState): Outcome {
  switch (route.name) {
    case 'POST /predict': {
      if (!loaded.ok) throw new ModelUnavailableError('model not loaded');
      const model = loaded.model;
      const batch = readPredictBody(request.body(), model.spec, loaded.scanBody);
      const t0 = performance.now();
      const output = model.predict(batch);
      const inferenceMs = performance.now() - t0;
      const written = loaded.writePrediction(output, batch.rows);
      return { response: jsonTextResponse(200, written.body), inferenceMs, batchSize: batch.rows, confidences: written.confidences, confidenceText: written.confidenceText };
    }
    case 'GET /v2/health/live':
      return { response: jsonResponse(200, { live: true }) };
    case 'GET /v2/health/ready':
      return { response: jsonResponse(loaded.ok ? 200 : 503, { ready: loaded.ok }) };
    case 'GET /v2':
      return { response: jsonResponse(200, { name: 'onnx-lambda-kit', version: '1', extensions: ['binary_tensor_data'] }) };
    case 'GET /v2/models/{model}': {
      const model = requireModel(loaded);
      requireNamed(model, route);
      return { response: jsonResponse(200, modelMetadata(model.manifest, model.inputs, model.outputs)) };
    }
    case 'GET /v2/models/{model}/ready': {
      const model = requireModel(loaded);
      requireNamed(model, route);
      return { response: jsonResponse(200, { name: model.manifest.name, ready: true }) };
    }
    case 'POST /v2/models/{model}/infer': {
      if (!loaded.ok) throw new ModelUnavailableError('model not loaded');
      const model = loaded.model;
      requireNamed(model, route);
      const infer = loaded.readInfer(request);
      const t0 = performance.now();
      const tensors = model.run(infer.batch, infer.outputs);
      const inferenceMs = performance.now() - t0;
      const measured = { inferenceMs, batchSize: infer.batch.rows };
      if (infer.binaryOutputs !== 'all' && infer.binaryOutputs.size === 0) return { response: jsonResponse(200, inferResponse(model.manifest, infer.id, tensors)), ...measured };
      const { bytes, headerBytes } = loaded.writeBinaryInfer(infer.id, tensors, infer.binaryOutputs);
      const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerBytes) };
      return { response: binaryResponse(200, bytes, headers), ...measured };
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
      response: jsonResponse(503, { error: 'Model unavailable: the function could not load its model; see the function log for the cause', requestId }),
      error: 'model unavailable',
    };
  }
  logger.error('request failed', { requestId, error: describeError(error), stack: error instanceof Error ? error.stack : undefined });
  return { response: jsonResponse(500, { error: 'Internal server error', requestId }), error: 'internal error' };
}
