import test from 'ava';
import type { ExecutionContext } from 'ava';
import { InvalidRequestError, PayloadTooLargeError } from '../functions/predict/errors.js';
import type { ValueInfo } from '../functions/predict/manifest.js';
import { inferResponse, modelMetadata, oipDatatype, parseInferRequest } from '../functions/predict/oip.js';
import { irisManifest } from './helpers/unit-manifests.js';

const iris = irisManifest();
const small = irisManifest({ maxBatch: 2 });
const inputs: ValueInfo[] = [{ name: 'float_input', isTensor: true, type: 'float32', shape: ['N', 4] }];
const outputs: ValueInfo[] = [
  { name: 'label', isTensor: true, type: 'int64', shape: ['N'] },
  { name: 'probabilities', isTensor: true, type: 'float32', shape: ['N', 3] },
];

function body(tensor: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8], ...tensor }], ...extra };
}

function rejects(t: ExecutionContext, json: unknown, ...parts: string[]): void {
  const error = t.throws(() => parseInferRequest(json, iris, outputs), { instanceOf: InvalidRequestError });
  t.is(error.status, 400);
  for (const part of parts) t.true(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
}

test('parses flat data into a row-major batch', (t) => {
  const request = parseInferRequest(body(), iris, outputs);
  t.is(request.batch.rows, 2);
  t.true(request.batch.data instanceof Float32Array);
  t.deepEqual([...request.batch.data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('parses data nested to match the shape', (t) => {
  const request = parseInferRequest(body({ data: [[1, 2, 3, 4], [5, 6, 7, 8]] }), iris, outputs);
  t.deepEqual([...request.batch.data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('accepts FP64 data', (t) => {
  t.is(parseInferRequest(body({ datatype: 'FP64' }), iris, outputs).batch.rows, 2);
});

test('returns the request id when given', (t) => {
  t.is(parseInferRequest(body({}, { id: 'abc' }), iris, outputs).id, 'abc');
});

test('returns no id and no requested outputs when none are given', (t) => {
  const request = parseInferRequest(body(), iris, outputs);
  t.is(request.id, undefined);
  t.deepEqual(request.outputs, []);
});

test('returns the requested output names', (t) => {
  t.deepEqual(parseInferRequest(body({}, { outputs: [{ name: 'probabilities' }] }), iris, outputs).outputs, ['probabilities']);
});

test('rejects a body that is not an object', (t) => {
  rejects(t, [1, 2, 3, 4], 'request body must be a JSON object');
});

test('rejects an id that is not a string', (t) => {
  rejects(t, body({}, { id: 7 }), 'id must be a string');
});

test('rejects a request without inputs', (t) => {
  rejects(t, {}, 'inputs must be an array with exactly one tensor, "float_input"; got undefined');
});

test('rejects two input tensors', (t) => {
  rejects(t, { inputs: [body().inputs[0], body().inputs[0]] }, 'got 2 tensors');
});

test('rejects a wrong input name', (t) => {
  rejects(t, body({ name: 'input' }), 'inputs[0].name is "input"; model iris has one input, "float_input"');
});

test('rejects a datatype other than FP32 or FP64', (t) => {
  rejects(t, body({ datatype: 'INT64' }), 'inputs[0].datatype is "INT64"; use "FP32"');
});

test('rejects a shape with the wrong feature count', (t) => {
  rejects(t, body({ shape: [2, 5] }), 'inputs[0].shape is [2,5]; model iris expects [rows, 4]');
});

test('rejects a one-dimensional shape', (t) => {
  rejects(t, body({ shape: [8] }), 'inputs[0].shape is [8]');
});

test('rejects a shape with zero rows', (t) => {
  rejects(t, body({ shape: [0, 4], data: [] }), 'rows >= 1');
});

test('rejects a shape with a fractional row count', (t) => {
  rejects(t, body({ shape: [1.5, 4] }), 'inputs[0].shape is [1.5,4]');
});

test('rejects data longer than the shape', (t) => {
  rejects(t, body({ data: [1, 2, 3, 4, 5, 6, 7, 8, 9] }), 'inputs[0].data has 9 values; shape [2,4] needs 8');
});

test('rejects data shorter than the shape', (t) => {
  rejects(t, body({ data: [[1, 2, 3, 4]] }), 'inputs[0].data has 4 values; shape [2,4] needs 8');
});

test('rejects more rows than maxBatch with a 413', (t) => {
  const json = body({ shape: [3, 4], data: Array.from({ length: 12 }, () => 1) });
  const error = t.throws(() => parseInferRequest(json, small, outputs), { instanceOf: PayloadTooLargeError });
  t.is(error.status, 413);
  t.true(error.message.includes('asks for 3 rows; model iris accepts at most 2'));
});

test('rejects an infinite value', (t) => {
  rejects(t, JSON.parse('{"inputs":[{"name":"float_input","shape":[1,4],"datatype":"FP32","data":[1,2,1e999,4]}]}'), 'inputs[0].data[2] is Infinity; every value must be a finite number');
});

test('rejects a null value inside nested data and names its position', (t) => {
  rejects(t, body({ data: [[1, 2, 3, 4], [5, null, 7, 8]] }), 'inputs[0].data[1][1] is null');
});

test('rejects a number given as a string', (t) => {
  rejects(t, body({ data: [1, 2, 3, '4', 5, 6, 7, 8] }), 'inputs[0].data[3] is the string "4"');
});

test('rejects data that is not an array', (t) => {
  rejects(t, body({ data: 'AAAA' }), 'inputs[0].data must be an array of numbers');
});

test('rejects an unknown requested output and lists the model outputs', (t) => {
  rejects(t, body({}, { outputs: [{ name: 'scores' }] }), 'outputs[0].name is "scores"; model iris has outputs "label", "probabilities"');
});

test('rejects a requested output without a name', (t) => {
  rejects(t, body({}, { outputs: ['probabilities'] }), 'outputs[0].name is undefined');
});

test('rejects requested outputs that are not an array', (t) => {
  rejects(t, body({}, { outputs: { name: 'probabilities' } }), 'outputs must be an array');
});

test('does not accept a non-tensor output as a requested output', (t) => {
  const withZipMap: ValueInfo[] = [...outputs, { name: 'output_probability', isTensor: false }];
  const error = t.throws(() => parseInferRequest(body({}, { outputs: [{ name: 'output_probability' }] }), iris, withZipMap), { instanceOf: InvalidRequestError });
  t.true(error.message.endsWith('model iris has outputs "label", "probabilities"'), error.message);
});

test('inferResponse converts BigInt64Array data to numbers', (t) => {
  const response = inferResponse(iris, undefined, [{ name: 'label', type: 'int64', dims: [3], data: BigInt64Array.from([0n, 2n, 1n]) }]);
  t.deepEqual(response.outputs[0]!.data, [0, 2, 1]);
  t.is(response.outputs[0]!.datatype, 'INT64');
});

test('inferResponse returns float data flat with its OIP datatype and shape', (t) => {
  const response = inferResponse(iris, 'abc', [{ name: 'probabilities', type: 'float32', dims: [1, 3], data: Float32Array.from([0.5, 0.25, 0.25]) }]);
  t.deepEqual(response, {
    model_name: 'iris',
    model_version: '1',
    id: 'abc',
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: [0.5, 0.25, 0.25] }],
  });
});

test('inferResponse omits the id when the request had none', (t) => {
  t.false('id' in inferResponse(iris, undefined, []));
});

test('inferResponse survives JSON serialization of int64 data', (t) => {
  const response = inferResponse(iris, undefined, [{ name: 'label', type: 'int64', dims: [1], data: BigInt64Array.from([2n]) }]);
  t.is(JSON.stringify(response.outputs[0]!.data), '[2]');
});

test('modelMetadata describes name, version, platform and tensors', (t) => {
  t.deepEqual(modelMetadata(iris, inputs, outputs), {
    name: 'iris',
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ],
  });
});

test('modelMetadata leaves out non-tensor outputs', (t) => {
  const metadata = modelMetadata(iris, inputs, [...outputs, { name: 'output_probability', isTensor: false }]);
  t.deepEqual(
    metadata.outputs.map((o) => o.name),
    ['label', 'probabilities'],
  );
});

test('oipDatatype maps onnxruntime types to OIP names', (t) => {
  t.deepEqual(['float32', 'float64', 'int64', 'bool', 'string', 'uint8'].map(oipDatatype), ['FP32', 'FP64', 'INT64', 'BOOL', 'BYTES', 'UINT8']);
});

test('inferResponse writes float32 data in its shortest exact decimal form', (t) => {
  const response = inferResponse(irisManifest(), undefined, [{ name: 'probabilities', type: 'float32', dims: [1, 2], data: Float32Array.from([0.97, 0.03]) }]);
  t.deepEqual(response.outputs[0]!.data, [0.97, 0.03]);
});
