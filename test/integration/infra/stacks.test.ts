import test from 'ava';
import { DEFAULT_CONFIG } from '../../../infra/config.js';
import { SettingError } from '../../../infra/errors.js';
import { BootstrapStack, bootstrapProps } from '../../../infra/stacks/bootstrap-stack.js';
import { all, blankHashes, buildDist, environment, one, oneWhere, ref, serviceStack, synth, testApp, type Json } from '../../helpers/infra-synth.js';

let zipDist = '';
let s3Dist = '';
let imageDist = '';
test.before(async () => {
  [zipDist, s3Dist, imageDist] = await Promise.all([buildDist(), buildDist(['--model-packaging', 's3']), buildDist(['--package', 'image'])]);
});

function synthEnvironment(name: 'dev' | 'prod', dist = zipDist): Json {
  const env = DEFAULT_CONFIG.environments.find((e) => e.name === name)!;
  return synth(serviceStack({ ...env, distDir: dist }));
}

test('the bootstrap stack synthesizes as recorded, with an image repository per environment', (t) => {
  const stack = new BootstrapStack(testApp(), 'bootstrap', bootstrapProps(DEFAULT_CONFIG));
  t.snapshot(blankHashes(synth(stack)));
});

test('the dev stack synthesizes as recorded', (t) => {
  t.snapshot(blankHashes(synthEnvironment('dev')));
});

test('the prod stack synthesizes as recorded', (t) => {
  t.snapshot(blankHashes(synthEnvironment('prod')));
});

test('the dev stack of a container-image build synthesizes as recorded', (t) => {
  t.snapshot(blankHashes(synthEnvironment('dev', imageDist)));
});

test('keeps each environment\'s state under its own key in the state bucket, locked with S3 lock files', (t) => {
  t.deepEqual(synthEnvironment('prod')['terraform']['backend'], {
    s3: { bucket: DEFAULT_CONFIG.state.bucket, key: 'onnx-lambda/prod/terraform.tfstate', region: DEFAULT_CONFIG.state.region, encrypt: true, use_lockfile: true },
  });
});

test('deploys to the environment\'s region and tags everything with it', (t) => {
  const [provider] = synthEnvironment('dev')['provider']['aws'] as Json[];
  t.is(provider!['region'], 'us-east-1');
  t.deepEqual(provider!['default_tags'], [{ tags: { Project: 'onnx-lambda', Environment: 'dev', ManagedBy: 'cdktf' } }]);
});

test('names the function, its layer and its API after the project and environment', (t) => {
  const out = synthEnvironment('prod');
  t.is(one(out, 'aws_lambda_function')['function_name'], 'onnx-lambda-prod-predict');
  t.is(one(out, 'aws_lambda_layer_version')['layer_name'], 'onnx-lambda-prod-onnxruntime');
  t.is(one(out, 'aws_apigatewayv2_api')['name'], 'onnx-lambda-prod-api');
});

test('outputs the endpoint URL, the function and alias names, the published version and the alarm prefix', (t) => {
  const out = synthEnvironment('dev');
  t.is(out['output']['endpoint_url']['value'], ref(out, 'aws_apigatewayv2_stage', 'invoke_url'));
  t.is(out['output']['function_name']['value'], 'onnx-lambda-dev-predict');
  t.is(out['output']['function_version']['value'], ref(out, 'aws_lambda_function', 'version'));
  t.is(out['output']['alias_name']['value'], ref(out, 'aws_lambda_alias', 'name'));
  t.is(out['output']['alarm_prefix']['value'], 'onnx-lambda-dev-');
});

test('takes the environment\'s memory from the configuration', (t) => {
  t.is(one(synthEnvironment('prod'), 'aws_lambda_function')['memory_size'], 1769);
});

test('uploads an S3-packaged model to the model store and pins the function to that object version', (t) => {
  const out = synthEnvironment('dev', s3Dist);
  t.is(one(out, 'aws_s3_object')['key'], 'models/iris/1/model.ort');
  t.is(one(out, 'aws_lambda_function')['environment']['variables']['MODEL_VERSION_ID'], ref(out, 'aws_s3_object', 'version_id'));
});

test('keeps an empty model store when the model ships in the zip', (t) => {
  const out = synthEnvironment('dev');
  t.truthy(oneWhere(out, 'aws_s3_bucket', 'bucket_prefix', 'onnx-lambda-dev-models-'));
  t.deepEqual(all(out, 'aws_s3_object'), []);
});

test('serves through a Function URL when the environment asks for one', (t) => {
  const out = synth(serviceStack(environment(zipDist, { endpoint: { kind: 'function-url', authorization: { mode: 'iam' } } })));
  t.deepEqual(all(out, 'aws_apigatewayv2_api'), []);
  t.is(out['output']['endpoint_url']['value'], ref(out, 'aws_lambda_function_url', 'function_url'));
});

test('scales prod\'s provisioned concurrency from 1 to 10 on a 0.7 utilization target, and outputs the scalable target', (t) => {
  const out = synthEnvironment('prod');
  t.is(one(out, 'aws_lambda_provisioned_concurrency_config')['provisioned_concurrent_executions'], 1);
  t.like(one(out, 'aws_appautoscaling_target'), { service_namespace: 'lambda', scalable_dimension: 'lambda:function:ProvisionedConcurrency', min_capacity: 1, max_capacity: 10 });
  t.is(one(out, 'aws_appautoscaling_policy')['target_tracking_scaling_policy_configuration']['target_value'], 0.7);
  t.is(out['output']['scalable_target_resource_id']['value'], ref(out, 'aws_appautoscaling_target', 'resource_id'));
});

test('keeps dev without provisioned concurrency or scaling', (t) => {
  const out = synthEnvironment('dev');
  for (const type of ['aws_lambda_provisioned_concurrency_config', 'aws_appautoscaling_target', 'aws_appautoscaling_policy', 'aws_appautoscaling_scheduled_action']) t.deepEqual(all(out, type), [], type);
  t.false('scalable_target_resource_id' in out['output']);
});

test('schedules the provisioned-concurrency range when the environment asks for it', (t) => {
  const schedules = [{ name: 'business-hours', schedule: 'cron(0 7 ? * MON-FRI *)', min: 2, timezone: 'Europe/Berlin' }];
  const out = synth(serviceStack(environment(zipDist, { provisionedConcurrency: { min: 1, max: 4, schedules } })));
  t.like(one(out, 'aws_appautoscaling_scheduled_action'), { name: 'business-hours', schedule: 'cron(0 7 ? * MON-FRI *)', timezone: 'Europe/Berlin' });
});

test('alarms on the version each apply publishes, under the environment\'s alarm prefix', (t) => {
  const out = synthEnvironment('prod');
  const version = ref(out, 'aws_lambda_function', 'version');
  const names = all(out, 'aws_cloudwatch_metric_alarm').map((a) => a['alarm_name'] as string);
  for (const what of ['error-rate', 'request-latency-p99', 'model-unavailable']) t.true(names.includes(`onnx-lambda-prod-v${version}-${what}`), what);
  t.true(names.every((name) => name.startsWith(out['output']['alarm_prefix']['value'] as string)));
});

test('takes the per-version thresholds from the environment\'s alarm thresholds', (t) => {
  const out = synthEnvironment('prod');
  const byName = (suffix: string) => all(out, 'aws_cloudwatch_metric_alarm').find((a) => (a['alarm_name'] as string).endsWith(suffix))!;
  t.is(byName('}-error-rate')['threshold'], 1);
  t.is(byName('}-request-latency-p99')['threshold'], 500);
});

test('subscribes the environment\'s alarm subscribers and outputs the topic', (t) => {
  const alarmSubscribers = [{ protocol: 'email', endpoint: 'ml-oncall@example.com' }, { protocol: 'https', endpoint: 'https://events.example.com/sns' }] as const;
  const out = synth(serviceStack(environment(zipDist, { alarmSubscribers })));
  t.deepEqual(all(out, 'aws_sns_topic_subscription').map((s) => `${s['protocol']} ${s['endpoint']}`).sort(), ['email ml-oncall@example.com', 'https https://events.example.com/sns']);
  t.is(out['output']['alarm_topic_arn']['value'], ref(out, 'aws_sns_topic', 'arn'));
});

test('configures asynchronous invocations of the alias: no retries, 60 s by default, the environment\'s when set', (t) => {
  t.like(one(synthEnvironment('dev'), 'aws_lambda_function_event_invoke_config'), { maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
  const out = synth(serviceStack(environment(zipDist, { asyncInvoke: { maximumEventAgeSeconds: 300 } })));
  t.like(one(out, 'aws_lambda_function_event_invoke_config'), { maximum_retry_attempts: 0, maximum_event_age_in_seconds: 300 });
});

test('fails synth with a provisioned-concurrency range upside down, naming the environment\'s setting', (t) => {
  const error = t.throws(() => synth(serviceStack(environment(zipDist, { provisionedConcurrency: { min: 8, max: 4 } }))), { instanceOf: SettingError });
  t.is(error?.message, 'dev/provisioned-concurrency: min is 8; allowed: at most max (4)');
});

test('fails synth with an environment\'s memory out of range, naming the environment\'s function', (t) => {
  const error = t.throws(() => synth(serviceStack(environment(zipDist, { memorySizeMb: 20_000 }))), { instanceOf: SettingError });
  t.is(error?.message, 'dev/function: memorySizeMb is 20000; allowed: a whole number of MB from 128 to 10240');
});

test('fails synth with an environment\'s timeout over 900 seconds', (t) => {
  const error = t.throws(() => synth(serviceStack(environment(zipDist, { timeoutSeconds: 1000 }))), { instanceOf: SettingError });
  t.is(error?.message, 'dev/function: timeoutSeconds is 1000; allowed: a whole number of seconds from 1 to 900');
});

test('fails synth with an open endpoint configured without the explicit flag', (t) => {
  const endpoint = { kind: 'http-api', authorization: { mode: 'none' }, throttling: { rateLimit: 10, burstLimit: 10 }, accessLogRetentionDays: 14 } as const;
  const error = t.throws(() => synth(serviceStack(environment(zipDist, { endpoint }))), { instanceOf: SettingError });
  t.regex(error?.message ?? '', /^dev\/endpoint: authorization\.mode is "none"; allowed: "iam" \(default\) or "jwt", or "none" together with allowUnauthenticated: true/);
});
