import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { compareGolden, parseGolden, GoldenFileError, type GoldenDifference, type GoldenRows } from '../../../commands/build/golden-rows.js';
import type { Invoker, InvokeResult } from '../../../commands/rollout/invoker.js';
import { goldenBatches, predictEvent, readBatchAnswer, runTrafficCheck, type TrafficCheckVerdict } from '../../../commands/rollout/traffic-check.js';
import { sendCanaryTraffic } from '../../../commands/rollout/traffic-check-canary.js';
import { GoldenRowsError, loadGoldenSet, type GoldenSet } from '../../../commands/rollout/traffic-check-golden.js';
import { readHttpEvent } from '../../../functions/predict/http-event.js';
import { httpEvent } from '../../../tools/http-api-event.js';
import { MODELS } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

const IRIS_TEXT = readFileSync(path.join(MODELS, 'iris', 'golden.json'), 'utf8');
const IRIS = parseGolden(IRIS_TEXT, 'models/iris/golden.json');
const IRIS_SET: GoldenSet = { model: 'iris@1', task: 'classification', maxBatch: 256, golden: IRIS, file: 'golden.json', sha256: '' };

// ---------------------------------------------------------------------------------------------------------------
// The comparison the build and the traffic check share.

const CLASSIFIER: GoldenRows = { inputs: [[1], [2], [3]], outputs: [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], tolerance: 1e-4, minTop1Agreement: undefined };
const SERVED = { served: 'probabilities', all: ['probabilities'] };

interface ComparisonCase {
  readonly title: string;
  readonly golden: GoldenRows;
  readonly task: string;
  readonly outputs: { readonly served: string | undefined; readonly all: readonly string[] };
  readonly answers: readonly (Readonly<Record<string, readonly number[]>>)[];
  readonly difference: GoldenDifference | undefined;
}

const COMPARISONS: readonly ComparisonCase[] = [
  { title: 'answers equal to golden pass', golden: CLASSIFIER, task: 'classification', outputs: SERVED, answers: CLASSIFIER.outputs.map((o) => ({ probabilities: o as number[] })), difference: undefined },
  {
    title: 'answers within the tolerance pass',
    golden: CLASSIFIER,
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.90009, 0.09991] }, { probabilities: [0.2, 0.8] }, { probabilities: [0.6, 0.4] }],
    difference: undefined,
  },
  {
    title: 'the first value beyond the tolerance is named, not the largest',
    golden: CLASSIFIER,
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.9, 0.1] }, { probabilities: [0.2002, 0.7998] }, { probabilities: [0.1, 0.9] }],
    difference: { kind: 'value', row: 1, output: 'probabilities', index: 0, got: 0.2002, expected: 0.2 },
  },
  {
    title: 'a row with another number of values is a width difference',
    golden: CLASSIFIER,
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.9, 0.1] }, { probabilities: [0.2, 0.7, 0.1] }, { probabilities: [0.6, 0.4] }],
    difference: { kind: 'width', row: 1, output: 'probabilities', got: 3, expected: 2 },
  },
  {
    title: 'a NaN is named before an earlier value beyond the tolerance',
    golden: CLASSIFIER,
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.5, 0.5] }, { probabilities: [0.2, 0.8] }, { probabilities: [Number.NaN, 0.4] }],
    difference: { kind: 'nan', row: 2, output: 'probabilities', index: 0 },
  },
  {
    title: 'a regressor is compared value by value',
    golden: { inputs: [[1], [2]], outputs: [142.5, 88], tolerance: 1e-4, minTop1Agreement: undefined },
    task: 'regression',
    outputs: { served: 'prediction', all: ['prediction'] },
    answers: [{ prediction: [142.5] }, { prediction: [88.01] }],
    difference: { kind: 'value', row: 1, output: 'prediction', index: 0, got: 88.01, expected: 88 },
  },
  {
    title: "a tensor model's golden row keyed by output name is compared output by output",
    golden: { inputs: [[1]], outputs: [{ score: [[0.3, 0.7]], embedding: [1, 2] }], tolerance: 1e-4, minTop1Agreement: undefined },
    task: 'tensor',
    outputs: { served: undefined, all: ['score', 'embedding'] },
    answers: [{ score: [0.3, 0.7], embedding: [1, 2.5] }],
    difference: { kind: 'value', row: 0, output: 'embedding', index: 1, got: 2.5, expected: 2 },
  },
  {
    title: 'a golden output the model does not answer with is named',
    golden: { inputs: [[1]], outputs: [{ logits: [1, 2] }], tolerance: 1e-4, minTop1Agreement: undefined },
    task: 'tensor',
    outputs: { served: undefined, all: ['score'] },
    answers: [{ score: [1, 2] }],
    difference: { kind: 'output', row: 0, output: 'logits', available: ['score'] },
  },
  {
    title: 'a golden row not keyed by name fits a model with one output only',
    golden: { inputs: [[1]], outputs: [[1, 2]], tolerance: 1e-4, minTop1Agreement: undefined },
    task: 'tensor',
    outputs: { served: undefined, all: ['score', 'embedding'] },
    answers: [{ score: [1, 2], embedding: [0] }],
    difference: { kind: 'output', row: 0, output: undefined, available: ['score', 'embedding'] },
  },
  {
    title: 'a quantized bundle passes with errors within its stated tolerance and enough agreeing labels',
    golden: { ...CLASSIFIER, tolerance: 0.05, minTop1Agreement: 0.6 },
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.88, 0.12] }, { probabilities: [0.21, 0.79] }, { probabilities: [0.6, 0.4] }],
    difference: undefined,
  },
  {
    title: 'a quantized bundle fails when too few best labels agree, even within its tolerance',
    golden: { ...CLASSIFIER, tolerance: 0.5, minTop1Agreement: 0.9 },
    task: 'classification',
    outputs: SERVED,
    answers: [{ probabilities: [0.9, 0.1] }, { probabilities: [0.2, 0.8] }, { probabilities: [0.4, 0.6] }],
    difference: { kind: 'top1', agreeing: 2, rows: 3, minTop1Agreement: 0.9 },
  },
];

for (const c of COMPARISONS) {
  test(`golden comparison: ${c.title}`, (t) => {
    const comparison = compareGolden(c.golden, c.task, c.outputs, (row, output) => c.answers[row]?.[output]);
    t.deepEqual(comparison.difference, c.difference);
  });
}

test('golden comparison: the largest difference and its row are reported beside the first one beyond the tolerance', (t) => {
  const answers = [[0.9, 0.1], [0.2002, 0.7998], [0.1, 0.9]];
  const comparison = compareGolden(CLASSIFIER, 'classification', SERVED, (row) => answers[row]);
  t.is(comparison.worstRow, 2);
  t.true(Math.abs(comparison.maxDiff - 0.5) < 1e-12);
  t.is(comparison.top1Agreement, 2 / 3);
});

const BAD_GOLDEN: readonly { readonly text: string; readonly message: RegExp }[] = [
  { text: '{', message: /^g\.json is not valid JSON/ },
  { text: '[1]', message: /^g\.json must hold a JSON object with "inputs" and "outputs"$/ },
  { text: '{"inputs":[[1]],"outputs":[]}', message: /must hold "inputs" and "outputs" arrays of the same non-zero length/ },
  { text: '{"inputs":[[1]],"outputs":[["a"]]}', message: /g\.json outputs\[0\] is \["a"\]; golden outputs are numbers, nested arrays of numbers, or an object/ },
  { text: '{"inputs":[[1]],"outputs":[1],"tolerance":2}', message: /"tolerance" is 2; it must be a number between 0 and 1/ },
  { text: '{"inputs":[[1]],"outputs":[1],"minTop1Agreement":0}', message: /"minTop1Agreement" is 0; it must be a share between 0 and 1/ },
];

for (const { text, message } of BAD_GOLDEN) {
  test(`golden.json ${text} is refused: ${message.source}`, (t) => {
    t.throws(() => parseGolden(text, 'g.json'), { instanceOf: GoldenFileError, message });
  });
}

test('golden.json without a tolerance gets 1e-4', (t) => {
  t.is(parseGolden('{"inputs":[[1]],"outputs":[1]}', 'g.json').tolerance, 1e-4);
});

// ---------------------------------------------------------------------------------------------------------------
// Events and batches.

test('the event is one the function reads as POST /predict with the JSON body, and has the fields of an HTTP API payload 2.0 event', (t) => {
  const body = JSON.stringify({ instances: [[1, 2, 3, 4]] });
  const event = predictEvent(body, 'req-1', new Date(Date.UTC(2026, 10, 27, 12, 0, 5)));
  const request = readHttpEvent(event);
  t.is(request.method, 'POST');
  t.is(request.path, '/predict');
  t.is(request.body(), body);
  t.is(request.header('content-type'), 'application/json');
  const reference = httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' } }, Buffer.from(body), 'req-1', true);
  const keys = (value: object): string[] => Object.keys(value).sort();
  t.deepEqual(keys(event), keys(reference), 'the project event builder (tools/http-api-event.ts) gives the same top-level fields');
  const context = event['requestContext'] as Record<string, unknown>;
  t.deepEqual(keys(context), keys(reference.requestContext));
  t.deepEqual(keys(context['http'] as object), keys(reference.requestContext.http));
  t.is(context['time'], '27/Nov/2026:12:00:05 +0000');
  t.is(context['requestId'], 'req-1');
});

const BATCHES: readonly { readonly title: string; readonly rows: number; readonly maxBatch: number; readonly limit: number | undefined; readonly expected: readonly [number, number][] }[] = [
  { title: 'rows up to maxBatch go in one request', rows: 45, maxBatch: 256, limit: undefined, expected: [[0, 45]] },
  { title: 'rows over maxBatch are split at maxBatch', rows: 45, maxBatch: 20, limit: undefined, expected: [[0, 20], [20, 20], [40, 5]] },
  { title: 'maxBatch 1 sends a row per request', rows: 3, maxBatch: 1, limit: undefined, expected: [[0, 1], [1, 1], [2, 1]] },
  { title: 'a batch whose event is over the payload limit is halved until it fits', rows: 45, maxBatch: 256, limit: 2500, expected: [[0, 23], [23, 22]] },
];

for (const { title, rows, maxBatch, limit, expected } of BATCHES) {
  test(`golden batches: ${title}`, (t) => {
    const batches = goldenBatches(IRIS.inputs.slice(0, rows), maxBatch, limit);
    t.deepEqual(batches.map((b) => [b.start, b.count]), expected);
    for (const batch of batches) {
      t.deepEqual(JSON.parse(batch.body), { instances: IRIS.inputs.slice(batch.start, batch.start + batch.count) });
      if (limit !== undefined) t.true(Buffer.byteLength(JSON.stringify(predictEvent(batch.body))) <= limit);
    }
  });
}

test('golden batches: a row whose event alone is over the payload limit cannot be sent, and the message says which', (t) => {
  t.throws(() => goldenBatches(IRIS.inputs, 256, 600), { instanceOf: GoldenRowsError, message: /golden row 0 alone makes an event of \d+ bytes, over Lambda's 600-byte synchronous payload limit/ });
});

// ---------------------------------------------------------------------------------------------------------------
// Reading an answer.

function httpAnswer(statusCode: number, body: unknown, base64 = false): InvokeResult {
  const text = JSON.stringify(body);
  return {
    statusCode: 200,
    functionError: undefined,
    payload: JSON.stringify({ statusCode, headers: { 'content-type': 'application/json' }, body: base64 ? Buffer.from(text).toString('base64') : text, isBase64Encoded: base64 }),
    executedVersion: '2',
  };
}

const ANSWERS: readonly { readonly title: string; readonly task: string; readonly result: InvokeResult; readonly expected: Record<string, unknown> }[] = [
  {
    title: 'a FunctionError is an error with the error object in one line',
    task: 'classification',
    result: { statusCode: 200, functionError: 'Unhandled', payload: '{"errorType":"TypeError","errorMessage":"boom\\n at x"}', executedVersion: '2' },
    expected: { kind: 'error', statusCode: 200, functionError: 'Unhandled', httpStatus: undefined, error: 'TypeError: boom at x' },
  },
  {
    title: 'an Invoke status other than 200 is an error',
    task: 'classification',
    result: { statusCode: 500, functionError: undefined, payload: 'internal', executedVersion: undefined },
    expected: { kind: 'error', statusCode: 500, functionError: undefined, httpStatus: undefined, error: 'the Invoke API answered 500: internal' },
  },
  {
    title: 'a payload that is not an HTTP response is an error',
    task: 'classification',
    result: { statusCode: 200, functionError: undefined, payload: '"hello"', executedVersion: '2' },
    expected: { kind: 'error', statusCode: 200, functionError: undefined, httpStatus: undefined, error: 'the function answered something other than an HTTP response: "hello"' },
  },
  {
    title: 'a 5xx answer is an error with the HTTP status and the message',
    task: 'classification',
    result: httpAnswer(503, { error: 'Model unavailable: x' }),
    expected: { kind: 'error', statusCode: 200, functionError: undefined, httpStatus: 503, error: 'HTTP 503: Model unavailable: x' },
  },
  {
    title: 'a 4xx answer is a refusal of the rows',
    task: 'classification',
    result: httpAnswer(400, { error: 'instances[0] has 4 values; model breast-cancer expects 30' }),
    expected: { kind: 'problem', problem: { kind: 'refused', firstRow: 0, lastRow: 1, httpStatus: 400, error: 'instances[0] has 4 values; model breast-cancer expects 30' } },
  },
  {
    title: 'a classifier answer without probabilities is not an answer of the golden kind',
    task: 'classification',
    result: httpAnswer(200, { prediction: [1, 2], model_version: 'd@1' }),
    expected: { kind: 'problem', problem: { kind: 'answer', firstRow: 0, lastRow: 1, problem: 'the body has no "probabilities" array; a classification model answers with one' } },
  },
  {
    title: 'an answer with another number of rows is not an answer of the golden kind',
    task: 'regression',
    result: httpAnswer(200, { prediction: [1], model_version: 'd@1' }),
    expected: { kind: 'problem', problem: { kind: 'answer', firstRow: 0, lastRow: 1, problem: '"prediction" has 1 rows for 2 golden rows' } },
  },
];

for (const { title, task, result, expected } of ANSWERS) {
  test(`reading an answer: ${title}`, (t) => {
    t.like(readBatchAnswer(task, result, 0, 1) as unknown as Record<string, unknown>, expected);
  });
}

test('reading an answer: a base64 body is decoded, null values read as NaN, and a tensor answer gives each output by row', (t) => {
  const answer = readBatchAnswer('tensor', httpAnswer(200, { outputs: { score: [[0.5, null]], label: [[true]] }, model_version: 't@1' }, true), 0, 0);
  if (answer.kind !== 'rows') return t.fail(JSON.stringify(answer));
  t.deepEqual(answer.outputs, { served: undefined, all: ['score', 'label'] });
  t.deepEqual(answer.values(0, 'score'), [0.5, Number.NaN]);
  t.deepEqual(answer.values(0, 'label'), [1]);
  t.is(answer.modelVersion, 't@1');
});

// ---------------------------------------------------------------------------------------------------------------
// The check against an in-process stand-in for the function: it reads each event as the handler does and answers
// the golden outputs of the rows it was sent, changed by `change`.

interface Call {
  readonly functionName: string;
  readonly qualifier: string;
  readonly rows: number;
}

function goldenFunction(golden: GoldenRows, options: { change?: (row: number, values: number[]) => number[]; fail?: (call: number) => InvokeResult | Error | undefined } = {}): { invoker: Invoker; calls: Call[] } {
  const calls: Call[] = [];
  const byInput = new Map(golden.inputs.map((input, row) => [JSON.stringify(input), row]));
  const invoker: Invoker = {
    async invoke(functionName, qualifier, event) {
      const request = readHttpEvent(event);
      const instances = (JSON.parse(request.body()) as { instances: unknown[] }).instances;
      calls.push({ functionName, qualifier, rows: instances.length });
      const failure = options.fail?.(calls.length);
      if (failure instanceof Error) throw failure;
      if (failure !== undefined) return failure;
      const probabilities = instances.map((input) => {
        const row = byInput.get(JSON.stringify(input))!;
        const values = golden.outputs[row] as number[];
        return options.change?.(row, [...values]) ?? values;
      });
      return httpAnswer(200, { prediction: probabilities.map(() => 'x'), probabilities, model_version: 'iris@1' });
    },
  };
  return { invoker, calls };
}

test('the check passes a version that answers every golden row, batch by batch within maxBatch, and says so', async (t) => {
  const { invoker, calls } = goldenFunction(IRIS);
  const verdict = await runTrafficCheck(invoker, { functionName: 'predict-iris', qualifier: '7', golden: { ...IRIS_SET, maxBatch: 20 } });
  t.like(verdict, { outcome: 'passed', rows: 45, invocations: 3, maxDiff: 0, tolerance: 1e-4, modelVersions: ['iris@1'], executedVersions: ['2'] });
  t.deepEqual(calls, [20, 20, 5].map((rows) => ({ functionName: 'predict-iris', qualifier: '7', rows })));
  t.is(verdict.message, 'version 7 of predict-iris answers the 45 golden rows of iris@1 within 0.0001 (largest difference 0.0e+0)');
});

test('the check fails a version whose answers differ, naming the first differing row, the index, got, expected and the tolerance', async (t) => {
  const { invoker } = goldenFunction(IRIS, { change: (row, values) => (row >= 30 ? values.map((v, i) => (i === 2 ? v + 0.01 : v)) : values) });
  const verdict = await runTrafficCheck(invoker, { functionName: 'predict-iris', qualifier: '8', golden: { ...IRIS_SET, maxBatch: 20 } });
  const expected = (IRIS.outputs[30] as number[])[2]!;
  t.like(verdict, { outcome: 'failed', tolerance: 1e-4, difference: { kind: 'value', row: 30, output: 'probabilities', index: 2, expected } });
  t.regex(verdict.message, /^version 8 of predict-iris answers the golden rows of iris@1 differently: row 30 "probabilities"\[2\] is [\d.e-]+; golden\.json gives [\d.e-]+, 1\.00e-2 away \(tolerance 0\.0001\)$/);
});

const CHECK_ERRORS: readonly { readonly title: string; readonly fail: InvokeResult | Error; readonly expected: Partial<TrafficCheckVerdict>; readonly message: RegExp }[] = [
  {
    title: 'a function that throws',
    fail: { statusCode: 200, functionError: 'Unhandled', payload: '{"errorType":"Error","errorMessage":"boom"}', executedVersion: '9' },
    expected: { outcome: 'error', statusCode: 200, functionError: 'Unhandled', firstRow: 20, lastRow: 39 },
    message: /^version 9 of f failed on golden rows 20 to 39 of iris@1: FunctionError Unhandled: Error: boom$/,
  },
  {
    title: 'a function that answers 503',
    fail: httpAnswer(503, { error: 'Model unavailable: gone' }),
    expected: { outcome: 'error', statusCode: 200, httpStatus: 503, functionError: undefined },
    message: /failed on golden rows 20 to 39 of iris@1: HTTP 503: Model unavailable: gone$/,
  },
  {
    title: 'an invocation Lambda refuses',
    fail: Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }),
    expected: { outcome: 'error', statusCode: undefined, functionError: undefined, error: 'TooManyRequestsException: Rate exceeded' },
    message: /^version 9 of f could not be invoked with golden rows 20 to 39 of iris@1: TooManyRequestsException: Rate exceeded$/,
  },
];

for (const { title, fail, expected, message } of CHECK_ERRORS) {
  test(`the check gives an error verdict, and stops invoking, for ${title}`, async (t) => {
    const { invoker, calls } = goldenFunction(IRIS, { fail: (call) => (call === 2 ? fail : undefined) });
    const verdict = await runTrafficCheck(invoker, { functionName: 'f', qualifier: '9', golden: { ...IRIS_SET, maxBatch: 20 } });
    t.like(verdict, { ...expected, invocations: 2 } as Record<string, unknown>);
    t.regex(verdict.message, message);
    t.is(calls.length, 2);
  });
}

test('the check fails a version that refuses the golden rows, with the status and the message', async (t) => {
  const { invoker } = goldenFunction(IRIS, { fail: () => httpAnswer(400, { error: 'instances[0] has 4 values; model breast-cancer expects 30: mean_radius, ...' }) });
  const verdict = await runTrafficCheck(invoker, { functionName: 'f', qualifier: 'live', golden: IRIS_SET });
  t.like(verdict, { outcome: 'failed', difference: { kind: 'refused', firstRow: 0, lastRow: 44, httpStatus: 400 } });
  t.is(verdict.message, 'alias live of f does not answer the golden rows of iris@1: golden rows 0 to 44 were refused with HTTP 400: instances[0] has 4 values; model breast-cancer expects 30: mean_radius, ...');
});

test('an aborted check rejects with the signal and invokes nothing more', async (t) => {
  const controller = new AbortController();
  const { invoker, calls } = goldenFunction(IRIS, {
    fail: () => {
      controller.abort(new Error('interrupted'));
      return undefined;
    },
  });
  await t.throwsAsync(runTrafficCheck(invoker, { functionName: 'f', qualifier: '2', golden: { ...IRIS_SET, maxBatch: 20 }, signal: controller.signal }), { message: 'interrupted' });
  t.is(calls.length, 1);
});

// ---------------------------------------------------------------------------------------------------------------
// The golden rows of a build.

async function buildFolder(t: ExecutionContext, golden: unknown, file: string | null = IRIS_TEXT): Promise<string> {
  const dir = await tempDir(t, 'golden-build-');
  await mkdir(dir, { recursive: true });
  if (file !== null) await writeFile(path.join(dir, 'golden.json'), file);
  await writeFile(path.join(dir, 'build.json'), JSON.stringify({ arch: 'arm64', model: { name: 'iris', version: '1', task: 'classification', maxBatch: 64, golden } }));
  return dir;
}

const IRIS_SHA = createHash('sha256').update(IRIS_TEXT).digest('hex');
const GOLDEN_RECORD = { rows: 45, tolerance: 1e-4, maxDiff: 0, file: 'dist/golden.json', sha256: IRIS_SHA };

test("a build's golden rows are read from beside its build.json, given the folder or the file, and checked against the recorded sha256", async (t) => {
  const dir = await buildFolder(t, GOLDEN_RECORD);
  for (const where of [dir, path.join(dir, 'build.json')]) {
    const load = loadGoldenSet(where);
    if (load.kind !== 'rows') return t.fail(JSON.stringify(load));
    t.like(load.set, { model: 'iris@1', task: 'classification', maxBatch: 64, file: path.join(dir, 'golden.json'), sha256: IRIS_SHA });
    t.deepEqual(load.set.golden, IRIS);
  }
});

test('a build without golden rows is refused with the fix, unless told to skip, and the skip gives the reason', async (t) => {
  const dir = await buildFolder(t, 'missing', null);
  t.throws(() => loadGoldenSet(dir, { howToSkip: 'pass --skip-golden-check' }), {
    instanceOf: GoldenRowsError,
    message: /build\.json says model\.golden is "missing": iris@1 was built with --allow-missing-golden, so there are no golden rows to send, and a version is not given traffic unchecked; add golden\.json to the bundle and rerun npm run build for the version you roll out, or pass --skip-golden-check$/,
  });
  t.like(loadGoldenSet(dir, { allowMissing: true }), { kind: 'skipped', reason: `${path.join(dir, 'build.json')} says model.golden is "missing": iris@1 was built with --allow-missing-golden, so there are no golden rows to send` });
});

const BAD_BUILDS: readonly { readonly title: string; readonly golden: unknown; readonly file?: string; readonly message: RegExp }[] = [
  { title: 'a golden file whose sha256 differs from the record', golden: GOLDEN_RECORD, file: IRIS_TEXT.replace('0.', '1.'), message: /golden\.json has sha256 [0-9a-f]{64}, but .*build\.json records [0-9a-f]{64}: the folder mixes files of two builds/ },
  { title: 'a record from before golden rows shipped', golden: { rows: 45, tolerance: 1e-4, maxDiff: 0 }, message: /model\.golden\.file is undefined; expected the golden\.json the build copied beside build\.json/ },
  { title: 'a sha256 that is not one', golden: { ...GOLDEN_RECORD, sha256: 'abc' }, message: /model\.golden\.sha256 is "abc"; expected 64 lowercase hex digits/ },
  { title: 'a golden file that is gone', golden: GOLDEN_RECORD, file: '', message: /golden\.json, the golden rows .*build\.json lists, cannot be read \(ENOENT/ },
];

for (const { title, golden, file, message } of BAD_BUILDS) {
  test(`the golden rows of a build are refused for ${title}`, async (t) => {
    const dir = await buildFolder(t, golden, file === '' ? null : file);
    t.throws(() => loadGoldenSet(dir), { instanceOf: GoldenRowsError, message });
  });
}

test('a folder without build.json is refused, naming the file', (t) => {
  t.throws(() => loadGoldenSet('/nonexistent/dist'), { instanceOf: GoldenRowsError, message: /^the build record \/nonexistent\/dist cannot be read/ });
});

// ---------------------------------------------------------------------------------------------------------------
// Canary traffic.

test('canary traffic sends the bounded number of one-row requests to the alias, cycling the golden rows, spread over the step', async (t) => {
  const versions = ['1', '2', '1', '1', '2'];
  const calls: { qualifier: string; body: string }[] = [];
  const invoker: Invoker = {
    async invoke(_functionName, qualifier, event) {
      calls.push({ qualifier, body: readHttpEvent(event).body() });
      const version = versions[calls.length - 1]!;
      const row = (calls.length - 1) % 3;
      const values = CLASSIFIER.outputs[row] as number[];
      const answered = version === '2' && row === 1 ? [0.5, 0.5] : values;
      return { ...httpAnswer(200, { probabilities: [answered] }), executedVersion: version };
    },
  };
  const sleeps: number[] = [];
  const counts = await sendCanaryTraffic(invoker, {
    functionName: 'f',
    alias: 'live',
    golden: { ...IRIS_SET, golden: CLASSIFIER },
    requests: 5,
    spreadMs: 60_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  t.deepEqual(calls.map((c) => c.qualifier), ['live', 'live', 'live', 'live', 'live']);
  t.deepEqual(calls.map((c) => JSON.parse(c.body) as unknown), [0, 1, 2, 0, 1].map((row) => ({ instances: [CLASSIFIER.inputs[row]] })));
  t.deepEqual(sleeps, [12_000, 12_000, 12_000, 12_000]);
  t.deepEqual(counts, {
    sent: 5,
    notInvoked: 0,
    stopped: false,
    byVersion: { '1': { matched: 3, differed: 0, refused: 0, failed: 0 }, '2': { matched: 0, differed: 2, refused: 0, failed: 0 } },
  });
});

test('canary traffic counts refusals, failures and invocations Lambda refused, and stops when aborted', async (t) => {
  const controller = new AbortController();
  const answers: (InvokeResult | Error)[] = [
    httpAnswer(400, { error: 'bad' }),
    { statusCode: 200, functionError: 'Unhandled', payload: '{}', executedVersion: '2' },
    new Error('Rate exceeded'),
    httpAnswer(200, { probabilities: [[0.9, 0.1]] }),
  ];
  let call = 0;
  const invoker: Invoker = {
    async invoke() {
      const answer = answers[call++]!;
      if (call === answers.length) controller.abort();
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  const counts = await sendCanaryTraffic(invoker, { functionName: 'f', alias: 'live', golden: { ...IRIS_SET, golden: CLASSIFIER }, requests: 10, spreadMs: 0, signal: controller.signal, sleep: async () => undefined });
  t.deepEqual(counts, { sent: 4, notInvoked: 1, stopped: true, byVersion: { '2': { matched: 1, differed: 0, refused: 1, failed: 1 } } });
});

for (const requests of [0, 1001, 2.5]) {
  test(`canary traffic refuses ${requests} requests, outside 1 to 1000`, async (t) => {
    const { invoker } = goldenFunction(IRIS);
    await t.throwsAsync(sendCanaryTraffic(invoker, { functionName: 'f', alias: 'live', golden: IRIS_SET, requests, spreadMs: 0 }), { instanceOf: RangeError, message: `requests is ${requests}; send from 1 to 1000 canary requests per step` });
  });
}
