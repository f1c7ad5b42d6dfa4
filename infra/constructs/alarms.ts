/**
 * CloudWatch alarms for one environment of the inference service, and the SNS topic they notify.
 *
 * Every alarm is named `<prefix><what>` (e.g. `onnx-predict-dev-error-rate`): the rollout tool finds them with
 * DescribeAlarms(AlarmNamePrefix=prefix) and holds or rolls back a step while any of them is in ALARM, so a new alarm
 * added here gates rollouts without touching the tool.
 *
 * Where the metrics come from:
 * - AWS/Lambda publishes per-alias metrics under the dimensions FunctionName + Resource = `<function>:<alias>`
 *   (aws-cdk fix "generate correct metrics for aliases", aws/aws-cdk#3728; aws-cdk-lib LambdaMetrics lists the
 *   {FunctionName, Resource} set for every Lambda metric).
 * - The function's own metrics are EMF records with the dimension sets [FunctionName, FunctionVersion] and
 *   [FunctionName, ModelVersion] (functions/contract/metrics.ts). CloudWatch treats each dimension combination as a
 *   separate metric and cannot return statistics for a combination that was not published (GetMetricStatistics,
 *   "Dimensions"), so a metric with FunctionName alone does not exist. An alarm must watch one time series, and a
 *   SEARCH expression cannot be used in an alarm (aws-cdk-lib MathExpression: "When an expression contains a SEARCH
 *   function, it cannot be used within an Alarm"); Metrics Insights queries can back an alarm but only aggregate
 *   with AVG, COUNT, MAX, MIN and SUM (CloudWatch User Guide, "Metrics Insights query components and syntax"), so no
 *   p99 and no percentile rank across versions. Hence:
 *   - InferenceLatency p99 and the low-confidence rate watch the [FunctionName, ModelVersion] metric of the model
 *     being deployed (`modelVersion`). A published Lambda version serves exactly one model, and `cdktf deploy`
 *     publishes the version the rollout then shifts to, so these alarms follow the canary's model: exactly what
 *     the rollout gate needs. Without `modelVersion` they are not created (a synth warning says so).
 *   - InvalidRequest is a count, so a Metrics Insights SUM over SCHEMA(namespace, FunctionName, ModelVersion)
 *     covers every model version of the function in one time series; each request is counted once because only
 *     one dimension set is summed.
 */
import { Annotations, Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { ALIAS_NAME_PATTERN, ALIAS_NAME_RULE, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE, LIVE_ALIAS } from '../../functions/contract/aws-names.js';
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE } from '../../functions/contract/env.js';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';
import { DIMENSION, LAMBDA_DIMENSION, LAMBDA_METRIC, LAMBDA_NAMESPACE, METRIC, aliasResource } from '../../functions/contract/metrics.js';
import { fail, matchingLiteral, MAX_PERIOD_SECONDS, periodSeconds, type Where } from '../validators.js';

/** Where each alarm fires; every alarm fires when its statistic is greater than the threshold. */
export interface AlarmThresholds {
  /**
   * Percentage of the alias's invocations that end in a Lambda function error (unhandled exception, timeout,
   * out of memory). Handled 5xx answers are not Lambda errors; they show on the dashboard.
   * @default 1
   */
  readonly errorRatePercent?: number | undefined;
  /**
   * Throttled invocations of the alias per period.
   * @default 0 (any throttle)
   */
  readonly throttles?: number | undefined;
  /**
   * p99 of the alias's Lambda Duration, in milliseconds.
   * @default 1000
   */
  readonly durationP99Ms?: number | undefined;
  /**
   * p99 of the EMF InferenceLatency of the deployed model, in milliseconds.
   * @default 500
   */
  readonly inferenceLatencyP99Ms?: number | undefined;
  /**
   * Percentage of classified rows whose confidence is at or below `confidenceThreshold`.
   * @default 20
   */
  readonly lowConfidencePercent?: number | undefined;
  /**
   * EMF InvalidRequest (4xx answers) per period, summed over all model versions of the function.
   * @default 50
   */
  readonly invalidRequests?: number | undefined;
  /**
   * Periods looked at by each alarm ("N" of "M out of N").
   * @default 3
   */
  readonly evaluationPeriods?: number | undefined;
  /**
   * Breaching periods among `evaluationPeriods` that put an alarm in ALARM ("M"); the CloudWatch guide suggests
   * M out of N for EMF metrics on Lambda, whose log flush the function does not control.
   * @default 2
   */
  readonly datapointsToAlarm?: number | undefined;
}

export interface AlarmsProps {
  /**
   * Start of every alarm name and of the topic name, ending in "-" or "_" so that one environment's prefix is not
   * the start of another's names by accident (e.g. `onnx-predict-dev-`).
   * @default none; required
   */
  readonly prefix: string;
  /**
   * Name of the Lambda function (a literal or a reference to the function resource).
   * @default none; required
   */
  readonly functionName: string;
  /**
   * Alias that receives the traffic and that the rollout shifts.
   * @default LIVE_ALIAS ("live")
   */
  readonly aliasName?: string | undefined;
  /**
   * Namespace of the function's EMF metrics (its `METRICS_NAMESPACE`).
   * @default DEFAULT_METRICS_NAMESPACE, the function's own default
   */
  readonly metricsNamespace?: string | undefined;
  /**
   * ModelVersion dimension value of the model being deployed, `<manifest name>@<manifest version>` (e.g. `iris@1`).
   * @default none: the InferenceLatency and low-confidence alarms are not created
   */
  readonly modelVersion?: string | undefined;
  /**
   * Alarm thresholds and evaluation windows; each field has its own default.
   * @default the defaults listed on AlarmThresholds
   */
  readonly thresholds?: AlarmThresholds | undefined;
  /**
   * Confidence at or below which a classified row counts as low confidence; from the model manifest.
   * @default 0.6
   */
  readonly confidenceThreshold?: number | undefined;
  /**
   * Email address subscribed to the topic (the subscription must be confirmed from the mail).
   * @default none: no subscription
   */
  readonly notificationEmail?: string | undefined;
  /**
   * Period of every alarm, in seconds: a multiple of 60 (the EMF metrics are standard resolution).
   * @default 60
   */
  readonly periodSeconds?: number | undefined;
  /**
   * KMS key (id, ARN or alias) that encrypts the topic. It must be a customer-managed key whose policy lets
   * `cloudwatch.amazonaws.com` call kms:Decrypt and kms:GenerateDataKey*: CloudWatch alarms cannot publish to a topic
   * encrypted with the AWS-managed `alias/aws/sns`, whose policy cannot be changed (AWS re:Post knowledge center,
   * "How do I configure a CloudWatch alarm with an encrypted SNS topic?", cloudwatch-configure-alarm-sns).
   * @default a customer-managed key created here, with rotation and that policy
   */
  readonly topicKmsKeyId?: string | undefined;
}

type Thresholds = Required<{ [K in keyof AlarmThresholds]: number }>;

const DEFAULT_THRESHOLDS: Thresholds = {
  errorRatePercent: 1,
  throttles: 0,
  durationP99Ms: 1000,
  inferenceLatencyP99Ms: 500,
  lowConfidencePercent: 20,
  invalidRequests: 50,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
};
const DEFAULT_CONFIDENCE_THRESHOLD = 0.6;
const DEFAULT_PERIOD_SECONDS = 60;

/** No invocation lasts longer than Lambda's maximum timeout. */
const MAX_DURATION_MS = LAMBDA_LIMITS.maxTimeoutSeconds * 1000;

/** Letters, digits, "-" and "_" are valid in both alarm names and SNS topic names; the last one is the separator. */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,198}[-_]$/;
/** Printable ASCII without quotes: a valid dimension value that is safe inside a query string. */
const MODEL_VERSION = /^[\x21\x23-\x26\x28-\x7e]{1,255}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** Digits the PR(:n) extended statistic accepts (the provider's pattern allows no exponent). */
const CONFIDENCE = /^0\.\d{1,6}$/;

function checkNumber(where: Where, setting: string, value: number, ok: (v: number) => boolean, allowed: string): void {
  if (!Number.isFinite(value) || !ok(value)) fail(where, setting, value, allowed);
}

/** `given`'s fields over `defaults`; a field given as undefined takes its default. */
function withDefaults<T extends object>(defaults: T, given: { readonly [K in keyof T]?: T[K] | undefined }): T {
  return { ...defaults, ...Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) };
}

type Resolved = Omit<AlarmsProps, 'aliasName' | 'metricsNamespace' | 'confidenceThreshold' | 'periodSeconds' | 'thresholds'> & {
  readonly aliasName: string;
  readonly metricsNamespace: string;
  readonly confidenceThreshold: number;
  readonly periodSeconds: number;
  readonly thresholds: Thresholds;
};

/**
 * Fills in defaults and rejects, before any resource exists, what CloudWatch, Lambda or SNS would reject later; a
 * SettingError names the construct path, the setting, the value and the allowed range.
 */
function resolveProps(where: Where, props: AlarmsProps): Resolved {
  const r: Resolved = {
    ...props,
    aliasName: props.aliasName ?? LIVE_ALIAS,
    metricsNamespace: props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
    confidenceThreshold: props.confidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD,
    periodSeconds: props.periodSeconds ?? DEFAULT_PERIOD_SECONDS,
    thresholds: withDefaults(DEFAULT_THRESHOLDS, props.thresholds ?? {}),
  };

  if (Token.isUnresolved(r.prefix)) {
    fail(where, 'prefix', r.prefix, 'a literal string; the rollout tool matches alarm names against it');
  }
  matchingLiteral(where, 'prefix', r.prefix, PREFIX, 'letters, digits, "-" and "_", 2 to 200 characters, ending in "-" or "_" (e.g. "onnx-predict-dev-")');
  matchingLiteral(where, 'functionName', r.functionName, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE);
  matchingLiteral(where, 'aliasName', r.aliasName, ALIAS_NAME_PATTERN, ALIAS_NAME_RULE);
  matchingLiteral(where, 'metricsNamespace', r.metricsNamespace, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE);
  if (r.modelVersion !== undefined) {
    matchingLiteral(where, 'modelVersion', r.modelVersion, MODEL_VERSION, 'the ModelVersion dimension value, "<name>@<version>" in printable ASCII without quotes or spaces, 1 to 255 characters');
  }
  if (r.notificationEmail !== undefined) {
    matchingLiteral(where, 'notificationEmail', r.notificationEmail, EMAIL, 'an email address such as "oncall@example.com"');
  }
  if (r.topicKmsKeyId !== undefined && !Token.isUnresolved(r.topicKmsKeyId) && /(^|:)alias\/aws\/sns$/.test(r.topicKmsKeyId)) {
    fail(where, 'topicKmsKeyId', r.topicKmsKeyId, 'a customer-managed key whose policy lets cloudwatch.amazonaws.com use it; CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns (leave unset to have one created)');
  }
  checkNumber(where, 'confidenceThreshold', r.confidenceThreshold, (v) => CONFIDENCE.test(String(v)), 'greater than 0 and less than 1, at most 6 decimals (e.g. 0.6)');
  periodSeconds(where, 'periodSeconds', r.periodSeconds);

  const th = r.thresholds;
  const percent = (v: number) => v >= 0 && v < 100;
  checkNumber(where, 'thresholds.errorRatePercent', th.errorRatePercent, percent, '0 up to (not including) 100, a percentage of invocations');
  checkNumber(where, 'thresholds.lowConfidencePercent', th.lowConfidencePercent, percent, '0 up to (not including) 100, a percentage of classified rows');
  const count = (v: number) => Number.isInteger(v) && v >= 0;
  checkNumber(where, 'thresholds.throttles', th.throttles, count, 'a whole number of throttles per period, 0 or more');
  checkNumber(where, 'thresholds.invalidRequests', th.invalidRequests, count, 'a whole number of invalid requests per period, 0 or more');
  const ms = (v: number) => v > 0 && v <= MAX_DURATION_MS;
  const msAllowed = `greater than 0 up to ${MAX_DURATION_MS} ms (Lambda's maximum timeout)`;
  checkNumber(where, 'thresholds.durationP99Ms', th.durationP99Ms, ms, msAllowed);
  checkNumber(where, 'thresholds.inferenceLatencyP99Ms', th.inferenceLatencyP99Ms, ms, msAllowed);
  // An alarm's evaluation window (periods x period) may not exceed one day (PutMetricAlarm, EvaluationPeriods).
  const maxPeriods = Math.floor(MAX_PERIOD_SECONDS / r.periodSeconds);
  checkNumber(where, 'thresholds.evaluationPeriods', th.evaluationPeriods, (v) => Number.isInteger(v) && v >= 1 && v <= maxPeriods, `a whole number from 1 to ${maxPeriods} (evaluation periods x ${r.periodSeconds} s may not exceed one day)`);
  checkNumber(where, 'thresholds.datapointsToAlarm', th.datapointsToAlarm, (v) => Number.isInteger(v) && v >= 1 && v <= th.evaluationPeriods, `a whole number from 1 to thresholds.evaluationPeriods (${th.evaluationPeriods})`);
  return r;
}

/** Alarm name suffixes; with the prefix they are the names the rollout tool sees. */
export const ALARM_SUFFIXES = {
  errorRate: 'error-rate',
  throttles: 'throttles',
  durationP99: 'duration-p99',
  inferenceLatencyP99: 'inference-latency-p99',
  lowConfidence: 'low-confidence',
  invalidRequests: 'invalid-requests',
} as const;

export class Alarms extends Construct {
  /** The shared start of every alarm name, for `--alarm-prefix` and DescribeAlarms(AlarmNamePrefix). */
  readonly prefix: string;
  /** Names of the alarms created, in creation order. */
  readonly alarmNames: readonly string[];
  /** ARNs of the alarms created, in the order of `alarmNames` (for the dashboard's alarm widget). */
  readonly alarmArns: readonly string[];
  /** The topic every alarm notifies on ALARM and on OK. */
  readonly topicArn: string;
  /** The alarm resources by suffix; absent entries were not created (see `modelVersion`). */
  readonly alarms: Readonly<Partial<Record<keyof typeof ALARM_SUFFIXES, CloudwatchMetricAlarm>>>;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const p = resolveProps(this, props);
    const th = p.thresholds;
    this.prefix = p.prefix;

    const topic = new SnsTopic(this, 'topic', {
      name: `${p.prefix}alarms`,
      kmsMasterKeyId: p.topicKmsKeyId ?? this.createTopicKey(p.prefix).arn,
    });
    this.topicArn = topic.arn;
    if (p.notificationEmail !== undefined) {
      new SnsTopicSubscription(this, 'email', { topicArn: topic.arn, protocol: 'email', endpoint: p.notificationEmail });
    }

    const common = {
      evaluationPeriods: th.evaluationPeriods,
      datapointsToAlarm: th.datapointsToAlarm,
      comparisonOperator: 'GreaterThanThreshold',
      alarmActions: [topic.arn],
      okActions: [topic.arn],
    } satisfies Partial<CloudwatchMetricAlarmConfig>;
    const aliasLabel = aliasResource(p.functionName, p.aliasName);
    const aliasDimensions = { [LAMBDA_DIMENSION.FunctionName]: p.functionName, [LAMBDA_DIMENSION.Resource]: aliasLabel };
    const alarms: Partial<Record<keyof typeof ALARM_SUFFIXES, CloudwatchMetricAlarm>> = {};
    const names: string[] = [];
    const add = (key: keyof typeof ALARM_SUFFIXES, config: Omit<CloudwatchMetricAlarmConfig, 'alarmName' | keyof typeof common>) => {
      const alarmName = `${p.prefix}${ALARM_SUFFIXES[key]}`;
      alarms[key] = new CloudwatchMetricAlarm(this, ALARM_SUFFIXES[key], { alarmName, ...common, ...config });
      names.push(alarmName);
    };

    add('errorRate', {
      alarmDescription: `More than ${th.errorRatePercent}% of invocations of ${aliasLabel} ended in a function error (Errors / Invocations).`,
      threshold: th.errorRatePercent,
      // No invocations means neither metric has a datapoint: nothing failed, so the period counts as good.
      treatMissingData: 'notBreaching',
      metricQuery: [
        { id: 'errors', returnData: false, metric: { namespace: LAMBDA_NAMESPACE, metricName: LAMBDA_METRIC.Errors, dimensions: aliasDimensions, stat: 'Sum', period: p.periodSeconds } },
        { id: 'invocations', returnData: false, metric: { namespace: LAMBDA_NAMESPACE, metricName: LAMBDA_METRIC.Invocations, dimensions: aliasDimensions, stat: 'Sum', period: p.periodSeconds } },
        { id: 'error_rate', returnData: true, expression: '100 * errors / invocations', label: 'Error rate (%)' },
      ],
    });

    add('throttles', {
      alarmDescription: `${aliasLabel} throttled more than ${th.throttles} invocation(s) per ${p.periodSeconds} s: concurrency is exhausted.`,
      namespace: LAMBDA_NAMESPACE,
      metricName: LAMBDA_METRIC.Throttles,
      dimensions: aliasDimensions,
      statistic: 'Sum',
      period: p.periodSeconds,
      threshold: th.throttles,
      // Lambda publishes no datapoint when nothing was throttled.
      treatMissingData: 'notBreaching',
    });

    add('durationP99', {
      alarmDescription: `p99 Duration of ${aliasLabel} above ${th.durationP99Ms} ms.`,
      namespace: LAMBDA_NAMESPACE,
      metricName: LAMBDA_METRIC.Duration,
      dimensions: aliasDimensions,
      extendedStatistic: 'p99',
      unit: 'Milliseconds',
      period: p.periodSeconds,
      threshold: th.durationP99Ms,
      // No traffic, no slow requests.
      treatMissingData: 'notBreaching',
      // "ignore" would hold the state below 10/(1-0.99) = 1000 samples per period (CloudWatch User Guide,
      // "Percentile-based alarms and low data samples"), i.e. almost always for a canary; M out of N damps noise instead.
      evaluateLowSampleCountPercentiles: 'evaluate',
    });

    if (p.modelVersion === undefined) {
      Annotations.of(this).addWarning(
        'Alarms: modelVersion is not set, so the InferenceLatency p99 and low-confidence alarms are not created; pass "<manifest name>@<manifest version>" of the deployed model',
      );
    } else {
      const modelDimensions = { [DIMENSION.FunctionName]: p.functionName, [DIMENSION.ModelVersion]: p.modelVersion };
      add('inferenceLatencyP99', {
        alarmDescription: `p99 InferenceLatency of model ${p.modelVersion} on ${p.functionName} above ${th.inferenceLatencyP99Ms} ms.`,
        namespace: p.metricsNamespace,
        metricName: METRIC.InferenceLatency,
        dimensions: modelDimensions,
        extendedStatistic: 'p99',
        unit: 'Milliseconds',
        period: p.periodSeconds,
        threshold: th.inferenceLatencyP99Ms,
        // The metric exists once the model has served traffic; before the rollout sends any (or with no traffic) the
        // alarm must stay OK rather than INSUFFICIENT_DATA.
        treatMissingData: 'notBreaching',
        evaluateLowSampleCountPercentiles: 'evaluate',
      });

      // Percentile rank PR(:t) is the percentage of datapoints with a value at or below t (lower bound exclusive,
      // upper inclusive): CloudWatch User Guide, "CloudWatch statistics definitions". PutMetricAlarm accepts
      // PR(n:m) as ExtendedStatistic (CloudWatch API Reference, PutMetricAlarm), and the AWS provider's pattern for
      // extended_statistic accepts it too. EMF publishes each confidence as a raw value, so percentiles exist.
      add('lowConfidence', {
        alarmDescription: `More than ${th.lowConfidencePercent}% of rows classified by model ${p.modelVersion} had confidence at or below ${p.confidenceThreshold}.`,
        namespace: p.metricsNamespace,
        metricName: METRIC.PredictionConfidence,
        dimensions: modelDimensions,
        extendedStatistic: `PR(:${p.confidenceThreshold})`,
        period: p.periodSeconds,
        threshold: th.lowConfidencePercent,
        // Regressors publish no confidence, and no classified rows means nothing was uncertain.
        treatMissingData: 'notBreaching',
      });
    }

    const namespace = p.metricsNamespace;
    add('invalidRequests', {
      alarmDescription: `More than ${th.invalidRequests} invalid requests (4xx) per ${p.periodSeconds} s on ${p.functionName}, all model versions.`,
      threshold: th.invalidRequests,
      // The function writes InvalidRequest only when one happens.
      treatMissingData: 'notBreaching',
      metricQuery: [
        {
          id: 'invalid_requests',
          returnData: true,
          period: p.periodSeconds,
          label: 'Invalid requests',
          expression: `SELECT SUM(${METRIC.InvalidRequest}) FROM SCHEMA("${namespace}", ${DIMENSION.FunctionName}, ${DIMENSION.ModelVersion}) WHERE ${DIMENSION.FunctionName} = '${p.functionName}'`,
        },
      ],
    });

    this.alarms = alarms;
    this.alarmNames = names;
    this.alarmArns = Object.values(alarms).map((a) => a.arn);
  }

  /**
   * A customer-managed key for the topic: the account administers it, and CloudWatch (for this account only) may
   * use it to publish alarm notifications (AWS re:Post knowledge center, cloudwatch-configure-alarm-sns).
   */
  private createTopicKey(prefix: string): KmsKey {
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const partition = new DataAwsPartition(this, 'partition').partition;
    // Terraform's jsonencode(), not a JSON string: cdktf's HCL output mangles a JSON string that holds references.
    // (A key policy's "*" resource means this key; an aws_iam_policy_document would read as an IAM policy to checkov.)
    const policy = Fn.jsonencode({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AccountAdministersKey',
          Effect: 'Allow',
          Principal: { AWS: `arn:${partition}:iam::${account}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Sid: 'CloudWatchAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': account } },
        },
      ],
    });
    return new KmsKey(this, 'topic-key', {
      description: `Encrypts the ${prefix}alarms SNS topic; CloudWatch alarms may use it to publish`,
      enableKeyRotation: true,
      policy,
    });
  }
}
