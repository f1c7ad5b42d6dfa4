import test from 'ava';
import { Lazy, TerraformOutput, Testing, type TerraformStack } from 'cdktf';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { SettingError } from '../../../infra/errors.js';
import { Alarms, type AlarmSubscriber, type AlarmsProps } from '../../../infra/constructs/alarms.js';
import { queriesById, resourceWith, resourcesOf, synth, testStack, type Json } from '../../helpers/infra-monitoring.js';

const PREFIX = 'onnx-predict-dev-';
const FUNCTION = 'onnx-predict-dev';
const BASE: AlarmsProps = { prefix: PREFIX, functionName: FUNCTION, modelVersion: 'iris@1', metricsNamespace: 'OnnxLambda' };
const ALIAS_DIMENSIONS = { FunctionName: FUNCTION, Resource: `${FUNCTION}:live` };
const MODEL_DIMENSIONS = { FunctionName: FUNCTION, ModelVersion: 'iris@1' };

function build(props: Partial<AlarmsProps> = {}): { stack: TerraformStack; alarms: Alarms; out: Json } {
  const stack = testStack();
  const alarms = new Alarms(stack, 'alarms', { ...BASE, ...props });
  return { stack, alarms, out: synth(stack) };
}

function alarm(out: Json, suffix: string): Json {
  return resourceWith(out, 'aws_cloudwatch_metric_alarm', 'alarm_name', `${PREFIX}${suffix}`);
}

function topicRef(out: Json): string {
  const ids = Object.keys(out['resource']['aws_sns_topic'] as Json);
  return `\${aws_sns_topic.${ids[0]}.arn}`;
}

test('names every alarm with the environment prefix', (t) => {
  const { out } = build();
  const names = resourcesOf(out, 'aws_cloudwatch_metric_alarm').map((a) => a['alarm_name'] as string);
  t.is(names.length, 7);
  t.true(names.every((name) => name.startsWith(PREFIX)));
});

test('lists the names of the alarms it created, in creation order', (t) => {
  const { alarms } = build();
  t.deepEqual(alarms.alarmNames, [
    `${PREFIX}error-rate`,
    `${PREFIX}throttles`,
    `${PREFIX}duration-p99`,
    `${PREFIX}inference-latency-p99`,
    `${PREFIX}low-confidence`,
    `${PREFIX}out-of-training-range`,
    `${PREFIX}invalid-requests`,
  ]);
});

test('exposes the prefix, the topic ARN and one alarm ARN per alarm for outputs', (t) => {
  const stack = testStack();
  const alarms = new Alarms(stack, 'alarms', BASE);
  new TerraformOutput(stack, 'prefix', { value: alarms.prefix });
  new TerraformOutput(stack, 'topic', { value: alarms.topicArn });
  new TerraformOutput(stack, 'arns', { value: alarms.alarmArns });
  const out = synth(stack);
  t.is(out['output']['prefix']['value'], PREFIX);
  t.is(out['output']['topic']['value'], topicRef(out));
  const arns = out['output']['arns']['value'] as string[];
  t.is(arns.length, 7);
  t.true(arns.every((arn) => /^\$\{aws_cloudwatch_metric_alarm\.[^.]+\.arn\}$/.test(arn)));
});

test('computes the error rate on the alias as 100 * Errors / Invocations', (t) => {
  const a = alarm(build().out, 'error-rate');
  const q = queriesById(a);
  t.deepEqual(q['errors'], {
    id: 'errors',
    return_data: false,
    metric: { namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions: ALIAS_DIMENSIONS, stat: 'Sum', period: 60 },
  });
  t.deepEqual(q['invocations']?.['metric'], { namespace: 'AWS/Lambda', metric_name: 'Invocations', dimensions: ALIAS_DIMENSIONS, stat: 'Sum', period: 60 });
  t.is(q['error_rate']?.['expression'], '100 * errors / invocations');
  t.true(q['error_rate']?.['return_data']);
  t.is(a['threshold'], 1);
});

test('alarms on throttles of the alias summed over the period', (t) => {
  const a = alarm(build().out, 'throttles');
  t.like(a, { namespace: 'AWS/Lambda', metric_name: 'Throttles', statistic: 'Sum', period: 60, threshold: 0 });
  t.deepEqual(a['dimensions'], ALIAS_DIMENSIONS);
});

test('alarms on the p99 Duration of the alias and evaluates it even with few samples', (t) => {
  const a = alarm(build().out, 'duration-p99');
  t.like(a, { namespace: 'AWS/Lambda', metric_name: 'Duration', extended_statistic: 'p99', unit: 'Milliseconds', threshold: 1000, evaluate_low_sample_count_percentiles: 'evaluate' });
  t.deepEqual(a['dimensions'], ALIAS_DIMENSIONS);
  t.false('statistic' in a);
});

test('alarms on the p99 InferenceLatency of the deployed model under the FunctionName and ModelVersion dimension set', (t) => {
  const a = alarm(build().out, 'inference-latency-p99');
  t.like(a, { namespace: 'OnnxLambda', metric_name: 'InferenceLatency', extended_statistic: 'p99', unit: 'Milliseconds', threshold: 500 });
  t.deepEqual(a['dimensions'], MODEL_DIMENSIONS);
});

test('alarms on input drift: the average share of request values outside the deployed model\'s training range', (t) => {
  const a = alarm(build().out, 'out-of-training-range');
  t.like(a, { namespace: 'OnnxLambda', metric_name: 'OutOfTrainingRange', statistic: 'Average', threshold: 10, treat_missing_data: 'notBreaching' });
  t.deepEqual(a['dimensions'], MODEL_DIMENSIONS);
  t.is(alarm(build({ thresholds: { outOfTrainingRangePercent: 25 } }).out, 'out-of-training-range')['threshold'], 25);
  t.throws(() => build({ thresholds: { outOfTrainingRangePercent: 100 } }), { message: /thresholds\.outOfTrainingRangePercent is 100; allowed: 0 up to \(not including\) 100, a percentage of request values/ });
});

test('alarms on the percentile rank of confidences at or below the manifest threshold', (t) => {
  const a = alarm(build({ confidenceThreshold: 0.6 }).out, 'low-confidence');
  t.like(a, { namespace: 'OnnxLambda', metric_name: 'PredictionConfidence', extended_statistic: 'PR(:0.6)', threshold: 20 });
  t.deepEqual(a['dimensions'], MODEL_DIMENSIONS);
});

test('writes the confidence threshold into the percentile rank statistic', (t) => {
  t.is(alarm(build({ confidenceThreshold: 0.75 }).out, 'low-confidence')['extended_statistic'], 'PR(:0.75)');
});

test('sums InvalidRequest over every model version of the function with a Metrics Insights query', (t) => {
  const a = alarm(build().out, 'invalid-requests');
  const q = queriesById(a)['invalid_requests']!;
  t.is(q['expression'], `SELECT SUM(InvalidRequest) FROM SCHEMA("OnnxLambda", FunctionName, ModelVersion) WHERE FunctionName = '${FUNCTION}'`);
  t.is(q['period'], 60);
  t.true(q['return_data']);
  t.is(a['threshold'], 50);
});

test('fires every alarm when the statistic is greater than the threshold', (t) => {
  const operators = resourcesOf(build().out, 'aws_cloudwatch_metric_alarm').map((a) => a['comparison_operator']);
  t.deepEqual([...new Set(operators)], ['GreaterThanThreshold']);
});

test('treats missing data as not breaching on every alarm', (t) => {
  const policies = resourcesOf(build().out, 'aws_cloudwatch_metric_alarm').map((a) => a['treat_missing_data']);
  t.deepEqual([...new Set(policies)], ['notBreaching']);
});

test('alarms when two of three periods breach by default', (t) => {
  for (const a of resourcesOf(build().out, 'aws_cloudwatch_metric_alarm')) {
    t.like(a, { evaluation_periods: 3, datapoints_to_alarm: 2 });
  }
});

test('notifies the topic when an alarm fires and when it recovers', (t) => {
  const { out } = build();
  const topic = topicRef(out);
  for (const a of resourcesOf(out, 'aws_cloudwatch_metric_alarm')) {
    t.deepEqual(a['alarm_actions'], [topic]);
    t.deepEqual(a['ok_actions'], [topic]);
  }
});

test('names the topic with the prefix', (t) => {
  t.is(resourcesOf(build().out, 'aws_sns_topic')[0]?.['name'], `${PREFIX}alarms`);
});

test('encrypts the topic with a rotated customer-managed key that CloudWatch may use', (t) => {
  const { out } = build();
  const [key] = resourcesOf(out, 'aws_kms_key');
  const keyId = Object.keys(out['resource']['aws_kms_key'] as Json)[0];
  t.is(resourcesOf(out, 'aws_sns_topic')[0]?.['kms_master_key_id'], `\${aws_kms_key.${keyId}.arn}`);
  t.true(key?.['enable_key_rotation']);
  // Terraform's jsonencode() of the policy (a JSON string with references would be mangled in the HCL output).
  const policy = key?.['policy'] as string;
  t.regex(policy, /^\$\{jsonencode\(\{/);
  t.regex(policy, /"Sid" = "CloudWatchAlarmsPublish", "Effect" = "Allow", "Principal" = \{\s*"Service" = "cloudwatch\.amazonaws\.com"\s*\}, "Action" = \["kms:Decrypt", "kms:GenerateDataKey\*"\]/);
  t.regex(policy, /"Condition" = \{\s*"StringEquals" = \{\s*"aws:SourceAccount" = data\.aws_caller_identity\.\S+\.account_id\s*\}\s*\}/);
});

test('uses the KMS key given instead of creating one', (t) => {
  const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const { out } = build({ topicKmsKeyId: keyArn });
  t.is(resourcesOf(out, 'aws_sns_topic')[0]?.['kms_master_key_id'], keyArn);
  t.deepEqual(resourcesOf(out, 'aws_kms_key'), []);
});

test('subscribes every email address and HTTPS endpoint to the topic', (t) => {
  const { out } = build({
    subscribers: [
      { protocol: 'email', endpoint: 'oncall@example.com' },
      { protocol: 'https', endpoint: 'https://events.example.com/sns?team=ml' },
      { protocol: 'https', endpoint: 'https://hooks.example.net/incidents', autoConfirms: true },
    ],
  });
  const subscriptions = resourcesOf(out, 'aws_sns_topic_subscription');
  const byEndpoint = Object.fromEntries(subscriptions.map((s) => [s['endpoint'] as string, s]));
  t.is(subscriptions.length, 3);
  t.deepEqual(byEndpoint['oncall@example.com'], { topic_arn: topicRef(out), protocol: 'email', endpoint: 'oncall@example.com' });
  t.deepEqual(byEndpoint['https://events.example.com/sns?team=ml'], { topic_arn: topicRef(out), protocol: 'https', endpoint: 'https://events.example.com/sns?team=ml' });
  t.like(byEndpoint['https://hooks.example.net/incidents'], { protocol: 'https', endpoint_auto_confirms: true });
});

test('keeps each subscription\'s resource when another subscriber is removed', (t) => {
  const ids = (subscribers: AlarmsProps['subscribers']) => Object.entries(build({ subscribers }).out['resource']['aws_sns_topic_subscription'] as Json).map(([id, s]) => `${id} ${s['endpoint']}`);
  const both = ids([{ protocol: 'email', endpoint: 'a@example.com' }, { protocol: 'email', endpoint: 'b@example.com' }]);
  const second = ids([{ protocol: 'email', endpoint: 'b@example.com' }]);
  t.is(second.length, 1);
  t.true(both.includes(second[0]!), `${second[0]} among ${both.join(', ')}`);
});

test('subscribes nobody without subscribers', (t) => {
  t.deepEqual(resourcesOf(build().out, 'aws_sns_topic_subscription'), []);
});

test('watches the published version alone: its error rate among the alias invocations it served', (t) => {
  const a = alarm(build({ functionVersion: '8' }).out, 'v8-error-rate');
  const q = queriesById(a);
  const dimensions = { ...ALIAS_DIMENSIONS, ExecutedVersion: '8' };
  t.deepEqual(q['errors']?.['metric'], { namespace: 'AWS/Lambda', metric_name: 'Errors', dimensions, stat: 'Sum', period: 60 });
  t.deepEqual(q['invocations']?.['metric'], { namespace: 'AWS/Lambda', metric_name: 'Invocations', dimensions, stat: 'Sum', period: 60 });
  t.is(q['error_rate']?.['expression'], '100 * errors / invocations');
  t.like(a, { threshold: 1, treat_missing_data: 'notBreaching', comparison_operator: 'GreaterThanThreshold' });
});

test('watches the p99 RequestLatency of the published version against the duration threshold', (t) => {
  const a = alarm(build({ functionVersion: '8', thresholds: { durationP99Ms: 750 } }).out, 'v8-request-latency-p99');
  t.like(a, { namespace: 'OnnxLambda', metric_name: 'RequestLatency', extended_statistic: 'p99', unit: 'Milliseconds', threshold: 750, treat_missing_data: 'notBreaching', evaluate_low_sample_count_percentiles: 'evaluate' });
  t.deepEqual(a['dimensions'], { FunctionName: FUNCTION, FunctionVersion: '8' });
});

test('watches the ModelUnavailable answers of the published version, any of them by default', (t) => {
  const a = alarm(build({ functionVersion: '8' }).out, 'v8-model-unavailable');
  t.like(a, { namespace: 'OnnxLambda', metric_name: 'ModelUnavailable', statistic: 'Sum', period: 60, threshold: 0, treat_missing_data: 'notBreaching' });
  t.deepEqual(a['dimensions'], { FunctionName: FUNCTION, FunctionVersion: '8' });
  t.is(alarm(build({ functionVersion: '8', thresholds: { modelUnavailable: 3 } }).out, 'v8-model-unavailable')['threshold'], 3);
});

test('names the per-version alarms after the version the function resource publishes, under the prefix', (t) => {
  const stack = testStack();
  const fn = new LambdaFunction(stack, 'fn', { functionName: FUNCTION, role: 'arn:aws:iam::123456789012:role/r', handler: 'index.handler', runtime: 'nodejs22.x', filename: 'f.zip', publish: true });
  const alarms = new Alarms(stack, 'alarms', { ...BASE, functionVersion: fn.version });
  const out = synth(stack);
  const version = '${aws_lambda_function.fn.version}';
  const expected = ['error-rate', 'request-latency-p99', 'model-unavailable'].map((what) => `${PREFIX}v${version}-${what}`);
  t.deepEqual(resourcesOf(out, 'aws_cloudwatch_metric_alarm').map((a) => a['alarm_name'] as string).filter((name) => name.includes(version)).sort(), [...expected].sort());
  t.is(alarms.versionAlarmNames.length, 3);
  t.deepEqual(alarm(out, `v${version}-request-latency-p99`)['dimensions'], { FunctionName: FUNCTION, FunctionVersion: version });
});

test('keeps the per-version alarms out of the literal alarm names the dashboard lists', (t) => {
  const { alarms } = build({ functionVersion: '8' });
  t.is(alarms.alarmNames.length, 7);
  t.deepEqual(alarms.versionAlarmNames, [`${PREFIX}v8-error-rate`, `${PREFIX}v8-request-latency-p99`, `${PREFIX}v8-model-unavailable`]);
});

test('creates no per-version alarm and warns at synth without a function version', (t) => {
  const { alarms, out } = build();
  t.false(resourcesOf(out, 'aws_cloudwatch_metric_alarm').some((a) => /-v\d+-/.test(a['alarm_name'] as string)));
  t.deepEqual(alarms.versionAlarmNames, []);
  t.true(alarms.node.metadata.some((m) => m.type === '@cdktf/warn' && /functionVersion is not set/.test(String(m.data))));
});

test('leaves out the model alarms and warns at synth when no model version is given', (t) => {
  const { alarms, out } = build({ modelVersion: undefined });
  t.deepEqual(alarms.alarmNames, [`${PREFIX}error-rate`, `${PREFIX}throttles`, `${PREFIX}duration-p99`, `${PREFIX}invalid-requests`]);
  t.is(resourcesOf(out, 'aws_cloudwatch_metric_alarm').length, 4);
  const warnings = alarms.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data)).filter((w) => w.includes('modelVersion'));
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /modelVersion is not set/);
});

test('applies custom thresholds, periods and evaluation windows', (t) => {
  const { out } = build({
    periodSeconds: 300,
    thresholds: { errorRatePercent: 5, throttles: 3, durationP99Ms: 2500, inferenceLatencyP99Ms: 80, lowConfidencePercent: 35, invalidRequests: 10, evaluationPeriods: 5, datapointsToAlarm: 4 },
  });
  const expected: Record<string, number> = {
    'error-rate': 5,
    throttles: 3,
    'duration-p99': 2500,
    'inference-latency-p99': 80,
    'low-confidence': 35,
    'invalid-requests': 10,
  };
  for (const [suffix, threshold] of Object.entries(expected)) {
    t.like(alarm(out, suffix), { threshold, evaluation_periods: 5, datapoints_to_alarm: 4 });
  }
  t.is(alarm(out, 'throttles')['period'], 300);
  t.is(queriesById(alarm(out, 'error-rate'))['errors']?.['metric']?.['period'], 300);
  t.is(queriesById(alarm(out, 'invalid-requests'))['invalid_requests']?.['period'], 300);
});

test('reads per-alias Lambda metrics under the alias named in props', (t) => {
  const { out } = build({ aliasName: 'canary' });
  t.deepEqual(alarm(out, 'throttles')['dimensions'], { FunctionName: FUNCTION, Resource: `${FUNCTION}:canary` });
});

test('reads the EMF metrics from the namespace named in props', (t) => {
  const { out } = build({ metricsNamespace: 'Acme/Inference' });
  t.is(alarm(out, 'inference-latency-p99')['namespace'], 'Acme/Inference');
  t.regex(queriesById(alarm(out, 'invalid-requests'))['invalid_requests']?.['expression'] as string, /SCHEMA\("Acme\/Inference", FunctionName, ModelVersion\)/);
});

test('accepts the function name as a reference to the function resource', (t) => {
  const stack = testStack();
  const fn = new LambdaFunction(stack, 'fn', { functionName: FUNCTION, role: 'arn:aws:iam::123456789012:role/r', handler: 'index.handler', runtime: 'nodejs22.x', filename: 'f.zip' });
  new Alarms(stack, 'alarms', { ...BASE, functionName: fn.functionName });
  const a = resourceWith(synth(stack), 'aws_cloudwatch_metric_alarm', 'alarm_name', `${PREFIX}throttles`);
  t.deepEqual(a['dimensions'], { FunctionName: '${aws_lambda_function.fn.function_name}', Resource: '${aws_lambda_function.fn.function_name}:live' });
});

test('synthesizes the same Terraform as the snapshot', (t) => {
  const subscribers = [{ protocol: 'email', endpoint: 'oncall@example.com' }, { protocol: 'https', endpoint: 'https://events.example.com/sns' }] as const;
  t.snapshot(JSON.parse(Testing.synth(build({ functionVersion: '8', subscribers }).stack, true)));
});

/** Props the construct rejects, each with the start of its message. */
const REJECTED: readonly { title: string; props: Partial<AlarmsProps>; message: RegExp }[] = [
  { title: 'rejects a prefix without a trailing separator', props: { prefix: 'onnx-predict-dev' }, message: /^monitoring\/alarms: prefix is "onnx-predict-dev"; allowed: .*ending in "-" or "_"/ },
  { title: 'rejects a prefix with characters alarm and topic names do not allow', props: { prefix: 'onnx predict/dev-' }, message: /^monitoring\/alarms: prefix is "onnx predict\/dev-"; allowed: letters, digits, "-" and "_"/ },
  { title: 'rejects a prefix that is not a literal', props: { prefix: Lazy.stringValue({ produce: () => PREFIX }) }, message: /^monitoring\/alarms: prefix is .*; allowed: a literal string/ },
  { title: 'rejects a function name Lambda does not allow', props: { functionName: 'onnx:predict' }, message: /^monitoring\/alarms: functionName is "onnx:predict"; allowed: a Lambda function name/ },
  { title: 'rejects an alias name made only of digits', props: { aliasName: '12' }, message: /^monitoring\/alarms: aliasName is "12"; allowed: a Lambda alias name.*not only digits/ },
  { title: 'rejects a namespace reserved for AWS', props: { metricsNamespace: 'AWS/Lambda' }, message: /^monitoring\/alarms: metricsNamespace is "AWS\/Lambda"; allowed: .*not starting with "AWS\/"/ },
  { title: 'rejects a model version with a quote', props: { modelVersion: "iris'1" }, message: /^monitoring\/alarms: modelVersion is "iris'1"; allowed: the ModelVersion dimension value/ },
  { title: 'rejects a malformed email subscriber', props: { subscribers: [{ protocol: 'email', endpoint: 'oncall' }] }, message: /^monitoring\/alarms: subscribers\[0\]\.endpoint is "oncall"; allowed: an email address such as "oncall@example\.com"$/ },
  { title: 'rejects an email subscriber with a display name', props: { subscribers: [{ protocol: 'email', endpoint: 'On Call <oncall@example.com>' }] }, message: /^monitoring\/alarms: subscribers\[0\]\.endpoint is "On Call <oncall@example\.com>"; allowed: an email address/ },
  { title: 'rejects a plain-HTTP subscriber', props: { subscribers: [{ protocol: 'https', endpoint: 'http://events.example.com/sns' }] }, message: /^monitoring\/alarms: subscribers\[0\]\.endpoint is "http:\/\/events\.example\.com\/sns"; allowed: an https:\/\/ URL/ },
  { title: 'rejects an HTTPS subscriber that is not a URL', props: { subscribers: [{ protocol: 'https', endpoint: 'events.example.com/sns' }] }, message: /^monitoring\/alarms: subscribers\[0\]\.endpoint is "events\.example\.com\/sns"; allowed: an https:\/\/ URL/ },
  { title: 'rejects an HTTPS subscriber with a password in the URL', props: { subscribers: [{ protocol: 'https', endpoint: 'https://sns:secret@events.example.com/' }] }, message: /^monitoring\/alarms: subscribers\[0\]\.endpoint is .*; allowed: a URL without a user name or password\. They would be stored/ },
  { title: 'rejects a protocol other than email and https', props: { subscribers: [{ protocol: 'sms', endpoint: '+15555550100' } as unknown as AlarmSubscriber] }, message: /^monitoring\/alarms: subscribers\[0\]\.protocol is "sms"; allowed: one of "email", "https"$/ },
  { title: 'rejects the same subscriber twice', props: { subscribers: [{ protocol: 'email', endpoint: 'oncall@example.com' }, { protocol: 'email', endpoint: 'OnCall@example.com' }] }, message: /^monitoring\/alarms: subscribers\[1\]\.endpoint is "OnCall@example\.com"; allowed: an endpoint not already subscribed by email$/ },
  { title: 'rejects $LATEST as the version to watch', props: { functionVersion: '$LATEST' }, message: /^monitoring\/alarms: functionVersion is "\$LATEST"; allowed: a published version number/ },
  { title: 'rejects a negative ModelUnavailable count', props: { thresholds: { modelUnavailable: -1 } }, message: /^monitoring\/alarms: thresholds\.modelUnavailable is -1; allowed: a whole number/ },
  { title: 'rejects the AWS-managed SNS key, which CloudWatch alarms cannot use', props: { topicKmsKeyId: 'alias/aws/sns' }, message: /^monitoring\/alarms: topicKmsKeyId is "alias\/aws\/sns"; allowed: a customer-managed key/ },
  { title: 'rejects a confidence threshold of 1', props: { confidenceThreshold: 1 }, message: /^monitoring\/alarms: confidenceThreshold is 1; allowed: greater than 0 and less than 1/ },
  { title: 'rejects a confidence threshold of 0', props: { confidenceThreshold: 0 }, message: /^monitoring\/alarms: confidenceThreshold is 0; allowed: greater than 0 and less than 1/ },
  { title: 'rejects a period of 0 seconds', props: { periodSeconds: 0 }, message: /^monitoring\/alarms: periodSeconds is 0; allowed: a positive multiple of 60 up to 86400$/ },
  { title: 'rejects a negative period', props: { periodSeconds: -60 }, message: /^monitoring\/alarms: periodSeconds is -60; allowed: a positive multiple of 60/ },
  { title: 'rejects a period that is not a multiple of 60 seconds', props: { periodSeconds: 90 }, message: /^monitoring\/alarms: periodSeconds is 90; allowed: a positive multiple of 60/ },
  { title: 'rejects an error-rate threshold of 100 percent or more', props: { thresholds: { errorRatePercent: 150 } }, message: /^monitoring\/alarms: thresholds\.errorRatePercent is 150; allowed: 0 up to \(not including\) 100/ },
  { title: 'rejects a negative low-confidence percentage', props: { thresholds: { lowConfidencePercent: -1 } }, message: /^monitoring\/alarms: thresholds\.lowConfidencePercent is -1; allowed: 0 up to \(not including\) 100/ },
  { title: 'rejects a fractional throttle count', props: { thresholds: { throttles: 0.5 } }, message: /^monitoring\/alarms: thresholds\.throttles is 0\.5; allowed: a whole number/ },
  { title: 'rejects a negative invalid-request count', props: { thresholds: { invalidRequests: -5 } }, message: /^monitoring\/alarms: thresholds\.invalidRequests is -5; allowed: a whole number/ },
  { title: 'rejects a p99 duration of 0 ms', props: { thresholds: { durationP99Ms: 0 } }, message: /^monitoring\/alarms: thresholds\.durationP99Ms is 0; allowed: greater than 0 up to 900000 ms/ },
  { title: 'rejects a p99 inference latency longer than any Lambda invocation', props: { thresholds: { inferenceLatencyP99Ms: 1_000_000 } }, message: /^monitoring\/alarms: thresholds\.inferenceLatencyP99Ms is 1000000; allowed: greater than 0 up to 900000 ms/ },
  { title: 'rejects an evaluation window longer than a day', props: { periodSeconds: 3600, thresholds: { evaluationPeriods: 25 } }, message: /^monitoring\/alarms: thresholds\.evaluationPeriods is 25; allowed: a whole number from 1 to 24/ },
  { title: 'rejects more datapoints to alarm than evaluation periods', props: { thresholds: { evaluationPeriods: 3, datapointsToAlarm: 4 } }, message: /^monitoring\/alarms: thresholds\.datapointsToAlarm is 4; allowed: a whole number from 1 to thresholds\.evaluationPeriods \(3\)/ },
];

for (const { title, props, message } of REJECTED) {
  test(title, (t) => {
    const error = t.throws(() => new Alarms(testStack(), 'alarms', { ...BASE, ...props }), { instanceOf: SettingError });
    t.regex(error?.message ?? '', message);
  });
}
