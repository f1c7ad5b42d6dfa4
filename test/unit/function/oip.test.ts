import test from 'ava';
import { InvalidRequestError, PayloadTooLargeError } from '../../../functions/predict/errors.js';
import type { ServedModel } from '../../../functions/predict/manifest.js';
import { MAX_ID_CHARS, inferResponse, modelMetadata, parseInferRequest, readInferRequest } from '../../../functions/predict/oip.js';
import { IRIS_INPUTS, IRIS_OUTPUTS, limitsFor, outputs, servedIris, servedTensorModel, tensor } from '../../helpers/unit-manifests.js';

// The Open Inference Protocol's infer requests and responses, against models described by onnxruntime-style
// metadata (no session): JSON tensors of every datatype, and the binary tensor data extension.

const iris = servedIris();
const sequence = servedTensorModel('sequence', [tensor('input_ids', 'int64', ['batch', 'seq']), tensor('attention_mask', 'int64', ['batch', 'seq'])], [tensor('pooled', 'float32', ['batch'])]);
const TYPES: [string, string, unknown[], unknown[]][] = [
  ['float32', 'FP32', [0.5, -2], [0.5, -2]],
  ['float64', 'FP64', [0.1, 1e300], [0.1, 1e300]],
  ['float16', 'FP16', [0.5, -2], [0x3800, 0xc000]],
  ['int8', 'INT8', [-128, 127], [-128, 127]],
  ['int16', 'INT16', [-32768, 32767], [-32768, 32767]],
  ['int32', 'INT32', [-5, 7], [-5, 7]],
  ['int64', 'INT64', [-(2 ** 53 - 1), 3], [-(2n ** 53n - 1n), 3n]],
  ['uint8', 'UINT8', [0, 255], [0, 255]],
  ['uint16', 'UINT16', [0, 65535], [0, 65535]],
  ['uint32', 'UINT32', [0, 4294967295], [0, 4294967295]],
  ['uint64', 'UINT64', [0, 2 ** 53 - 1], [0n, 2n ** 53n - 1n]],
  ['bool', 'BOOL', [true, false], [1, 0]],
  ['string', 'BYTES', ['red', 'grün'], ['red', 'grün']],
];
const allTypes = servedTensorModel(
  'all-types',
  TYPES.map(([type]) => tensor(`in_${type}`, type, ['batch', 2])),
  TYPES.map(([type]) => tensor(`out_${type}`, type, ['batch', 2])),
);

function parse(model: ServedModel, json: unknown, binary?: Uint8Array, limits = limitsFor(model)) {
  return parseInferRequest(json, binary, model, limits);
}

function irisBody(tensorFields: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return { inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8], ...tensorFields }], ...extra };
}

function values(request: ReturnType<typeof parse>, name: string): unknown[] {
  return Array.from(request.inputs.tensors.get(name)!.data as ArrayLike<unknown>);
}

test('metadata lists every tensor input and output with its OIP datatype, -1 for dynamic dimensions', (t) => {
  t.deepEqual(modelMetadata(iris, IRIS_INPUTS, IRIS_OUTPUTS), {
    name: 'iris',
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'float_input', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ],
  });
  const meta = modelMetadata(allTypes, TYPES.map(([type]) => tensor(`in_${type}`, type, ['batch', 2])), []);
  t.deepEqual(meta.inputs.map((i) => i.datatype), TYPES.map(([, datatype]) => datatype));
});

test('reads flat and nested data into a row-major tensor, and FP64 values for an FP32 input', (t) => {
  for (const body of [irisBody(), irisBody({ data: [[1, 2, 3, 4], [5, 6, 7, 8]] }), irisBody({ datatype: 'FP64' })]) {
    const request = parse(iris, body);
    t.is(request.inputs.rows, 2);
    t.deepEqual(request.inputs.tensors.get('float_input')!.dims, [2, 4]);
    t.true(request.inputs.tensors.get('float_input')!.data instanceof Float32Array);
    t.deepEqual(values(request, 'float_input'), [1, 2, 3, 4, 5, 6, 7, 8]);
  }
});

test('returns every tensor output by default, the requested ones otherwise, with their binary flags', (t) => {
  const plain = parse(iris, irisBody({}, { id: 'abc' }));
  t.is(plain.id, 'abc');
  t.deepEqual(plain.outputs, ['label', 'probabilities']);
  t.deepEqual(plain.binaryOutputs, new Set());
  t.is(parse(iris, irisBody({}, { parameters: { binary_data_output: true } })).binaryOutputs, 'all');
  const some = parse(iris, irisBody({}, { parameters: { binary_data_output: true }, outputs: [{ name: 'probabilities' }, { name: 'label', parameters: { binary_data: false } }] }));
  t.deepEqual(some.outputs, ['probabilities', 'label']);
  t.deepEqual(some.binaryOutputs, new Set(['probabilities']));
});

test('takes every input datatype as JSON, BYTES as strings', (t) => {
  const request = parse(allTypes, { inputs: TYPES.map(([type, datatype, data]) => ({ name: `in_${type}`, shape: [1, 2], datatype, data })) });
  for (const [type, , , stored] of TYPES) t.deepEqual(values(request, `in_${type}`), stored, type);
});

/** Little-endian bytes of one binary input, as Triton's client sends them. */
function binaryOf(type: string, data: unknown[]): Buffer {
  switch (type) {
    case 'float32':
      return Buffer.from(Float32Array.from(data as number[]).buffer);
    case 'float64':
      return Buffer.from(Float64Array.from(data as number[]).buffer);
    case 'float16':
      return Buffer.from(Uint16Array.from([0x3800, 0xc000]).buffer);
    case 'int8':
      return Buffer.from(Int8Array.from(data as number[]).buffer);
    case 'int16':
      return Buffer.from(Int16Array.from(data as number[]).buffer);
    case 'int32':
      return Buffer.from(Int32Array.from(data as number[]).buffer);
    case 'int64':
      return Buffer.from(BigInt64Array.from((data as number[]).map(BigInt)).buffer);
    case 'uint8':
      return Buffer.from(Uint8Array.from(data as number[]).buffer);
    case 'uint16':
      return Buffer.from(Uint16Array.from(data as number[]).buffer);
    case 'uint32':
      return Buffer.from(Uint32Array.from(data as number[]).buffer);
    case 'uint64':
      return Buffer.from(BigUint64Array.from((data as number[]).map(BigInt)).buffer);
    case 'bool':
      return Buffer.from((data as boolean[]).map((b) => (b ? 1 : 0)));
    default:
      return Buffer.concat((data as string[]).flatMap((s) => {
        const text = Buffer.from(s, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(text.length);
        return [length, text];
      }));
  }
}

test('takes every input datatype as binary data, in the order the inputs are listed', (t) => {
  const parts = TYPES.map(([type, , data]) => binaryOf(type, data));
  const json = { inputs: TYPES.map(([type, datatype], i) => ({ name: `in_${type}`, shape: [1, 2], datatype, parameters: { binary_data_size: parts[i]!.length } })) };
  // An odd offset: the values must be copied out, never read in place.
  const binary = Buffer.concat([Buffer.from([0]), ...parts]).subarray(1);
  const request = parse(allTypes, json, binary);
  for (const [type, , , stored] of TYPES) t.deepEqual(values(request, `in_${type}`), stored, type);
  binary.fill(0);
  t.deepEqual(values(request, 'in_int32'), [-5, 7]);
});

function refused(t: import('ava').ExecutionContext, model: ServedModel, json: unknown, fragments: string[], binary?: Uint8Array, status: 400 | 413 = 400) {
  const error = t.throws(() => parse(model, json, binary), { instanceOf: status === 400 ? InvalidRequestError : PayloadTooLargeError });
  for (const fragment of fragments) t.true(error.message.includes(fragment), `${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
  return error.message;
}

const REFUSALS: [string, ServedModel, unknown, string[]][] = [
  ['a body that is not an object', iris, [1, 2], ['request body is an array of 2']],
  ['an id that is not a string', iris, irisBody({}, { id: 7 }), ['id is 7']],
  ['an id too long to echo', iris, irisBody({}, { id: 'x'.repeat(MAX_ID_CHARS + 1) }), [`at most ${MAX_ID_CHARS} characters`]],
  ['no inputs', iris, {}, ['inputs is missing']],
  ['an unknown input name', iris, irisBody({ name: 'input' }), ['inputs[0].name is "input"; model iris has inputs "float_input"']],
  ['a repeated input', iris, { inputs: [irisBody().inputs[0], irisBody().inputs[0]] }, ['inputs[1] repeats input "float_input" of inputs[0]']],
  ['a missing input', sequence, { inputs: [{ name: 'input_ids', shape: [1, 2], datatype: 'INT64', data: [1, 2] }] }, ['inputs has no "attention_mask"']],
  ['a datatype of another type', iris, irisBody({ datatype: 'INT64' }), ['inputs[0].datatype is the string "INT64"; input "float_input" is FP32: use "FP32"']],
  ['an unknown datatype', iris, irisBody({ datatype: 'FLOAT' }), ['use "FP32" (an OIP datatype such as FP32']],
  ['a shape that is not a list of sizes', iris, irisBody({ shape: [2, -4] }), ['inputs[0].shape[1] is -4']],
  ['a shape of the wrong rank', iris, irisBody({ shape: [8] }), ['inputs[0] has 1 dimensions [8]; input "float_input" of model iris has 2']],
  ['a fixed dimension that differs', iris, irisBody({ shape: [4, 2] }), ['inputs[0] has size 2 in dimension 1 [4, 2]', 'needs 4 there']],
  ['data shorter than the shape', iris, irisBody({ shape: [3, 4] }), ['inputs[0].data has 8 values; shape [3, 4] needs 12']],
  ['data longer than the shape', iris, irisBody({ shape: [1, 4] }), ['inputs[0].data holds more than the 4 values its "shape" gives']],
  ['data nested deeper than the shape', iris, irisBody({ data: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]] }), ['nested deeper than the 2 dimensions']],
  ['a string in FP32 data', iris, irisBody({ data: [1, 2, 3, '4', 5, 6, 7, 8] }), ['inputs[0].data[3] is the string "4"']],
  [
    'inputs that disagree on a symbolic dimension',
    sequence,
    { inputs: [{ name: 'input_ids', shape: [1, 3], datatype: 'INT64', data: [1, 2, 3] }, { name: 'attention_mask', shape: [1, 2], datatype: 'INT64', data: [1, 1] }] },
    ['inputs[1] has size 2 in dimension 1 ("seq") but inputs[0] dimension 1 has 3'],
  ],
  ['both data and binary_data_size', iris, irisBody({ parameters: { binary_data_size: 32 } }), ['has both data and parameters.binary_data_size']],
  ['neither data nor binary_data_size', iris, irisBody({ data: undefined }), ['inputs[0] has no data']],
  ['binary_data_size without a binary part', iris, irisBody({ data: undefined, parameters: { binary_data_size: 32 } }), ['the request has no binary part']],
  ['an unknown output', iris, irisBody({}, { outputs: [{ name: 'nope' }] }), ['outputs[0].name is the string "nope"; model iris has outputs "label", "probabilities"']],
  ['a binary_data flag that is not a boolean', iris, irisBody({}, { outputs: [{ name: 'label', parameters: { binary_data: 'yes' } }] }), ['outputs[0].parameters.binary_data is the string "yes"']],
];

for (const [what, model, json, fragments] of REFUSALS) {
  test(`refuses ${what} with a 400 that says where`, (t) => {
    refused(t, model, json, fragments);
  });
}

test('refuses binary data whose length disagrees with the shape, and a part longer than declared', (t) => {
  const json = irisBody({ data: undefined, parameters: { binary_data_size: 28 } });
  refused(t, iris, json, ['inputs[0].parameters.binary_data_size is 28; shape [2, 4] of FP32 needs 32 bytes'], new Uint8Array(28));
  refused(t, iris, irisBody({ data: undefined, parameters: { binary_data_size: 32 } }), ['the body has 36 bytes after its JSON object, but the inputs\' parameters.binary_data_size add up to 32'], new Uint8Array(36));
});

test('refuses NaN and infinities in binary float data, as the JSON route cannot carry them', (t) => {
  const values = Float32Array.from([1, 2, 3, 4, 5, Number.NaN, 7, 8]);
  refused(t, iris, irisBody({ data: undefined, parameters: { binary_data_size: 32 } }), ["inputs[0]'s binary element 5 is NaN"], new Uint8Array(values.buffer));
});

test('refuses a BYTES element that is not valid UTF-8, and BYTES lengths that overrun', (t) => {
  const strings = servedTensorModel('strings', [tensor('color', 'string', ['batch'])]);
  const bad = Buffer.from([2, 0, 0, 0, 0xc3, 0x28]);
  refused(t, strings, { inputs: [{ name: 'color', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: bad.length } }] }, ["inputs[0]'s binary element 0 is not valid UTF-8"], bad);
  const overrun = Buffer.from([9, 0, 0, 0, 0x41]);
  refused(t, strings, { inputs: [{ name: 'color', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: overrun.length } }] }, ['claims 9 bytes but only 1 remain'], overrun);
});

test('refuses a shape of more than 2^31 elements with a 413 before reading any data', (t) => {
  const wide = servedTensorModel('wide', [tensor('x', 'float32', ['batch', 'n'])]);
  const message = refused(t, wide, { inputs: [{ name: 'x', shape: [1, 2_000_000], datatype: 'FP32', data: [] }] }, ['hold 2000000 values'], undefined, 413);
  t.regex(message, /MAX_REQUEST_ELEMENTS/);
  const huge = servedTensorModel('huge', [tensor('x', 'uint8', ['batch', 'a', 'b'])]);
  refused(t, huge, { inputs: [{ name: 'x', shape: [1, 2 ** 31, 2 ** 31], datatype: 'UINT8', data: [] }] }, ['hold more than 1000000 values'], undefined, 413);
});

test('refuses more rows than maxBatch with a 413', (t) => {
  refused(t, iris, irisBody({ shape: [257, 4], data: [] }), ['inputs[0].shape has 257 rows', 'maxBatch'], undefined, 413);
});

test('refuses fields nested 8,000 levels deep with a 400, never a stack overflow', (t) => {
  const deep = (inner: string) => '['.repeat(8000) + inner + ']'.repeat(8000);
  const tensorJson = (fields: Record<string, string>) => {
    const all = { name: '"float_input"', shape: '[1,4]', datatype: '"FP32"', data: '[1,2,3,4]', ...fields };
    return `{${Object.entries(all).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
  };
  const bodies = [
    `{"inputs":[${tensorJson({ data: deep('1') })}]}`,
    `{"inputs":[${tensorJson({ shape: deep('1') })}]}`,
    `{"inputs":[${tensorJson({ name: deep('"x"') })}]}`,
    `{"inputs":[${tensorJson({ datatype: deep('"FP32"') })}]}`,
    `{"inputs":[${tensorJson({ parameters: `{"binary_data_size":${deep('1')}}` })}]}`,
    `{"inputs":[${tensorJson({})}],"outputs":[{"name":${deep('"label"')}}]}`,
    `{"inputs":[${tensorJson({})}],"parameters":{"binary_data_output":${deep('true')}}}`,
    `{"id":${deep('"a"')},"inputs":[${tensorJson({})}]}`,
    `{"inputs":${deep(tensorJson({}))}}`,
  ];
  for (const text of bodies) {
    t.true(text.length < 20_000);
    const error = t.throws(() => readInferRequest({ body: () => text, bytes: () => Buffer.from(text), header: () => undefined }, iris, limitsFor(iris)), { instanceOf: InvalidRequestError });
    t.true(error.message.length < 400, error.message.slice(0, 200));
  }
});

test('reads the JSON object and binary part of an HTTP request, refusing a header length past the body', (t) => {
  const json = Buffer.from(JSON.stringify(irisBody({ data: undefined, parameters: { binary_data_size: 32 } })));
  const body = Buffer.concat([json, Buffer.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer)]);
  const http = (length: string) => ({ body: () => body.toString('latin1'), bytes: () => body, header: (name: string) => (name === 'inference-header-content-length' ? length : undefined) });
  t.deepEqual(values(readInferRequest(http(String(json.length)), iris, limitsFor(iris)), 'float_input'), [1, 2, 3, 4, 5, 6, 7, 8]);
  const error = t.throws(() => readInferRequest(http('9999'), iris, limitsFor(iris)), { instanceOf: InvalidRequestError });
  t.regex(error.message, /Inference-Header-Content-Length is "9999" but the body has \d+ bytes/);
  const notUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
  const bad = { body: () => '', bytes: () => notUtf8, header: (name: string) => (name === 'inference-header-content-length' ? '3' : undefined) };
  t.throws(() => readInferRequest(bad, iris, limitsFor(iris)), { message: /the JSON object is not valid UTF-8/ });
});

test('writes a JSON response with each output flat and typed, and the id when given', (t) => {
  const out = outputs(
    { name: 'label', type: 'int64', dims: [2], data: BigInt64Array.from([0n, 2n]) },
    { name: 'probabilities', type: 'float32', dims: [2, 3], data: Float32Array.from([0.97, 0.02, 0.01, 0.1, 0.2, 0.7]) },
  );
  const written = inferResponse(iris, { id: 'r1', binaryOutputs: new Set() }, out);
  t.true('json' in written);
  t.deepEqual(JSON.parse((written as { json: string }).json), {
    model_name: 'iris',
    model_version: '1',
    id: 'r1',
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [2], data: [0, 2] },
      { name: 'probabilities', datatype: 'FP32', shape: [2, 3], data: [0.97, 0.02, 0.01, 0.1, 0.2, 0.7] },
    ],
  });
});

test('writes binary outputs after the JSON object: raw values, BOOL as bytes, BYTES with lengths', (t) => {
  const out = outputs(
    { name: 'probabilities', type: 'float32', dims: [1, 2], data: Float32Array.from([0.25, 0.75]) },
    { name: 'ok', type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
    { name: 'name', type: 'string', dims: [1], data: ['hé'] },
    { name: 'label', type: 'int64', dims: [1], data: BigInt64Array.from([3n]) },
  );
  const written = inferResponse(iris, { id: undefined, binaryOutputs: new Set(['probabilities', 'ok', 'name']) }, out);
  if (!('bytes' in written)) return t.fail('expected a binary response');
  const header = JSON.parse(written.bytes.subarray(0, written.headerBytes).toString('utf8')) as { outputs: { name: string; data?: unknown; parameters?: { binary_data_size: number } }[] };
  t.deepEqual(header.outputs.map((o) => o.parameters?.binary_data_size ?? o.data), [8, 2, 7, [3]]);
  const binary = written.bytes.subarray(written.headerBytes);
  t.deepEqual([...new Float32Array(Uint8Array.from(binary.subarray(0, 8)).buffer)], [0.25, 0.75]);
  t.deepEqual([...binary.subarray(8, 10)], [1, 0]);
  t.is(binary.readUInt32LE(10), 3);
  t.is(binary.subarray(14).toString('utf8'), 'hé');
});
