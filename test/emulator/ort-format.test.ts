// The build ships the model in ORT format (npm run build's default --optimize auto): the built function, unpacked as
// Lambda unpacks it, loads model.ort in place under AWS's Runtime Interface Emulator, from the zip or from S3 (moto).
import test, { type ExecutionContext } from 'ava';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StagedArtifacts } from '../../tools/stage-artifacts.js';
import { buildAndStage, readBuildRecord } from '../helpers/build.js';
import { startFunction, type Invocation, type LambdaUnderTest } from '../helpers/emulator.js';
import { maxAbsDiff, readGolden, simulatedHttpApiEvent } from '../helpers/function.js';
import { startMoto } from '../helpers/moto.js';
import { multiIoBundle } from '../helpers/ort-bundles.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';

const cleanup = new SuiteCleanup();
test.after.always(() => cleanup.run());

async function start(t: ExecutionContext, staged: StagedArtifacts, env: Record<string, string> = {}): Promise<LambdaUnderTest> {
  const fn = await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, handler: staged.build.handler, env: { METRICS_NAMESPACE: 'OrtTest', ...env } });
  t.teardown(() => fn.stop());
  return fn;
}

function answer(invocation: Invocation): { statusCode: number; body: Record<string, unknown> } {
  const payload = invocation.payload as { statusCode: number; body: string };
  return { statusCode: payload.statusCode, body: JSON.parse(payload.body) as Record<string, unknown> };
}

test('the default build ships iris as model.ort, without model.onnx, which answers every golden row with or without MODEL_FILE', async (t) => {
  const { outDir, staged } = await buildAndStage(cleanup);
  t.is((await readBuildRecord(outDir)).model.format, 'ort');
  t.deepEqual((await readdir(path.join(staged.taskRoot, 'model'))).sort(), ['baseline.json', 'model.json', 'model.ort'], 'no model.onnx: the ORT file alone, with the manifest and the training baseline');
  const golden = await readGolden('iris');
  // MODEL_FILE as the infrastructure sets it, and unset as the local tools run a build.
  for (const env of [{ MODEL_FILE: 'model.ort' }, {}]) {
    const fn = await start(t, staged, env);
    const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
    t.false(invocation.initError, invocation.logs);
    const { statusCode, body } = answer(invocation);
    t.is(statusCode, 200, JSON.stringify(body));
    t.true(maxAbsDiff((body['probabilities'] as number[][]).flat(), golden.outputs.flat(2) as number[]) <= (golden.tolerance ?? 1e-4));
    t.regex(fn.logs(), /"message":"model loaded".*"source":"[^"]*\/model\/model\.ort","format":"ort"/);
  }
});

test('a tensor model with several inputs, built to model.ort, answers its golden rows under the Lambda runtime', async (t) => {
  const bundle = await multiIoBundle(t);
  const { outDir, staged } = await buildAndStage(cleanup, ['--model', bundle]);
  t.is((await readBuildRecord(outDir)).model.format, 'ort');
  const golden = JSON.parse(await readFile(path.join(bundle, 'golden.json'), 'utf8')) as { inputs: unknown[]; outputs: { score: number[]; embedding: number[] }[] };
  const fn = await start(t, staged);
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
  const { statusCode, body } = answer(invocation);
  t.is(statusCode, 200, JSON.stringify(body));
  const outputs = body['outputs'] as { score: number[][]; embedding: number[][] };
  t.deepEqual(outputs.score, golden.outputs.map((o) => o.score));
  t.deepEqual(outputs.embedding, golden.outputs.map((o) => o.embedding));
  t.regex(String(body['model_version']), /^multi-io@[0-9a-f]{12}$/);
});

test('the zipped function downloads the model.ort the build packaged for S3, checks its sha256 and answers golden rows', async (t) => {
  const { outDir, staged } = await buildAndStage(cleanup, ['--package', 's3']);
  const { model } = await readBuildRecord(outDir);
  t.is(model.format, 'ort');
  const moto = await startMoto();
  t.teardown(() => moto.stop());
  const client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateBucketCommand({ Bucket: 'models' }));
  // The key the model store gives it: models/<name>/<version>/<shipped file>.
  const key = `models/${model.name}/${model.version}/${model.shippedName!}`;
  await client.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: await readFile(path.join(outDir, path.basename(model.file!))) }));
  client.destroy();
  const fn = await start(t, staged, {
    AWS_ENDPOINT_URL: moto.endpoint,
    MODEL_BUCKET: 'models',
    MODEL_KEY: key,
    MODEL_SHA256: model.shippedSha256!,
    MODEL_DOWNLOAD_DIR: await cleanup.tempDir('ort-download-'),
  });
  const golden = await readGolden('iris');
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
  const { statusCode, body } = answer(invocation);
  t.is(statusCode, 200, invocation.logs);
  t.true(maxAbsDiff((body['probabilities'] as number[][]).flat(), golden.outputs.flat(2) as number[]) <= (golden.tolerance ?? 1e-4));
  t.regex(fn.logs(), new RegExp(`"message":"model loaded".*"source":"s3://models/${key.replace(/\./g, '\\.')}","format":"ort".*"sha256":"${model.shippedSha256!}"`));
});
