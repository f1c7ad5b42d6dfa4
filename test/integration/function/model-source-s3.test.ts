// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test, { type ExecutionContext } from 'ava';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { DEFAULT_ANSWER_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS } from '../../../functions/predict/s3-download.js';
import { MODELS, functionFor, json, maxAbsDiff, readGolden } from '../../helpers/function.js';
import { freePort, startMoto, type Moto } from '../../helpers/moto.js';
import { ortFolder } from '../../helpers/ort-bundles.js';
import { tempDir } from '../../helpers/temp-dir.js';

// The real S3 client against a moto server; the function reads AWS_ENDPOINT_URL from the process environment,
// so these tests run one at a time.
let moto: Moto;
const IRIS = path.join(MODELS, 'iris');
const BUCKET = 'models';
let irisBytes: Buffer;
let irisSha: string;
let firstVersion: string;

function s3(): S3Client {
  return new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
}

test.before(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
  delete process.env['AWS_PROFILE'];
  moto = await startMoto();
  process.env['AWS_ENDPOINT_URL'] = moto.endpoint;
  irisBytes = await readFile(path.join(IRIS, 'model.onnx'));
  irisSha = createHash('sha256').update(irisBytes).digest('hex');
  const client = s3();
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'iris/model.onnx', Body: irisBytes }));
  firstVersion = put.VersionId!;
  // A newer version of the same key holds another model: only MODEL_VERSION_ID keeps the function on iris.
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'iris/model.onnx', Body: await readFile(path.join(MODELS, 'breast-cancer', 'model.onnx')) }));
  client.destroy();
});

test.after.always(async () => {
  await moto?.stop();
});

async function s3Function(t: ExecutionContext, extra: Record<string, string>) {
  const downloadDir = await tempDir(t, 'model-download-');
  const fn = functionFor({ MODEL_DIR: IRIS, MODEL_BUCKET: BUCKET, MODEL_KEY: 'iris/model.onnx', MODEL_DOWNLOAD_DIR: downloadDir, ...extra });
  return { fn, downloadDir };
}

test.serial('downloads the pinned version from S3, verifies its sha256 and serves golden predictions', async (t) => {
  const { fn, downloadDir } = await s3Function(t, { MODEL_VERSION_ID: firstVersion, MODEL_SHA256: irisSha });
  const golden = await readGolden('iris');
  const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: golden.inputs }));
  t.is(response.statusCode, 200, response.body);
  const probabilities = (json(response)['probabilities'] as number[][]).flat();
  t.true(maxAbsDiff(probabilities, (golden.outputs as number[][]).flat()) <= 1e-4);
  const loaded = fn.records().find((r) => r['message'] === 'model loaded');
  t.is(loaded?.['source'], `s3://${BUCKET}/iris/model.onnx (version ${firstVersion})`);
  t.is(loaded?.['sha256'], irisSha);
  const files = await readdir(downloadDir);
  t.is(files.length, 1);
  t.deepEqual(await readFile(path.join(downloadDir, files[0]!)), irisBytes);
});

test.serial('downloads a model.ort as the build uploads it, checks its own sha256, and serves golden predictions from it in place', async (t) => {
  const { optimized } = await ortFolder(t, IRIS);
  const client = s3();
  const put = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'iris/1/model.ort', Body: optimized.data }));
  client.destroy();
  const ortSha = createHash('sha256').update(optimized.data).digest('hex');
  const { fn, downloadDir } = await s3Function(t, { MODEL_KEY: 'iris/1/model.ort', MODEL_VERSION_ID: put.VersionId!, MODEL_SHA256: ortSha });
  const golden = await readGolden('iris');
  const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: golden.inputs }));
  t.is(response.statusCode, 200, response.body);
  t.true(maxAbsDiff((json(response)['probabilities'] as number[][]).flat(), (golden.outputs as number[][]).flat()) <= 1e-4);
  const loaded = fn.records().find((r) => r['message'] === 'model loaded');
  t.like(loaded, { source: `s3://${BUCKET}/iris/1/model.ort (version ${put.VersionId!})`, format: 'ort', sha256: ortSha, bytes: optimized.data.length });
  const files = await readdir(downloadDir);
  t.is(files.length, 1);
  t.regex(files[0]!, /^model-[0-9a-f]{16}\.ort$/, 'the downloaded file keeps the format in its name');
});

test.serial('refuses a downloaded model whose sha256 differs from MODEL_SHA256 and deletes it', async (t) => {
  // Without a version id the newest object (the breast-cancer model) is fetched, and its checksum is not iris's.
  const { fn, downloadDir } = await s3Function(t, { MODEL_SHA256: irisSha });
  const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
  t.is(response.statusCode, 503);
  t.false(response.body.includes(BUCKET));
  const error = String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']);
  t.true(error.includes(`but MODEL_SHA256 expects ${irisSha}`), error);
  t.deepEqual(await readdir(downloadDir), []);
  t.is((await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}')).statusCode, 503, 'keeps answering');
});

test.serial('answers 503 and logs the key when the object does not exist', async (t) => {
  const { fn } = await s3Function(t, { MODEL_KEY: 'iris/missing.onnx' });
  const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
  t.is(response.statusCode, 503);
  const error = String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']);
  t.true(error.includes(`s3://${BUCKET}/iris/missing.onnx could not be downloaded: the object does not exist`), error);
});

test.serial('answers 503 and logs the cause when the S3 endpoint is down', async (t) => {
  const saved = process.env['AWS_ENDPOINT_URL'];
  process.env['AWS_ENDPOINT_URL'] = `http://127.0.0.1:${await freePort()}`;
  try {
    const { fn } = await s3Function(t, {});
    const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
    t.is(response.statusCode, 503);
    t.is(json(response)['error'], 'Model unavailable: the model file could not be fetched; see the function log for the cause');
    const error = String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']);
    t.true(error.includes('could not be downloaded') && error.includes('ECONNREFUSED'), error);
    t.is((await fn.invoke('GET', '/v2/health/live')).statusCode, 200);
  } finally {
    process.env['AWS_ENDPOINT_URL'] = saved;
  }
});

test.serial('answers 503 and logs what to check when the S3 endpoint accepts and never answers', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const saved = process.env['AWS_ENDPOINT_URL'];
  process.env['AWS_ENDPOINT_URL'] = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  try {
    const { fn, downloadDir } = await s3Function(t, {});
    const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
    t.is(response.statusCode, 503);
    const error = String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']);
    t.true(error.includes(`s3://${BUCKET}/iris/model.onnx could not be downloaded: S3 did not answer within ${DEFAULT_ANSWER_TIMEOUT_MS / 1000} s (${DEFAULT_MAX_ATTEMPTS} attempts); check the network path to S3 (VPC endpoint or NAT) and AWS_ENDPOINT_URL`), error);
    t.false(error.includes(downloadDir), error);
    t.deepEqual(await readdir(downloadDir), []);
  } finally {
    process.env['AWS_ENDPOINT_URL'] = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
