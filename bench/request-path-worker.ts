/**
 * One warm request-path case of `npm run bench`, in a process of its own: the shipped function bundle (`index.mjs`,
 * imported as Lambda imports it) against raw `session.run` on the same input, interleaved, with a hand-written
 * minimal handler as a third subject. Every answer is checked against golden.json before anything is timed.
 *
 *   tsx bench/request-path-worker.ts '<WorkerConfig as JSON>'
 *
 * The parent reads this process's stdout through a pipe, as Lambda's runtime reads a function's, so the handler's
 * EMF lines take the same synchronous write they take in Lambda. The result goes to stderr as one JSON line.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../functions/predict/model-session.js';
import { openNativeSession } from '../functions/predict/native-session.js';
import { httpEvent } from '../scripts/lambda-event.js';
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
   * handler's code for thousands of calls; a short warm-up times a mix of tiers (docs/PERFORMANCE.md).
   */
  readonly warmupCalls: number;
  readonly warmupMs: number;
  /** Also time the after-response work with the EMF line written and with it dropped. */
  readonly emf: boolean;
  /** Time only the headline pair (raw, handler): the A/B harness (bench/ab.ts) needs nothing else. */
  readonly pairOnly?: boolean;
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
  /** Absent for `oip-binary`, which has no hand-written counterpart here. */
  readonly naive?: Timing;
  /** Raw session.run in the naive handler's (or the native call's) loop, its baseline. */
  readonly naiveRaw: Timing;
  /**
   * onnxruntime-node's native call on a session of its own, in the naive handler's loop: what the handler calls
   * instead of session.run (functions/predict/native-session.ts), so the wrapper's share of the baseline shows.
   */
  readonly native: Timing;
  readonly emf?: { readonly written: Timing; readonly dropped: Timing; readonly lineBytes: number };
  readonly bodyBytes: number;
}

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const bundle = readBundle(config.bundleDir);
const { manifest } = bundle;
const binary = config.spelling === 'oip-binary';
/** The request: a `/predict` JSON body, or an infer request with binary FP32 rows (`oip-binary`). */
function request(): { body: Buffer; event: ReturnType<typeof httpEvent> } {
  if (config.spelling !== 'oip-binary') {
    const body = Buffer.from(requestBody(bundle, config.rows, config.spelling));
    return { body, event: httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, body, 'bench', true) };
  }
  const infer = binaryInferRequest(bundle, config.rows);
  const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(infer.headerLength), host: 'bench' };
  return { body: infer.body, event: httpEvent({ method: 'POST', url: `/v2/models/${manifest.name}/infer`, headers }, infer.body, 'bench', false) };
}
const { body, event } = request();
const context = { awsRequestId: 'bench-request' };
const width = manifest.features.length;

process.env['MODEL_DIR'] = config.bundleDir;
type Response = { statusCode: number; body: string; headers?: Record<string, string>; isBase64Encoded?: boolean };
type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<Response>;
const { handler } = (await import(pathToFileURL(path.join(config.functionDir, 'index.mjs')).href)) as { handler: Handler };

// The floor: the engine's own call on a prepared tensor (made once, reused), same session options as the function.
const session = await ort.InferenceSession.create(path.join(config.bundleDir, 'model.onnx'), sessionOptions(1));
const preparedFeeds = { [manifest.input]: new ort.Tensor('float32', Float32Array.from(bundle.rows(config.rows).flat()), [config.rows, width]) };
const fetches = [manifest.output];
const raw = () => session.run(preparedFeeds, fetches);

/**
 * What one writes without the kit: JSON.parse, Float32Array.from, session.run, JSON.stringify; no validation, no
 * metrics, doubles in the response. The same response shape, so the comparison is like for like. A session of its
 * own, as the handler has, so that each session runs once per round.
 */
const naiveSession = await ort.InferenceSession.create(path.join(config.bundleDir, 'model.onnx'), sessionOptions(1));
const labels = manifest.labels ?? [];
async function naive(e: { body?: string }): Promise<Response> {
  const request = JSON.parse(e.body ?? '') as { features?: number[]; instances?: number[][] };
  const rows = request.instances ?? [request.features ?? []];
  const output = (await naiveSession.run({ [manifest.input]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, width]) }, [manifest.output]))[manifest.output]!
    .data as Float32Array;
  if (manifest.task === 'regression') return { statusCode: 200, body: JSON.stringify({ prediction: Array.from(output), model_version: `${manifest.name}@${manifest.version}` }) };
  const probabilities = rows.map((_, r) => Array.from(output.subarray(r * labels.length, (r + 1) * labels.length)));
  const best = probabilities.map((p) => p.indexOf(Math.max(...p)));
  return {
    statusCode: 200,
    body: JSON.stringify({ prediction: best.map((b) => labels[b]), confidence: probabilities.map((p, r) => p[best[r]!]), probabilities, model_version: `${manifest.name}@${manifest.version}` }),
  };
}

/** The engine's native call, as the handler makes it, without session.run's wrapper and its setImmediate turn. */
const nativeSession = openNativeSession(path.join(config.bundleDir, 'model.onnx'), sessionOptions(1));
const nativeFetches = { [manifest.output]: null };
const native = async () => nativeSession.run(preparedFeeds, nativeFetches);

// Fail loudly before timing anything: every subject must give the model's answer for these rows.
const rawOutput = (await raw())[manifest.output]!.data as Float32Array;
checkPrediction(bundle, config.rows, 'raw session.run', rawOutput);
checkPrediction(bundle, config.rows, 'native run', (await native())[manifest.output]!.data as Float32Array);
for (const [name, answer] of [['handler', await handler(event, context)], ...(binary ? [] : [['hand-written handler', await naive(event)] as const])] as const) {
  if (answer.statusCode !== 200) throw new Error(`${name} answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
  checkPrediction(bundle, config.rows, name, binary ? binaryInferOutput(answer) : (JSON.parse(answer.body) as Record<string, unknown>));
}

const now = () => performance.now();
/** The handler writes its EMF line in the next event-loop turn, after Lambda has the response (app.ts). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const realWrite = process.stdout.write.bind(process.stdout);
let lineBytes = 0;
let dropped = 0;
/** Drops a line; the first few are measured (measuring every one would be work the write itself does not do). */
const dropWrite = ((chunk: string | Uint8Array) => {
  if (dropped++ < 16) lineBytes = Math.max(lineBytes, typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
  return true;
}) as typeof process.stdout.write;

/**
 * Lambda's runtime client, between two invocations, serializes the last answer (JSON.stringify) and parses the next
 * event (JSON.parse), besides its HTTP calls to the Runtime API. With `runtimeTurn` the bench does the same
 * JavaScript work, untimed, before every call of every subject, and the handler gets the freshly parsed event, as
 * in Lambda: each call then starts with the caches in the state an invocation finds them in, rather than right
 * after the same call.
 */
const eventText = JSON.stringify(event);
const lastAnswer = await handler(event, context);
function runtimeTurn(): unknown {
  JSON.stringify(lastAnswer);
  return JSON.parse(eventText) as unknown;
}

interface Subject {
  readonly name: string;
  /** Microseconds of one timed call. */
  run(): Promise<number>;
}
/**
 * One call, timed to its answer, then the next event-loop turn (where the handler writes its EMF line). The headline
 * pair runs with stdout writes dropped (`dropWrite`, installed for its whole loop, warm-up included): the line is
 * still built, not written. The write is a system call, and in this loop nothing else makes one between two calls,
 * so its cost, and the colder caches it leaves the next call, would land on the next call, whichever subject that
 * is; in Lambda the runtime's own HTTP calls to fetch the next event stand between. The `emf/*` cases time the
 * write on its own. Swapping `process.stdout.write` around every call instead cost the handler 3 to 4 µs of its
 * own (the call site in the handler saw two functions), which is the bench's doing, not the handler's.
 */
const timed = (name: string, call: (event: unknown) => Promise<unknown>): Subject => ({
  name,
  async run() {
    const next = config.runtimeTurn === true ? runtimeTurn() : event;
    const t = now();
    await call(next);
    const us = (now() - t) * 1000;
    await nextTurn();
    return us;
  },
});
/** Response plus the after-response work (the EMF line), with the line written or dropped at stdout. */
const fullTurn = (name: string, write: boolean): Subject => ({
  name,
  async run() {
    const next = config.runtimeTurn === true ? runtimeTurn() : event;
    if (!write) process.stdout.write = dropWrite;
    const t = now();
    await handler(next, context);
    await nextTurn();
    const us = (now() - t) * 1000;
    process.stdout.write = realWrite;
    return us;
  },
});

// Three loops: what runs between two calls changes a 30 µs figure, so the headline pair (raw, handler) alternates
// with nothing else; the hand-written handler and the native call share the second loop with raw.
const main: Subject[] = [timed('raw', raw), timed('handler', (next) => handler(next, context))];
const beside: Subject[] = binary ? [timed('raw', raw), timed('native', native)] : [timed('raw', raw), timed('native', native), timed('naive', (next) => naive(next as { body?: string }))];
const emfPair: Subject[] = [fullTurn('emf-written', true), fullTurn('emf-dropped', false)];

/**
 * Calls per subject in a row. Two sessions evict each other's working set from the CPU's caches: a raw call right
 * after a call on another session of the same model takes about 20 µs longer than one after a raw call (iris, one
 * row: 40 to 54 µs against 19 to 24 µs), more than the whole handler adds. Alternating call for call put that cost
 * on half of each subject's calls, so each p50 fell on the edge between two clusters. A Lambda container runs one
 * session, call after call; so each subject runs `RUN` calls in a row and the first of each run, which pays for
 * the switch, is not kept. The handler's calls still follow its own previous call and pay for whatever that call
 * left behind (its EMF line, written in the next turn, included).
 */
const RUN = 10;

/**
 * Runs the subjects in runs of `RUN` calls until each has made `warmupCalls` calls or `warmupMs` has passed, and
 * returns the time of one call of each, summed (what one round of `interleaved` costs per kept sample).
 */
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

process.stdout.write = dropWrite;
const roundUs = await warmUp(main);
// Enough requests for stable percentiles within the time budget (the warm-up shows what one round costs).
const requests = Math.max(config.minRequests, Math.min(config.maxRequests, Math.floor((config.budgetMs * 1000) / Math.max(1, roundUs))));
const fewer = Math.max(config.minRequests, Math.floor(requests / 2));
const [rawTiming, handlerTiming] = await interleaved(main, requests);
process.stdout.write = realWrite;
if (config.pairOnly !== true) await warmUp([...beside, ...(config.emf ? emfPair : [])]);
const [besideRaw, nativeTiming, naiveTiming] = config.pairOnly === true ? [rawTiming, rawTiming, rawTiming] : await interleaved(beside, fewer);
const emfTimings = config.emf && config.pairOnly !== true ? await interleaved(emfPair, fewer) : undefined;
const result: WorkerResult = {
  raw: rawTiming!,
  handler: handlerTiming!,
  ...(naiveTiming === undefined ? {} : { naive: naiveTiming }),
  naiveRaw: besideRaw!,
  native: nativeTiming!,
  ...(emfTimings === undefined ? {} : { emf: { written: emfTimings[0]!, dropped: emfTimings[1]!, lineBytes } }),
  bodyBytes: body.length,
};
process.stderr.write(`${JSON.stringify(result)}\n`);
