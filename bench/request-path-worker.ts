/**
 * One warm request-path case of `npm run bench`, in a process of its own: the shipped function bundle (`index.mjs`,
 * imported as Lambda imports it) against onnxruntime-node's public `session.run` on a prepared tensor, the same
 * call the handler makes, interleaved. Every answer is checked against golden.json before anything is timed.
 *
 *   tsx bench/request-path-worker.ts '<WorkerConfig as JSON>'
 *
 * The result goes to stderr as one JSON line.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { DEFAULT_INTRA_OP_THREADS, DEFAULT_MODEL_FILE, ENV } from '../functions/contract/env.js';
import { sessionOptions } from '../functions/predict/model-session.js';
import { httpEvent } from '../tools/http-api-event.js';
import { binaryInferOutput, binaryInferRequest, checkPrediction, percentile, readBundle, requestBody, type Spelling } from './bench-data.js';

export interface WorkerConfig {
  /** Folder holding the bundled `index.mjs`, inside the project so that it resolves onnxruntime-node from node_modules. */
  readonly functionDir: string;
  readonly bundleDir: string;
  readonly rows: number;
  readonly spelling: Spelling;
  /** Time to spend on the timed loop; the request count follows from it, within the bounds below. */
  readonly budgetMs: number;
  readonly minRequests: number;
  readonly maxRequests: number;
  /**
   * Warm-up calls per subject before anything is kept, cut short after `warmupMs`. V8 keeps optimising the
   * handler's code for thousands of calls; a short warm-up times a mix of tiers.
   */
  readonly warmupCalls: number;
  readonly warmupMs: number;
  /**
   * Before every timed call, do the JavaScript work Lambda's runtime client does between two invocations (see
   * `runtimeTurn` below). Off, the calls follow each other with nothing between.
   */
  readonly runtimeTurn?: boolean;
}

export interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export interface WorkerResult {
  /** Microseconds. */
  readonly raw: Timing;
  readonly handler: Timing;
  readonly bodyBytes: number;
}

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const bundle = readBundle(config.bundleDir);
const { manifest } = bundle;
const binary = config.spelling === 'oip-binary';

// The baseline: the public call on a prepared tensor (made once, reused), with the function's session options.
const session = await ort.InferenceSession.create(path.join(config.bundleDir, DEFAULT_MODEL_FILE), sessionOptions(DEFAULT_INTRA_OP_THREADS));
const input = manifest.input ?? session.inputNames[0]!;
const { output } = bundle;
const preparedFeeds = { [input]: new ort.Tensor('float32', bundle.values(config.rows), [config.rows, ...bundle.rowDims]) };
const fetches = [output];
const raw = () => session.run(preparedFeeds, fetches);

/** The request: a `/predict` JSON body, or an infer request with binary FP32 rows (`oip-binary`). */
function request(): { body: Buffer; event: ReturnType<typeof httpEvent> } {
  if (config.spelling !== 'oip-binary') {
    const body = Buffer.from(requestBody(bundle, config.rows, config.spelling));
    return { body, event: httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, body, 'bench', true) };
  }
  const infer = binaryInferRequest(bundle, config.rows, input, output);
  const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(infer.headerLength), host: 'bench' };
  return { body: infer.body, event: httpEvent({ method: 'POST', url: `/v2/models/${manifest.name}/infer`, headers }, infer.body, 'bench', false) };
}
const { body, event } = request();
const context = { awsRequestId: 'bench-request' };

process.env[ENV.MODEL_DIR] = config.bundleDir;
type Response = { statusCode: number; body: string; headers?: Record<string, string>; isBase64Encoded?: boolean };
type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<Response>;
const { handler } = (await import(pathToFileURL(path.join(config.functionDir, 'index.mjs')).href)) as { handler: Handler };

// Fail loudly before timing anything: both subjects must give the model's answer for these rows.
checkPrediction(bundle, config.rows, 'raw session.run', (await raw())[output]!.data as Float32Array);
const answer = await handler(event, context);
if (answer.statusCode !== 200) throw new Error(`handler answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
checkPrediction(bundle, config.rows, 'handler', binary ? binaryInferOutput(answer) : (JSON.parse(answer.body) as Record<string, unknown>));

const now = () => performance.now();
/** The handler writes its EMF line in the next event-loop turn, after Lambda has the response (app.ts). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Lambda's runtime client, between two invocations, serializes the last answer (JSON.stringify) and parses the next
 * event (JSON.parse), besides its HTTP calls to the Runtime API. With `runtimeTurn` the bench does the same
 * JavaScript work, untimed, before every call of both subjects, and the handler gets the freshly parsed event, as
 * in Lambda.
 */
const eventText = JSON.stringify(event);
function runtimeTurn(): unknown {
  JSON.stringify(answer);
  return JSON.parse(eventText) as unknown;
}

interface Subject {
  /** Microseconds of one timed call. */
  run(): Promise<number>;
}
/**
 * One call, timed to its answer, then the next event-loop turn. Writes to stdout are dropped for the whole loop
 * (the EMF line is still built, not written): in this loop nothing else makes a system call between two calls, so
 * the write's cost would land on the next call, whichever subject that is.
 */
const timed = (call: (event: unknown) => Promise<unknown>): Subject => ({
  async run() {
    const next = config.runtimeTurn === true ? runtimeTurn() : event;
    const t = now();
    await call(next);
    const us = (now() - t) * 1000;
    await nextTurn();
    return us;
  },
});

/**
 * Calls per subject in a row. Two sessions evict each other's working set from the CPU's caches, so alternating
 * call for call would put a switch on half of each subject's calls. A Lambda container runs one session, call after
 * call; so each subject runs `RUN` calls in a row and the first of each run, which pays for the switch, is not kept.
 */
const RUN = 10;

/** Runs the subjects in runs of `RUN` until each has made `warmupCalls` calls or `warmupMs` has passed; returns µs per round. */
async function warmUp(list: readonly Subject[]): Promise<number> {
  const deadline = now() + config.warmupMs;
  let calls = 0;
  let totalUs = 0;
  do {
    for (const subject of list) for (let call = 0; call < RUN; call++) totalUs += await subject.run();
    calls += RUN;
  } while (calls < config.warmupCalls && now() < deadline);
  return totalUs / calls;
}

/** Runs the subjects in runs of `RUN` calls until each has `count` kept samples, alternating which goes first. */
async function interleaved(list: readonly Subject[], count: number): Promise<Timing[]> {
  const samples = list.map(() => [] as number[]);
  const rounds = Math.ceil(count / (RUN - 1));
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < list.length; k++) {
      const index = (i + k) % list.length;
      for (let call = 0; call < RUN; call++) {
        const us = await list[index]!.run();
        if (call > 0) samples[index]!.push(us);
      }
    }
  }
  return samples.map((values) => ({ p50: percentile(values, 50), p99: percentile(values, 99), n: values.length }));
}

process.stdout.write = (() => true) as typeof process.stdout.write;
const pair = [timed(raw), timed((next) => handler(next, context))];
const roundUs = await warmUp(pair);
const requests = Math.max(config.minRequests, Math.min(config.maxRequests, Math.floor((config.budgetMs * 1000) / Math.max(1, roundUs))));
const [rawTiming, handlerTiming] = await interleaved(pair, requests);
const result: WorkerResult = { raw: rawTiming!, handler: handlerTiming!, bodyBytes: body.length };
process.stderr.write(`${JSON.stringify(result)}\n`);
