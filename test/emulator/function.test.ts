// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts),
// beside the events in test/fixtures/events/.
import test, { type ExecutionContext } from 'ava';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stageArtifacts, type StagedArtifacts } from '../../tools/stage-artifacts.js';
import { runBuild, runBuildInTempDir } from '../helpers/build.js';
import { startFunction, type Invocation, type LambdaUnderTest } from '../helpers/emulator.js';
import { ALL_BUNDLES, FIXTURES, MODELS, ROOT, alteredBundle, maxAbsDiff, readGolden, readManifestJson, simulatedHttpApiEvent } from '../helpers/function.js';
import { startMoto } from '../helpers/moto.js';
import { tempDir } from '../helpers/temp-dir.js';

// The built artifacts, unzipped as Lambda unzips them, run by AWS's Runtime Interface Emulator with AWS's Node.js
// runtime interface client: the layer on NODE_PATH from an /opt-like folder, the function in a task root.
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';
let distDir: string | undefined;
let staged: StagedArtifacts | undefined;

test.before(async () => {
  distDir = await mkdtemp(path.join(tmpdir(), 'dist-'));
  const build = await runBuild(['--arch', HOST_ARCH], distDir);
  if (build.code !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  staged = await stageArtifacts(build.outDir);
});

test.after.always(async () => {
  await staged?.remove();
  if (distDir !== undefined) await rm(distDir, { recursive: true, force: true });
});

function built(): StagedArtifacts {
  if (staged === undefined) throw new Error('the build in test.before did not finish');
  return staged;
}

/** A task root holding the built code with another bundle in its model/ folder; removed when the test ends. */
async function taskRootWithModel(t: ExecutionContext, bundleDir: string): Promise<string> {
  const root = path.join(await realpath(await tempDir(t, 'task-')), 'task');
  await cp(built().taskRoot, root, { recursive: true });
  await rm(path.join(root, 'model'), { recursive: true, force: true });
  await cp(bundleDir, path.join(root, 'model'), { recursive: true });
  return root;
}

/** Starts the function from a task root under the emulator; it stops when the test ends. */
async function start(t: ExecutionContext, taskRoot: string, env: Record<string, string> = {}, artifacts: StagedArtifacts = built()): Promise<LambdaUnderTest> {
  const fn = await startFunction({ taskRoot, optDir: artifacts.optDir, handler: artifacts.build.handler, env: { METRICS_NAMESPACE: 'EmulatorTest', ...env } });
  t.teardown(() => fn.stop());
  return fn;
}

function response(invocation: Invocation): { statusCode: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const payload = invocation.payload as { statusCode: number; headers: Record<string, string>; body: string };
  return { statusCode: payload.statusCode, headers: payload.headers, body: JSON.parse(payload.body) as Record<string, unknown> };
}

function emfRecords(logs: string): Record<string, unknown>[] {
  return logs
    .split('\n')
    .map((line) => line.slice(line.indexOf('{')))
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

for (const bundle of ALL_BUNDLES) {
  test(`${bundle}: the built function answers every golden row within the bundle's tolerance under the Lambda runtime`, async (t) => {
    const taskRoot = bundle === 'iris' ? built().taskRoot : await taskRootWithModel(t, path.join(MODELS, bundle));
    const fn = await start(t, taskRoot);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(path.join(MODELS, bundle));
    const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
    t.false(invocation.initError, invocation.logs);
    const { statusCode, body } = response(invocation);
    t.is(statusCode, 200, JSON.stringify(body));
    const got = manifest['task'] === 'classification' ? (body['probabilities'] as number[][]).flat() : (body['prediction'] as number[]);
    t.true(maxAbsDiff(got, golden.outputs.flat(2) as number[]) <= (golden.tolerance ?? 1e-4));
  });
}

/** A tensor fixture built as a user builds a bare model.onnx, and staged as Lambda unzips it; removed when the test ends. */
async function builtTensorModel(t: ExecutionContext, fixture: string): Promise<StagedArtifacts> {
  const build = await runBuildInTempDir(t, ['--arch', HOST_ARCH, '--model', path.join(FIXTURES, 'tensor', fixture), '--allow-missing-golden']);
  if (build.code !== 0) throw new Error(`npm run build of ${fixture} failed: ${build.stderr}`);
  const artifacts = await stageArtifacts(build.outDir);
  t.teardown(() => artifacts.remove());
  return artifacts;
}

test('a float16 input, which onnxruntime-node 1.30 cannot take on Node.js 24, does not build for nodejs24.x and says why', async (t) => {
  const build = await runBuildInTempDir(t, ['--arch', HOST_ARCH, '--model', path.join(FIXTURES, 'tensor', 'all-types'), '--allow-missing-golden']);
  t.is(build.code, 1);
  t.regex(build.stderr, /input "in_float16" is float16, which onnxruntime-node 1\.30 cannot take on Node\.js 23 and later .*microsoft\/onnxruntime#32323.*a Cast to float16.*--runtime nodejs22\.x/);
});

test('the same model under the runtime anyway refuses to load, naming the float16 input, and stays alive', async (t) => {
  const fn = await start(t, await taskRootWithModel(t, path.join(FIXTURES, 'tensor', 'all-types')));
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', '{"instances":[]}'));
  t.is(response(invocation).statusCode, 503);
  t.regex(fn.logs(), /input \\"in_float16\\" is float16, which onnxruntime-node 1\.30 cannot take on Node\.js 23 and later/);
  t.is(response(await fn.invoke(simulatedHttpApiEvent('GET', '/v2/health/live'))).statusCode, 200);
});

test('every other input type, and a float16 output, built from a bare model.onnx, go through the Lambda runtime in every request form', async (t) => {
  const artifacts = await builtTensorModel(t, 'all-types-node24');
  t.is(artifacts.build.model.name, 'all-types-node24');
  const fn = await start(t, artifacts.taskRoot, {}, artifacts);
  const values: Record<string, unknown[]> = {
    int8: [-128, 127], int16: [-32768, 32767], int32: [-2147483648, 2147483647], int64: [-(2 ** 53 - 1), 2 ** 53 - 1],
    uint8: [0, 255], uint16: [0, 65535], uint32: [0, 4294967295], uint64: [0, 2 ** 53 - 1],
    float32: [-2, 0.5], float64: [-1.7976931348623157e308, 5e-324], bool: [true, false], string: ['', 'héllo'],
  };
  const instance = Object.fromEntries(Object.entries(values).map(([type, v]) => [`in_${type}`, v]));
  values['float16'] = [-2, 0.5];
  const rows = response(await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: [instance] }))));
  t.is(rows.statusCode, 200, JSON.stringify(rows.body));
  const columns = response(await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ inputs: Object.fromEntries(Object.entries(instance).map(([k, v]) => [k, [v]])) }))));
  for (const answer of [rows, columns]) {
    const outputs = answer.body['outputs'] as Record<string, unknown[]>;
    for (const [type, v] of Object.entries(values)) t.deepEqual(outputs[`out_${type}`], [v], type);
  }
  const refused = response(await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: [{ ...instance, in_uint8: [1, 256] }] }))));
  t.is(refused.statusCode, 400);
  t.regex(String(refused.body['error']), /instances\[0\]\.in_uint8\[1\] is 256; expected an integer from 0 to 255/);
});

test('several inputs and a symbolic dimension through the Lambda runtime, as JSON and as binary Open Inference Protocol tensors', async (t) => {
  const artifacts = await builtTensorModel(t, 'sequence');
  const fn = await start(t, artifacts.taskRoot, {}, artifacts);
  const ids = [5, 6, 7, 8];
  const mask = [1, 1, 0, 1];
  const asJson = response(
    await fn.invoke(simulatedHttpApiEvent('POST', '/v2/models/sequence/infer', JSON.stringify({ inputs: [{ name: 'input_ids', shape: [1, 4], datatype: 'INT64', data: ids }, { name: 'attention_mask', shape: [1, 4], datatype: 'INT64', data: mask }] }))),
  );
  t.is(asJson.statusCode, 200, JSON.stringify(asJson.body));
  t.deepEqual((asJson.body['outputs'] as { name: string; data: number[] }[]).map((o) => [o.name, o.data]), [['pooled', [19]], ['token_count', [3]]]);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input_ids', shape: [1, 4], datatype: 'INT64', parameters: { binary_data_size: 32 } }, { name: 'attention_mask', shape: [1, 4], datatype: 'INT64', parameters: { binary_data_size: 32 } }] }));
  const body = Buffer.concat([header, Buffer.from(BigInt64Array.from(ids.map(BigInt)).buffer), Buffer.from(BigInt64Array.from(mask.map(BigInt)).buffer)]);
  const binary = await fn.invoke(simulatedHttpApiEvent('POST', '/v2/models/sequence/infer', body, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }));
  const answer = response(binary);
  t.is(answer.statusCode, 200, JSON.stringify(answer.body));
  t.deepEqual((answer.body['outputs'] as { data: number[] }[]).map((o) => o.data), [[19], [3]]);
  const disagreeing = response(await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: [{ input_ids: [1, 2, 3], attention_mask: [1, 1] }] }))));
  t.is(disagreeing.statusCode, 400);
  t.regex(String(disagreeing.body['error']), /\("seq"\)/);
});

test('the model loads in the init phase: a readiness probe as the very first invocation finds it ready', async (t) => {
  // The health routes never wait for the load, so a module that did not await the model would answer 503 here.
  const fn = await start(t, built().taskRoot);
  const first = await fn.invoke(simulatedHttpApiEvent('GET', '/v2/health/ready'));
  t.is(typeof first.report?.initDurationMs, 'number', 'this invocation started the runtime');
  t.is(response(first).statusCode, 200, first.logs);
  t.deepEqual(response(first).body, { ready: true });
});

test('the first invocation reports an Init Duration, later ones do not, and each writes its EMF record', async (t) => {
  const fn = await start(t, built().taskRoot, { AWS_LAMBDA_FUNCTION_VERSION: '3' });
  const event = JSON.parse(await readFile(path.join(ROOT, 'test', 'fixtures', 'events', 'predict-iris.json'), 'utf8')) as unknown;
  const first = await fn.invoke(event);
  const second = await fn.invoke(event);
  t.deepEqual(response(first).body['prediction'], ['setosa']);
  t.truthy(first.report, first.logs);
  t.is(typeof first.report?.initDurationMs, 'number');
  t.truthy(second.report);
  t.is(second.report?.initDurationMs, undefined);
  const records = emfRecords(fn.logs());
  t.is(records.length, 2, fn.logs());
  t.is(records[0]?.['ColdStart'], 1);
  t.is(typeof records[0]?.['ModelLoadTime'], 'number');
  t.false('ColdStart' in (records[1] ?? {}));
  t.is(records[1]?.['FunctionVersion'], '3');
  t.is(records[1]?.['status'], 200);
});

test('bad requests get their 4xx answers under the Lambda runtime', async (t) => {
  const fn = await start(t, built().taskRoot);
  const bad = response(await fn.invoke(JSON.parse(await readFile(path.join(ROOT, 'test', 'fixtures', 'events', 'predict-bad-value.json'), 'utf8'))));
  t.is(bad.statusCode, 400);
  t.regex(String(bad.body['error']), /features\[0\] is the string "5\.1"/);
  const wrongMethod = response(await fn.invoke(simulatedHttpApiEvent('GET', '/predict')));
  t.is(wrongMethod.statusCode, 405);
  t.is(wrongMethod.headers['allow'], 'POST');
  t.is(response(await fn.invoke(simulatedHttpApiEvent('POST', '/nope', '{}'))).statusCode, 404);
  t.is(response(await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: Array.from({ length: 257 }, () => [1, 2, 3, 4]) })))).statusCode, 413);
});

test('a model that cannot load answers 503 on every call and the runtime keeps serving (no crash loop)', async (t) => {
  const broken = await alteredBundle(t, path.join(MODELS, 'iris'), (m) => {
    m['input'] = 'input';
  });
  const fn = await start(t, await taskRootWithModel(t, broken));
  for (let i = 0; i < 3; i++) {
    const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
    t.false(invocation.initError);
    t.is(response(invocation).statusCode, 503);
    t.is(typeof invocation.report?.initDurationMs, i === 0 ? 'number' : 'undefined', 'one init only');
  }
  t.is(response(await fn.invoke(simulatedHttpApiEvent('GET', '/v2/health/live'))).statusCode, 200);
  t.regex(fn.logs(), /manifest input \\"input\\" is not in the ONNX file/);
});

test('the zipped function loads its model from S3 through the bundled SDK chunk', async (t) => {
  const moto = await startMoto();
  t.teardown(() => moto.stop());
  const model = await readFile(path.join(MODELS, 'iris', 'model.onnx'));
  const client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateBucketCommand({ Bucket: 'models' }));
  await client.send(new PutObjectCommand({ Bucket: 'models', Key: 'iris/model.onnx', Body: model }));
  client.destroy();
  const taskRoot = await taskRootWithModel(t, path.join(MODELS, 'iris'));
  await rm(path.join(taskRoot, 'model', 'model.onnx'));
  const fn = await start(t, taskRoot, {
    AWS_ENDPOINT_URL: moto.endpoint,
    MODEL_BUCKET: 'models',
    MODEL_KEY: 'iris/model.onnx',
    MODEL_SHA256: createHash('sha256').update(model).digest('hex'),
    MODEL_DOWNLOAD_DIR: path.join(path.dirname(taskRoot), 'tmp'),
  });
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
  t.is(response(invocation).statusCode, 200, invocation.logs);
  t.deepEqual(response(invocation).body['prediction'], ['setosa']);
  t.regex(fn.logs(), /"message":"model loaded".*"source":"s3:\/\/models\/iris\/model\.onnx"/);
});

test('a zip without a model answers 503 and names the missing file in the log', async (t) => {
  const taskRoot = await taskRootWithModel(t, path.join(FIXTURES, 'iris-zipmap'));
  await rm(path.join(taskRoot, 'model', 'model.onnx'));
  const fn = await start(t, taskRoot);
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
  t.is(response(invocation).statusCode, 503);
  t.regex(fn.logs(), /model\.onnx cannot be read/);
});
