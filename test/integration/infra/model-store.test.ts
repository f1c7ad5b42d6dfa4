import test from 'ava';
import { ModelStore, type ModelStoreProps } from '../../../infra/constructs/model-store.js';
import { SettingError } from '../../../infra/errors.js';
import { all, buildDist, constructStack, deployableBuild, one, ref, statementsBySid, synth, synthWithComments, type Json } from '../../helpers/infra-synth.js';

let zipDist = '';
let s3Dist = '';
test.before(async () => {
  [zipDist, s3Dist] = await Promise.all([buildDist(), buildDist(['--model-packaging', 's3'])]);
});

function synthStore(props: ModelStoreProps = {}, upload = true): Json {
  const stack = constructStack();
  const store = new ModelStore(stack, 'store', props);
  if (upload) store.addModel(deployableBuild(s3Dist).model);
  return synth(stack);
}

test('names the bucket from the prefix, and keeps it on destroy by default', (t) => {
  const bucket = one(synthStore({ bucketPrefix: 'onnx-dev-models-' }), 'aws_s3_bucket');
  t.is(bucket['bucket_prefix'], 'onnx-dev-models-');
  t.is(bucket['force_destroy'], false);
});

test('turns versioning on', (t) => {
  const versioning = one(synthStore(), 'aws_s3_bucket_versioning');
  t.is(versioning['versioning_configuration']['status'], 'Enabled');
});

test('encrypts with SSE-S3 by default', (t) => {
  const encryption = one(synthStore(), 'aws_s3_bucket_server_side_encryption_configuration');
  t.deepEqual(encryption['rule'][0]['apply_server_side_encryption_by_default'], { sse_algorithm: 'AES256' });
});

test('encrypts with the given KMS key and a bucket key', (t) => {
  const encryption = one(synthStore({ kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc' }), 'aws_s3_bucket_server_side_encryption_configuration');
  t.deepEqual(encryption['rule'][0]['apply_server_side_encryption_by_default'], { sse_algorithm: 'aws:kms', kms_master_key_id: 'arn:aws:kms:eu-west-1:123456789012:key/abc' });
  t.is(encryption['rule'][0]['bucket_key_enabled'], true);
});

test('blocks every kind of public access and disables ACLs', (t) => {
  const out = synthStore();
  const block = one(out, 'aws_s3_bucket_public_access_block');
  t.is(block['block_public_acls'], true);
  t.is(block['block_public_policy'], true);
  t.is(block['ignore_public_acls'], true);
  t.is(block['restrict_public_buckets'], true);
  t.is(one(out, 'aws_s3_bucket_ownership_controls')['rule']['object_ownership'], 'BucketOwnerEnforced');
});

test('denies every request that does not use TLS', (t) => {
  const out = synthStore();
  const deny = statementsBySid(one(out, 'aws_iam_policy_document', 'data'))['DenyInsecureTransport']!;
  t.is(deny['effect'], 'Deny');
  t.deepEqual(deny['actions'], ['s3:*']);
  t.deepEqual(deny['resources'], [ref(out, 'aws_s3_bucket', 'arn'), `${ref(out, 'aws_s3_bucket', 'arn')}/*`]);
  t.deepEqual(deny['condition'], [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);
  t.is(one(out, 'aws_s3_bucket_policy')['policy'], ref(out, 'aws_iam_policy_document', 'json', 'data'));
});

test('writes the bucket policy after the public access block', (t) => {
  const out = synthStore();
  t.is(one(out, 'aws_s3_bucket_policy')['bucket'], ref(out, 'aws_s3_bucket_public_access_block', 'bucket'));
});

test('expires noncurrent versions after 90 days, keeping the 10 newest', (t) => {
  const rule = one(synthStore(), 'aws_s3_bucket_lifecycle_configuration')['rule'][0];
  t.is(rule['status'], 'Enabled');
  t.deepEqual(rule['noncurrent_version_expiration'], [{ noncurrent_days: 90, newer_noncurrent_versions: 10 }]);
  t.deepEqual(rule['abort_incomplete_multipart_upload'], [{ days_after_initiation: 7 }]);
});

test('takes the noncurrent retention from its props', (t) => {
  const rule = one(synthStore({ noncurrentVersionExpirationDays: 30, noncurrentVersionsToKeep: 3 }), 'aws_s3_bucket_lifecycle_configuration')['rule'][0];
  t.deepEqual(rule['noncurrent_version_expiration'], [{ noncurrent_days: 30, newer_noncurrent_versions: 3 }]);
});

test('uploads the model under its name and version, from the build, with its sha256', (t) => {
  const out = synthStore();
  const object = one(out, 'aws_s3_object');
  const { model } = deployableBuild(s3Dist);
  // The build ships the model in ORT format by default: the object is that file, under its own name and sha256.
  t.is(object['key'], 'models/iris/1/model.ort');
  t.regex(object['source'] as string, new RegExp(`^assets/store_iris-1-file_[0-9A-F]{8}/${model.shippedSha256}/model-${model.sha256.slice(0, 16)}\\.ort$`));
  t.is(object['source_hash'], model.shippedSha256);
  t.is(object['checksum_algorithm'], 'SHA256');
  t.deepEqual(object['metadata'], { sha256: model.shippedSha256, model: 'iris@1', 'onnx-sha256': model.sha256 });
});

test('uploads only once versioning is on, so the object gets a real version id', (t) => {
  const out = synthStore();
  t.is(one(out, 'aws_s3_object')['bucket'], ref(out, 'aws_s3_bucket_versioning', 'bucket'));
});

test('creates the bucket without uploading anything until a model is added', (t) => {
  t.deepEqual(all(synthStore({}, false), 'aws_s3_object'), []);
});

test('refuses to upload a model that the build packaged in the zip', (t) => {
  const stack = constructStack();
  const store = new ModelStore(stack, 'store');
  const error = t.throws(() => store.addModel(deployableBuild(zipDist).model), { instanceOf: SettingError });
  t.is(error?.message, 'test/store: model.packaging is "zip"; allowed: "s3" (a model packaged in the function zip is not uploaded). Build with --package s3');
});

test('refuses a bucket prefix longer than S3 leaves room for', (t) => {
  const error = t.throws(() => synthStore({ bucketPrefix: 'a'.repeat(38) }), { instanceOf: SettingError });
  t.is(error?.setting, 'bucketPrefix');
  t.regex(error?.message ?? '', /allowed: 1 to 37 lowercase letters/);
});

test('refuses a noncurrent retention of zero days', (t) => {
  const error = t.throws(() => synthStore({ noncurrentVersionExpirationDays: 0 }), { instanceOf: SettingError });
  t.is(error?.message, 'test/store/bucket: noncurrentVersionExpirationDays is 0; allowed: a whole number of days from 1 to 36500');
});

test('skips checkov\'s KMS-by-default check only while the store uses SSE-S3', (t) => {
  const skipped = (props: ModelStoreProps) => {
    const stack = constructStack();
    new ModelStore(stack, 'store', props);
    return Object.keys(one(synthWithComments(stack), 'aws_s3_bucket')['//']['checkov']['skip'] as Json).sort();
  };
  t.deepEqual(skipped({}), ['CKV2_AWS_62', 'CKV_AWS_144', 'CKV_AWS_145', 'CKV_AWS_18']);
  t.deepEqual(skipped({ kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc' }), ['CKV2_AWS_62', 'CKV_AWS_144', 'CKV_AWS_18']);
});

test('configures the lifecycle on the bucket itself (as checkov recognizes it), after versioning', (t) => {
  const out = synthStore();
  const lifecycle = one(out, 'aws_s3_bucket_lifecycle_configuration');
  t.is(lifecycle['bucket'], ref(out, 'aws_s3_bucket', 'id'));
  t.deepEqual(lifecycle['depends_on'], [`aws_s3_bucket_versioning.${Object.keys(out['resource']['aws_s3_bucket_versioning'])[0]}`]);
});
