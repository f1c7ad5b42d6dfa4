/**
 * The pre-traffic check (and the post-traffic one): a version (or the alias) is invoked directly with the bundle's
 * golden rows as `POST /predict` requests, in API Gateway HTTP API payload 2.0 events, and its answers are judged
 * by the build's own rules (commands/build/golden-rows.ts): every value within the bundle's tolerance, and for a
 * bundle that states `minTop1Agreement` the share of rows with the same best label. The result is a verdict, never
 * an exception, whatever the version answers: passed; failed, naming the first row that differs; or error, with
 * what Lambda or the function said.
 */
import { randomUUID } from 'node:crypto';
import { LATEST_VERSION } from '../../functions/contract/aws-names.js';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';
import { compareGolden, describeDifference, type AnsweredOutputs, type GoldenDifference, type GoldenRows } from '../build/golden-rows.js';
import type { Invoker, InvokeResult } from './invoker.js';
import { GoldenRowsError, type GoldenSet } from './traffic-check-golden.js';

/** The route the golden rows go to, and the user agent that marks these requests in the function's logs. */
export const PREDICT_PATH = '/predict';
export const TRAFFIC_CHECK_USER_AGENT = 'onnx-lambda-kit-traffic-check';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A `POST /predict` event as API Gateway HTTP API (payload 2.0) delivers it: every field the payload format
 * defines for a request without query string or cookies, the body as JSON text.
 */
export function predictEvent(body: string, requestId: string = randomUUID(), now: Date = new Date()): Record<string, unknown> {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(now.getUTCDate())}/${MONTHS[now.getUTCMonth()]}/${now.getUTCFullYear()}:${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} +0000`;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: PREDICT_PATH,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'user-agent': TRAFFIC_CHECK_USER_AGENT },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'traffic-check',
      domainName: 'traffic-check.invalid',
      domainPrefix: 'traffic-check',
      http: { method: 'POST', path: PREDICT_PATH, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: TRAFFIC_CHECK_USER_AGENT },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time,
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

/** Golden rows `start` to `start + count - 1`, as one `/predict` request. */
export interface GoldenBatch {
  readonly start: number;
  readonly count: number;
  readonly body: string;
}

function batchBody(inputs: readonly unknown[]): string {
  return JSON.stringify({ instances: inputs });
}

/**
 * Splits the golden rows into `/predict` requests of at most `maxBatch` rows whose events stay within Lambda's
 * synchronous payload limit (`payloadLimit` bytes). Throws GoldenRowsError when one row alone is over it.
 */
export function goldenBatches(inputs: readonly unknown[], maxBatch: number, payloadLimit: number = LAMBDA_LIMITS.syncPayloadBytes): GoldenBatch[] {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) throw new GoldenRowsError(`maxBatch is ${maxBatch}; it must be a whole number of rows, at least 1`);
  const batches: GoldenBatch[] = [];
  const split = (start: number, count: number): void => {
    const body = batchBody(inputs.slice(start, start + count));
    const bytes = Buffer.byteLength(JSON.stringify(predictEvent(body, randomUUID(), new Date(0))));
    if (bytes <= payloadLimit) {
      batches.push({ start, count, body });
      return;
    }
    if (count === 1) throw new GoldenRowsError(`golden row ${start} alone makes an event of ${bytes} bytes, over Lambda's ${payloadLimit}-byte synchronous payload limit; keep golden rows smaller`);
    const half = Math.ceil(count / 2);
    split(start, half);
    split(start + half, count - half);
  };
  for (let start = 0; start < inputs.length; start += maxBatch) split(start, Math.min(maxBatch, inputs.length - start));
  return batches;
}

/** How an answer failed to be a `/predict` answer of the golden model's kind. */
export type AnswerProblem =
  /** The function answered 4xx: it does not take these rows (another model's inputs, or a smaller maxBatch). */
  | { readonly kind: 'refused'; readonly firstRow: number; readonly lastRow: number; readonly httpStatus: number; readonly error: string }
  /** A 200 answer without the rows the golden model's task answers with. */
  | { readonly kind: 'answer'; readonly firstRow: number; readonly lastRow: number; readonly problem: string };

interface VerdictCommon {
  readonly functionName: string;
  readonly qualifier: string;
  /** The golden rows' model, `<name>@<version>` as build.json records it. */
  readonly model: string;
  readonly rows: number;
  /** Invocations made. */
  readonly invocations: number;
  /** The versions that answered (Lambda's ExecutedVersion), in order of first appearance. */
  readonly executedVersions: readonly string[];
  /** The `model_version`s the 200 answers named. */
  readonly modelVersions: readonly string[];
  /** One line for the rollout's output. */
  readonly message: string;
}

export interface PassedVerdict extends VerdictCommon {
  readonly outcome: 'passed';
  readonly tolerance: number;
  readonly maxDiff: number;
  readonly top1Agreement?: number;
  readonly minTop1Agreement?: number;
}

export interface FailedVerdict extends VerdictCommon {
  readonly outcome: 'failed';
  readonly tolerance: number;
  /** The first row that differs (or the top-1 agreement that falls short), or the answer that is not one. */
  readonly difference: GoldenDifference | AnswerProblem;
}

export interface ErrorVerdict extends VerdictCommon {
  readonly outcome: 'error';
  readonly firstRow: number;
  readonly lastRow: number;
  /** The Invoke API's StatusCode; undefined when the call itself failed. */
  readonly statusCode: number | undefined;
  readonly functionError: string | undefined;
  /** The HTTP status the function answered with, when it answered one. */
  readonly httpStatus: number | undefined;
  /** What Lambda or the function said. */
  readonly error: string;
}

export type TrafficCheckVerdict = PassedVerdict | FailedVerdict | ErrorVerdict;

export interface TrafficCheckOptions {
  readonly functionName: string;
  /** A version number, or the alias for the check after the last step. */
  readonly qualifier: string;
  readonly golden: GoldenSet;
  /** Stops between invocations; the check then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** "version 7 of f" or "alias live of f". */
export function qualified(functionName: string, qualifier: string): string {
  return `${/^\d+$/.test(qualifier) || qualifier === LATEST_VERSION ? 'version' : 'alias'} ${qualifier} of ${functionName}`;
}

function shorten(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** The error object of a failed function, or the text Lambda gave, in one line. */
function functionErrorText(payload: string): string {
  try {
    const json = JSON.parse(payload) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof json.errorMessage === 'string') return shorten(typeof json.errorType === 'string' ? `${json.errorType}: ${json.errorMessage}` : json.errorMessage);
  } catch {
    // not JSON: shown as it is
  }
  return shorten(payload === '' ? '(no payload)' : payload);
}

/** A number of an answer: null (how the function writes NaN and infinities) and anything else not numeric is NaN. */
function answerNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

function flatAnswer(value: unknown, into: number[] = []): number[] {
  if (Array.isArray(value)) for (const item of value) flatAnswer(item, into);
  else into.push(answerNumber(value));
  return into;
}

/** One batch's rows, output by output, as a 200 body holds them for the golden model's task; a string says what is wrong. */
export function answeredRows(task: string, body: unknown, rows: number): { readonly outputs: AnsweredOutputs; readonly values: (row: number, output: string) => number[] | undefined } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const record = body as Record<string, unknown>;
  const rowsOf = (field: string): unknown[] | string => {
    const value = record[field];
    if (!Array.isArray(value)) return `the body has no "${field}" array; a ${task} model answers with one`;
    if (value.length !== rows) return `"${field}" has ${value.length} rows for ${rows} golden rows`;
    return value;
  };
  if (task === 'classification' || task === 'regression') {
    const field = task === 'classification' ? 'probabilities' : 'prediction';
    const values = rowsOf(field);
    if (typeof values === 'string') return values;
    return { outputs: { served: field, all: [field] }, values: (row) => flatAnswer(values[row]) };
  }
  const outputs = record['outputs'];
  if (typeof outputs !== 'object' || outputs === null || Array.isArray(outputs)) return `the body has no "outputs" object; a ${task} model answers with one`;
  const byName = outputs as Record<string, unknown>;
  for (const [name, value] of Object.entries(byName)) {
    if (!Array.isArray(value) || value.length !== rows) return `output "${name}" has ${Array.isArray(value) ? value.length : 'no'} rows for ${rows} golden rows`;
  }
  return { outputs: { served: undefined, all: Object.keys(byName) }, values: (row, output) => flatAnswer((byName[output] as unknown[])[row]) };
}

/** What one invocation gave: the batch's row values, or why it gave none. */
type BatchAnswer =
  | { readonly kind: 'rows'; readonly outputs: AnsweredOutputs; readonly values: (row: number, output: string) => number[] | undefined; readonly modelVersion: string | undefined }
  | { readonly kind: 'problem'; readonly problem: AnswerProblem }
  | { readonly kind: 'error'; readonly statusCode: number | undefined; readonly functionError: string | undefined; readonly httpStatus: number | undefined; readonly error: string };

/** Reads one invocation's result for golden rows `firstRow` to `lastRow`, as the golden model's task answers. */
export function readBatchAnswer(task: string, result: InvokeResult, firstRow: number, lastRow: number): BatchAnswer {
  const error = (text: string, httpStatus?: number): BatchAnswer => ({ kind: 'error', statusCode: result.statusCode, functionError: result.functionError, httpStatus, error: text });
  if (result.functionError !== undefined) return error(functionErrorText(result.payload));
  if (result.statusCode !== 200) return error(`the Invoke API answered ${result.statusCode}: ${functionErrorText(result.payload)}`);
  let response: { statusCode?: unknown; body?: unknown; isBase64Encoded?: unknown };
  try {
    response = JSON.parse(result.payload) as typeof response;
  } catch {
    return error(`the function answered something other than an HTTP response: ${shorten(result.payload)}`);
  }
  if (typeof response !== 'object' || response === null || typeof response.statusCode !== 'number') {
    return error(`the function answered something other than an HTTP response: ${shorten(result.payload)}`);
  }
  const httpStatus = response.statusCode;
  const text = typeof response.body !== 'string' ? '' : response.isBase64Encoded === true ? Buffer.from(response.body, 'base64').toString('utf8') : response.body;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const message = typeof (body as { error?: unknown } | undefined)?.error === 'string' ? (body as { error: string }).error : shorten(text);
  if (httpStatus >= 400 && httpStatus < 500) return { kind: 'problem', problem: { kind: 'refused', firstRow, lastRow, httpStatus, error: shorten(message) } };
  if (httpStatus !== 200) return error(`HTTP ${httpStatus}: ${shorten(message)}`, httpStatus);
  const rows = answeredRows(task, body, lastRow - firstRow + 1);
  if (typeof rows === 'string') return { kind: 'problem', problem: { kind: 'answer', firstRow, lastRow, problem: rows } };
  const modelVersion = (body as { model_version?: unknown }).model_version;
  return { kind: 'rows', ...rows, modelVersion: typeof modelVersion === 'string' ? modelVersion : undefined };
}

function rowsText(first: number, last: number): string {
  return first === last ? `golden row ${first}` : `golden rows ${first} to ${last}`;
}

/** A problem with an answer, in words. */
export function describeProblem(problem: AnswerProblem): string {
  return problem.kind === 'refused'
    ? `${rowsText(problem.firstRow, problem.lastRow)} were refused with HTTP ${problem.httpStatus}: ${problem.error}`
    : `the answer to ${rowsText(problem.firstRow, problem.lastRow)} is not a /predict answer: ${problem.problem}`;
}

/**
 * Invokes `functionName` at `qualifier` with every golden row, batch after batch, and judges the answers. Anything
 * the function or Lambda answers becomes a verdict; it rejects only when `signal` aborts, or with GoldenRowsError
 * before invoking anything when a golden row alone is over Lambda's payload limit.
 */
export async function runTrafficCheck(invoker: Invoker, options: TrafficCheckOptions): Promise<TrafficCheckVerdict> {
  const { functionName, qualifier, golden: set, signal } = options;
  const { golden, task } = set;
  const who = qualified(functionName, qualifier);
  const executedVersions: string[] = [];
  const modelVersions: string[] = [];
  const answers: { readonly start: number; readonly outputs: AnsweredOutputs; readonly values: (row: number, output: string) => number[] | undefined }[] = [];
  const batches = goldenBatches(golden.inputs, set.maxBatch);
  let invocations = 0;
  const common = (message: string): VerdictCommon => ({ functionName, qualifier, model: set.model, rows: golden.inputs.length, invocations, executedVersions, modelVersions, message });

  for (const batch of batches) {
    signal?.throwIfAborted();
    const [first, last] = [batch.start, batch.start + batch.count - 1];
    let result: InvokeResult;
    try {
      invocations++;
      result = await invoker.invoke(functionName, qualifier, predictEvent(batch.body), signal);
    } catch (error) {
      if (signal?.aborted === true) throw error;
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { outcome: 'error', ...common(`${who} could not be invoked with ${rowsText(first, last)} of ${set.model}: ${text}`), firstRow: first, lastRow: last, statusCode: undefined, functionError: undefined, httpStatus: undefined, error: text };
    }
    if (result.executedVersion !== undefined && !executedVersions.includes(result.executedVersion)) executedVersions.push(result.executedVersion);
    const answer = readBatchAnswer(task, result, first, last);
    if (answer.kind === 'error') {
      const said = answer.functionError === undefined ? answer.error : `FunctionError ${answer.functionError}: ${answer.error}`;
      return { outcome: 'error', ...common(`${who} failed on ${rowsText(first, last)} of ${set.model}: ${said}`), firstRow: first, lastRow: last, statusCode: answer.statusCode, functionError: answer.functionError, httpStatus: answer.httpStatus, error: answer.error };
    }
    if (answer.kind === 'problem') {
      return { outcome: 'failed', ...common(`${who} does not answer the golden rows of ${set.model}: ${describeProblem(answer.problem)}`), tolerance: golden.tolerance, difference: answer.problem };
    }
    if (answer.modelVersion !== undefined && !modelVersions.includes(answer.modelVersion)) modelVersions.push(answer.modelVersion);
    answers.push({ start: batch.start, outputs: answer.outputs, values: answer.values });
  }

  // Every batch of one function answers with the same outputs; the first batch's names stand for all.
  const outputs = answers[0]!.outputs;
  const comparison = compareGolden(golden, task, outputs, (row, output) => {
    const batch = answers.findLast((a) => a.start <= row)!;
    return batch.outputs.all.includes(output) ? batch.values(row - batch.start, output) : undefined;
  });
  if (comparison.difference !== undefined) {
    const describe = describeDifference(comparison.difference, golden.tolerance);
    return { outcome: 'failed', ...common(`${who} answers the golden rows of ${set.model} differently: ${describe}`), tolerance: golden.tolerance, difference: comparison.difference };
  }
  const agreement = comparison.top1Agreement === undefined || golden.minTop1Agreement === undefined ? '' : `, top-1 agreement ${(comparison.top1Agreement * 100).toFixed(1)}% (floor ${golden.minTop1Agreement * 100}%)`;
  const passed = `${who} answers the ${golden.inputs.length} golden rows of ${set.model} within ${golden.tolerance} (largest difference ${comparison.maxDiff.toExponential(1)}${agreement})`;
  return {
    outcome: 'passed',
    ...common(passed),
    tolerance: golden.tolerance,
    maxDiff: comparison.maxDiff,
    ...(golden.minTop1Agreement === undefined ? {} : { top1Agreement: comparison.top1Agreement!, minTop1Agreement: golden.minTop1Agreement }),
  };
}

/** The golden rows of one answer, judged by the tolerance alone (a single row cannot show a top-1 agreement). */
export function oneRowGolden(golden: GoldenRows, row: number): GoldenRows {
  return { inputs: [golden.inputs[row]], outputs: [golden.outputs[row]!], tolerance: golden.tolerance, minTop1Agreement: undefined };
}
