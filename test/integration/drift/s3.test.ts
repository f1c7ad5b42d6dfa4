// `npm run drift -- s3://...` against moto's S3, with captures laid out as Firehose writes them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { parseBaseline } from '../../../commands/drift/baseline.js';
import { readS3 } from '../../../commands/drift/capture-source.js';
import type { DriftReport } from '../../../commands/drift/report.js';
import { BASELINE_FILE } from '../../../functions/contract/capture.js';
import { MODELS } from '../../helpers/function.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { runNpm } from '../../helpers/npm.js';
import { captureLines, subscriptionMessages, syntheticRecords } from './synthetic-captures.js';

const IRIS = path.join(MODELS, 'iris');
const BUCKET = 'captures-test';
const PREFIX = 'captures/model=iris/version=1/2026/05/01/';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

const baseline = parseBaseline(JSON.parse(await readFile(path.join(IRIS, BASELINE_FILE), 'utf8')), 'iris');
let moto: Moto;
let client: S3Client;

test.before(async () => {
  moto = await startMoto();
  client = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Five Firehose objects (gzip, subscription messages back to back) of shifted iris, one plain object, and an
  // object outside the prefix that must not be read.
  const records = syntheticRecords(baseline, { records: 36, rowsPerRecord: 25, seed: 11, start: new Date('2026-05-01T00:00:00.000Z'), shift: { petal_width: 1.2 } });
  for (let i = 0; i < 5; i++) {
    const body = gzipSync(subscriptionMessages(records.slice(i * 6, i * 6 + 6), 4));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}capture-stream-1-2026-05-01-00-0${i}-00-${i}.gz`, Body: body }));
  }
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}manual.jsonl`, Body: captureLines(records.slice(30)) }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/other.jsonl', Body: captureLines(records) }));
});

test.after.always(async () => {
  client?.destroy();
  await moto?.stop();
});

test('reads gzipped Firehose objects and plain ones under the prefix, and reports the known shift: exit 3', async (t) => {
  const run = await runNpm('drift', [`s3://${BUCKET}/${PREFIX}`, '--model', IRIS, '--json', '-'], { ...CREDENTIALS, AWS_ENDPOINT_URL: moto.endpoint });
  t.is(run.code, 3, run.stderr);
  const report = JSON.parse(run.stdout) as DriftReport;
  t.like(report.records, { files: 6, read: 36, used: 36, malformed: 0 });
  t.is(report.rows, 900);
  t.deepEqual(report.drifted, ['petal_width']);
});

test('lists page by page, and skips objects written before the window began', async (t) => {
  const all = await readS3({ bucket: BUCKET, prefix: PREFIX }, { client, pageSize: 2 });
  t.is(all.files, 6);
  t.is(all.records.length, 36);
  const later = await readS3({ bucket: BUCKET, prefix: PREFIX }, { client, pageSize: 2, since: new Date(Date.now() + 3_600_000) });
  t.like(later, { files: 0, skippedFiles: 6 });
  t.is(later.records.length, 0);
});

test('a bucket that does not exist exits 1 with what to check', async (t) => {
  const run = await runNpm('drift', ['s3://no-such-bucket/x/', '--model', IRIS], { ...CREDENTIALS, AWS_ENDPOINT_URL: moto.endpoint });
  t.is(run.code, 1);
  // The last line: the AWS SDK may warn about the Node.js version before it.
  t.regex(run.stderr, /^drift: cannot list s3:\/\/no-such-bucket\/x\/ \(NoSuchBucket: .*\); check the bucket name, the region \(AWS_REGION\) and that your credentials may s3:ListBucket\n$/m);
});
