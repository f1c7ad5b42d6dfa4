import test from 'ava';
import { connect } from 'node:net';
import path from 'node:path';
import { BUNDLES, MODELS, maxAbsDiff, readGolden, readManifestJson } from '../../helpers/function.js';
import { failingStart, startServer, type Server } from '../../helpers/serve.js';

// `npm start` as a user runs it: a real HTTP server in another process, fed through the real handler. The server
// builds each request's event with the project's own event builder (tools/http-api-event.ts), so these tests simulate
// API Gateway rather than go through it.
const servers = new Map<string, Server>();

test.before(async () => {
  const started = await Promise.all(BUNDLES.map(async (bundle) => [bundle, await startServer(bundle === 'iris' ? [] : ['--model', path.join('models', bundle)])] as const));
  for (const [bundle, server] of started) servers.set(bundle, server);
});

test.after.always(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

function server(bundle: string): Server {
  return servers.get(bundle)!;
}

test('answers the README curl example with setosa on the default model', async (t) => {
  const response = await fetch(`${server('iris').url}/predict`, {
    method: 'POST',
    // What `curl -d` sends.
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '{"features":[5.1,3.5,1.4,0.2]}',
  });
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'application/json');
  t.truthy(response.headers.get('x-amzn-requestid'));
  const body = (await response.json()) as Record<string, unknown>;
  t.deepEqual(body['prediction'], ['setosa']);
  t.is(body['model_version'], 'iris@1');
});

for (const bundle of BUNDLES) {
  test(`${bundle}: golden rows over HTTP match the training framework within 1e-4`, async (t) => {
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(path.join(MODELS, bundle));
    const response = await fetch(`${server(bundle).url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: golden.inputs }),
    });
    t.is(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    const got = manifest['task'] === 'classification' ? (body['probabilities'] as number[][]).flat() : (body['prediction'] as number[]);
    t.true(maxAbsDiff(got, golden.outputs.flat() as number[]) <= 1e-4);
  });
}

/** Sends `head` and `body` over a plain socket, as a proxy would, and reads the response to the end. */
async function rawRequest(url: string, head: string, body = ''): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.end(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  const split = text.indexOf('\r\n\r\n');
  const [statusLine, ...fields] = text.slice(0, split).split('\r\n');
  let rest = text.slice(split + 4);
  if (fields.some((f) => /^transfer-encoding:\s*chunked$/i.test(f))) {
    let decoded = '';
    for (let size = parseInt(rest, 16); size > 0; size = parseInt(rest, 16)) {
      const start = rest.indexOf('\r\n') + 2;
      decoded += rest.slice(start, start + size);
      rest = rest.slice(start + size + 2);
    }
    rest = decoded;
  }
  return { status: Number(statusLine!.split(' ')[1]), body: rest };
}

test('answers a request whose target is in absolute form, as proxies send it (RFC 9112 section 3.2.2)', async (t) => {
  const url = server('iris').url;
  const predicted = await rawRequest(url, `POST ${url}/predict HTTP/1.1\r\nHost: proxy.invalid`, '{"features":[5.1,3.5,1.4,0.2]}');
  t.is(predicted.status, 200, predicted.body);
  t.deepEqual((JSON.parse(predicted.body) as Record<string, unknown>)['prediction'], ['setosa']);
  const withQuery = await rawRequest(url, `GET ${url}/v2/health/live?probe=1 HTTP/1.1\r\nHost: proxy.invalid`);
  t.is(withQuery.status, 200, withQuery.body);
  t.is((await rawRequest(url, `POST ${url}/nope HTTP/1.1\r\nHost: proxy.invalid`, '{}')).status, 404);
});

test('a binary content type arrives base64-encoded and still predicts', async (t) => {
  const response = await fetch(`${server('iris').url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from('{"features":{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}}'),
  });
  t.is(response.status, 200);
  t.deepEqual(((await response.json()) as Record<string, unknown>)['prediction'], ['virginica']);
});

test('an Open Inference Protocol request with binary tensor data over HTTP answers with binary outputs', async (t) => {
  const rows = (await readGolden('iris')).inputs.slice(0, 2);
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'float_input', shape: [2, 4], datatype: 'FP32', parameters: { binary_data_size: 32 } }],
      outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
    }),
  );
  const response = await fetch(`${server('iris').url}/v2/models/iris/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(Float32Array.from(rows.flat()).buffer)]),
  });
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), 'application/octet-stream');
  const bytes = Buffer.from(await response.arrayBuffer());
  const length = Number(response.headers.get('inference-header-content-length'));
  const json = JSON.parse(bytes.subarray(0, length).toString()) as { outputs: { name: string; parameters: { binary_data_size: number } }[] };
  t.deepEqual(json.outputs.map((o) => [o.name, o.parameters.binary_data_size]), [['probabilities', 24]]);
  const probabilities = new Float32Array(Uint8Array.from(bytes.subarray(length)).buffer);
  const golden = (await readGolden('iris')).outputs.slice(0, 2).flat() as number[];
  t.true(maxAbsDiff([...probabilities], golden) <= 1e-4);
});

test('a 7 MB body is refused with 413', async (t) => {
  const response = await fetch(`${server('iris').url}/predict`, { method: 'POST', body: 'x'.repeat(7 * 1024 * 1024) });
  t.is(response.status, 413);
  t.regex(String(((await response.json()) as Record<string, unknown>)['error']), /6 MB/);
});

test('GET /predict is 405 and an unknown route is 404', async (t) => {
  t.is((await fetch(`${server('iris').url}/predict`)).status, 405);
  t.is((await fetch(`${server('iris').url}/nope`, { method: 'POST', body: '{}' })).status, 404);
});

/** A stdout line as JSON, or undefined for a line that is not a JSON object. */
function jsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

test("prints the function's EMF and log lines to stdout with the request id", async (t) => {
  const iris = server('iris');
  const response = await fetch(`${iris.url}/predict`, { method: 'POST', body: '{"features":[5.1,3.5,1.4,0.2]}' });
  const requestId = response.headers.get('x-amzn-requestid');
  await response.arrayBuffer();
  t.truthy(requestId);
  // The EMF record is written after the response; wait for it, within a bound.
  const emf = await iris.stdoutLine((line) => {
    const record = jsonLine(line);
    return record?.['requestId'] === requestId && record?.['_aws'] !== undefined;
  });
  t.truthy(emf, `no EMF record for request ${requestId} in stdout:\n${iris.stdout()}`);
  t.is(jsonLine(emf ?? '')?.['status'], 200);
  t.truthy(await iris.stdoutLine((line) => jsonLine(line)?.['message'] === 'model loaded'), 'the "model loaded" log line');
});

test('refuses an unknown option with a usage line and a non-zero exit', async (t) => {
  const { code, stderr } = await failingStart(['--modle', 'models/iris']);
  t.not(code, 0);
  t.regex(stderr, /Unknown option '--modle'.*usage: npm start -- \[--model <bundle dir or \.onnx file>\]/s);
});

test('refuses a PORT that is not a port number', async (t) => {
  const { code, stderr } = await failingStart([], { PORT: 'http' });
  t.not(code, 0);
  t.regex(stderr, /PORT=http is not a port number/);
});

test('npm start serves the CNN bundle: an 8x8 image per instance, as rows and in the columnar form, over HTTP', async (t) => {
  const golden = await readGolden('digits-cnn');
  const server = await startServer(['--model', path.join('models', 'digits-cnn')]);
  try {
    const images = golden.inputs.slice(0, 3) as unknown as number[][][][];
    for (const body of [{ instances: images }, { inputs: { pixels: images } }, { inputs: images }]) {
      const response = await fetch(`${server.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      t.is(response.status, 200);
      const answer = (await response.json()) as { prediction: string[]; probabilities: number[][]; model_version: string };
      t.is(answer.model_version, 'digits-cnn@1');
      const expected = golden.outputs.slice(0, 3) as number[][];
      t.deepEqual(answer.prediction, expected.map((row) => String(row.indexOf(Math.max(...row)))));
      t.true(maxAbsDiff(answer.probabilities.flat(), expected.flat()) <= 1e-4);
    }
    const flat = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ instances: [images[0]!.flat(2)] }) });
    t.is(flat.status, 400);
    t.regex(((await flat.json()) as { error: string }).error, /instances\[\*\] has 2 dimensions \[1, 64\]; input "pixels" of model digits-cnn has 4: \[batch, 1, 8, 8\]/);
  } finally {
    await server.stop();
  }
});

test('npm start -- --model file.onnx serves a bare ONNX file as a tensor model named after the file', async (t) => {
  const server = await startServer(['--model', path.join('test', 'fixtures', 'byom', 'shared-symbolic-dim', 'model.onnx')]);
  try {
    const metadata = (await (await fetch(`${server.url}/v2/models/shared-symbolic-dim`)).json()) as { inputs: { name: string; shape: number[] }[] };
    t.deepEqual(metadata.inputs, [
      { name: 'query', datatype: 'FP32', shape: [-1, -1] },
      { name: 'key', datatype: 'FP32', shape: [-1, -1] },
    ]);
    const response = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ instances: [{ query: [1, 2], key: [3, 4] }] }) });
    t.is(response.status, 200);
    const answer = (await response.json()) as { outputs: Record<string, unknown>; model_version: string };
    t.deepEqual(answer.outputs, { similarity: [11], difference: [[-2, -2]] });
    t.regex(answer.model_version, /^shared-symbolic-dim@[0-9a-f]{12}$/);
  } finally {
    await server.stop();
  }
});

test('npm start carries every input type over HTTP, in rows, columns and Open Inference Protocol tensors', async (t) => {
  const values: Record<string, unknown[]> = {
    int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647], int64: [-(2 ** 53 - 1), 2 ** 53 - 1],
    uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295], uint64: [0, 2 ** 53 - 1], float16: [-65504, 0.5],
    float32: [-3.4028235e38, 0.1], float64: [-1.7976931348623157e308, 5e-324], bool: [true, false], string: ['', 'héllo'],
  };
  const datatypes: Record<string, string> = { int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', float16: 'FP16', float32: 'FP32', float64: 'FP64', bool: 'BOOL', string: 'BYTES' };
  const server = await startServer(['--model', path.join('test', 'fixtures', 'tensor', 'all-types')]);
  try {
    const instance = Object.fromEntries(Object.entries(values).map(([type, v]) => [`in_${type}`, v]));
    const post = async (route: string, body: unknown) => (await (await fetch(`${server.url}${route}`, { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const rows = (await post('/predict', { instances: [instance] }))['outputs'] as Record<string, unknown[]>;
    const columns = (await post('/predict', { inputs: Object.fromEntries(Object.entries(instance).map(([k, v]) => [k, [v]])) }))['outputs'] as Record<string, unknown[]>;
    const infer = await post('/v2/models/all-types/infer', { inputs: Object.entries(values).map(([type, v]) => ({ name: `in_${type}`, shape: [1, 2], datatype: datatypes[type], data: v })) });
    const inferred = Object.fromEntries((infer['outputs'] as { name: string; data: unknown[] }[]).map((o) => [o.name, o.data]));
    for (const [type, v] of Object.entries(values)) {
      t.deepEqual(rows[`out_${type}`], [v], `rows ${type}`);
      t.deepEqual(columns[`out_${type}`], [v], `columns ${type}`);
      t.deepEqual(inferred[`out_${type}`], v, `infer ${type}`);
    }
  } finally {
    await server.stop();
  }
});
