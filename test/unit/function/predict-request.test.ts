import test from 'ava';
import { InvalidRequestError, PayloadTooLargeError } from '../../../functions/predict/errors.js';
import type { ServedModel } from '../../../functions/predict/manifest.js';
import { readPredictRequest } from '../../../functions/predict/predict-request.js';
import { limitsFor, servedIris, servedTensorModel, tensor } from '../../helpers/unit-manifests.js';

// `/predict` bodies to input tensors, checked against models described by onnxruntime-style metadata (no session).

const iris = servedIris();
const image = servedTensorModel('image', [tensor('image', 'float32', ['batch', 1, 3, 3])]);
const multi = servedTensorModel('multi', [tensor('pixels', 'float32', ['batch', 2, 2]), tensor('meta', 'int64', ['batch', 3])]);
const sequence = servedTensorModel('sequence', [tensor('input_ids', 'int64', ['batch', 'seq']), tensor('attention_mask', 'int64', ['batch', 'seq'])]);
const TYPES = ['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string'] as const;
const typed = Object.fromEntries(TYPES.map((type) => [type, servedTensorModel(`t-${type}`, [tensor('x', type, ['batch', 2])])]));

function read(model: ServedModel, body: unknown, limits = limitsFor(model)) {
  return readPredictRequest(body, model, limits);
}

function data(model: ServedModel, body: unknown, input: string): unknown[] {
  return Array.from(read(model, body).tensors.get(input)!.data as ArrayLike<unknown>);
}

const grid = (v: number) => [[[v, v, v], [v, v, v], [v, v, v]]];

test('a tabular row as an array, as named features, and a batch of both', (t) => {
  const one = read(iris, { features: [5.1, 3.5, 1.4, 0.2] });
  t.is(one.rows, 1);
  t.deepEqual(one.tensors.get('float_input')!.dims, [1, 4]);
  t.deepEqual(Array.from(one.tensors.get('float_input')!.data as Float32Array), [5.1, 3.5, 1.4, 0.2].map(Math.fround));
  const named = { petal_width: 0.2, sepal_length: 5.1, petal_length: 1.4, sepal_width: 3.5 };
  t.deepEqual(data(iris, { instances: [named, [1, 2, 3, 4]] }, 'float_input'), [5.1, 3.5, 1.4, 0.2, 1, 2, 3, 4].map(Math.fround));
});

test('a tabular row may come keyed by the input\'s name, as TF Serving clients send it', (t) => {
  t.deepEqual(data(iris, { instances: [{ float_input: [1, 2, 3, 4] }] }, 'float_input'), [1, 2, 3, 4]);
  t.deepEqual(data(iris, { features: { float_input: { sepal_length: 1, sepal_width: 2, petal_length: 3, petal_width: 4 } } }, 'float_input'), [1, 2, 3, 4]);
});

test('a tabular model takes the columnar form too', (t) => {
  t.deepEqual(data(iris, { inputs: { float_input: [[1, 2, 3, 4]] } }, 'float_input'), [1, 2, 3, 4]);
  t.deepEqual(data(iris, { inputs: [[1, 2, 3, 4]] }, 'float_input'), [1, 2, 3, 4]);
});

test('an image model takes instances without the batch dimension, bare or keyed by input name', (t) => {
  const request = read(image, { instances: [grid(1), { image: grid(2) }] });
  t.is(request.rows, 2);
  t.deepEqual(request.tensors.get('image')!.dims, [2, 1, 3, 3]);
  t.deepEqual(data(image, { instances: [grid(1), { image: grid(2) }] }, 'image'), [...new Array(9).fill(1), ...new Array(9).fill(2)]);
});

test('a model with several inputs takes instances keyed by input name and the columnar form alike', (t) => {
  const rows = [
    { pixels: [[1, 2], [3, 4]], meta: [1, 2, 3] },
    { pixels: [[5, 6], [7, 8]], meta: [4, 5, 6] },
  ];
  const byRow = read(multi, { instances: rows });
  const byColumn = read(multi, { inputs: { pixels: rows.map((r) => r.pixels), meta: rows.map((r) => r.meta) } });
  for (const request of [byRow, byColumn]) {
    t.is(request.rows, 2);
    t.deepEqual(Array.from(request.tensors.get('pixels')!.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, 8]);
    t.deepEqual(Array.from(request.tensors.get('meta')!.data as BigInt64Array), [1n, 2n, 3n, 4n, 5n, 6n]);
    t.deepEqual(request.tensors.get('meta')!.dims, [2, 3]);
  }
});

test('a symbolic dimension takes any size the inputs that share it agree on', (t) => {
  const request = read(sequence, { inputs: { input_ids: [[5, 6, 7]], attention_mask: [[1, 1, 0]] } });
  t.deepEqual(request.tensors.get('input_ids')!.dims, [1, 3]);
  t.deepEqual(read(sequence, { instances: [{ input_ids: [1, 2, 3, 4, 5], attention_mask: [1, 1, 1, 1, 1] }] }).tensors.get('attention_mask')!.dims, [1, 5]);
});

test('every input type takes its JSON values into the typed array onnxruntime wants', (t) => {
  const cases: [string, unknown[], unknown[]][] = [
    ['float32', [0.5, -3.4028235e38], [0.5, -3.4028234663852886e38]],
    ['float64', [0.1, -1.7976931348623157e308], [0.1, -1.7976931348623157e308]],
    ['float16', [0.5, -65504], [0x3800, 0xfbff]],
    ['int8', [-128, 127], [-128, 127]],
    ['int16', [-32768, 32767], [-32768, 32767]],
    ['int32', [-2147483648, 2147483647], [-2147483648, 2147483647]],
    ['int64', [-(2 ** 53 - 1), 2 ** 53 - 1], [-(2n ** 53n - 1n), 2n ** 53n - 1n]],
    ['uint8', [0, 255], [0, 255]],
    ['uint16', [0, 65535], [0, 65535]],
    ['uint32', [0, 4294967295], [0, 4294967295]],
    ['uint64', [0, 2 ** 53 - 1], [0n, 2n ** 53n - 1n]],
    ['bool', [true, false], [1, 0]],
    ['string', ['red', 'é "q"'], ['red', 'é "q"']],
  ];
  t.is(cases.length, TYPES.length);
  for (const [type, values, stored] of cases) {
    const tensorValue = read(typed[type]!, { instances: [values] }).tensors.get('x')!;
    t.is(tensorValue.type as string, type as string);
    t.deepEqual(Array.from(tensorValue.data as ArrayLike<unknown>), stored, type);
  }
});

/** [what, model, body, status, fragments of the message] */
const REFUSALS: [string, ServedModel, unknown, 400 | 413, string[]][] = [
  ['a body that is not an object', iris, [1, 2], 400, ['request body is an array of 2, not a JSON object']],
  ['no form', iris, { rows: [] }, 400, ['none of "features", "instances" and "inputs"']],
  ['two forms', iris, { features: [1, 2, 3, 4], instances: [[1, 2, 3, 4]] }, 400, ['"features" and "instances"']],
  ['features for a tensor model', image, { features: [1] }, 400, ['model image has no feature list']],
  ['an empty instances list', iris, { instances: [] }, 400, ['instances is empty']],
  ['instances that are not a list', iris, { instances: { a: 1 } }, 400, ['instances is an object']],
  ['a short tabular row', iris, { instances: [[1, 2, 3, 4], [1, 2, 3]] }, 400, ['instances[1] has 3 values', 'expects 4: sepal_length']],
  ['a string for a number', iris, { features: ['5.1', 1, 2, 3] }, 400, ['features[0] is the string "5.1"', 'send numbers, not strings']],
  ['a float32 overflow', iris, { features: [1e39, 1, 2, 3] }, 400, ['features[0] is 1e+39', 'float32 range']],
  ['an unknown feature name', iris, { features: { sepal_length: 1, petal: 2 } }, 400, ['unknown feature "petal"']],
  ['a missing feature', iris, { features: { sepal_length: 1, sepal_width: 1, petal_length: 1 } }, 400, ['missing "petal_width"']],
  ['a fraction for int64', typed['int64']!, { instances: [[1.5, 2]] }, 400, ['instances[0][0] is 1.5', 'an integer from -(2^53-1) to 2^53-1']],
  ['an int64 of 2^53 or more, which JSON may have rounded', typed['int64']!, { instances: [[2 ** 53, 1]] }, 400, ['instances[0][0] is 9007199254740992', '2^53-1', 'send such values as binary data']],
  ['a negative uint8', typed['uint8']!, { instances: [[-1, 1]] }, 400, ['instances[0][0] is -1', 'from 0 to 255']],
  ['an int8 out of range', typed['int8']!, { inputs: [[1, 128]] }, 400, ['inputs[0][1] is 128', 'from -128 to 127']],
  ['a number for a bool', typed['bool']!, { instances: [[1, 0]] }, 400, ['instances[0][0] is 1', 'true or false']],
  ['a number for a string', typed['string']!, { instances: [['a', 5]] }, 400, ['instances[0][1] is 5', 'a string (BYTES)']],
  ['a float16 beyond its range', typed['float16']!, { instances: [[70000, 1]] }, 400, ['instances[0][0] is 70000', '±65504']],
  ['null in a float input', typed['float64']!, { instances: [[null, 1]] }, 400, ['instances[0][0] is null']],
  ['a wrong rank', image, { instances: [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]] }, 400, ['has 3 dimensions [1, 3, 3]', 'input "image" of model image has 4: [batch, 1, 3, 3]']],
  ['a fixed dimension that differs', image, { instances: [[[[1, 2], [3, 4]]]] }, 400, ['size 2 in dimension 2', 'needs 3 there']],
  ['ragged instances', image, { instances: [grid(1), [[[1, 2, 3], [4, 5, 6]]]] }, 400, ['instances[1][0] has 2 entries where 3 are expected', 'ragged']],
  ['ragged inner arrays', sequence, { inputs: { input_ids: [[1, 2], [3]], attention_mask: [[1, 1], [1, 1]] } }, 400, ['inputs.input_ids[1] has 1 entries where 2 are expected']],
  [
    'a symbolic dimension two inputs disagree on',
    sequence,
    { inputs: { input_ids: [[1, 2, 3]], attention_mask: [[1, 1]] } },
    400,
    ['inputs.attention_mask has size 2 in dimension 1 ("seq") but inputs.input_ids dimension 1 has 3'],
  ],
  ['inputs with different batch sizes', multi, { inputs: { pixels: [[[1, 2], [3, 4]]], meta: [[1, 2, 3], [1, 2, 3]] } }, 400, ['inputs.meta has 2 rows but inputs.pixels has 1']],
  ['a missing input', multi, { instances: [{ pixels: [[1, 2], [3, 4]] }] }, 400, ['instances[0] has no "meta"', 'takes "pixels", "meta"']],
  ['an unknown input', multi, { instances: [{ pixels: [[1, 2], [3, 4]], meta: [1, 2, 3], extra: 1 }] }, 400, ['instances[0] has unknown input "extra"']],
  ['a bare value for several inputs', multi, { instances: [[1, 2]] }, 400, ['each instance is an object keyed by input name']],
  ['a missing columnar input', multi, { inputs: { pixels: [[[1, 2], [3, 4]]] } }, 400, ['inputs has no "meta"']],
  ['an unknown columnar input', multi, { inputs: { pixels: [], meta: [], what: [] } }, 400, ['inputs has unknown input "what"']],
  ['an array where a value belongs', typed['float32']!, { instances: [[1, 2], [[1], 2]] }, 400, ['instances[1][0] is an array of 1']],
  ['a value where an array belongs', image, { instances: [grid(1), [[1, [1, 1, 1], [1, 1, 1]]]] }, 400, ['instances[1][0][0] is 1; expected an array of 3']],
  ['an instance nested too deeply for its rank', image, { instances: [[[[[1], [1], [1]], [1, 1, 1], [1, 1, 1]]]] }, 400, ['has 5 dimensions']],
  ['too many rows', iris, { instances: new Array(257).fill([1, 2, 3, 4]) }, 413, ['instances has 257 rows', 'at most 256 per request (maxBatch)']],
  ['too many columnar rows', iris, { inputs: new Array(300).fill([1, 2, 3, 4]) }, 413, ['inputs has 300 rows']],
];

for (const [what, model, body, status, fragments] of REFUSALS) {
  test(`refuses ${what} with a ${status} that says where and what was expected`, (t) => {
    const error = t.throws(() => read(model, body), { instanceOf: status === 400 ? InvalidRequestError : PayloadTooLargeError });
    for (const fragment of fragments) t.true(error.message.includes(fragment), `${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
  });
}

test('refuses a request over the element cap with a 413 before it allocates', (t) => {
  const error = t.throws(() => read(image, { instances: [grid(1), grid(1)] }, limitsFor(image, { maxElements: 17 })), { instanceOf: PayloadTooLargeError });
  t.regex(error.message, /hold 18 values; model image accepts at most 17 per request \(MAX_REQUEST_ELEMENTS/);
});

test('refuses 10,000 nested empty arrays as a wrong rank, without walking them', (t) => {
  let nested: unknown = [];
  for (let i = 0; i < 10_000; i++) nested = [nested];
  for (const body of [{ instances: [nested] }, { inputs: nested }, { instances: nested }]) {
    const error = t.throws(() => read(image, body), { instanceOf: InvalidRequestError });
    t.regex(error.message, /dimensions/);
  }
});

test('cuts an echoed key or string so a 5 MB name does not come back whole', (t) => {
  const key = `"\\${'x'.repeat(5_000_000)}`;
  const unknownFeature = t.throws(() => read(iris, { features: { [key]: 1 } }), { instanceOf: InvalidRequestError });
  t.true(unknownFeature.message.length < 300, `${unknownFeature.message.length} characters`);
  const unknownInput = t.throws(() => read(multi, { inputs: { [key]: [] } }), { instanceOf: InvalidRequestError });
  t.true(unknownInput.message.length < 300);
  const value = t.throws(() => read(iris, { features: [key, 1, 2, 3] }), { instanceOf: InvalidRequestError });
  t.true(value.message.length < 300);
});

test('the tensors are new arrays per request, never a view of an earlier one', (t) => {
  const first = read(iris, { features: [1, 2, 3, 4] }).tensors.get('float_input')!.data;
  const second = read(iris, { features: [5, 6, 7, 8] }).tensors.get('float_input')!.data;
  t.not(first, second);
  t.deepEqual(Array.from(first as Float32Array), [1, 2, 3, 4]);
});
