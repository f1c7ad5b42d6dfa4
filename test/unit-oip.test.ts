import test from 'ava';
import type { ExecutionContext } from 'ava';
import { InvalidRequestError, PayloadTooLargeError } from '../functions/predict/errors.js';
import type { ValueInfo } from '../functions/predict/manifest.js';
import { binaryInferWriter, inferBinaryResponse, inferRequestReader, inferResponse, modelMetadata, oipDatatype, parseInferRequest } from '../functions/predict/oip.js';
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

// The binary tensor data extension.

function binaryBody(values: Float32Array | Float64Array, tensor: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    inputs: [{ name: 'float_input', shape: [2, 4], datatype: values instanceof Float32Array ? 'FP32' : 'FP64', parameters: { binary_data_size: values.byteLength }, ...tensor }],
    ...extra,
  };
}

function bytesOf(values: Float32Array | Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

function rejectsBinary(t: ExecutionContext, json: unknown, binary: Buffer | undefined, ...parts: string[]): void {
  const error = t.throws(() => parseInferRequest(json, iris, outputs, binary), { instanceOf: InvalidRequestError });
  for (const part of parts) t.true(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
}

const eight = Float32Array.from([5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3]);

for (const length of ['abc', '0', '-5', '1.5', '999']) {
  test(`a reader rejects an Inference-Header-Content-Length of ${JSON.stringify(length)} for a 40-byte body`, (t) => {
    const read = inferRequestReader(iris, outputs);
    const request = { encodedBody: () => ({ text: Buffer.alloc(40).toString('base64'), base64: true }), body: () => '', header: () => length };
    const error = t.throws(() => read(request), { instanceOf: InvalidRequestError });
    t.is(error.message, `Inference-Header-Content-Length is ${JSON.stringify(length)} but the body has 40 bytes; set it to the byte length of the JSON object that starts the body`);
  });
}

test('reads FP32 binary data bit for bit', (t) => {
  const request = parseInferRequest(binaryBody(eight), iris, outputs, bytesOf(eight));
  t.deepEqual(request.batch.data, eight);
  t.is(request.batch.rows, 2);
});

test('reads binary data that is not 4-byte aligned in the body', (t) => {
  const unaligned = Buffer.concat([Buffer.alloc(1), bytesOf(eight)]).subarray(1);
  t.deepEqual(parseInferRequest(binaryBody(eight), iris, outputs, unaligned).batch.data, eight);
});

test('reads FP64 binary data as float32', (t) => {
  const doubles = Float64Array.from(eight);
  t.deepEqual(parseInferRequest(binaryBody(doubles), iris, outputs, bytesOf(doubles)).batch.data, eight);
});

test('rejects a binary_data_size that does not match the shape', (t) => {
  rejectsBinary(t, binaryBody(eight, { parameters: { binary_data_size: 16 } }), bytesOf(eight), 'inputs[0].parameters.binary_data_size is 16; shape [2,4] of FP32 needs 32 bytes');
});

test('rejects a binary part longer or shorter than binary_data_size', (t) => {
  rejectsBinary(t, binaryBody(eight), Buffer.concat([bytesOf(eight), Buffer.alloc(4)]), 'the body has 36 bytes after its JSON object; inputs[0].parameters.binary_data_size says 32');
  rejectsBinary(t, binaryBody(eight), bytesOf(eight).subarray(0, 28), 'the body has 28 bytes after its JSON object');
});

test('rejects binary_data_size without a binary part and names the header to send', (t) => {
  rejectsBinary(t, binaryBody(eight), undefined, 'Inference-Header-Content-Length');
});

test('rejects an input with both data and binary_data_size', (t) => {
  rejectsBinary(t, binaryBody(eight, { data: [...eight] }), bytesOf(eight), 'inputs[0] has both data and parameters.binary_data_size');
});

test('rejects bytes after the JSON object when no input declares binary data', (t) => {
  rejectsBinary(t, body(), Buffer.alloc(8), 'the body has 8 bytes after its JSON object, but inputs[0] declares no parameters.binary_data_size');
});

test('rejects NaN in binary data and names its row and column', (t) => {
  const bad = Float32Array.from(eight);
  bad[6] = Number.NaN;
  rejectsBinary(t, binaryBody(bad), bytesOf(bad), 'inputs[0] row 1, column 2 is NaN as float32; every value must be a finite float32');
});

test('rejects an FP64 value beyond the float32 range', (t) => {
  const doubles = Float64Array.from(eight);
  doubles[1] = 1e39;
  rejectsBinary(t, binaryBody(doubles), bytesOf(doubles), 'inputs[0] row 0, column 1 is Infinity as float32');
});

test('rejects a JSON value beyond the float32 range instead of sending Infinity to the model', (t) => {
  rejects(t, body({ data: [1, 2, 3, 4, 5, 6, 1e39, 8] }), 'inputs[0] row 1, column 2 is Infinity as float32');
});

test('asks for every output as binary with parameters.binary_data_output', (t) => {
  t.is(parseInferRequest(body({}, { parameters: { binary_data_output: true } }), iris, outputs).binaryOutputs, 'all');
});

test('asks for the outputs marked binary_data as binary, and none by default', (t) => {
  const request = parseInferRequest(body({}, { outputs: [{ name: 'label' }, { name: 'probabilities', parameters: { binary_data: true } }] }), iris, outputs);
  t.deepEqual([...(request.binaryOutputs as Set<string>)], ['probabilities']);
  t.deepEqual([...(parseInferRequest(body(), iris, outputs).binaryOutputs as Set<string>)], []);
});

test('lets an output\'s binary_data: false override binary_data_output', (t) => {
  const request = parseInferRequest(body({}, { parameters: { binary_data_output: true }, outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }] }), iris, outputs);
  t.deepEqual([...(request.binaryOutputs as Set<string>)], ['probabilities']);
});

test('rejects a binary_data flag that is not a boolean', (t) => {
  rejects(t, body({}, { outputs: [{ name: 'label', parameters: { binary_data: 'yes' } }] }), 'outputs[0].parameters.binary_data is "yes"; use true or false');
  rejects(t, body({}, { parameters: { binary_data_output: 1 } }), 'parameters.binary_data_output is 1; use true or false');
});

test('inferBinaryResponse puts binary outputs after the JSON object, in order, and leaves the others in JSON', (t) => {
  const probabilities = Float32Array.from([0.5, 0.25, 0.25]);
  const { bytes, headerBytes } = inferBinaryResponse(iris, 'abc', [
    { name: 'label', type: 'int64', dims: [1], data: BigInt64Array.from([2n]) },
    { name: 'probabilities', type: 'float32', dims: [1, 3], data: probabilities },
  ], new Set(['probabilities']));
  const header = JSON.parse(bytes.subarray(0, headerBytes).toString('utf8')) as Record<string, unknown>;
  t.deepEqual(header, {
    model_name: 'iris',
    model_version: '1',
    id: 'abc',
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [1], data: [2] },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 3], parameters: { binary_data_size: 12 } },
    ],
  });
  t.deepEqual(bytes.subarray(headerBytes), bytesOf(probabilities));
});

test('inferBinaryResponse writes int64 as 8 little-endian bytes and strings with a 4-byte length each', (t) => {
  const { bytes, headerBytes } = inferBinaryResponse(iris, undefined, [
    { name: 'label', type: 'int64', dims: [2], data: BigInt64Array.from([2n, 1n]) },
    { name: 'names', type: 'string', dims: [2], data: ['setosa', 'é'] },
  ], 'all');
  const binary = bytes.subarray(headerBytes);
  t.is(binary.readBigInt64LE(0), 2n);
  t.is(binary.readBigInt64LE(8), 1n);
  t.is(binary.readUInt32LE(16), 6);
  t.is(binary.subarray(20, 26).toString(), 'setosa');
  t.is(binary.readUInt32LE(26), 2);
  t.is(binary.subarray(30).toString(), 'é');
});

// One model's reader and writer, which keep the last JSON object they read or wrote.

/** An HTTP request with binary tensor data: the JSON object, then `values`. */
function binaryRequest(json: unknown, values: Float32Array | Float64Array | Buffer) {
  const header = Buffer.from(JSON.stringify(json));
  const bytes = Buffer.concat([header, Buffer.isBuffer(values) ? values : bytesOf(values)]);
  return {
    encodedBody: () => ({ text: bytes.toString('base64'), base64: true }),
    body: () => bytes.toString('utf8'),
    header: (name: string) => (name === 'inference-header-content-length' ? String(header.length) : undefined),
  };
}

test('a reader given the same JSON object again reads the new binary values, not the last ones', (t) => {
  const read = inferRequestReader(iris, outputs);
  t.deepEqual(read(binaryRequest(binaryBody(eight), eight)).batch.data, eight);
  const other = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const again = read(binaryRequest(binaryBody(eight), other));
  t.deepEqual(again.batch.data, other);
  t.is(again.batch.rows, 2);
});

test('a reader checks the binary part of every request, the JSON object it kept notwithstanding', (t) => {
  const read = inferRequestReader(iris, outputs);
  read(binaryRequest(binaryBody(eight), eight));
  const error = t.throws(() => read(binaryRequest(binaryBody(eight), bytesOf(eight).subarray(0, 28))), { instanceOf: InvalidRequestError });
  t.true(error.message.includes('the body has 28 bytes after its JSON object'));
  const bad = Float32Array.from(eight);
  bad[0] = Number.POSITIVE_INFINITY;
  t.throws(() => read(binaryRequest(binaryBody(eight), bad)), { instanceOf: InvalidRequestError, message: /row 0, column 0 is Infinity/ });
});

test('a reader reads a different JSON object anew after the one it kept', (t) => {
  const read = inferRequestReader(iris, outputs);
  read(binaryRequest(binaryBody(eight), eight));
  const one = eight.subarray(0, 4);
  t.is(read(binaryRequest(binaryBody(one, { shape: [1, 4] }), one)).batch.rows, 1);
  t.throws(() => read(binaryRequest(binaryBody(eight, { name: 'x' }), eight)), { instanceOf: InvalidRequestError, message: /inputs\[0\]\.name is "x"/ });
  t.is(read(binaryRequest(binaryBody(eight, {}, { id: 'second' }), eight)).id, 'second');
});

test('a reader reads a request without Inference-Header-Content-Length as JSON', (t) => {
  const read = inferRequestReader(iris, outputs);
  const json = JSON.stringify(body());
  const request = read({ encodedBody: () => t.fail('the bytes are not read') as never, body: () => json, header: () => undefined });
  t.deepEqual([...request.batch.data], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('a reader reads a binary body that the event carries as text', (t) => {
  // Four bytes 0x41 ("AAAA") are the float32 12.078431: a binary part that is valid UTF-8 may arrive as text.
  const values = new Float32Array(new Uint8Array(32).fill(0x41).buffer);
  const header = JSON.stringify(binaryBody(values));
  const read = inferRequestReader(iris, outputs);
  const request = read({ encodedBody: () => ({ text: header + 'A'.repeat(32), base64: false }), body: () => t.fail('read as bytes') as never, header: () => String(header.length) });
  t.deepEqual(request.batch.data, values);
});

for (const headerLength of [1, 2, 3, 4, 5, 6, 7, 8]) {
  test(`a reader reads the values bit for bit whatever the JSON object's length modulo 8 (${headerLength} spaces added)`, (t) => {
    const read = inferRequestReader(iris, outputs);
    const doubles = Float64Array.from([0.1, 1e-30, -3.5, 7, 8, 9, 10, 11]);
    for (const values of [eight, doubles]) {
      const header = Buffer.from(JSON.stringify(binaryBody(values)) + ' '.repeat(headerLength));
      const bytes = Buffer.concat([header, bytesOf(values)]);
      const request = read({ encodedBody: () => ({ text: bytes.toString('base64'), base64: true }), body: () => '', header: () => String(header.length) });
      t.deepEqual(request.batch.data, Float32Array.from(values));
    }
  });
}

const probabilityTensor = (data: Float32Array, rows = data.length / 3) => ({ name: 'probabilities', type: 'float32', dims: [rows, 3], data });

test('a binary writer gives the same bytes as inferBinaryResponse, the second time too, with the new values', (t) => {
  const write = binaryInferWriter(iris);
  for (const data of [Float32Array.from([0.5, 0.25, 0.25]), Float32Array.from([0.1, 0.2, 0.7])]) {
    t.deepEqual(write('abc', [probabilityTensor(data)], 'all'), inferBinaryResponse(iris, 'abc', [probabilityTensor(data)], 'all'));
  }
});

test('a binary writer writes a new JSON object when the id or a shape changes', (t) => {
  const write = binaryInferWriter(iris);
  const one = Float32Array.from([0.5, 0.25, 0.25]);
  const two = Float32Array.from([0.5, 0.25, 0.25, 0.1, 0.2, 0.7]);
  write('abc', [probabilityTensor(one)], 'all');
  t.deepEqual(write('def', [probabilityTensor(one)], 'all'), inferBinaryResponse(iris, 'def', [probabilityTensor(one)], 'all'));
  t.deepEqual(write(undefined, [probabilityTensor(one)], 'all'), inferBinaryResponse(iris, undefined, [probabilityTensor(one)], 'all'));
  t.deepEqual(write(undefined, [probabilityTensor(two)], 'all'), inferBinaryResponse(iris, undefined, [probabilityTensor(two)], 'all'));
});

test('a binary writer writes an output that is not asked as binary in JSON', (t) => {
  const write = binaryInferWriter(iris);
  const data = Float32Array.from([0.5, 0.25, 0.25]);
  write(undefined, [probabilityTensor(data)], 'all');
  const { bytes, headerBytes } = write(undefined, [probabilityTensor(data)], new Set());
  t.is(headerBytes, bytes.length);
  t.deepEqual((JSON.parse(bytes.toString('utf8')) as { outputs: { data: number[] }[] }).outputs[0]!.data, [0.5, 0.25, 0.25]);
});
