/**
 * AWS resource names, derived in one place from the project and environment: the service stack creates resources
 * under these names, the bootstrap stack's deploy role is scoped to the same patterns, and the rollout and the
 * workflows address them, so none of them can drift.
 */

/** The alias that serves traffic; the rollout moves its version and weights. */
export const LIVE_ALIAS = 'live';

/** Lambda's name for a function's unpublished code; weighted aliases route only between published versions. */
export const LATEST_VERSION = '$LATEST';

/** The deploy role's name is `<project>-<DEPLOY_ROLE_SUFFIX>`. */
export const DEPLOY_ROLE_SUFFIX = 'github-deploy';

/** The names Lambda accepts for a function (the name alone, not an ARN). */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const FUNCTION_NAME_RULE = 'a Lambda function name: 1 to 64 letters, digits, "-" or "_"';

/** The names Lambda accepts for an alias; one made only of digits would read as a version. */
export const ALIAS_NAME_PATTERN = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;
export const ALIAS_NAME_RULE = 'a Lambda alias name: 1 to 128 letters, digits, "-" or "_", not only digits';

export interface ServiceNames {
  /** `<project>-<environment>`: the prefix of everything the environment owns. */
  readonly base: string;
  readonly functionName: string;
  readonly functionRoleName: string;
  readonly layerName: string;
  readonly apiName: string;
  /** The rollout finds the environment's alarms by this prefix (`npm run rollout -- --alarm-prefix`). */
  readonly alarmPrefix: string;
  readonly alarmTopicName: string;
  readonly dashboardName: string;
  /** Terraform appends a unique suffix, as bucket names are global. */
  readonly modelBucketPrefix: string;
  /** The environment's state object in the state bucket. */
  readonly stateKey: string;
  /** Prefix of the bucket prediction captures land in; Terraform appends a unique suffix. */
  readonly captureBucketPrefix: string;
  /** The Firehose stream that carries the capture log lines to that bucket. */
  readonly captureStreamName: string;
  /** The role CloudWatch Logs assumes to put capture lines into the stream. */
  readonly captureLogsRoleName: string;
  /** The role Firehose assumes to write the bucket. */
  readonly captureDeliveryRoleName: string;
}

export function serviceNames(project: string, environment: string): ServiceNames {
  const base = `${project}-${environment}`;
  return Object.freeze({
    base,
    functionName: `${base}-predict`,
    functionRoleName: `${base}-predict`,
    layerName: `${base}-onnxruntime`,
    apiName: `${base}-api`,
    alarmPrefix: `${base}-`,
    alarmTopicName: `${base}-alarms`,
    dashboardName: base,
    modelBucketPrefix: `${base}-models-`,
    stateKey: `${project}/${environment}/terraform.tfstate`,
    captureBucketPrefix: `${base}-captures-`,
    captureStreamName: `${base}-captures`,
    captureLogsRoleName: `${base}-capture-logs`,
    captureDeliveryRoleName: `${base}-capture-delivery`,
  });
}

/**
 * The names a model gets in an environment that lists its models (infra/config.ts `models`): each model's function,
 * role, API and alarms carry its name, `<project>-<environment>-<model>-...`, and the environment keeps one runtime
 * layer, alarm topic, dashboard, model store and state. The function and role still end in `-predict`, so the deploy
 * role's patterns (projectPatterns) cover them. An environment that lists no models keeps serviceNames' names.
 */
export function modelServiceNames(project: string, environment: string, model: string): ServiceNames {
  const environmentNames = serviceNames(project, environment);
  const base = `${environmentNames.base}-${model}`;
  return Object.freeze({
    ...environmentNames,
    functionName: `${base}-predict`,
    functionRoleName: `${base}-predict`,
    apiName: `${base}-api`,
    alarmPrefix: `${base}-`,
  });
}

/**
 * A model's name in an environment's `models` list: it names resources (function, API, alarms), so it takes what all
 * of them accept. Lambda's 64 characters for the function name bound its length with the project and environment.
 */
export const MODEL_NAME_PATTERN = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
export const MODEL_NAME_RULE = 'lowercase letters, digits and "-", starting with a letter and not ending in "-"';

/**
 * Application Auto Scaling's names for the provisioned concurrency of a Lambda alias: the service stack registers the
 * alias as a scalable target under them, and the rollout suspends and resumes that target's scaling.
 */
export const LAMBDA_SCALING = Object.freeze({
  serviceNamespace: 'lambda',
  scalableDimension: 'lambda:function:ProvisionedConcurrency',
  /** The predefined metric of target tracking: the alias's provisioned concurrency in use, 0 to 1. */
  utilizationMetric: 'LambdaProvisionedConcurrencyUtilization',
});

/** The scalable target's resource id of an alias's provisioned concurrency: `function:<function name>:<alias>`. */
export function lambdaScalableTargetId(functionName: string, alias: string): string {
  return `function:${functionName}:${alias}`;
}

/**
 * Target tracking creates its own CloudWatch alarms, named `TargetTracking-<resource id>-AlarmHigh-<uuid>` and
 * `...-AlarmLow-...` in the account of the caller of PutScalingPolicy. They start outside every environment's alarm
 * prefix, so the rollout's alarm gate never reads them (AlarmLow is in ALARM whenever utilization is low).
 */
export const TARGET_TRACKING_ALARM_PREFIX = 'TargetTracking-';

/**
 * Suffixes of the environment's alarm names, after its alarm prefix (`<project>-<environment>-`). The alias and model
 * alarms keep one name; the per-version alarms are named after the version the last apply published (see
 * versionAlarmName), so that each apply replaces them and a new version never inherits an old one's state.
 */
export const ALARM_SUFFIX = Object.freeze({
  errorRate: 'error-rate',
  throttles: 'throttles',
  durationP99: 'duration-p99',
  inferenceLatencyP99: 'inference-latency-p99',
  lowConfidence: 'low-confidence',
  invalidRequests: 'invalid-requests',
  outOfTrainingRange: 'out-of-training-range',
});

/**
 * Alarms on the traffic rather than on a version: input drift (OutOfTrainingRange) reaches the stable version and a
 * canary alike, so the rollout's alarm gate does not roll back on them; they notify the alarm topic as any other.
 */
export const TRAFFIC_ALARM_SUFFIXES: readonly string[] = Object.freeze([ALARM_SUFFIX.outOfTrainingRange]);

/** Suffixes of the per-version alarms, after `<alarm prefix>v<version>-`. */
export const VERSION_ALARM_SUFFIX = Object.freeze({
  errorRate: 'error-rate',
  requestLatencyP99: 'request-latency-p99',
  modelUnavailable: 'model-unavailable',
});

/** The name of one of a published version's alarms: `<prefix>v<version>-<suffix>`, e.g. `onnx-lambda-dev-v8-error-rate`. */
export function versionAlarmName(prefix: string, version: string, suffix: (typeof VERSION_ALARM_SUFFIX)[keyof typeof VERSION_ALARM_SUFFIX]): string {
  return `${prefix}v${version}-${suffix}`;
}

/** The log group Lambda writes a function's logs to. */
export function lambdaLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** The log group a Firehose stream writes its delivery errors to (the console's convention). */
export function firehoseLogGroup(streamName: string): string {
  return `/aws/kinesisfirehose/${streamName}`;
}

/** The log group an HTTP API's access logs go to. */
export function apiLogGroup(apiName: string): string {
  return `/aws/apigateway/${apiName}`;
}

/** Name patterns (IAM resource wildcards) covering every environment's resources, for the deploy role. */
export function projectPatterns(project: string) {
  return Object.freeze({
    project,
    functions: `${project}-*-predict`,
    functionRoles: `${project}-*-predict`,
    layers: `${project}-*-onnxruntime`,
    modelBuckets: `${project}-*-models-*`,
    lambdaLogGroups: lambdaLogGroup(`${project}-*`),
    apiLogGroups: apiLogGroup(`${project}-*`),
    firehoseLogGroups: firehoseLogGroup(`${project}-*`),
    alarms: `${project}-*`,
    /** The alarms target tracking creates for the functions' aliases (TARGET_TRACKING_ALARM_PREFIX). */
    targetTrackingAlarms: `${TARGET_TRACKING_ALARM_PREFIX}${lambdaScalableTargetId(`${project}-*-predict`, '*')}`,
    alarmTopics: `${project}-*-alarms`,
    dashboards: `${project}-*`,
    stateKeys: `${project}/*`,
    /** The prediction-capture pipeline (serviceNames' capture* names): bucket, stream, and its two roles. */
    captureBuckets: `${project}-*-captures-*`,
    captureStreams: `${project}-*-captures`,
    captureRoles: `${project}-*-capture-*`,
  });
}
