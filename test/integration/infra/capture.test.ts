import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CAPTURE_RECORD_TYPE } from '../../../functions/contract/capture.js';
import { ENV } from '../../../functions/contract/env.js';
import { DEFAULT_CONFIG, validateAppConfig, type AppConfig, type EnvironmentConfig } from '../../../infra/config.js';
import { SettingError } from '../../../infra/errors.js';
import { BootstrapStack, bootstrapProps } from '../../../infra/stacks/bootstrap-stack.js';
import { runCheckov } from '../../helpers/checkov.js';
import { all, buildDist, environment, one, oneWhere, ref, refWhere, runTempDir, serviceStack, statementsBySid, synth, synthWithComments, testApp, type Json } from '../../helpers/infra-synth.js';

// The prediction-capture pipeline (issue 17, part 2): the function's capture lines go through a CloudWatch Logs
// subscription filter to Firehose and into an S3 bucket partitioned by model version and date.

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const dev = DEFAULT_CONFIG.environments.find((e) => e.name === 'dev')!;
const prod = DEFAULT_CONFIG.environments.find((e) => e.name === 'prod')!;

let zipDist = '';
let s3Dist = '';
test.before(async () => {
  [zipDist, s3Dist] = await Promise.all([buildDist(), buildDist(['--model', 'models/diabetes', '--package', 's3'])]);
});

/** The one policy document whose construct id holds `fragment` (e.g. `capture_delivery-permissions`). */
function document(out: Json, fragment: string): Json {
  const documents = out['data']['aws_iam_policy_document'] as Record<string, Json>;
  const ids = Object.keys(documents).filter((id) => id.includes(fragment));
  if (ids.length !== 1) throw new Error(`expected one policy document with ${fragment} in its id, found ${ids.join(', ') || 'none'}`);
  return documents[ids[0]!]!;
}

function variables(fn: Json): Json {
  return fn['environment']['variables'] as Json;
}

function twoModels(overrides: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return environment(zipDist, { models: [{ name: 'iris', distDir: zipDist }, { name: 'diabetes', distDir: s3Dist }], ...overrides });
}

test('dev samples one request in twenty, and prod captures nothing unless told to', (t) => {
  t.deepEqual(dev.capture, { sampleRate: 0.05 });
  t.is(prod.capture, undefined);
});

test('the dev function gets its sample rate, and its log group one subscription filter selecting the capture lines into the stream', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  t.is(variables(one(out, 'aws_lambda_function'))[ENV.CAPTURE_SAMPLE_RATE], '0.05');
  const filter = one(out, 'aws_cloudwatch_log_subscription_filter');
  t.is(filter['filter_pattern'], `{ $._type = "${CAPTURE_RECORD_TYPE}" }`);
  t.is(filter['log_group_name'], refWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/lambda/onnx-lambda-dev-predict', 'name'));
  t.is(filter['destination_arn'], ref(out, 'aws_kinesis_firehose_delivery_stream', 'arn'));
  t.is(filter['role_arn'], refWhere(out, 'aws_iam_role', 'name', 'onnx-lambda-dev-capture-logs', 'arn'));
  t.is(filter['depends_on'].length, 1, 'created after the role may put records, as CloudWatch Logs tests the destination');
});

test('the stream unzips CloudWatch Logs\' batches, keeps the messages and partitions them by model and date into gzipped JSON lines', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  const stream = one(out, 'aws_kinesis_firehose_delivery_stream');
  t.is(stream['name'], 'onnx-lambda-dev-captures');
  t.is(stream['destination'], 'extended_s3');
  const s3 = stream['extended_s3_configuration'] as Json;
  t.is(s3['bucket_arn'], refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'arn'));
  t.is(s3['role_arn'], refWhere(out, 'aws_iam_role', 'name', 'onnx-lambda-dev-capture-delivery', 'arn'));
  t.is(s3['prefix'], 'captures/model=!{partitionKeyFromQuery:model}/date=!{timestamp:yyyy-MM-dd}/');
  t.is(s3['error_output_prefix'], 'capture-errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/');
  t.deepEqual(s3['dynamic_partitioning_configuration'], { enabled: true, retry_duration: 300 });
  t.is(s3['compression_format'], 'GZIP');
  t.is(s3['custom_time_zone'], 'UTC');
  t.is(s3['buffering_size'], 64, 'the least dynamic partitioning accepts');
  t.is(s3['buffering_interval'], 300);
  t.deepEqual(s3['processing_configuration'], {
    enabled: true,
    processors: [
      { type: 'Decompression', parameters: [{ parameter_name: 'CompressionFormat', parameter_value: 'GZIP' }] },
      { type: 'CloudWatchLogProcessing', parameters: [{ parameter_name: 'DataMessageExtraction', parameter_value: 'true' }] },
      {
        type: 'MetadataExtraction',
        parameters: [
          { parameter_name: 'JsonParsingEngine', parameter_value: 'JQ-1.6' },
          { parameter_name: 'MetadataExtractionQuery', parameter_value: '{model: .model}' },
        ],
      },
      { type: 'AppendDelimiterToRecord' },
    ],
  });
  t.deepEqual(stream['server_side_encryption'], { enabled: true, key_type: 'AWS_OWNED_CMK' });
});

test('the stream logs its delivery errors to a log group of its own, kept as long as the environment keeps logs', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  const group = oneWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/kinesisfirehose/onnx-lambda-dev-captures');
  t.is(group['retention_in_days'], dev.logRetentionDays);
  const logging = one(out, 'aws_kinesis_firehose_delivery_stream')['extended_s3_configuration']['cloudwatch_logging_options'] as Json;
  t.is(logging['enabled'], true);
  t.is(logging['log_group_name'], refWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/kinesisfirehose/onnx-lambda-dev-captures', 'name'));
  t.is(logging['log_stream_name'], ref(out, 'aws_cloudwatch_log_stream', 'name'));
});

test('the capture bucket is encrypted, private, TLS-only and versioned, and expires captures after 90 days', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  const bucketId = refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'id');
  const forBucket = (type: string) => all(out, type).find((r) => r['bucket'] === bucketId || String(r['bucket']).includes('capture_bucket'))!;
  t.deepEqual(forBucket('aws_s3_bucket_server_side_encryption_configuration')['rule'][0]['apply_server_side_encryption_by_default'], { sse_algorithm: 'AES256' });
  t.like(forBucket('aws_s3_bucket_public_access_block'), { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
  t.is(forBucket('aws_s3_bucket_versioning')['versioning_configuration']['status'], 'Enabled');
  t.is(statementsBySid(document(out, 'capture_bucket_tls-only'))['DenyInsecureTransport']!['effect'], 'Deny');
  const lifecycle = all(out, 'aws_s3_bucket_lifecycle_configuration').find((l) => l['bucket'] === bucketId)!;
  t.deepEqual(lifecycle['rule'], [
    {
      id: 'expire-objects',
      status: 'Enabled',
      filter: [{}],
      expiration: [{ days: 90 }],
      noncurrent_version_expiration: [{ noncurrent_days: 7 }],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
    },
  ]);
});

test('Firehose\'s role may only write under the two capture prefixes, find the bucket and log its errors', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  const bucketArn = refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'arn');
  const [trust] = document(out, 'capture_delivery-trust')['statement'] as Json[];
  t.deepEqual(trust, {
    effect: 'Allow',
    actions: ['sts:AssumeRole'],
    principals: [{ type: 'Service', identifiers: ['firehose.amazonaws.com'] }],
    condition: [{ test: 'StringEquals', variable: 'sts:ExternalId', values: ['123456789012'] }],
  });
  const statements = statementsBySid(document(out, 'capture_delivery-permissions'));
  t.deepEqual(Object.keys(statements), ['WriteCaptures', 'FindBucket', 'LogDeliveryErrors']);
  t.deepEqual(statements['WriteCaptures'], { sid: 'WriteCaptures', effect: 'Allow', actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [`${bucketArn}/captures/*`, `${bucketArn}/capture-errors/*`] });
  t.deepEqual(statements['FindBucket'], { sid: 'FindBucket', effect: 'Allow', actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucketArn] });
  const errorLogs = refWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/kinesisfirehose/onnx-lambda-dev-captures', 'arn');
  t.deepEqual(statements['LogDeliveryErrors'], { sid: 'LogDeliveryErrors', effect: 'Allow', actions: ['logs:PutLogEvents'], resources: [`${errorLogs}:log-stream:${ref(out, 'aws_cloudwatch_log_stream', 'name')}`] });
});

test('CloudWatch Logs\' role may only put records into this stream, assumed for the capturing functions\' log groups only', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  const logGroup = refWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/lambda/onnx-lambda-dev-predict', 'arn');
  const [trust] = document(out, 'capture_logs-trust')['statement'] as Json[];
  t.deepEqual(trust, {
    effect: 'Allow',
    actions: ['sts:AssumeRole'],
    principals: [{ type: 'Service', identifiers: ['logs.us-east-1.amazonaws.com'] }],
    condition: [
      { test: 'StringEquals', variable: 'aws:SourceAccount', values: ['123456789012'] },
      { test: 'ArnLike', variable: 'aws:SourceArn', values: [logGroup, `${logGroup}:*`] },
    ],
  });
  t.deepEqual(document(out, 'capture_logs-permissions')['statement'], [
    { sid: 'PutCaptureRecords', effect: 'Allow', actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [ref(out, 'aws_kinesis_firehose_delivery_stream', 'arn')] },
  ]);
});

test('outputs the capture bucket and the stream', (t) => {
  const out = synth(serviceStack(environment(zipDist)));
  t.is(out['output']['capture_bucket']['value'], refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'bucket'));
  t.is(out['output']['capture_stream']['value'], ref(out, 'aws_kinesis_firehose_delivery_stream', 'name'));
});

test('prod, with capture unset, gets no sample rate, no pipeline and no capture outputs', (t) => {
  const out = synth(serviceStack({ ...prod, distDir: zipDist }));
  t.false(ENV.CAPTURE_SAMPLE_RATE in variables(one(out, 'aws_lambda_function')));
  for (const type of ['aws_kinesis_firehose_delivery_stream', 'aws_cloudwatch_log_subscription_filter', 'aws_cloudwatch_log_stream']) t.deepEqual(all(out, type), [], type);
  t.is(all(out, 'aws_s3_bucket').length, 1, 'the model store alone');
  t.is(out['output']['capture_bucket'], undefined);
  t.is(out['output']['capture_stream'], undefined);
});

test('a sample rate of 0 is capture off: no variable and no pipeline', (t) => {
  const out = synth(serviceStack(environment(zipDist, { capture: { sampleRate: 0, retentionDays: 30 } })));
  t.false(ENV.CAPTURE_SAMPLE_RATE in variables(one(out, 'aws_lambda_function')));
  t.deepEqual(all(out, 'aws_kinesis_firehose_delivery_stream'), []);
});

test('two capturing models share one stream and bucket, each function\'s log group with its own filter', (t) => {
  const out = synth(serviceStack(twoModels()));
  t.is(all(out, 'aws_kinesis_firehose_delivery_stream').length, 1);
  const filters = all(out, 'aws_cloudwatch_log_subscription_filter');
  const groups = ['iris', 'diabetes'].map((model) => refWhere(out, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/onnx-lambda-dev-${model}-predict`, 'name'));
  t.deepEqual(filters.map((f) => f['log_group_name']).sort(), [...groups].sort());
  t.true(filters.every((f) => f['destination_arn'] === ref(out, 'aws_kinesis_firehose_delivery_stream', 'arn')));
  const arns = ['iris', 'diabetes'].map((model) => refWhere(out, 'aws_cloudwatch_log_group', 'name', `/aws/lambda/onnx-lambda-dev-${model}-predict`, 'arn'));
  const [trust] = document(out, 'capture_logs-trust')['statement'] as Json[];
  t.deepEqual(trust!['condition'][1]['values'], arns.flatMap((arn) => [arn, `${arn}:*`]));
  for (const name of ['onnx-lambda-dev-iris-predict', 'onnx-lambda-dev-diabetes-predict']) {
    t.is(variables(oneWhere(out, 'aws_lambda_function', 'function_name', name))[ENV.CAPTURE_SAMPLE_RATE], '0.05', name);
  }
});

test('a listed model\'s captureSampleRate overrides the environment\'s, and turns capture on or off for it alone', (t) => {
  const { capture: _capture, provisionedConcurrency: _warm, ...uncaptured } = prod;
  const out = synth(serviceStack({ ...uncaptured, distDir: zipDist, models: [{ name: 'iris', distDir: zipDist, captureSampleRate: 0.2 }, { name: 'diabetes', distDir: s3Dist }] }));
  t.is(variables(oneWhere(out, 'aws_lambda_function', 'function_name', 'onnx-lambda-prod-iris-predict'))[ENV.CAPTURE_SAMPLE_RATE], '0.2');
  t.false(ENV.CAPTURE_SAMPLE_RATE in variables(oneWhere(out, 'aws_lambda_function', 'function_name', 'onnx-lambda-prod-diabetes-predict')));
  t.is(one(out, 'aws_cloudwatch_log_subscription_filter')['log_group_name'], refWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/lambda/onnx-lambda-prod-iris-predict', 'name'));
  t.is(one(out, 'aws_kinesis_firehose_delivery_stream')['name'], 'onnx-lambda-prod-captures');

  const off = synth(serviceStack(twoModels({ models: [{ name: 'iris', distDir: zipDist, captureSampleRate: 0 }, { name: 'diabetes', distDir: s3Dist }] })));
  t.false(ENV.CAPTURE_SAMPLE_RATE in variables(oneWhere(off, 'aws_lambda_function', 'function_name', 'onnx-lambda-dev-iris-predict')));
  t.is(one(off, 'aws_cloudwatch_log_subscription_filter')['log_group_name'], refWhere(off, 'aws_cloudwatch_log_group', 'name', '/aws/lambda/onnx-lambda-dev-diabetes-predict', 'name'));
});

test('with a KMS key, the bucket and the stream use it, and Firehose\'s role may encrypt through S3 for this bucket only', (t) => {
  const out = synth(serviceStack(environment(zipDist, { capture: { sampleRate: 0.05, kmsKeyArn: KEY_ARN, retentionDays: 30, bufferSeconds: 120 } })));
  const bucketId = refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'id');
  const encryption = all(out, 'aws_s3_bucket_server_side_encryption_configuration').find((e) => e['bucket'] === bucketId)!;
  t.deepEqual(encryption['rule'][0]['apply_server_side_encryption_by_default'], { sse_algorithm: 'aws:kms', kms_master_key_id: KEY_ARN });
  const stream = one(out, 'aws_kinesis_firehose_delivery_stream');
  t.deepEqual(stream['server_side_encryption'], { enabled: true, key_type: 'CUSTOMER_MANAGED_CMK', key_arn: KEY_ARN });
  t.is(stream['extended_s3_configuration']['buffering_interval'], 120);
  t.deepEqual(all(out, 'aws_s3_bucket_lifecycle_configuration').find((l) => l['bucket'] === bucketId)!['rule'][0]['expiration'], [{ days: 30 }]);
  const bucketArn = refWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-captures-', 'arn');
  t.deepEqual(statementsBySid(document(out, 'capture_delivery-permissions'))['EncryptCaptures'], {
    sid: 'EncryptCaptures',
    effect: 'Allow',
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: [KEY_ARN],
    condition: [
      { test: 'StringEquals', variable: 'kms:ViaService', values: ['s3.us-east-1.amazonaws.com'] },
      { test: 'StringLike', variable: 'kms:EncryptionContext:aws:s3:arn', values: [bucketArn, `${bucketArn}/*`] },
    ],
  });
});

/** Capture settings refused, with the message's start: the place, the setting, the value and what is allowed. */
const REFUSED: readonly { title: string; overrides: Partial<EnvironmentConfig>; message: RegExp }[] = [
  { title: 'a sample rate above 1', overrides: { capture: { sampleRate: 1.5 } }, message: /^environments\[dev\]: capture\.sampleRate is 1\.5; allowed: a number from 0 to 1 \(the share of requests captured/ },
  { title: 'a negative sample rate', overrides: { capture: { sampleRate: -0.1 } }, message: /capture\.sampleRate is -0\.1; allowed: a number from 0 to 1/ },
  { title: 'a retention of 0 days', overrides: { capture: { sampleRate: 0.05, retentionDays: 0 } }, message: /^environments\[dev\]: capture\.retentionDays is 0; allowed: a whole number of days from 1 to 36500$/ },
  { title: 'a retention in part days', overrides: { capture: { sampleRate: 0.05, retentionDays: 1.5 } }, message: /capture\.retentionDays is 1\.5; allowed: a whole number of days/ },
  { title: 'a buffer shorter than Firehose takes with partitioning', overrides: { capture: { sampleRate: 0.05, bufferSeconds: 0 } }, message: /capture\.bufferSeconds is 0; allowed: a whole number of seconds .* from 60 to 900/ },
  { title: 'a KMS alias for the key', overrides: { capture: { sampleRate: 0.05, kmsKeyArn: 'alias/captures' } }, message: /capture\.kmsKeyArn is "alias\/captures"; allowed: a KMS key ARN/ },
  { title: 'a model\'s sample rate above 1', overrides: { models: [{ name: 'iris', captureSampleRate: 2 }] }, message: /^environments\[dev\]: models\[0\]\.captureSampleRate is 2; allowed: a number from 0 to 1/ },
];

for (const { title, overrides, message } of REFUSED) {
  test(`refuses ${title}, in the configuration and in synth`, (t) => {
    const config: AppConfig = { ...DEFAULT_CONFIG, environments: [{ ...dev, ...overrides }] };
    const refused = t.throws(() => validateAppConfig(config), { instanceOf: SettingError });
    t.regex(refused!.message, message);
    t.regex(t.throws(() => serviceStack(environment(zipDist, overrides)), { instanceOf: SettingError })!.message, message);
  });
}

test('refuses a capture setting that is not an object, naming the shape it takes', (t) => {
  const config = { ...DEFAULT_CONFIG, environments: [{ ...dev, capture: 0.05 as unknown as EnvironmentConfig['capture'] }] } as AppConfig;
  t.regex(t.throws(() => validateAppConfig(config), { instanceOf: SettingError })!.message, /environments\[dev\]: capture is 0\.05; allowed: \{ sampleRate \} and optionally retentionDays, kmsKeyArn, bufferSeconds/);
});

test('checkov finds no failed check in a dev stack capturing under a KMS key, and skips neither the stream\'s nor the bucket\'s key check', async (t) => {
  const dir = await runTempDir('checkov-capture-');
  await mkdir(path.join(dir, 'dev'));
  const env = environment(zipDist, { capture: { sampleRate: 0.05, kmsKeyArn: KEY_ARN }, logsKmsKeyArn: KEY_ARN, logRetentionDays: 365 });
  await writeFile(path.join(dir, 'dev', 'cdk.tf.json'), JSON.stringify(synthWithComments(serviceStack(env)), null, 2));
  const result = await runCheckov(dir);
  t.true(result.passed > 0);
  t.deepEqual(result.failed.map((f) => `${f.checkId} ${f.resource}`), []);
  const captureSkips = result.skipped.filter((s) => s.resource.includes('capture')).map((s) => s.checkId).sort();
  t.deepEqual(captureSkips, ['CKV2_AWS_62', 'CKV_AWS_144', 'CKV_AWS_18'], 'the bucket\'s access logs, notifications and replication only');
});

function deployStatements(config: AppConfig): Record<string, Json> {
  return statementsBySid(document(synth(new BootstrapStack(testApp(), 'bootstrap', bootstrapProps(config))), 'deploy-permissions'));
}

test('the deploy role may manage the capture buckets\' configuration but read no capture', (t) => {
  const bucket = deployStatements(DEFAULT_CONFIG)['CaptureBuckets']!;
  t.deepEqual(bucket['resources'], ['arn:${data.aws_partition.partition.partition}:s3:::onnx-lambda-*-captures-*']);
  t.false((bucket['resources'] as string[]).some((arn) => arn.endsWith('/*')), 'no object ARN');
});

test('the deploy role may manage only this project\'s capture streams, roles and Firehose log groups', (t) => {
  const statements = deployStatements(DEFAULT_CONFIG);
  t.deepEqual(statements['CaptureStreams']!['resources'], ['arn:${data.aws_partition.partition.partition}:firehose:*:${data.aws_caller_identity.account.account_id}:deliverystream/onnx-lambda-*-captures']);
  t.false((statements['CaptureStreams']!['actions'] as string[]).some((action) => action.startsWith('firehose:Put')), 'creates streams, never writes records');
  const roles = (statements['CaptureRoles']!['resources'] as string[])[0]!;
  t.is(roles, 'arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:role/onnx-lambda-*-capture-*');
  const pattern = new RegExp(`^${roles.split(':role/')[1]!.replace(/\*/g, '.*')}$`);
  t.true(pattern.test('onnx-lambda-dev-capture-logs') && pattern.test('onnx-lambda-prod-capture-delivery'));
  t.false(pattern.test('onnx-lambda-github-deploy'), 'not its own role');
  t.deepEqual(statements['PassCaptureRoles']!['condition'], [{ test: 'StringLike', variable: 'iam:PassedToService', values: ['firehose.amazonaws.com', 'logs.amazonaws.com', 'logs.*.amazonaws.com'] }]);
  t.true((statements['LogGroups']!['resources'] as string[]).some((arn) => arn.endsWith(':log-group:/aws/kinesisfirehose/onnx-lambda-*')));
});

test('the deploy role may let Firehose use an environment\'s capture key, and no key when none is configured', (t) => {
  t.is(deployStatements(DEFAULT_CONFIG)['CaptureStreamKeys'], undefined);
  const withKey: AppConfig = { ...DEFAULT_CONFIG, environments: [{ ...dev, capture: { sampleRate: 0.05, kmsKeyArn: KEY_ARN } }, prod] };
  t.deepEqual(deployStatements(withKey)['CaptureStreamKeys'], {
    sid: 'CaptureStreamKeys',
    effect: 'Allow',
    actions: ['kms:CreateGrant', 'kms:DescribeKey'],
    resources: [KEY_ARN],
    condition: [{ test: 'Bool', variable: 'kms:GrantIsForAWSResource', values: ['true'] }],
  });
});
