/**
 * AWS resource names, derived in one place from the project and environment: the service stack creates resources
 * under these names, the bootstrap stack's deploy role is scoped to the same patterns, and the rollout and the
 * workflows address them, so none of them can drift.
 */

/** The alias that serves traffic; the rollout moves its version and weights. */
export const LIVE_ALIAS = 'live';

/** The deploy role's name is `<project>-<DEPLOY_ROLE_SUFFIX>`. */
export const DEPLOY_ROLE_SUFFIX = 'github-deploy';

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
  });
}

/** The log group Lambda writes a function's logs to. */
export function lambdaLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
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
    lambdaLogGroups: `/aws/lambda/${project}-*`,
    apiLogGroups: `/aws/apigateway/${project}-*`,
    alarms: `${project}-*`,
    alarmTopics: `${project}-*-alarms`,
    dashboards: `${project}-*`,
    stateKeys: `${project}/*`,
  });
}
