import test from 'ava';
import { base64Sha256, zipBuild } from '../../../infra/build-record.js';
import { InferenceFunction, requiredEphemeralStorageMb, type InferenceFunctionProps } from '../../../infra/constructs/inference-function.js';
import { ModelStore } from '../../../infra/constructs/model-store.js';
import { SettingError } from '../../../infra/errors.js';
import { buildDist, constructStack, deployableBuild, one, ref, statementsBySid, synth, synthWithComments, withModelOfSize, type Json } from '../../helpers/infra-synth.js';

const MB = 1024 * 1024;
let zipDist = '';
let s3Dist = '';
test.before(async () => {
  [zipDist, s3Dist] = await Promise.all([buildDist(), buildDist(['--model-packaging', 's3'])]);
});

/** A function for the zip-packaged build (or, with `s3`, for an S3 build with its model in a ModelStore). */
function synthFunction(props: Partial<InferenceFunctionProps> = {}, options: { s3Dist?: string } = {}): Json {
  const stack = constructStack();
  const dist = options.s3Dist ?? zipDist;
  const build = deployableBuild(dist);
  const model = options.s3Dist === undefined ? undefined : new ModelStore(stack, 'store').addModel(build.model);
  new InferenceFunction(stack, 'fn', { build, functionName: 'onnx-test-predict', model, ...props });
  return synth(stack);
}

function lambda(out: Json): Json {
  return one(out, 'aws_lambda_function');
}

function permissions(out: Json): Record<string, Json> {
  const documents = out['data']['aws_iam_policy_document'] as Record<string, Json>;
  const id = Object.keys(documents).find((key) => key.includes('permissions'))!;
  return statementsBySid(documents[id]!);
}

test('deploys the build\'s zip with its handler, runtime and architecture', (t) => {
  const fn = lambda(synthFunction());
  const functionZip = zipBuild(deployableBuild(zipDist), 'test').functionZip;
  t.is(fn['handler'], 'index.handler');
  t.is(fn['runtime'], 'nodejs24.x');
  t.deepEqual(fn['architectures'], ['arm64']);
  t.regex(fn['filename'] as string, new RegExp(`^assets/fn_zip_[0-9A-F]{8}/${functionZip.sha256}/function\\.zip$`));
  t.is(fn['source_code_hash'], base64Sha256(functionZip.sha256));
});

test('publishes a version on every change and traces with X-Ray', (t) => {
  const fn = lambda(synthFunction());
  t.is(fn['publish'], true);
  t.deepEqual(fn['tracing_config'], { mode: 'Active' });
});

test('defaults to 1024 MB, 30 seconds and no reserved concurrency', (t) => {
  const fn = lambda(synthFunction());
  t.is(fn['memory_size'], 1024);
  t.is(fn['timeout'], 30);
  t.is(fn['reserved_concurrent_executions'], undefined);
});

test('takes memory, timeout and reserved concurrency from its props', (t) => {
  const fn = lambda(synthFunction({ memorySizeMb: 1769, timeoutSeconds: 10, reservedConcurrency: 5 }));
  t.is(fn['memory_size'], 1769);
  t.is(fn['timeout'], 10);
  t.is(fn['reserved_concurrent_executions'], 5);
});

test('sets the SPEC environment for a model in the zip, without MODEL_DIR or S3 variables', (t) => {
  t.deepEqual(lambda(synthFunction())['environment']['variables'], {
    NODE_OPTIONS: '--enable-source-maps',
    METRICS_NAMESPACE: 'OnnxLambda',
    LOG_LEVEL: 'info',
    ORT_INTRA_OP_THREADS: '1',
    // The build ships the model in ORT format by default.
    MODEL_FILE: 'model.ort',
  });
});

test('pins a model from S3 to its bucket, key, object version and sha256', (t) => {
  const out = synthFunction({}, { s3Dist });
  const variables = lambda(out)['environment']['variables'] as Json;
  t.is(variables['MODEL_BUCKET'], ref(out, 'aws_s3_bucket', 'bucket'));
  t.is(variables['MODEL_KEY'], 'models/iris/1/model.ort');
  t.is(variables['MODEL_VERSION_ID'], ref(out, 'aws_s3_object', 'version_id'));
  t.is(variables['MODEL_SHA256'], deployableBuild(s3Dist).model.shippedSha256);
});

test('writes to its own log group, kept 30 days by default', (t) => {
  const out = synthFunction();
  const group = one(out, 'aws_cloudwatch_log_group');
  t.is(group['name'], '/aws/lambda/onnx-test-predict');
  t.is(group['retention_in_days'], 30);
  t.deepEqual(lambda(out)['logging_config'], { log_format: 'Text', log_group: ref(out, 'aws_cloudwatch_log_group', 'name') });
});

test('gives a model in the zip the minimum /tmp', (t) => {
  t.deepEqual(lambda(synthFunction())['ephemeral_storage'], { size: 512 });
});

test('sizes /tmp so an S3 model takes at most 80% of it', async (t) => {
  const big = await withModelOfSize(s3Dist, 1500 * MB);
  t.deepEqual(lambda(synthFunction({}, { s3Dist: big }))['ephemeral_storage'], { size: 1875 });
});

test('computes the /tmp a model needs by the build\'s 80% rule', (t) => {
  const model = deployableBuild(s3Dist).model;
  t.is(requiredEphemeralStorageMb({ ...model, bytes: 409 * MB }), 512);
  t.is(requiredEphemeralStorageMb({ ...model, bytes: 410 * MB }), 513);
});

test('lets the execution role be assumed by Lambda only', (t) => {
  const out = synthFunction();
  const documents = out['data']['aws_iam_policy_document'] as Record<string, Json>;
  const assume = documents[Object.keys(documents).find((key) => key.includes('assume-role'))!]!;
  t.deepEqual(assume['statement'], [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }]);
  t.is(one(out, 'aws_iam_role')['name'], 'onnx-test-predict');
});

test('allows writing to its own log group and X-Ray, and nothing else, for a model in the zip', (t) => {
  const out = synthFunction();
  const statements = permissions(out);
  t.deepEqual(Object.keys(statements), ['WriteOwnLogs', 'Tracing']);
  t.deepEqual(statements['WriteOwnLogs']!['actions'], ['logs:CreateLogStream', 'logs:PutLogEvents']);
  t.deepEqual(statements['WriteOwnLogs']!['resources'], [`${ref(out, 'aws_cloudwatch_log_group', 'arn')}:*`]);
  t.deepEqual(statements['Tracing']!['actions'], ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
});

test('allows reading exactly its model object, any pinned version of it', (t) => {
  const out = synthFunction({}, { s3Dist });
  const read = permissions(out)['ReadModel']!;
  t.deepEqual(read['actions'], ['s3:GetObject', 's3:GetObjectVersion']);
  t.deepEqual(read['resources'], [`${ref(out, 'aws_s3_bucket', 'arn')}/models/iris/1/model.ort`]);
});

test('creates the function only after its permissions', (t) => {
  const out = synthFunction();
  const policyId = Object.keys(out['resource']['aws_iam_role_policy'] as Json)[0];
  t.deepEqual(lambda(out)['depends_on'], [`aws_iam_role_policy.${policyId}`]);
});

test('attaches layers added later, after those from its props', (t) => {
  const stack = constructStack();
  const fn = new InferenceFunction(stack, 'fn', { build: deployableBuild(zipDist), functionName: 'onnx-test-predict', layers: ['arn:layer:a:1'] });
  fn.addLayer('arn:layer:b:1');
  t.deepEqual(lambda(synth(stack))['layers'], ['arn:layer:a:1', 'arn:layer:b:1']);
});

test('fails synth with more than five layers, however they were added', (t) => {
  const stack = constructStack();
  const fn = new InferenceFunction(stack, 'fn', { build: deployableBuild(zipDist), functionName: 'onnx-test-predict', layers: ['a', 'b', 'c', 'd', 'e'] });
  fn.addLayer('f');
  const error = t.throws(() => synth(stack));
  t.regex(error?.message ?? '', /\[test\/fn\] layers has 6 layer versions; allowed: at most 5 \(Lambda's limit\)/);
});

test('adds environment variables of its own', (t) => {
  const stack = constructStack();
  const fn = new InferenceFunction(stack, 'fn', { build: deployableBuild(zipDist), functionName: 'onnx-test-predict', environment: { TEAM: 'ml' } });
  fn.addEnvironment('STAGE', 'dev');
  const variables = lambda(synth(stack))['environment']['variables'] as Json;
  t.is(variables['TEAM'], 'ml');
  t.is(variables['STAGE'], 'dev');
});

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** Props the construct refuses, each with the message it fails with (a string is the whole message). */
const REFUSED: readonly { title: string; props: Partial<InferenceFunctionProps>; message: string | RegExp }[] = [
  {
    title: 'refuses an environment variable that would override the model it pins',
    props: { environment: { MODEL_KEY: 'other.onnx' } },
    message: 'test/fn: environment.MODEL_KEY is "other.onnx"; allowed: a variable other than MODEL_KEY, which this construct sets from its props',
  },
  {
    title: 'refuses an environment variable Lambda reserves',
    props: { environment: { AWS_REGION: 'eu-west-1' } },
    message: 'test/fn: environment.AWS_REGION is "eu-west-1"; allowed: a variable other than AWS_REGION, which Lambda reserves',
  },
  { title: 'fails synth with memory below 128 MB', props: { memorySizeMb: 64 }, message: 'test/fn: memorySizeMb is 64; allowed: a whole number of MB from 128 to 10240' },
  { title: 'fails synth with memory above 10240 MB', props: { memorySizeMb: 10_241 }, message: 'test/fn: memorySizeMb is 10241; allowed: a whole number of MB from 128 to 10240' },
  { title: 'fails synth with a timeout over 900 seconds', props: { timeoutSeconds: 901 }, message: 'test/fn: timeoutSeconds is 901; allowed: a whole number of seconds from 1 to 900' },
  { title: 'fails synth with ephemeral storage below Lambda\'s 512 MB', props: { ephemeralStorageMb: 256 }, message: 'test/fn: ephemeralStorageMb is 256; allowed: a whole number of MB from 512 to 10240' },
  {
    title: 'fails synth with a log retention CloudWatch does not offer',
    props: { logRetentionDays: 10 },
    message: /^test\/fn: logRetentionDays is 10; allowed: one of CloudWatch's retention periods in days: 1, 3, 5, 7, 14, 30,/,
  },
  { title: 'rejects a logsKmsKeyArn that is not a KMS key ARN', props: { logsKmsKeyArn: 'alias/logs' }, message: /^test\/fn: logsKmsKeyArn is "alias\/logs"; allowed: a KMS key ARN/ },
  {
    title: 'rejects a metrics namespace with a space, which the alarms\' queries could not quote',
    props: { metricsNamespace: 'Onnx Lambda' },
    message: /^test\/fn: metricsNamespace is "Onnx Lambda"; allowed: a custom CloudWatch namespace: 1 to 255 letters, digits/,
  },
  { title: 'rejects a function name Lambda does not allow', props: { functionName: 'onnx:predict' }, message: /^test\/fn: functionName is "onnx:predict"; allowed: a Lambda function name/ },
];

for (const { title, props, message } of REFUSED) {
  test(title, (t) => {
    const error = t.throws(() => synthFunction(props), { instanceOf: SettingError });
    if (typeof message === 'string') t.is(error?.message, message);
    else t.regex(error?.message ?? '', message);
  });
}

test('fails synth with ephemeral storage smaller than the model needs', async (t) => {
  const big = await withModelOfSize(s3Dist, 1500 * MB);
  const error = t.throws(() => synthFunction({ ephemeralStorageMb: 1024 }, { s3Dist: big }), { instanceOf: SettingError });
  t.is(
    error?.message,
    'test/fn: ephemeralStorageMb is 1024; allowed: a whole number of MB from 1875 to 10240: the model iris@1 (1500.0 MB) is downloaded to /tmp at init and may take at most 80% of it',
  );
});

test('fails synth when an S3-packaged build comes without its stored model', (t) => {
  const stack = constructStack();
  const error = t.throws(() => new InferenceFunction(stack, 'fn', { build: deployableBuild(s3Dist), functionName: 'onnx-test-predict' }), { instanceOf: SettingError });
  t.is(error?.message, 'test/fn: model is unset; allowed: the StoredModel from ModelStore.addModel, because build.json packages the model for S3');
});

/** The checkov checks skipped in code on each resource of a type (infra/checkov.ts), by check id. */
function checkovSkips(props: Partial<InferenceFunctionProps>, type: string): string[] {
  const stack = constructStack();
  new InferenceFunction(stack, 'fn', { build: deployableBuild(zipDist), functionName: 'onnx-test-predict', ...props });
  const resources = Object.values(synthWithComments(stack)['resource'][type] as Record<string, Json>);
  return resources.flatMap((resource) => Object.keys(resource['//']?.['checkov']?.['skip'] ?? {})).sort();
}

test('encrypts its log group with logsKmsKeyArn', (t) => {
  t.is(one(synthFunction({ logsKmsKeyArn: KEY_ARN }), 'aws_cloudwatch_log_group')['kms_key_id'], KEY_ARN);
});

test('skips checkov\'s log checks only while the log group has no KMS key and keeps logs under a year', (t) => {
  t.deepEqual(checkovSkips({ logRetentionDays: 30 }, 'aws_cloudwatch_log_group'), ['CKV_AWS_158', 'CKV_AWS_338']);
  t.deepEqual(checkovSkips({ logRetentionDays: 365, logsKmsKeyArn: KEY_ARN }, 'aws_cloudwatch_log_group'), []);
});

test('skips checkov\'s reserved-concurrency check only while none is reserved', (t) => {
  t.true(checkovSkips({}, 'aws_lambda_function').includes('CKV_AWS_115'));
  t.deepEqual(checkovSkips({ reservedConcurrency: 50 }, 'aws_lambda_function'), ['CKV_AWS_116', 'CKV_AWS_117', 'CKV_AWS_173', 'CKV_AWS_272']);
});

test("warns when the memory is under the build's memory floor, and not at it", (t) => {
  const warnings = (memorySizeMb: number): string[] => {
    const stack = constructStack();
    const build = deployableBuild(zipDist);
    const fn = new InferenceFunction(stack, 'fn', { build: { ...build, model: { ...build.model, memoryFloorMb: 1536 } }, functionName: 'onnx-test-predict', memorySizeMb });
    return fn.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
  };
  const under = warnings(1024);
  t.is(under.length, 1);
  t.regex(under[0]!, /^memorySizeMb is 1024, under the memory floor of iris@1: its largest allowed request \(maxBatch rows\) completed only from 1536 MB .*raise memorySizeMb to at least 1536, or lower the bundle's maxBatch$/);
  t.deepEqual(warnings(1536), []);
});
