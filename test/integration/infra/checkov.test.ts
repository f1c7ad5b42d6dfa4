/**
 * The checkov wiring (test/helpers/checkov.ts) on small stacks built here: cdktf synthesizes them to a temporary
 * outdir as Terraform JSON, checkov scans it offline. The real infra's scan builds on this.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TerraformStack, Testing } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { CheckovError, runCheckov, type CheckovResult } from '../../helpers/checkov.js';

/** The S3 checks a bare bucket fails: KMS encryption by default, versioning, a public access block. */
const KMS_ENCRYPTION = 'CKV_AWS_145';
const VERSIONING = 'CKV_AWS_21';
const PUBLIC_ACCESS_BLOCK = 'CKV2_AWS_6';
const ACCESS_LOGGING = 'CKV_AWS_18';

const outdirs: string[] = [];
test.after.always(() => {
  for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
});

function stackWith(id: string, build: (stack: TerraformStack) => void): TerraformStack {
  const stack = new TerraformStack(Testing.app(), id);
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  build(stack);
  return stack;
}

/** Synthesizes like `cdktf synth` (JSON, validations run) into a fresh outdir: `<outdir>/stacks/<id>/cdk.tf.json`. */
function synthesize(stack: TerraformStack): string {
  const outdir = Testing.fullSynth(stack);
  outdirs.push(outdir);
  return outdir;
}

function hardenedBucket(stack: TerraformStack, id: string): S3Bucket {
  const bucket = new S3Bucket(stack, id, { bucket: `${id}-bucket` });
  const key = new KmsKey(stack, `${id}-key`, { enableKeyRotation: true });
  new S3BucketServerSideEncryptionConfigurationA(stack, `${id}-encryption`, {
    bucket: bucket.id,
    rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn } }],
  });
  new S3BucketVersioningA(stack, `${id}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
  new S3BucketPublicAccessBlock(stack, `${id}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  return bucket;
}

/** One scan shared by the tests that only read it: a bare bucket, a hardened one, and a bare one with a skip. */
let shared: Promise<CheckovResult> | undefined;
function sharedScan(): Promise<CheckovResult> {
  shared ??= runCheckov(
    synthesize(
      stackWith('buckets', (stack) => {
        new S3Bucket(stack, 'bare', { bucket: 'bare-bucket' });
        hardenedBucket(stack, 'hardened');
        const logs = new S3Bucket(stack, 'logs', { bucket: 'logs-bucket' });
        logs.addOverride(`//.checkov.skip.${ACCESS_LOGGING}`, 'the access-log bucket would log its own writes');
      }),
    ),
  );
  return shared;
}

function failedIds(result: CheckovResult, resource: string): string[] {
  return result.failed.filter((failure) => failure.resource === resource).map((failure) => failure.checkId);
}

test('a bucket without encryption, versioning or a public access block fails those checks', async (t) => {
  const result = await sharedScan();
  const failed = failedIds(result, 'aws_s3_bucket.bare');
  for (const checkId of [KMS_ENCRYPTION, VERSIONING, PUBLIC_ACCESS_BLOCK]) t.true(failed.includes(checkId), `${checkId} did not fail: ${failed.join(', ')}`);
  const versioning = result.failed.find((failure) => failure.resource === 'aws_s3_bucket.bare' && failure.checkId === VERSIONING);
  t.is(versioning?.file, path.join('stacks', 'buckets', 'cdk.tf.json'));
  t.is(versioning?.checkName, 'Ensure all data stored in the S3 bucket have versioning enabled');
});

test('a bucket with KMS encryption, versioning and a public access block passes those checks', async (t) => {
  const result = await sharedScan();
  const failed = failedIds(result, 'aws_s3_bucket.hardened');
  for (const checkId of [KMS_ENCRYPTION, VERSIONING, PUBLIC_ACCESS_BLOCK]) t.false(failed.includes(checkId), `${checkId} failed`);
  t.true(result.passed >= 3);
});

test('a check skipped in code with a reason is reported as skipped, not failed', async (t) => {
  const result = await sharedScan();
  t.false(failedIds(result, 'aws_s3_bucket.logs').includes(ACCESS_LOGGING));
  t.deepEqual(
    result.skipped.filter((skip) => skip.resource === 'aws_s3_bucket.logs'),
    [
      {
        checkId: ACCESS_LOGGING,
        checkName: 'Ensure the S3 bucket has access logging enabled',
        resource: 'aws_s3_bucket.logs',
        file: path.join('stacks', 'buckets', 'cdk.tf.json'),
        reason: 'the access-log bucket would log its own writes',
      },
    ],
  );
});

test('a skip in code covers only its own resource', async (t) => {
  const result = await sharedScan();
  t.true(failedIds(result, 'aws_s3_bucket.bare').includes(ACCESS_LOGGING));
  t.true(failedIds(result, 'aws_s3_bucket.logs').includes(VERSIONING));
});

test('a skip in code without a reason is rejected', async (t) => {
  const outdir = synthesize(
    stackWith('no-reason', (stack) => {
      new S3Bucket(stack, 'bucket', { bucket: 'bucket' }).addOverride(`//.checkov.skip.${ACCESS_LOGGING}`, ' ');
    }),
  );
  const error = await t.throwsAsync(runCheckov(outdir), { instanceOf: CheckovError });
  t.regex(error?.message ?? '', /aws_s3_bucket\.bucket .* skips CKV_AWS_18 without a reason/);
});

test('a skip in code for a check that does not run on the resource is rejected', async (t) => {
  const outdir = synthesize(
    stackWith('wrong-id', (stack) => {
      new S3Bucket(stack, 'bucket', { bucket: 'bucket' }).addOverride('//.checkov.skip.CKV_AWS_999', 'no such check');
    }),
  );
  const error = await t.throwsAsync(runCheckov(outdir), { instanceOf: CheckovError });
  t.regex(error?.message ?? '', /aws_s3_bucket\.bucket skips CKV_AWS_999/);
});

test('skipChecks leaves a check out of the scan', async (t) => {
  const outdir = synthesize(stackWith('global-skip', (stack) => void new S3Bucket(stack, 'bucket', { bucket: 'bucket' })));
  const result = await runCheckov(outdir, { skipChecks: [VERSIONING] });
  t.false(result.failed.some((failure) => failure.checkId === VERSIONING));
  t.false(result.skipped.some((skip) => skip.checkId === VERSIONING));
  t.true(result.failed.some((failure) => failure.checkId === KMS_ENCRYPTION));
});

test('reads checkov’s own skip comments from HCL', async (t) => {
  const directory = mkdtempSync(path.join(tmpdir(), 'checkov-hcl.'));
  outdirs.push(directory);
  writeFileSync(
    path.join(directory, 'main.tf'),
    ['resource "aws_s3_bucket" "bucket" {', `  #checkov:skip=${ACCESS_LOGGING}:logs go to the central account`, '  bucket = "bucket"', '}', ''].join('\n'),
  );
  const result = await runCheckov(directory, { framework: 'terraform' });
  t.like(result.skipped.find((skip) => skip.checkId === ACCESS_LOGGING), { resource: 'aws_s3_bucket.bucket', file: 'main.tf', reason: 'logs go to the central account' });
  t.true(result.failed.some((failure) => failure.checkId === VERSIONING));
});

test('a directory with no Terraform JSON is an error, not a clean scan', async (t) => {
  const directory = mkdtempSync(path.join(tmpdir(), 'checkov-empty.'));
  outdirs.push(directory);
  mkdirSync(path.join(directory, 'stacks'));
  const error = await t.throwsAsync(runCheckov(directory), { instanceOf: CheckovError });
  t.regex(error?.message ?? '', /found no Terraform \(\*\.tf\.json\)/);
});
