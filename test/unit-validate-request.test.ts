import test from 'ava';
import { InvalidRequestError, PayloadTooLargeError } from '../functions/predict/errors.js';
import { predictBodyScanner } from '../functions/predict/scan-predict-body.js';
import { featureSpec, parseJsonBody, parsePredictRequest, readPredictBody, type Batch } from '../functions/predict/validate-request.js';
import { irisManifest } from './helpers/unit-manifests.js';

const spec = featureSpec(irisManifest());
const smallSpec = featureSpec(irisManifest({ maxBatch: 3 }));
const scan = predictBodyScanner(spec);

/** A body as the handler reads it: the scanner for the common shapes, the general path for the rest. */
function parse(body: string): Batch {
  return readPredictBody(body, spec, scan);
}

function rejects(t: import('ava').ExecutionContext, body: string, ...parts: string[]): InvalidRequestError {
  const error = t.throws(() => parse(body), { instanceOf: InvalidRequestError });
  t.is(error.status, 400);
  for (const part of parts) t.true(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
  return error;
}

test('featureSpec lists the model name, features in manifest order, maxBatch and the expected summary', (t) => {
  t.is(spec.model, 'iris');
  t.deepEqual(spec.features, ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  t.deepEqual([...spec.index], [['sepal_length', 0], ['sepal_width', 1], ['petal_length', 2], ['petal_width', 3]]);
  t.is(spec.maxBatch, 256);
  t.is(spec.expected, '4: sepal_length, sepal_width, petal_length, petal_width');
});

test('featureSpec is frozen', (t) => {
  t.true(Object.isFrozen(spec));
});

test('parses a single row given as an array', (t) => {
  const batch = parse('{"features": [5.1, 3.5, 1.4, 0.2]}');
  t.is(batch.rows, 1);
  t.true(batch.data instanceof Float32Array);
  t.deepEqual([...batch.data], [5.1, 3.5, 1.4, 0.2].map(Math.fround));
});

test('places named features in manifest order whatever their order in the body', (t) => {
  const batch = parse('{"features": {"petal_width": 0.2, "sepal_length": 5.1, "petal_length": 1.4, "sepal_width": 3.5}}');
  t.is(batch.rows, 1);
  t.deepEqual([...batch.data], [5.1, 3.5, 1.4, 0.2].map(Math.fround));
});

test('parses a batch mixing array rows and named-feature rows, row-major', (t) => {
  const batch = parse(
    JSON.stringify({
      instances: [
        [1, 2, 3, 4],
        { petal_width: 8, petal_length: 7, sepal_width: 6, sepal_length: 5 },
        [9, 10, 11, 12],
      ],
    }),
  );
  t.is(batch.rows, 3);
  t.is(batch.data.length, 12);
  t.deepEqual([...batch.data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('accepts exactly maxBatch rows', (t) => {
  const batch = parsePredictRequest({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]] }, smallSpec);
  t.is(batch.rows, 3);
});

test('accepts negative numbers, zero and exponents', (t) => {
  const batch = parse('{"features": [-1.5, 0, 2e-3, 1E2]}');
  t.deepEqual([...batch.data], [-1.5, 0, 2e-3, 100].map(Math.fround));
});

test('names the row, its length and every expected feature for a row of the wrong length', (t) => {
  rejects(
    t,
    '{"instances": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4,5]]}',
    'instances[3] has 5 values; model iris expects 4: sepal_length, sepal_width, petal_length, petal_width',
  );
});

test('rejects a single row with too few values', (t) => {
  rejects(t, '{"features": [1, 2, 3]}', 'features has 3 values; model iris expects 4: sepal_length');
});

test('rejects an empty body', (t) => {
  const error = t.throws(() => parseJsonBody(''), { instanceOf: InvalidRequestError });
  t.is(error.status, 400);
  t.regex(error.message, /request body is empty/);
});

test('rejects a body of whitespace as empty', (t) => {
  const error = t.throws(() => parseJsonBody(' \n\t '), { instanceOf: InvalidRequestError });
  t.regex(error.message, /request body is empty/);
});

test('rejects a body that is not valid JSON and says how to fix it', (t) => {
  const error = t.throws(() => parseJsonBody('{"features": [1, 2,'), { instanceOf: InvalidRequestError });
  t.is(error.status, 400);
  t.regex(error.message, /request body is not valid JSON/);
  t.regex(error.message, /"features"/);
});

test('rejects a NaN token as invalid JSON', (t) => {
  const error = t.throws(() => parseJsonBody('{"features": [NaN, 1, 2, 3]}'), { instanceOf: InvalidRequestError });
  t.regex(error.message, /not valid JSON/);
});

test('rejects a number that overflows to Infinity', (t) => {
  rejects(t, '{"features": [1e999, 1, 2, 3]}', 'features[0] is Infinity', 'finite number');
});

test('rejects a negative number that overflows to -Infinity', (t) => {
  rejects(t, '{"features": [1, -1e999, 2, 3]}', 'features[1] is -Infinity');
});

test('rejects a number given as a string instead of coercing it', (t) => {
  rejects(t, '{"features": ["5.1", 3.5, 1.4, 0.2]}', 'features[0] is the string "5.1"', 'send numbers, not strings');
});

test('rejects a named feature given as a string', (t) => {
  rejects(t, '{"features": {"sepal_length": "5.1", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}', 'features.sepal_length is the string "5.1"');
});

test('rejects a null value', (t) => {
  rejects(t, '{"instances": [[1, 2, null, 4]]}', 'instances[0][2] is null');
});

test('rejects a boolean value', (t) => {
  rejects(t, '{"features": [1, true, 3, 4]}', 'features[1] is the boolean true');
});

test('rejects a nested array inside a row', (t) => {
  rejects(t, '{"features": [1, 2, [3], 4]}', 'features[2] is an array');
});

test('rejects an object value inside a row', (t) => {
  rejects(t, '{"features": [1, 2, 3, {"v": 4}]}', 'features[3] is an object');
});

test('rejects "__proto__" as an unknown feature name without polluting prototypes', (t) => {
  const json: unknown = JSON.parse('{"features": {"__proto__": 1, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}');
  const error = t.throws(() => parsePredictRequest(json, spec), { instanceOf: InvalidRequestError });
  t.true(error.message.includes('features has unknown feature "__proto__"'));
  t.is(Object.getPrototypeOf({}), Object.prototype);
  t.false('sepal_length' in {});
  t.is(({} as Record<string, unknown>)['__proto__'], Object.prototype);
});

test('rejects "constructor" as an unknown feature name', (t) => {
  rejects(t, '{"features": {"constructor": 1, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}}', 'unknown feature "constructor"');
});

test('rejects "toString" as an unknown feature name', (t) => {
  rejects(t, '{"features": {"toString": 1}}', 'unknown feature "toString"');
});

test('rejects an unknown feature name and lists the expected ones', (t) => {
  rejects(t, '{"instances": [{"sepal_length": 1, "sepal_width": 2, "petal_length": 3, "petal_width": 4, "colour": 5}]}', 'instances[0] has unknown feature "colour"; model iris expects 4: sepal_length');
});

test('names every missing feature of a named row', (t) => {
  rejects(t, '{"features": {"sepal_width": 3.5, "petal_length": 1.4}}', 'features is missing "sepal_length", "petal_width"; model iris expects 4');
});

test('rejects an empty named-feature object as missing every feature', (t) => {
  rejects(t, '{"features": {}}', 'features is missing "sepal_length", "sepal_width", "petal_length", "petal_width"');
});

test('rejects a body with neither features nor instances', (t) => {
  rejects(t, '{"inputs": [1, 2, 3, 4]}', 'neither "features" nor "instances"');
});

test('rejects a body with both features and instances', (t) => {
  rejects(t, '{"features": [1, 2, 3, 4], "instances": [[1, 2, 3, 4]]}', 'both "features" and "instances"');
});

test('does not take features from the prototype chain', (t) => {
  const json = Object.create({ features: [1, 2, 3, 4] }) as unknown;
  const error = t.throws(() => parsePredictRequest(json, spec), { instanceOf: InvalidRequestError });
  t.regex(error.message, /neither "features" nor "instances"/);
});

test('rejects instances that are not an array', (t) => {
  rejects(t, '{"instances": {"sepal_length": 1}}', 'instances is an object; it must be an array of rows');
});

test('rejects instances given as a string', (t) => {
  rejects(t, '{"instances": "1,2,3,4"}', 'instances is the string "1,2,3,4"');
});

test('rejects empty instances', (t) => {
  rejects(t, '{"instances": []}', 'instances is empty');
});

test('rejects more rows than maxBatch with a 413', (t) => {
  const error = t.throws(() => parsePredictRequest({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]] }, smallSpec), {
    instanceOf: PayloadTooLargeError,
  });
  t.is(error.status, 413);
  t.true(error.message.includes('instances has 4 rows; model iris accepts at most 3 per request (maxBatch)'));
});

test('rejects 257 rows under the default maxBatch of 256', (t) => {
  const rows = Array.from({ length: 257 }, () => [1, 2, 3, 4]);
  const error = t.throws(() => parsePredictRequest({ instances: rows }, spec), { instanceOf: PayloadTooLargeError });
  t.is(error.status, 413);
});

test('rejects a row that is a number', (t) => {
  rejects(t, '{"instances": [[1, 2, 3, 4], 7]}', 'instances[1] is 7; a row is an array of 4 numbers or an object of named features');
});

test('rejects a row that is null', (t) => {
  rejects(t, '{"features": null}', 'features is null; a row is an array of 4 numbers');
});

test('rejects a body that is an array', (t) => {
  rejects(t, '[[1, 2, 3, 4]]', 'request body is an array, not a JSON object');
});

test('rejects a body that is a string', (t) => {
  rejects(t, '"features"', 'request body is the string "features", not a JSON object');
});

test('rejects a body that is a number', (t) => {
  rejects(t, '42', 'request body is 42, not a JSON object');
});

test('rejects a body that is null', (t) => {
  rejects(t, 'null', 'request body is null, not a JSON object');
});

test('shortens a long string in the message', (t) => {
  const error = rejects(t, JSON.stringify({ features: ['x'.repeat(500), 1, 2, 3] }), `"${'x'.repeat(40)}..."`);
  t.false(error.message.includes('x'.repeat(41)));
});

test('rejects a finite number beyond the float32 range instead of sending Infinity to the model', (t) => {
  rejects(t, '{"features": [1e39, 1, 2, 3]}', 'features[0] is 1e+39, beyond the float32 range');
});

test('accepts the largest float32 value', (t) => {
  t.is(parse('{"features": [3.4028234663852886e38, 1, 2, 3]}').data[0], 3.4028234663852886e38);
});

test('refuses more rows than maxBatch with the same 413 when the body is read as the handler reads it', (t) => {
  const body = JSON.stringify({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]] });
  const error = t.throws(() => readPredictBody(body, smallSpec, predictBodyScanner(smallSpec)), { instanceOf: PayloadTooLargeError });
  t.true(error.message.includes('instances has 4 rows; model iris accepts at most 3 per request (maxBatch)'));
});

test('reads exactly maxBatch rows of a body', (t) => {
  const body = JSON.stringify({ instances: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]] });
  const batch = readPredictBody(body, smallSpec, predictBodyScanner(smallSpec));
  t.is(batch.rows, 3);
  t.deepEqual([...batch.data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});
