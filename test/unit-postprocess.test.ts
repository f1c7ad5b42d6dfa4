import test from 'ava';
import type { Manifest } from '../functions/predict/manifest.js';
import { STRING_WRITER_MAX_VALUES, float32Text, float32ToNumber, predictionWriter } from '../functions/predict/postprocess.js';
import { irisManifest, regressionManifest } from './helpers/unit-manifests.js';

/** Deterministic pseudo-random 32-bit words (mulberry32), so a failure reproduces. */
function* words(seed: number, count: number): Generator<number> {
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    yield (x ^ (x >>> 14)) >>> 0;
  }
}

function randomFloat32s(seed: number, count: number): number[] {
  const bits = Uint32Array.from(words(seed, count));
  return [...new Float32Array(bits.buffer)].filter((v) => Number.isFinite(v));
}

test('float32ToNumber round-trips every random finite float32 bit pattern', (t) => {
  const values = randomFloat32s(42, 100_000);
  t.true(values.length > 99_000);
  const failures = values.filter((v) => Math.fround(float32ToNumber(v)) !== v);
  t.deepEqual(failures.slice(0, 5), []);
});

test('float32ToNumber round-trips random probabilities in [0, 1]', (t) => {
  const failures: number[] = [];
  for (const w of words(7, 50_000)) {
    const p = Math.fround(w / 0xffffffff);
    if (Math.fround(float32ToNumber(p)) !== p) failures.push(p);
  }
  t.deepEqual(failures, []);
});

test('float32ToNumber never uses more than 9 significant digits', (t) => {
  const significantDigits = (n: number) => n.toExponential().split('e')[0]!.replace(/[-.]/g, '').length;
  const long = randomFloat32s(3, 10_000).filter((v) => significantDigits(float32ToNumber(v)) > 9);
  t.deepEqual(long.slice(0, 5), []);
});

test('float32ToNumber shows a float32 0.97 as 0.97', (t) => {
  t.is(float32ToNumber(Math.fround(0.97)), 0.97);
});

test('float32ToNumber shows short forms of common probabilities', (t) => {
  for (const p of [0.1, 0.02, 0.01, 0.333333, 0.5, 1e-7, 123.456]) t.is(float32ToNumber(Math.fround(p)), p);
});

test('float32ToNumber keeps zero and exact integers', (t) => {
  t.is(float32ToNumber(0), 0);
  t.is(float32ToNumber(16_777_216), 16_777_216);
  t.is(float32ToNumber(-3), -3);
});

test('float32ToNumber keeps the float32 extremes', (t) => {
  for (const v of [3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45]) t.is(Math.fround(float32ToNumber(v)), v);
});

/** What the body showed before the digits were written by hand: JSON.stringify's text of the short double. */
function formatted(value: number): string {
  return Number.isFinite(value) ? String(float32ToNumber(value)) : 'null';
}

const regressionWriter = predictionWriter(regressionManifest(), 'price@3');

/**
 * The text the WebAssembly writer gives each value, from one regression body holding them all (more values than
 * the string writer takes).
 */
function writtenTexts(values: readonly number[]): string[] {
  const padded = values.length > STRING_WRITER_MAX_VALUES ? values : [...values, ...new Array<number>(STRING_WRITER_MAX_VALUES + 1 - values.length).fill(0)];
  const body = regressionWriter(Float32Array.from(padded), padded.length).body;
  return body.slice('{"prediction":['.length, body.indexOf(']')).split(',').slice(0, values.length);
}

/** The values whose text, from the string writer (`float32Text`) or the WebAssembly writer, is not `formatted`'s. */
function misformatted(values: readonly number[]): number[] {
  const texts = writtenTexts(values);
  return values.filter((v, i) => texts[i] !== formatted(v) || float32Text(v) !== formatted(v));
}

test('writes the text of float32ToNumber for random float32 bit patterns of both signs', (t) => {
  t.deepEqual(misformatted(randomFloat32s(11, 200_000)).slice(0, 5), []);
});

test('writes the text of float32ToNumber next to every power of ten', (t) => {
  const value = new Float32Array(1);
  const bits = new Uint32Array(value.buffer);
  const values: number[] = [];
  for (let k = -45; k <= 38; k++) {
    value[0] = Number(`1e${k}`);
    const centre = bits[0]!;
    for (let d = -64; d <= 64; d++) {
      bits[0] = centre + d;
      values.push(value[0]!, -value[0]!);
    }
  }
  t.deepEqual(misformatted(values).slice(0, 5), []);
});

test('writes the text of float32ToNumber for probabilities, and the forms the README shows', (t) => {
  t.deepEqual(misformatted(Array.from(words(5, 50_000), (w) => Math.fround(w / 0xffffffff))), []);
  const shown = ['0.9768071', '1.3650329e-7', '142.36209', '16777216', '1e+21', '-0.5'];
  const values = [0.9768071, 1.3650329e-7, 142.36209, 16_777_216, 1e21, -0.5].map(Math.fround);
  t.deepEqual(writtenTexts(values), shown);
  t.deepEqual(values.map(float32Text), shown);
});

test('writes zero as 0 and non-finite values as null', (t) => {
  const values = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  t.deepEqual(writtenTexts(values), ['0', '0', 'null', 'null', 'null']);
  t.deepEqual(values.map(float32Text), ['0', '0', 'null', 'null', 'null']);
});

test('writes values outside 1e-14 to 1e28, which JavaScript formats, in place among the others', (t) => {
  const values = [0.5, 1.362056723062387e-21, 0.25, -3.4028234663852886e38, 1.401298464324817e-45, 0.125].map(Math.fround);
  t.deepEqual(writtenTexts(values), values.map(formatted));
});

const iris = irisManifest();

/** The written body, parsed: the writer's output must be valid JSON in SPEC's shape. */
function toPredictResponse(manifest: Manifest, version: string, output: Float32Array, rows: number): Record<string, unknown> {
  return JSON.parse(predictionWriter(manifest, version)(output, rows).body) as Record<string, unknown>;
}

test('predicts the label of the highest probability for each row', (t) => {
  const output = Float32Array.from([0.97, 0.02, 0.01, 0.1, 0.2, 0.7, 0.05, 0.9, 0.05]);
  const response = toPredictResponse(iris, 'iris@1', output, 3);
  t.deepEqual(response['prediction'], ['setosa', 'virginica', 'versicolor']);
});

test('reports the highest probability as the confidence', (t) => {
  const output = Float32Array.from([0.97, 0.02, 0.01, 0.1, 0.2, 0.7]);
  t.deepEqual(toPredictResponse(iris, 'iris@1', output, 2)['confidence'], [0.97, 0.7]);
});

test('lists probabilities per row in label order', (t) => {
  const output = Float32Array.from([0.97, 0.02, 0.01, 0.1, 0.2, 0.7]);
  t.deepEqual(toPredictResponse(iris, 'iris@1', output, 2)['probabilities'], [
    [0.97, 0.02, 0.01],
    [0.1, 0.2, 0.7],
  ]);
});

test('picks the first label when probabilities tie', (t) => {
  const output = Float32Array.from([0.2, 0.4, 0.4, 0.5, 0.5, 0]);
  t.deepEqual(toPredictResponse(iris, 'iris@1', output, 2)['prediction'], ['versicolor', 'setosa']);
});

test('sets model_version for a classifier', (t) => {
  const response = toPredictResponse(iris, 'iris@1', Float32Array.from([1, 0, 0]), 1);
  t.is(response['model_version'], 'iris@1');
});

test('reads only the given number of rows', (t) => {
  const response = toPredictResponse(iris, 'iris@1', Float32Array.from([1, 0, 0, 0, 1, 0]), 1);
  t.deepEqual(response['prediction'], ['setosa']);
});

test('returns one number per row and no classifier fields for a regressor', (t) => {
  const response = toPredictResponse(regressionManifest(), 'price@3', Float32Array.from([1.5, -2.25, 1234.5]), 3);
  t.deepEqual(response, { prediction: [1.5, -2.25, 1234.5], model_version: 'price@3' });
});

test('shows regression values in their short float32 form', (t) => {
  const response = toPredictResponse(regressionManifest(), 'price@3', Float32Array.from([0.1]), 1);
  t.deepEqual(response['prediction'], [0.1]);
});

test('returns the confidences the metrics record, one per row', (t) => {
  const written = predictionWriter(iris, 'iris@1')(Float32Array.from([0.97, 0.02, 0.01, 0.1, 0.2, 0.7]), 2);
  t.deepEqual(written.confidences, [0.97, 0.7]);
});

test('returns the body\'s confidence texts for the metrics, from both writers', (t) => {
  const output = Float32Array.from(words(31, 3 * 256), (w) => w / 2 ** 32);
  const writer = predictionWriter(iris, 'iris@1');
  for (const rows of [1, 2, 8, 9, 100, 256]) {
    const written = writer(output, rows);
    const body = JSON.parse(written.body) as { confidence: number[] };
    t.is(written.confidenceText, written.confidences!.map(String).join(','), `${rows} rows`);
    t.deepEqual(JSON.parse(`[${written.confidenceText!}]`), body.confidence, `${rows} rows`);
  }
});

test('returns no confidence texts when a confidence is not finite, from both writers', (t) => {
  const writer = predictionWriter(iris, 'iris@1');
  for (const rows of [2, 100]) {
    const output = new Float32Array(3 * rows).fill(0.3);
    output[3] = Number.NaN;
    output[4] = Number.NaN;
    output[5] = Number.NaN;
    const written = writer(output, rows);
    t.is(written.confidenceText, undefined, `${rows} rows`);
    t.true(written.body.includes('null'));
  }
});

test('returns no confidences for a regressor', (t) => {
  t.is(predictionWriter(regressionManifest(), 'price@3')(Float32Array.from([1]), 1).confidences, undefined);
});

test('writes a NaN model output as null so the body stays valid JSON', (t) => {
  const response = toPredictResponse(regressionManifest(), 'price@3', Float32Array.from([Number.NaN, 2]), 2);
  t.deepEqual(response['prediction'], [null, 2]);
});

test('escapes labels as JSON strings', (t) => {
  const quoted = { ...iris, labels: ['say "hi"', 'back\\slash', 'plain'] };
  t.deepEqual(toPredictResponse(quoted, 'iris@1', Float32Array.from([0.9, 0.05, 0.05]), 1)['prediction'], ['say "hi"']);
});

/** The body as the writer built it from strings before it wrote bytes: the text it must still give. */
function referenceBody(manifest: Manifest, version: string, output: Float32Array, rows: number): string {
  const tail = `,"model_version":${JSON.stringify(version)}}`;
  if (manifest.task === 'regression') return `{"prediction":[${Array.from(output.subarray(0, rows), formatted).join(',')}]${tail}`;
  const labels = manifest.labels ?? [];
  const width = labels.length;
  const prediction: string[] = [];
  const confidence: string[] = [];
  const probabilities: string[] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from(output.subarray(r * width, (r + 1) * width));
    let best = 0;
    for (let c = 1; c < width; c++) if (row[c]! > row[best]!) best = c;
    prediction.push(JSON.stringify(labels[best]));
    confidence.push(formatted(row[best]!));
    probabilities.push(`[${row.map(formatted).join(',')}]`);
  }
  return `{"prediction":[${prediction.join(',')}],"confidence":[${confidence.join(',')}],"probabilities":[${probabilities.join(',')}]${tail}`;
}

/** Outputs of every kind: random bit patterns (tiny, huge, negative, NaN, infinite), zeros and probabilities. */
function mixedOutputs(seed: number, count: number): Float32Array {
  const bits = Uint32Array.from(words(seed, count));
  const values = new Float32Array(bits.buffer);
  const random = Float32Array.from(words(seed + 1, count), (w) => w / 2 ** 32);
  for (let i = 0; i < count; i += 3) values[i] = random[i]!;
  for (let i = 1; i < count; i += 17) values[i] = 0;
  return values;
}

test('writes the same body as the string writer for random outputs of a classifier', (t) => {
  const output = mixedOutputs(21, 3 * 4000);
  const writer = predictionWriter(iris, 'iris@1');
  for (const rows of [1, 2, 100, 256, 4000]) t.is(writer(output, rows).body, referenceBody(iris, 'iris@1', output, rows), `${rows} rows`);
});

test('writes the same body as the string writer for random outputs of a regressor', (t) => {
  const output = mixedOutputs(22, 5000);
  const manifest = regressionManifest();
  const writer = predictionWriter(manifest, 'price@3');
  for (const rows of [1, 100, 5000]) t.is(writer(output, rows).body, referenceBody(manifest, 'price@3', output, rows), `${rows} rows`);
});

test('writes labels and a model version outside ASCII as UTF-8 text', (t) => {
  const manifest = { ...iris, labels: ['setosa', 'versicolor 🌸', 'virginica é'] };
  const output = Float32Array.from([0.1, 0.7, 0.2, 0.1, 0.2, 0.7, 0.9, 0.05, 0.05]);
  const written = predictionWriter(manifest, 'iris@ü')(output, 3);
  t.is(written.body, referenceBody(manifest, 'iris@ü', output, 3));
  t.is(written.confidenceText, written.confidences!.map(String).join(','));
  t.deepEqual((JSON.parse(written.body) as Record<string, unknown>)['prediction'], ['versicolor 🌸', 'virginica é', 'setosa']);
  // Enough rows for the WebAssembly writer, which copies the labels' UTF-8 bytes.
  const many = Float32Array.from({ length: 3 * 20 }, (_, i) => output[i % 9]!);
  const fromBytes = predictionWriter(manifest, 'iris@ü')(many, 20);
  t.is(fromBytes.body, referenceBody(manifest, 'iris@ü', many, 20));
  t.is(fromBytes.confidenceText, fromBytes.confidences!.map(String).join(','));
});
