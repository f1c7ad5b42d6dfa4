// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test from 'ava';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURES, functionFor, json, maxAbsDiff, type TestFunction } from '../../helpers/function.js';

// Tensor models served from folders holding only model.onnx, through the handler with simulated payload 2.0 events
// and real onnxruntime sessions: every input type, several inputs and outputs, symbolic dimensions, in every
// request form. Expected outputs come from each fixture's formula (test/fixtures/tensor/README.md) or from the
// producing framework (test/fixtures/byom/).

const TENSOR = path.join(FIXTURES, 'tensor');
const BYOM = path.join(FIXTURES, 'byom');
const functions = new Map<string, TestFunction>();

/** One handler per fixture folder, shared by the tests of that fixture. */
function served(dir: string): TestFunction {
  let fn = functions.get(dir);
  if (fn === undefined) {
    fn = functionFor({ MODEL_DIR: dir });
    functions.set(dir, fn);
  }
  return fn;
}

async function predict(fn: TestFunction, body: unknown) {
  const response = await fn.invoke('POST', '/predict', JSON.stringify(body));
  return { status: response.statusCode, body: json(response) };
}

async function outputsOf(fn: TestFunction, body: unknown): Promise<Record<string, unknown>> {
  const { status, body: answer } = await predict(fn, body);
  if (status !== 200) throw new Error(`status ${status}: ${JSON.stringify(answer)}`);
  return answer['outputs'] as Record<string, unknown>;
}

interface OipOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size: number };
}

async function infer(fn: TestFunction, model: string, request: unknown, headers: Record<string, string> = {}, body?: Buffer) {
  const response = await fn.invoke('POST', `/v2/models/${model}/infer`, body ?? JSON.stringify(request), headers);
  return { status: response.statusCode, response, body: response.isBase64Encoded ? undefined : json(response) };
}

test('multi-io: instances keyed by input name and the columnar form give the formula\'s two outputs', async (t) => {
  const fn = served(path.join(TENSOR, 'multi-io'));
  const rows = [
    { pixels: [[1, 2], [3, 4]], meta: [1, 2, 3] },
    { pixels: [[0.5, -1], [0, 2]], meta: [-4, 10, 0] },
  ];
  const expected = {
    score: rows.map((r) => r.pixels.flat().map((p) => p * 2 + r.meta.reduce((a, b) => a + b))),
    embedding: rows.map((r) => [...r.pixels.flat().map((p) => p - 1), Math.max(...r.meta)]),
  };
  const byRow = await outputsOf(fn, { instances: rows });
  const byColumn = await outputsOf(fn, { inputs: { pixels: rows.map((r) => r.pixels), meta: rows.map((r) => r.meta) } });
  for (const outputs of [byRow, byColumn]) t.deepEqual(outputs, expected);
  const model = json(await fn.invoke('GET', '/v2/models/multi-io'));
  t.deepEqual(model['inputs'], [
    { name: 'pixels', datatype: 'FP32', shape: [-1, 2, 2] },
    { name: 'meta', datatype: 'INT64', shape: [-1, 3] },
  ]);
  t.deepEqual(model['versions'], [(await served(path.join(TENSOR, 'multi-io')).invoke('POST', '/predict', JSON.stringify({ instances: rows })).then(json))['model_version']!.toString().split('@')[1]]);
});

test('multi-io: the Open Inference Protocol takes both inputs as JSON and as binary, and returns the outputs asked for', async (t) => {
  const fn = served(path.join(TENSOR, 'multi-io'));
  const pixels = [1, 2, 3, 4];
  const meta = [1, 2, 3];
  const asJson = await infer(fn, 'multi-io', {
    inputs: [
      { name: 'meta', shape: [1, 3], datatype: 'INT64', data: meta },
      { name: 'pixels', shape: [1, 2, 2], datatype: 'FP32', data: [[1, 2], [3, 4]] },
    ],
    outputs: [{ name: 'embedding' }],
  });
  t.is(asJson.status, 200, JSON.stringify(asJson.body));
  t.deepEqual(asJson.body!['outputs'], [{ name: 'embedding', datatype: 'FP32', shape: [1, 5], data: [0, 1, 2, 3, 3] }]);

  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'pixels', shape: [1, 2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } },
        { name: 'meta', shape: [1, 3], datatype: 'INT64', parameters: { binary_data_size: 24 } },
      ],
      outputs: [{ name: 'score', parameters: { binary_data: true } }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(Float32Array.from(pixels).buffer), Buffer.from(BigInt64Array.from(meta.map(BigInt)).buffer)]);
  const binary = await infer(fn, 'multi-io', undefined, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body);
  t.is(binary.status, 200);
  const bytes = Buffer.from(binary.response.body, 'base64');
  const length = Number(binary.response.headers['inference-header-content-length']);
  const outputs = (JSON.parse(bytes.subarray(0, length).toString()) as { outputs: OipOutput[] }).outputs;
  t.deepEqual(outputs, [{ name: 'score', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }]);
  t.deepEqual([...new Float32Array(Uint8Array.from(bytes.subarray(length)).buffer)], [8, 10, 12, 14]);
});

test('sequence: token ids and a mask of any length sum as the formula says, and must agree on the length', async (t) => {
  const fn = served(path.join(TENSOR, 'sequence'));
  for (const length of [1, 3, 17]) {
    const ids = Array.from({ length }, (_, i) => i * 1000 + 7);
    const mask = Array.from({ length }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const outputs = await outputsOf(fn, { instances: [{ input_ids: ids, attention_mask: mask }] });
    t.deepEqual(outputs['pooled'], [ids.reduce((sum, id, i) => sum + id * mask[i]!, 0)]);
    t.deepEqual(outputs['token_count'], [mask.reduce((a: number, b) => a + b, 0)]);
  }
  const refused = await predict(fn, { instances: [{ input_ids: [1, 2, 3], attention_mask: [1, 1] }] });
  t.is(refused.status, 400);
  t.regex(refused.body['error'] as string, /instances\[\*\]\.attention_mask has size 2 in dimension 1 \("seq"\) but instances\[\*\]\.input_ids dimension 1 has 3/);
  const ragged = await predict(fn, { instances: [{ input_ids: [1, 2, 3], attention_mask: [1, 1, 1] }, { input_ids: [1, 2], attention_mask: [1, 1] }] });
  t.is(ragged.status, 400);
  t.regex(ragged.body['error'] as string, /instances\[1\]\.input_ids has 2 entries where 3 are expected/);
  const fraction = await predict(fn, { instances: [{ input_ids: [1, 2.5], attention_mask: [1, 1] }] });
  t.is(fraction.status, 400);
  t.regex(fraction.body['error'] as string, /instances\[0\]\.input_ids\[1\] is 2\.5; expected an integer/);
});

test('sequence: int64 beyond 2^53 is refused in JSON and carried exactly as binary data', async (t) => {
  const fn = served(path.join(TENSOR, 'sequence'));
  // 2^53 + 1 as the client wrote it; JSON.parse reads it as 2^53.
  const response = await fn.invoke('POST', '/predict', '{"inputs":{"input_ids":[[9007199254740993]],"attention_mask":[[1]]}}');
  t.is(response.statusCode, 400);
  t.regex(json(response)['error'] as string, /inputs\.input_ids\[0\]\[0\] is 9007199254740992; expected an integer from -\(2\^53-1\) to 2\^53-1 .*send such values as binary data/);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        { name: 'input_ids', shape: [1, 1], datatype: 'INT64', parameters: { binary_data_size: 8 } },
        { name: 'attention_mask', shape: [1, 1], datatype: 'INT64', data: [1] },
      ],
      outputs: [{ name: 'token_count' }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(BigInt64Array.from([2n ** 62n + 1n]).buffer)]);
  const answer = await infer(fn, 'sequence', undefined, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body);
  t.is(answer.status, 200, JSON.stringify(answer.body));
  t.deepEqual(answer.body!['outputs'], [{ name: 'token_count', datatype: 'INT64', shape: [1], data: [1] }]);
});

test('float64-regressor: float64 values go in and come out at double precision', async (t) => {
  const fn = served(path.join(TENSOR, 'float64-regressor'));
  const x = [0.1, 1e-300, 123456.789012345];
  const outputs = await outputsOf(fn, { instances: [x] });
  t.deepEqual(outputs['y'], [[0.5 * x[0]! - 1.25 * x[1]! + 2 * x[2]! + 0.1]]);
});

test('bool-gate: booleans in and out, and a count as int32', async (t) => {
  const fn = served(path.join(TENSOR, 'bool-gate'));
  const outputs = await outputsOf(fn, { instances: [[true, false, true, true], [false, false, false, false]] });
  t.deepEqual(outputs, { inverted: [[false, true, false, false], [true, true, true, true]], count: [3, 0] });
  const refused = await predict(fn, { instances: [[1, 0, 1, 1]] });
  t.is(refused.status, 400);
  t.regex(refused.body['error'] as string, /instances\[0\]\[0\] is 1; expected true or false \(BOOL\)/);
});

test('string-encoder: strings in, codes and strings out, in /predict and as OIP BYTES, JSON and binary', async (t) => {
  const fn = served(path.join(TENSOR, 'string-encoder'));
  const colors = ['red', 'blue', 'mauve', 'grün "q"'];
  const outputs = await outputsOf(fn, { instances: colors });
  t.deepEqual(outputs, { code: [0, 2, -1, -1], echo: colors });
  const asJson = await infer(fn, 'string-encoder', { inputs: [{ name: 'color', shape: [2], datatype: 'BYTES', data: ['green', 'é'] }] });
  t.is(asJson.status, 200, JSON.stringify(asJson.body));
  t.deepEqual((asJson.body!['outputs'] as OipOutput[]).map((o) => o.data), [[1, -1], ['green', 'é']]);

  const strings = (values: Buffer[]) => Buffer.concat(values.flatMap((v) => [Buffer.from(Uint32Array.from([v.length]).buffer), v]));
  const send = (data: Buffer) => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'color', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: data.length } }], outputs: [{ name: 'code' }] }));
    return infer(fn, 'string-encoder', undefined, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, Buffer.concat([header, data]));
  };
  const binary = await send(strings([Buffer.from('blue'), Buffer.from('red')]));
  t.is(binary.status, 200, JSON.stringify(binary.body));
  t.deepEqual((binary.body!['outputs'] as OipOutput[])[0]!.data, [2, 0]);
  const invalid = await send(strings([Buffer.from('blue'), Buffer.from([0xc3, 0x28])]));
  t.is(invalid.status, 400);
  t.regex(invalid.body!['error'] as string, /inputs\[0\]'s binary element 1 is not valid UTF-8/);
});

const TYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64', 'bool', 'string'] as const;
/** Each type's extremes that JSON can carry, and what comes back. */
const EXTREMES: Record<(typeof TYPES)[number], [unknown, unknown]> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-(2 ** 53 - 1), 2 ** 53 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  uint64: [0, 2 ** 53 - 1],
  float16: [-65504, 0.5],
  float32: [-3.4028235e38, 0.1],
  float64: [-1.7976931348623157e308, 5e-324],
  bool: [true, false],
  string: ['', 'héllo'],
};

test('all-types: every element type goes in and comes back unchanged, through /predict and the OIP route', async (t) => {
  const fn = served(path.join(TENSOR, 'all-types'));
  const instance = Object.fromEntries(TYPES.map((type) => [`in_${type}`, EXTREMES[type]]));
  const outputs = await outputsOf(fn, { instances: [instance, instance] });
  for (const type of TYPES) t.deepEqual(outputs[`out_${type}`], [EXTREMES[type], EXTREMES[type]], type);

  const metadata = json(await fn.invoke('GET', '/v2/models/all-types'));
  const datatypes = Object.fromEntries((metadata['inputs'] as OipOutput[]).map((i) => [i.name, i.datatype]));
  const request = { inputs: TYPES.map((type) => ({ name: `in_${type}`, shape: [1, 2], datatype: datatypes[`in_${type}`], data: EXTREMES[type] })) };
  const answer = await infer(fn, 'all-types', request);
  t.is(answer.status, 200, JSON.stringify(answer.body));
  const byName = Object.fromEntries((answer.body!['outputs'] as OipOutput[]).map((o) => [o.name, o]));
  for (const type of TYPES) {
    t.deepEqual(byName[`out_${type}`]!.data, EXTREMES[type], type);
    t.is(byName[`out_${type}`]!.datatype, datatypes[`in_${type}`]!);
  }
});

test('all-types: every numeric type refuses a value out of its range, naming the input and the place', async (t) => {
  const fn = served(path.join(TENSOR, 'all-types'));
  const base = Object.fromEntries(TYPES.map((type) => [`in_${type}`, EXTREMES[type]]));
  const outOfRange: [string, unknown, RegExp][] = [
    ['int8', 128, /from -128 to 127/],
    ['uint16', -1, /from 0 to 65535/],
    ['int32', 2147483648, /from -2147483648 to 2147483647/],
    ['uint64', 2 ** 53, /from 0 to 2\^53-1/],
    ['float16', 65536, /±65504/],
    ['float32', 1e39, /float32 range/],
    ['string', 7, /a string \(BYTES\)/],
  ];
  for (const [type, value, expected] of outOfRange) {
    const refused = await predict(fn, { instances: [{ ...base, [`in_${type}`]: [value, value] }] });
    t.is(refused.status, 400, type);
    const message = refused.body['error'] as string;
    t.true(message.startsWith(`instances[0].in_${type}[0] is `), message);
    t.regex(message, expected);
  }
});

test('fixed-dims: an image of the declared size sums up; another size is a 400 naming the dimension', async (t) => {
  const fn = served(path.join(TENSOR, 'fixed-dims'));
  const image = [[[1, 2, 3], [4, 5, 6], [7, 8, 9.5]]];
  t.deepEqual(await outputsOf(fn, { instances: [image] }), { total: [[45.5]] });
  const wrong = await predict(fn, { instances: [[[[1, 2], [3, 4]]]] });
  t.is(wrong.status, 400);
  t.regex(wrong.body['error'] as string, /has size 2 in dimension 2 \[1, 1, 2, 2\]; input "image" of model fixed-dims needs 3 there: \[batch, 1, 3, 3\]/);
  const rank = await predict(fn, { instances: [[1, 2, 3]] });
  t.is(rank.status, 400);
  t.regex(rank.body['error'] as string, /has 2 dimensions \[1, 3\]; input "image" of model fixed-dims has 4/);
});

// Files this repository has never seen, each in a folder holding only model.onnx.
const byomCases = readdirSync(BYOM).filter((name) => name.endsWith('.expected.json')).map((name) => name.slice(0, -'.expected.json'.length));

test('the bring-your-own-model trial set has the kinds of files the issue names', (t) => {
  t.true(byomCases.length >= 8, byomCases.join(', '));
});

interface Expected {
  readonly inputs: Record<string, unknown[]>;
  readonly outputs: Record<string, unknown[]>;
  readonly tolerance: number;
}

function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value as number];
}

for (const name of byomCases) {
  test(`bring your own model: ${name} serves from a bare model.onnx with the right metadata, outputs and refusals`, async (t) => {
    const expected = JSON.parse(await readFile(path.join(BYOM, `${name}.expected.json`), 'utf8')) as Expected;
    const fn = served(path.join(BYOM, name));
    const metadata = json(await fn.invoke('GET', `/v2/models/${name}`));
    t.is(metadata['name'], name);
    t.regex((metadata['versions'] as string[])[0]!, /^[0-9a-f]{12}$/);
    const inputs = metadata['inputs'] as OipOutput[];
    t.deepEqual(inputs.map((i) => i.name).sort(), Object.keys(expected.inputs).sort());
    for (const output of Object.keys(expected.outputs)) t.true((metadata['outputs'] as OipOutput[]).some((o) => o.name === output), output);

    // The columnar form, then the Open Inference Protocol with the shapes the rows have.
    const outputs = await outputsOf(fn, { inputs: expected.inputs });
    for (const [output, want] of Object.entries(expected.outputs)) {
      const diff = maxAbsDiff(flat(outputs[output]), flat(want));
      t.true(diff <= expected.tolerance, `${output}: max diff ${diff}, tolerance ${expected.tolerance}`);
    }
    const shapeOf = (value: unknown): number[] => (Array.isArray(value) ? [value.length, ...shapeOf(value[0])] : []);
    const request = {
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: shapeOf(expected.inputs[i.name]), data: flat(expected.inputs[i.name]) })),
      outputs: Object.keys(expected.outputs).map((output) => ({ name: output })),
    };
    const answer = await infer(fn, name, request);
    t.is(answer.status, 200, JSON.stringify(answer.body));
    for (const output of answer.body!['outputs'] as OipOutput[]) {
      const diff = maxAbsDiff(flat(output.data), flat(expected.outputs[output.name]));
      t.true(diff <= expected.tolerance, `infer ${output.name}: max diff ${diff}`);
    }

    // Bad inputs get 400s naming the input: a string among the numbers, a row of the wrong rank, a missing input.
    const first = inputs[0]!.name;
    const withString = structuredClone(expected.inputs);
    const row0 = withString[first]![0] as unknown[];
    if (Array.isArray(row0[0])) (row0[0] as unknown[])[0] = 'x';
    else row0[0] = 'x';
    const stringRefused = await predict(fn, { inputs: withString });
    t.is(stringRefused.status, 400);
    t.regex(stringRefused.body['error'] as string, new RegExp(`inputs\\.${first}\\[0\\]\\[0\\]`));
    const flatRows = { ...expected.inputs, [first]: flat(expected.inputs[first]) };
    const rankRefused = await predict(fn, { inputs: flatRows });
    t.is(rankRefused.status, 400);
    t.regex(rankRefused.body['error'] as string, /dimensions/);
    if (inputs.length > 1) {
      const { [first]: _dropped, ...missing } = expected.inputs;
      const missingRefused = await predict(fn, { inputs: missing });
      t.is(missingRefused.status, 400);
      t.regex(missingRefused.body['error'] as string, new RegExp(`inputs has no "${first}"`));
    }
  });
}
