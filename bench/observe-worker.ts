/**
 * One process of the in-process part of `npm run bench`'s observe section: the shipped function bundle (`index.mjs`)
 * configured for one mode (plain, traced, captured, both) by its environment, as Lambda configures a function,
 * imported once and called warm, request after request, as a Lambda container serves them. The answer is checked
 * against golden.json and the mode's log lines are checked (a capture record where capture is on, none where it is
 * off) before anything is timed.
 *
 *   tsx bench/observe-worker.ts '<ObserveWorkerConfig as JSON>'
 *
 * The result goes to stderr as one JSON line (ObserveWorkerResult).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CAPTURE_RECORD_TYPE } from '../functions/contract/capture.js';
import { ENV, LAMBDA_ENV } from '../functions/contract/env.js';
import { httpEvent } from '../tools/http-api-event.js';
import { newTraceHeader } from '../tools/trace-header.js';
import { checkPrediction, readBundle, requestBody } from './bench-data.js';
import { modeSettings, type ObserveMode } from './observe-report.js';

export interface ObserveWorkerConfig {
  /** Folder holding the bundled `index.mjs` and its chunks, inside the project (onnxruntime-node from node_modules). */
  readonly functionDir: string;
  readonly bundleDir: string;
  readonly rows: number;
  readonly mode: ObserveMode;
  /** AWS_XRAY_DAEMON_ADDRESS of the traced modes: a UDP listener in the parent process. */
  readonly daemonAddress: string;
  /** Time for the timed requests; their count follows from it, within the bounds below. */
  readonly budgetMs: number;
  readonly minRequests: number;
  readonly maxRequests: number;
  /** Warm-up requests before anything is kept, cut short after `warmupMs`: V8 keeps optimising for thousands of calls. */
  readonly warmupCalls: number;
  readonly warmupMs: number;
}

export interface ObserveWorkerResult {
  /** µs from the call to the response, per timed request. */
  readonly responseUs: readonly number[];
  /** µs from the call to the end of the event-loop turn after the response, per timed request. */
  readonly totalUs: readonly number[];
  /** Bytes of log lines one request wrote (the last timed one). */
  readonly logBytes: number;
  /** Log lines one request wrote (the last timed one). */
  readonly logLines: number;
  /** Requests served traced, the check and warm-up included: each sends three stage spans. */
  readonly tracedRequests: number;
}

const config = JSON.parse(process.argv[2] ?? '') as ObserveWorkerConfig;
const { mode } = config;
const bundle = readBundle(config.bundleDir);
const eventText = JSON.stringify(
  httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(requestBody(bundle, config.rows, 'float32')), 'bench', true),
);
const context = { awsRequestId: 'bench-observe' };

/**
 * The log sink: the function writes its lines (EMF, capture records) to stdout, which is counted here instead of
 * written. Lines are kept only while `kept` is set, for the checks before timing.
 */
let loggedBytes = 0;
let loggedLines = 0;
let kept: string[] | undefined = [];
process.stdout.write = ((chunk: string | Uint8Array) => {
  loggedBytes += chunk.length;
  loggedLines += String(chunk).split('\n').length - 1;
  kept?.push(String(chunk));
  return true;
}) as typeof process.stdout.write;

type Response = { statusCode: number; body: string };
type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<Response>;

const { traced, captured } = modeSettings(mode);
process.env[ENV.MODEL_DIR] = config.bundleDir;
if (traced) process.env[LAMBDA_ENV.XRAY_DAEMON_ADDRESS] = config.daemonAddress;
if (captured) process.env[ENV.CAPTURE_SAMPLE_RATE] = '1';
const { handler } = (await import(pathToFileURL(path.join(config.functionDir, 'index.mjs')).href)) as { handler: Handler };

const now = () => performance.now();
/** The handler writes its metrics line and capture record in the next event-loop turn, after the response (app.ts). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
let tracedRequests = 0;
let lastAnswer: unknown;

/**
 * One request: untimed first, what Lambda's runtime client does between invocations (sets the invocation's trace
 * header in `_X_AMZN_TRACE_ID`, serializes the last answer, parses the event); then the call, timed to its answer
 * and to the end of the turn after it.
 */
async function call(): Promise<{ readonly responseUs: number; readonly totalUs: number; readonly bytes: number; readonly lines: number; readonly answer: Response }> {
  process.env[LAMBDA_ENV.TRACE_ID] = newTraceHeader();
  JSON.stringify(lastAnswer);
  const event = JSON.parse(eventText) as unknown;
  const bytesBefore = loggedBytes;
  const linesBefore = loggedLines;
  const t0 = now();
  const answer = await handler(event, context);
  const t1 = now();
  await nextTurn();
  const t2 = now();
  lastAnswer = answer;
  if (traced) tracedRequests += 1;
  return { responseUs: (t1 - t0) * 1000, totalUs: (t2 - t0) * 1000, bytes: loggedBytes - bytesBefore, lines: loggedLines - linesBefore, answer };
}

// Fail loudly before timing anything: the answer is right, and a capture record is written exactly when it should be.
kept = [];
const { answer } = await call();
if (answer.statusCode !== 200) throw new Error(`the ${mode} handler answered ${answer.statusCode}: ${answer.body.slice(0, 300)}`);
checkPrediction(bundle, config.rows, `handler (${mode})`, JSON.parse(answer.body) as Record<string, unknown>);
const records = kept.filter((line) => line.includes(`"_type":"${CAPTURE_RECORD_TYPE}"`)).length;
if (records !== (captured ? 1 : 0)) throw new Error(`the ${mode} handler wrote ${records} capture records for one request; expected ${captured ? 1 : 0}:\n${kept.join('').slice(-2000)}`);
if (kept.some((line) => /"level":"(WARN|ERROR)"/.test(line))) throw new Error(`the ${mode} handler logged a warning or an error:\n${kept.join('').slice(-2000)}`);
kept = undefined;

const deadline = now() + config.warmupMs;
let warmupUs = 0;
let warmupCalls = 0;
while (warmupCalls < config.warmupCalls && now() < deadline) {
  warmupUs += (await call()).totalUs;
  warmupCalls += 1;
}
const requests = Math.max(config.minRequests, Math.min(config.maxRequests, Math.floor((config.budgetMs * 1000) / Math.max(1, warmupUs / Math.max(1, warmupCalls)))));
const responseUs: number[] = [];
const totalUs: number[] = [];
let logBytes = 0;
let logLines = 0;
for (let i = 0; i < requests; i++) {
  const timed = await call();
  responseUs.push(timed.responseUs);
  totalUs.push(timed.totalUs);
  logBytes = timed.bytes;
  logLines = timed.lines;
}
const result: ObserveWorkerResult = { responseUs, totalUs, logBytes, logLines, tracedRequests };
process.stderr.write(`${JSON.stringify(result)}\n`);
