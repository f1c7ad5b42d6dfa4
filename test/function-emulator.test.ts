import test from 'ava';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { stageArtifacts, type StagedArtifacts } from '../scripts/stage-artifacts.js';
import { runBuild } from './helpers/build.js';
import { startFunction, type Invocation, type LambdaUnderTest } from './helpers/emulator.js';
import { FIXTURES, MODELS, ROOT, alteredBundle, genuineEvent, maxAbsDiff, readGolden, readManifestJson } from './helpers/function.js';
import { startMoto, type Moto } from './helpers/moto.js';

// The built artifacts, unzipped as Lambda unzips them, run by AWS's Runtime Interface Emulator with AWS's Node.js
// runtime interface client: the layer on NODE_PATH from an /opt-like folder, the function in a task root.
const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'x86_64';
let staged: StagedArtifacts;
const started: LambdaUnderTest[] = [];
const cleanups: (() => Promise<void>)[] = [];

test.before(async () => {
  const build = await runBuild(['--arch', HOST_ARCH]);
  if (build.code !== 0) throw new Error(`npm run build failed: ${build.stderr}`);
  staged = await stageArtifacts(build.outDir);
  cleanups.push(() => rm(build.outDir, { recursive: true, force: true }), () => staged.remove());
});

test.after.always(async () => {
  await Promise.all(started.map((f) => f.stop()));
  await Promise.all(cleanups.map((c) => c()));
});

/** A task root holding the built code with another bundle in its model/ folder. */
async function taskRootWithModel(bundleDir: string): Promise<string> {
  const root = path.join(path.dirname(staged.taskRoot), `task-${path.basename(bundleDir)}-${Math.random().toString(36).slice(2, 8)}`);
  await cp(staged.taskRoot, root, { recursive: true });
  await rm(path.join(root, 'model'), { recursive: true, force: true });
  await cp(bundleDir, path.join(root, 'model'), { recursive: true });
  return root;
}

async function start(taskRoot: string, env: Record<string, string> = {}): Promise<LambdaUnderTest> {
  const fn = await startFunction({ taskRoot, optDir: staged.optDir, handler: staged.build.handler, env: { METRICS_NAMESPACE: 'EmulatorTest', ...env } });
  started.push(fn);
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

for (const bundle of ['iris', 'breast-cancer', 'diabetes'] as const) {
  test(`${bundle}: the built function answers every golden row within 1e-4 under the Lambda runtime`, async (t) => {
    const taskRoot = bundle === 'iris' ? staged.taskRoot : await taskRootWithModel(path.join(MODELS, bundle));
    const fn = await start(taskRoot);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(path.join(MODELS, bundle));
    const invocation = await fn.invoke(genuineEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
    t.false(invocation.initError, invocation.logs);
    const { statusCode, body } = response(invocation);
    t.is(statusCode, 200, JSON.stringify(body));
    const got = manifest['task'] === 'classification' ? (body['probabilities'] as number[][]).flat() : (body['prediction'] as number[]);
    t.true(maxAbsDiff(got, golden.outputs.flat() as number[]) <= 1e-4);
  });
}

test('the first invocation reports an Init Duration, later ones do not, and each writes its EMF record', async (t) => {
  const fn = await start(staged.taskRoot, { AWS_LAMBDA_FUNCTION_VERSION: '3' });
  const event = JSON.parse(await readFile(path.join(ROOT, 'test', 'events', 'predict-iris.json'), 'utf8')) as unknown;
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
  const modelLoadMs = records[0]?.['ModelLoadTime'] as number;
  t.is(typeof modelLoadMs, 'number');
  // The module awaits the model: the load happens in the init phase, not in the first request.
  t.true((first.runtimeInitMs ?? 0) >= modelLoadMs, `init ${first.runtimeInitMs} ms should include the ${modelLoadMs} ms model load`);
  t.true((records[0]?.['RequestLatency'] as number) < modelLoadMs, 'the first request does not wait for the model');
  t.false('ColdStart' in (records[1] ?? {}));
  t.is(records[1]?.['FunctionVersion'], '3');
  t.is(records[1]?.['status'], 200);
});

test('bad requests get their 4xx answers under the Lambda runtime', async (t) => {
  const fn = await start(staged.taskRoot);
  const bad = response(await fn.invoke(JSON.parse(await readFile(path.join(ROOT, 'test', 'events', 'predict-bad-value.json'), 'utf8'))));
  t.is(bad.statusCode, 400);
  t.regex(String(bad.body['error']), /features\[0\] is the string "5\.1"/);
  const wrongMethod = response(await fn.invoke(genuineEvent('GET', '/predict')));
  t.is(wrongMethod.statusCode, 405);
  t.is(wrongMethod.headers['allow'], 'POST');
  t.is(response(await fn.invoke(genuineEvent('POST', '/nope', '{}'))).statusCode, 404);
  t.is(response(await fn.invoke(genuineEvent('POST', '/predict', JSON.stringify({ instances: Array.from({ length: 257 }, () => [1, 2, 3, 4]) })))).statusCode, 413);
});

test('a model that cannot load answers 503 on every call and the runtime keeps serving (no crash loop)', async (t) => {
  const broken = await alteredBundle(path.join(MODELS, 'iris'), (m) => {
    m['input'] = 'input';
  });
  const fn = await start(await taskRootWithModel(broken));
  for (let i = 0; i < 3; i++) {
    const invocation = await fn.invoke(genuineEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
    t.false(invocation.initError);
    t.is(response(invocation).statusCode, 503);
    t.is(typeof invocation.report?.initDurationMs, i === 0 ? 'number' : 'undefined', 'one init only');
  }
  t.is(response(await fn.invoke(genuineEvent('GET', '/v2/health/live'))).statusCode, 200);
  t.regex(fn.logs(), /manifest input \\"input\\" is not in the ONNX file/);
});

test('the zipped function loads its model from S3 through the bundled SDK chunk', async (t) => {
  const moto: Moto = await startMoto();
  cleanups.push(() => moto.stop());
  const model = await readFile(path.join(MODELS, 'iris', 'model.onnx'));
  const client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateBucketCommand({ Bucket: 'models' }));
  await client.send(new PutObjectCommand({ Bucket: 'models', Key: 'iris/model.onnx', Body: model }));
  client.destroy();
  const taskRoot = await taskRootWithModel(path.join(MODELS, 'iris'));
  await rm(path.join(taskRoot, 'model', 'model.onnx'));
  const fn = await start(taskRoot, {
    AWS_ENDPOINT_URL: moto.endpoint,
    MODEL_BUCKET: 'models',
    MODEL_KEY: 'iris/model.onnx',
    MODEL_SHA256: createHash('sha256').update(model).digest('hex'),
    MODEL_DOWNLOAD_DIR: path.join(path.dirname(taskRoot), `tmp-${path.basename(taskRoot)}`),
  });
  const invocation = await fn.invoke(genuineEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
  t.is(response(invocation).statusCode, 200, invocation.logs);
  t.deepEqual(response(invocation).body['prediction'], ['setosa']);
  t.regex(fn.logs(), /"message":"model loaded".*"source":"s3:\/\/models\/iris\/model\.onnx"/);
});

test('a zip without a model answers 503 and names the missing file in the log', async (t) => {
  const taskRoot = await taskRootWithModel(path.join(FIXTURES, 'iris-zipmap'));
  await rm(path.join(taskRoot, 'model', 'model.onnx'));
  const fn = await start(taskRoot);
  const invocation = await fn.invoke(genuineEvent('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}'));
  t.is(response(invocation).statusCode, 503);
  t.regex(fn.logs(), /model\.onnx cannot be read/);
});
