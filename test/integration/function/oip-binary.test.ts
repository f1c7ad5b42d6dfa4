// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test from 'ava';
import path from 'node:path';
import type { HttpResponse } from '../../../functions/predict/http-event.js';
import { BUNDLES, MODELS, functionFor, json, maxAbsDiff, readGolden, readManifestJson } from '../../helpers/function.js';

// The Open Inference Protocol's binary tensor data extension through the handler, with simulated payload 2.0 events
// (a binary body arrives base64-encoded, as API Gateway sends it) and real onnxruntime sessions.

interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  data?: number[];
  parameters?: { binary_data_size: number };
}

/** A request body: the JSON object, then the rows as little-endian float32, and the header that gives the split. */
function binaryRequest(json: Record<string, unknown>, rows: readonly (readonly number[])[]): { body: Buffer; headers: Record<string, string> } {
  const values = Float32Array.from(rows.flat());
  const header = Buffer.from(JSON.stringify(json));
  return {
    body: Buffer.concat([header, Buffer.from(values.buffer)]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

/** The JSON object and the binary part of a binary response. */
function readBinaryResponse(response: HttpResponse): { header: { id?: string; outputs: OutputJson[] }; binary: Buffer } {
  const bytes = Buffer.from(response.body, response.isBase64Encoded ? 'base64' : 'utf8');
  const length = Number(response.headers['inference-header-content-length']);
  return { header: JSON.parse(bytes.subarray(0, length).toString('utf8')) as { outputs: OutputJson[] }, binary: bytes.subarray(length) };
}

for (const bundle of BUNDLES) {
  test(`${bundle}: binary rows in and binary outputs out give the JSON route's float32 values and the golden outputs`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const width = (manifest['features'] as string[]).length;
    const shape = [golden.inputs.length, width];
    const route = `/v2/models/${String(manifest['name'])}/infer`;
    const { body, headers } = binaryRequest(
      { id: 'bin', inputs: [{ name: manifest['input'], shape, datatype: 'FP32', parameters: { binary_data_size: golden.inputs.length * width * 4 } }], outputs: [{ name: manifest['output'], parameters: { binary_data: true } }] },
      golden.inputs,
    );
    const response = await fn.invoke('POST', route, body, headers);
    t.is(response.statusCode, 200, response.body);
    t.true(response.isBase64Encoded);
    t.is(response.headers['content-type'], 'application/octet-stream');
    const { header, binary } = readBinaryResponse(response);
    t.is(header.id, 'bin');
    t.is(header.outputs.length, 1);
    const output = header.outputs[0]!;
    t.is(output.data, undefined);
    t.is(output.parameters?.binary_data_size, binary.length);
    const values = new Float32Array(Uint8Array.from(binary).buffer);

    const asJson = await fn.invoke('POST', route, JSON.stringify({ inputs: [{ name: manifest['input'], shape, datatype: 'FP32', data: golden.inputs.flat() }], outputs: [{ name: manifest['output'] }] }));
    const jsonOutput = (json(asJson)['outputs'] as OutputJson[])[0]!;
    t.deepEqual(output.shape, jsonOutput.shape);
    t.deepEqual([...values], jsonOutput.data!.map((v) => Math.fround(v)), 'the same float32 values as the JSON route');
    t.true(maxAbsDiff([...values], golden.outputs.flat() as number[]) <= 1e-4);
  });
}

test('binary rows with JSON outputs answer with the JSON response the JSON route gives', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const rows = (await readGolden('iris')).inputs.slice(0, 3);
  const tensor = { name: 'float_input', shape: [3, 4], datatype: 'FP32' };
  const { body, headers } = binaryRequest({ inputs: [{ ...tensor, parameters: { binary_data_size: 48 } }] }, rows);
  const binary = await fn.invoke('POST', '/v2/models/iris/infer', body, headers);
  const plain = await fn.invoke('POST', '/v2/models/iris/infer', JSON.stringify({ inputs: [{ ...tensor, data: rows.flat() }] }));
  t.is(binary.statusCode, 200, binary.body);
  t.false(binary.isBase64Encoded);
  t.deepEqual(json(binary), json(plain));
});

test('binary_data_output returns every output as binary, the int64 labels as 8 bytes each', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const rows = (await readGolden('iris')).inputs.slice(0, 2);
  const { body, headers } = binaryRequest({ inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }], parameters: { binary_data_output: true } }, rows);
  const response = await fn.invoke('POST', '/v2/models/iris/infer', body, headers);
  t.is(response.statusCode, 200, response.body);
  const { header, binary } = readBinaryResponse(response);
  t.true(header.outputs.every((o) => o.data === undefined && o.parameters !== undefined));
  t.is(
    binary.length,
    header.outputs.reduce((sum, o) => sum + o.parameters!.binary_data_size, 0),
  );
  t.deepEqual(
    header.outputs.map((o) => [o.name, o.datatype, o.parameters!.binary_data_size]),
    [
      ['label', 'INT64', 2 * 8],
      ['probabilities', 'FP32', 2 * 3 * 4],
    ],
  );
  const plain = await fn.invoke('POST', '/v2/models/iris/infer', JSON.stringify({ inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', data: rows.flat() }] }));
  const labels = (json(plain)['outputs'] as OutputJson[]).find((o) => o.name === 'label')!.data!;
  t.deepEqual([binary.readBigInt64LE(0), binary.readBigInt64LE(8)].map(Number), labels);
});

test('a header length past the end of the body is a 400 that names the header and the sizes', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const { body, headers } = binaryRequest({ inputs: [{ name: 'float_input', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] }, [[1, 2, 3, 4]]);
  const response = await fn.invoke('POST', '/v2/models/iris/infer', body, { ...headers, 'inference-header-content-length': '5000' });
  t.is(response.statusCode, 400);
  t.is(json(response)['error'], `Inference-Header-Content-Length is "5000" but the body has ${body.length} bytes; set it to the byte length of the JSON object that starts the body`);
});

test('binary data shorter than binary_data_size is a 400, counted as an invalid request', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const { body, headers } = binaryRequest({ inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }] }, [[1, 2, 3, 4]]);
  const response = await fn.invoke('POST', '/v2/models/iris/infer', body, headers);
  t.is(response.statusCode, 400);
  t.regex(json(response)['error'] as string, /inputs\[0\]\.parameters\.binary_data_size is 16; shape \[2, 4\] of FP32 needs 32 bytes/);
  t.is(fn.records().at(-1)!['InvalidRequest'], 1);
});

test('server metadata lists the binary tensor data extension', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const response = await fn.invoke('GET', '/v2');
  t.deepEqual(json(response)['extensions'], ['binary_tensor_data']);
});

test('requests with the same JSON object and other rows each get their own rows\' outputs', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const golden = await readGolden('iris');
  const json = { inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }], outputs: [{ name: 'probabilities', parameters: { binary_data: true } }] };
  for (let first = 0; first + 2 <= Math.min(golden.inputs.length, 8); first += 2) {
    const { body, headers } = binaryRequest(json, golden.inputs.slice(first, first + 2));
    const response = await fn.invoke('POST', '/v2/models/iris/infer', body, headers);
    t.is(response.statusCode, 200, response.body);
    const values = new Float32Array(Uint8Array.from(readBinaryResponse(response).binary).buffer);
    t.true(maxAbsDiff([...values], golden.outputs.slice(first, first + 2).flat() as number[]) <= 1e-4, `rows ${first} and ${first + 1}`);
  }
  const bad = binaryRequest(json, [[1, 2, 3, 4], [5, 6, 7, Number.NaN]]);
  const refused = await fn.invoke('POST', '/v2/models/iris/infer', bad.body, bad.headers);
  t.is(refused.statusCode, 400);
  t.regex(refused.body, /inputs\[0\]'s binary element 7 is NaN/);
});
