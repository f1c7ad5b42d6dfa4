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
 *
 * Per-version alarms (`functionVersion`): the alias alarms mix the canary with the stable version, so at 10% weight a
 * canary failing 9% of its requests shows 0.9% on the alias. Three alarms watch the version each apply publishes
 * alone, named `<prefix>v<version>-<what>` (functions/contract/aws-names.ts versionAlarmName), so the rollout's gate
 * reads them with the others; a new version replaces them, so it never inherits an old version's state:
 *   - error rate: AWS/Lambda Errors / Invocations under FunctionName + Resource = `<function>:<alias>` +
 *     ExecutedVersion = the version. Lambda publishes ExecutedVersion only together with FunctionName and Resource,
 *     for invocations of an alias (Lambda Developer Guide, "Types of metrics for Lambda functions": "ExecutedVersion
 *     ... compare error rates for two versions of a function that are both targets of a weighted alias"; SAM's
 *     gradual-deployment alarms use the same three dimensions). A direct invocation of the version (the rollout's
 *     pre-traffic check) counts under Resource = `<function>:<version>` instead, so it is not in this alarm;
 *   - p99 RequestLatency and the sum of ModelUnavailable from the function's EMF metrics under FunctionName +
 *     FunctionVersion (the dimension set the function publishes for every record).
 * All three treat missing data as not breaching: a version that serves no traffic yet must not alarm.
 */
import { Annotations, Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { createHash } from 'node:crypto';
import {
  ALARM_SUFFIX,
  ALIAS_NAME_PATTERN,
  ALIAS_NAME_RULE,
  FUNCTION_NAME_PATTERN,
  FUNCTION_NAME_RULE,
  LIVE_ALIAS,
  VERSION_ALARM_SUFFIX,
  versionAlarmName,
} from '../../functions/contract/aws-names.js';
import { DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE } from '../../functions/contract/env.js';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';
import { DIMENSION, LAMBDA_DIMENSION, LAMBDA_METRIC, LAMBDA_NAMESPACE, METRIC, aliasResource } from '../../functions/contract/metrics.js';
import { fail, matchingLiteral, MAX_PERIOD_SECONDS, oneOf, periodSeconds, type Where } from '../validators.js';

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
   * Average percentage of request values outside the training range (EMF OutOfTrainingRange of the deployed model,
   * from its baseline.json): input drift. The rollout's alarm gate ignores this alarm (TRAFFIC_ALARM_SUFFIXES).
   * @default 10
   */
  readonly outOfTrainingRangePercent?: number | undefined;
  /**
   * EMF InvalidRequest (4xx answers) per period, summed over all model versions of the function.
   * @default 50
   */
  readonly invalidRequests?: number | undefined;
  /**
   * ModelUnavailable answers (503: the model could not be loaded) of the published version per period.
   * @default 0 (any)
   */
  readonly modelUnavailable?: number | undefined;
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

/**
 * A subscriber of the alarm topic. `email`: SNS mails a confirmation link, and nothing arrives until someone follows
 * it. `https`: SNS posts a SubscriptionConfirmation to the URL, which must visit its SubscribeURL; set `autoConfirms`
 * for endpoints that do (incident tools), and Terraform then waits for the confirmation and fails the apply when it
 * does not come.
 */
export type AlarmSubscriber =
  | { readonly protocol: 'email'; readonly endpoint: string }
  | { readonly protocol: 'https'; readonly endpoint: string; readonly autoConfirms?: boolean | undefined };

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
   * The version this apply published (the function's `version` attribute): the per-version alarms watch it.
   * @default none: no per-version alarms (a synth warning says so)
   */
  readonly functionVersion?: string | undefined;
  /**
   * Who the topic notifies: email addresses and HTTPS endpoints.
   * @default none: no subscription
   */
  readonly subscribers?: readonly AlarmSubscriber[] | undefined;
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
  /**
   * An existing topic to notify instead of creating one (an environment serving several models shares one
   * AlarmTopic); `subscribers` and `topicKmsKeyId` then belong to that topic and may not be set here.
   * @default a topic of its own, `<topicPrefix>alarms`
   */
  readonly topicArn?: string | undefined;
  /**
   * Start of the name of the topic created here (`<topicPrefix>alarms`), where it is not the alarms': a model that
   * keeps its environment's function keeps the environment's topic while its alarms take the model's prefix.
   * @default prefix
   */
  readonly topicPrefix?: string | undefined;
}

type Thresholds = Required<{ [K in keyof AlarmThresholds]: number }>;

const DEFAULT_THRESHOLDS: Thresholds = {
  errorRatePercent: 1,
  throttles: 0,
  durationP99Ms: 1000,
  inferenceLatencyP99Ms: 500,
  lowConfidencePercent: 20,
  outOfTrainingRangePercent: 10,
  invalidRequests: 50,
  modelUnavailable: 0,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
};
const DEFAULT_CONFIDENCE_THRESHOLD = 0.6;
const DEFAULT_PERIOD_SECONDS = 60;

/** No invocation lasts longer than Lambda's maximum timeout. */
const MAX_DURATION_MS = LAMBDA_LIMITS.maxTimeoutSeconds * 1000;

/** Letters, digits, "-" and "_" are valid in both alarm names and SNS topic names; the last one is the separator. */
const PREFIX = /^[A-Za-z0-9][A-Za-z0-9_-]{0,198}[-_]$/;
const PREFIX_RULE = 'letters, digits, "-" and "_", 2 to 200 characters, ending in "-" or "_" (e.g. "onnx-predict-dev-")';
/** Printable ASCII without quotes: a valid dimension value that is safe inside a query string. */
const MODEL_VERSION = /^[\x21\x23-\x26\x28-\x7e]{1,255}$/;
const EMAIL = /^[^@\s"'<>,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const VERSION = /^[1-9][0-9]*$/;
const PROTOCOLS = ['email', 'https'] as const;
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
  matchingLiteral(where, 'prefix', r.prefix, PREFIX, PREFIX_RULE);
  matchingLiteral(where, 'functionName', r.functionName, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE);
  matchingLiteral(where, 'aliasName', r.aliasName, ALIAS_NAME_PATTERN, ALIAS_NAME_RULE);
  matchingLiteral(where, 'metricsNamespace', r.metricsNamespace, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE);
  if (r.modelVersion !== undefined) {
    matchingLiteral(where, 'modelVersion', r.modelVersion, MODEL_VERSION, 'the ModelVersion dimension value, "<name>@<version>" in printable ASCII without quotes or spaces, 1 to 255 characters');
  }
  if (r.functionVersion !== undefined) {
    matchingLiteral(where, 'functionVersion', r.functionVersion, VERSION, 'a published version number such as "7" (the function\'s version attribute), not $LATEST');
  }
  checkSubscribers(where, r.subscribers ?? []);
  checkTopicKey(where, r.topicKmsKeyId);
  if (r.topicArn !== undefined && (r.subscribers !== undefined || r.topicKmsKeyId !== undefined || r.topicPrefix !== undefined)) {
    const [setting, value] = r.subscribers !== undefined ? ['subscribers', r.subscribers] : r.topicKmsKeyId !== undefined ? ['topicKmsKeyId', r.topicKmsKeyId] : ['topicPrefix', r.topicPrefix];
    fail(where, setting, value, 'unset with topicArn: they belong to the topic given', 'Set them on the AlarmTopic whose topicArn this is');
  }
  if (r.topicPrefix !== undefined) matchingLiteral(where, 'topicPrefix', r.topicPrefix, PREFIX, PREFIX_RULE);
  checkNumber(where, 'confidenceThreshold', r.confidenceThreshold, (v) => CONFIDENCE.test(String(v)), 'greater than 0 and less than 1, at most 6 decimals (e.g. 0.6)');
  periodSeconds(where, 'periodSeconds', r.periodSeconds);

  const th = r.thresholds;
  const percent = (v: number) => v >= 0 && v < 100;
  checkNumber(where, 'thresholds.errorRatePercent', th.errorRatePercent, percent, '0 up to (not including) 100, a percentage of invocations');
  checkNumber(where, 'thresholds.lowConfidencePercent', th.lowConfidencePercent, percent, '0 up to (not including) 100, a percentage of classified rows');
  checkNumber(where, 'thresholds.outOfTrainingRangePercent', th.outOfTrainingRangePercent, percent, '0 up to (not including) 100, a percentage of request values');
  const count = (v: number) => Number.isInteger(v) && v >= 0;
  checkNumber(where, 'thresholds.throttles', th.throttles, count, 'a whole number of throttles per period, 0 or more');
  checkNumber(where, 'thresholds.invalidRequests', th.invalidRequests, count, 'a whole number of invalid requests per period, 0 or more');
  checkNumber(where, 'thresholds.modelUnavailable', th.modelUnavailable, count, 'a whole number of ModelUnavailable answers per period, 0 or more');
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

function checkTopicKey(where: Where, kmsKeyId: string | undefined): void {
  if (kmsKeyId !== undefined && !Token.isUnresolved(kmsKeyId) && /(^|:)alias\/aws\/sns$/.test(kmsKeyId)) {
    fail(where, 'topicKmsKeyId', kmsKeyId, 'a customer-managed key whose policy lets cloudwatch.amazonaws.com use it; CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns (leave unset to have one created)');
  }
}

/** Email addresses and HTTPS URLs SNS can deliver to, each once. */
function checkSubscribers(where: Where, subscribers: readonly AlarmSubscriber[]): void {
  const seen = new Set<string>();
  subscribers.forEach((subscriber, i) => {
    const at = `subscribers[${i}]`;
    oneOf(where, `${at}.protocol`, subscriber.protocol, PROTOCOLS);
    if (subscriber.protocol === 'email') {
      matchingLiteral(where, `${at}.endpoint`, subscriber.endpoint, EMAIL, 'an email address such as "oncall@example.com"');
    } else {
      checkHttpsUrl(where, `${at}.endpoint`, subscriber.endpoint);
    }
    const key = `${subscriber.protocol} ${subscriber.endpoint.toLowerCase()}`;
    if (seen.has(key)) fail(where, `${at}.endpoint`, subscriber.endpoint, `an endpoint not already subscribed by ${subscriber.protocol}`);
    seen.add(key);
  });
}

function checkHttpsUrl(where: Where, setting: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  let url: URL | undefined;
  try {
    url = /\s/.test(value) ? undefined : new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:' || url.hostname === '') {
    fail(where, setting, value, 'an https:// URL such as "https://events.example.com/sns" (SNS posts each notification to it)');
  }
  if (url.username !== '' || url.password !== '') {
    fail(where, setting, value, 'a URL without a user name or password', 'They would be stored in infra/config.ts and in the Terraform state; let the endpoint authenticate SNS by its signed messages instead');
  }
}

export class Alarms extends Construct {
  /** The shared start of every alarm name, for `--alarm-prefix` and DescribeAlarms(AlarmNamePrefix). */
  readonly prefix: string;
  /** Names of the alias and model alarms created, in creation order: literal strings (for the dashboard). */
  readonly alarmNames: readonly string[];
  /** ARNs of the alarms in `alarmNames`, in that order. */
  readonly alarmArns: readonly string[];
  /** Names of the per-version alarms; each holds the version, a Terraform reference until apply. */
  readonly versionAlarmNames: readonly string[];
  /** The topic every alarm notifies on ALARM and on OK. */
  readonly topicArn: string;
  /** The alias and model alarm resources by suffix; absent entries were not created (see `modelVersion`). */
  readonly alarms: Readonly<Partial<Record<keyof typeof ALARM_SUFFIX, CloudwatchMetricAlarm>>>;
  /** The per-version alarm resources; empty without `functionVersion`. */
  readonly versionAlarms: Readonly<Partial<Record<keyof typeof VERSION_ALARM_SUFFIX, CloudwatchMetricAlarm>>>;
  readonly subscriptions: readonly SnsTopicSubscription[];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const p = resolveProps(this, props);
    const th = p.thresholds;
    this.prefix = p.prefix;

    if (p.topicArn !== undefined) {
      this.topicArn = p.topicArn;
      this.subscriptions = [];
    } else {
      const topic = createAlarmTopic(this, p.topicPrefix ?? p.prefix, p.subscribers ?? [], p.topicKmsKeyId);
      this.topicArn = topic.topicArn;
      this.subscriptions = topic.subscriptions;
    }
    const topic = { arn: this.topicArn };

    const common = {
      evaluationPeriods: th.evaluationPeriods,
      datapointsToAlarm: th.datapointsToAlarm,
      comparisonOperator: 'GreaterThanThreshold',
      alarmActions: [topic.arn],
      okActions: [topic.arn],
    } satisfies Partial<CloudwatchMetricAlarmConfig>;
    const aliasLabel = aliasResource(p.functionName, p.aliasName);
    const aliasDimensions = { [LAMBDA_DIMENSION.FunctionName]: p.functionName, [LAMBDA_DIMENSION.Resource]: aliasLabel };
    const alarms: Partial<Record<keyof typeof ALARM_SUFFIX, CloudwatchMetricAlarm>> = {};
    const names: string[] = [];
    const add = (key: keyof typeof ALARM_SUFFIX, config: Omit<CloudwatchMetricAlarmConfig, 'alarmName' | keyof typeof common>) => {
      const alarmName = `${p.prefix}${ALARM_SUFFIX[key]}`;
      alarms[key] = new CloudwatchMetricAlarm(this, ALARM_SUFFIX[key], { alarmName, ...common, ...config });
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

      add('outOfTrainingRange', {
        alarmDescription: `On average more than ${th.outOfTrainingRangePercent}% of the values sent to model ${p.modelVersion} on ${p.functionName} lie outside the range of its training data (input drift; npm run drift compares whole distributions). The rollout does not roll back on it.`,
        namespace: p.metricsNamespace,
        metricName: METRIC.OutOfTrainingRange,
        dimensions: modelDimensions,
        statistic: 'Average',
        period: p.periodSeconds,
        threshold: th.outOfTrainingRangePercent,
        // A bundle without baseline.json publishes nothing, and no traffic is no drift.
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

    const versionAlarms: Partial<Record<keyof typeof VERSION_ALARM_SUFFIX, CloudwatchMetricAlarm>> = {};
    const versionNames: string[] = [];
    const version = p.functionVersion;
    if (version === undefined) {
      Annotations.of(this).addWarning('Alarms: functionVersion is not set, so no per-version alarms are created; pass the function\'s published version attribute');
    } else {
      const addVersion = (key: keyof typeof VERSION_ALARM_SUFFIX, config: Omit<CloudwatchMetricAlarmConfig, 'alarmName' | keyof typeof common>) => {
        const alarmName = versionAlarmName(p.prefix, version, VERSION_ALARM_SUFFIX[key]);
        versionNames.push(alarmName);
        versionAlarms[key] = new CloudwatchMetricAlarm(this, `version-${VERSION_ALARM_SUFFIX[key]}`, {
          alarmName,
          ...common,
          // A version that serves no traffic (yet, or any more) has no datapoints, and must not alarm.
          treatMissingData: 'notBreaching',
          ...config,
        });
      };
      const executed = { ...aliasDimensions, [LAMBDA_DIMENSION.ExecutedVersion]: version };
      addVersion('errorRate', {
        alarmDescription: `More than ${th.errorRatePercent}% of the invocations of ${aliasLabel} that version ${version} served ended in a function error.`,
        threshold: th.errorRatePercent,
        metricQuery: [
          { id: 'errors', returnData: false, metric: { namespace: LAMBDA_NAMESPACE, metricName: LAMBDA_METRIC.Errors, dimensions: executed, stat: 'Sum', period: p.periodSeconds } },
          { id: 'invocations', returnData: false, metric: { namespace: LAMBDA_NAMESPACE, metricName: LAMBDA_METRIC.Invocations, dimensions: executed, stat: 'Sum', period: p.periodSeconds } },
          { id: 'error_rate', returnData: true, expression: '100 * errors / invocations', label: `Error rate of version ${version} (%)` },
        ],
      });
      const versionDimensions = { [DIMENSION.FunctionName]: p.functionName, [DIMENSION.FunctionVersion]: version };
      addVersion('requestLatencyP99', {
        alarmDescription: `p99 RequestLatency of version ${version} of ${p.functionName} above ${th.durationP99Ms} ms (the durationP99Ms threshold).`,
        namespace: p.metricsNamespace,
        metricName: METRIC.RequestLatency,
        dimensions: versionDimensions,
        extendedStatistic: 'p99',
        unit: 'Milliseconds',
        period: p.periodSeconds,
        threshold: th.durationP99Ms,
        evaluateLowSampleCountPercentiles: 'evaluate',
      });
      addVersion('modelUnavailable', {
        alarmDescription: `Version ${version} of ${p.functionName} answered 503 (model unavailable) more than ${th.modelUnavailable} time(s) per ${p.periodSeconds} s.`,
        namespace: p.metricsNamespace,
        metricName: METRIC.ModelUnavailable,
        dimensions: versionDimensions,
        statistic: 'Sum',
        period: p.periodSeconds,
        threshold: th.modelUnavailable,
      });
    }
    this.versionAlarms = versionAlarms;
    this.versionAlarmNames = versionNames;
  }
}

/**
 * A customer-managed key for the topic: the account administers it, and CloudWatch (for this account only) may
 * use it to publish alarm notifications (AWS re:Post knowledge center, cloudwatch-configure-alarm-sns).
 */
function createTopicKey(scope: Construct, prefix: string): KmsKey {
  const account = new DataAwsCallerIdentity(scope, 'account').accountId;
  const partition = new DataAwsPartition(scope, 'partition').partition;
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
  return new KmsKey(scope, 'topic-key', {
    description: `Encrypts the ${prefix}alarms SNS topic; CloudWatch alarms may use it to publish`,
    enableKeyRotation: true,
    policy,
  });
}

/**
 * The SNS topic alarms notify, `<prefix>alarms`, encrypted with `kmsKeyId` or a key created for it, and its
 * subscribers. Each subscription's id comes from its endpoint, so adding or removing one subscriber leaves the others
 * (and their confirmations) alone.
 */
function createAlarmTopic(scope: Construct, prefix: string, subscribers: readonly AlarmSubscriber[], kmsKeyId: string | undefined): { topicArn: string; subscriptions: SnsTopicSubscription[] } {
  const topic = new SnsTopic(scope, 'topic', { name: `${prefix}alarms`, kmsMasterKeyId: kmsKeyId ?? createTopicKey(scope, prefix).arn });
  const subscriptions = subscribers.map((subscriber) => {
    const id = `${subscriber.protocol}-${createHash('sha256').update(subscriber.endpoint.toLowerCase()).digest('hex').slice(0, 12)}`;
    return new SnsTopicSubscription(scope, id, {
      topicArn: topic.arn,
      protocol: subscriber.protocol,
      endpoint: subscriber.endpoint,
      ...(subscriber.protocol === 'https' && subscriber.autoConfirms === true ? { endpointAutoConfirms: true } : {}),
    });
  });
  return { topicArn: topic.arn, subscriptions };
}

export interface AlarmTopicProps {
  /** The topic is named `<prefix>alarms`; the environment's alarm prefix. @default none; required */
  readonly prefix: string;
  /** Who the topic notifies. @default nobody */
  readonly subscribers?: readonly AlarmSubscriber[] | undefined;
  /** As AlarmsProps.topicKmsKeyId. @default a customer-managed key created here */
  readonly topicKmsKeyId?: string | undefined;
}

/** One alarm topic that several models' Alarms notify (AlarmsProps.topicArn), so subscribers confirm once per environment. */
export class AlarmTopic extends Construct {
  readonly topicArn: string;
  readonly subscriptions: readonly SnsTopicSubscription[];

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    matchingLiteral(this, 'prefix', props.prefix, PREFIX, PREFIX_RULE);
    checkSubscribers(this, props.subscribers ?? []);
    checkTopicKey(this, props.topicKmsKeyId);
    const topic = createAlarmTopic(this, props.prefix, props.subscribers ?? [], props.topicKmsKeyId);
    this.topicArn = topic.topicArn;
    this.subscriptions = topic.subscriptions;
  }
}
