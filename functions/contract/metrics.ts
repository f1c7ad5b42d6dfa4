/**
 * The function's CloudWatch metrics (SPEC "Metrics"): names, units and dimensions. The function writes them as EMF
 * (functions/predict/metrics.ts); the alarms and the dashboard (infra/) and the rollout's canary analysis
 * (commands/rollout/) read them.
 */

/** The function's own metrics, in the order an EMF record lists them. */
export const METRIC = Object.freeze({
  RequestLatency: 'RequestLatency',
  InferenceLatency: 'InferenceLatency',
  BatchSize: 'BatchSize',
  PredictionConfidence: 'PredictionConfidence',
  InvalidRequest: 'InvalidRequest',
  InternalError: 'InternalError',
  ModelUnavailable: 'ModelUnavailable',
  ColdStart: 'ColdStart',
  ModelLoadTime: 'ModelLoadTime',
  /**
   * The percentage of a request's values outside the range the model saw in training (the bundle's baseline.json);
   * absent for a bundle without one. The online sign of drift; `npm run drift` measures it offline.
   */
  OutOfTrainingRange: 'OutOfTrainingRange',
});
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export type MetricUnit = 'Milliseconds' | 'Count' | 'Percent' | 'None';

/** Each metric's CloudWatch unit. */
export const METRIC_UNIT: Readonly<Record<MetricName, MetricUnit>> = Object.freeze({
  RequestLatency: 'Milliseconds',
  InferenceLatency: 'Milliseconds',
  BatchSize: 'Count',
  PredictionConfidence: 'None',
  InvalidRequest: 'Count',
  InternalError: 'Count',
  ModelUnavailable: 'Count',
  ColdStart: 'Count',
  ModelLoadTime: 'Milliseconds',
  OutOfTrainingRange: 'Percent',
});

/** The dimensions the function's records carry. */
export const DIMENSION = Object.freeze({
  FunctionName: 'FunctionName',
  FunctionVersion: 'FunctionVersion',
  ModelVersion: 'ModelVersion',
});

/**
 * The dimension sets of every record: per Lambda version (the rollout compares the canary version with the stable
 * one) and per model version (a model followed across function versions).
 */
export const DIMENSION_SETS = Object.freeze([
  Object.freeze([DIMENSION.FunctionName, DIMENSION.FunctionVersion] as const),
  Object.freeze([DIMENSION.FunctionName, DIMENSION.ModelVersion] as const),
] as const);

/** EMF allows at most 100 values per metric in one record. */
export const MAX_VALUES_PER_METRIC = 100;

/** Lambda's own metrics, which the alarms and the canary analysis read beside the function's. */
export const LAMBDA_NAMESPACE = 'AWS/Lambda';
export const LAMBDA_METRIC = Object.freeze({
  Invocations: 'Invocations',
  Errors: 'Errors',
  Throttles: 'Throttles',
  Duration: 'Duration',
  ConcurrentExecutions: 'ConcurrentExecutions',
  ProvisionedConcurrencyUtilization: 'ProvisionedConcurrencyUtilization',
  ProvisionedConcurrencySpilloverInvocations: 'ProvisionedConcurrencySpilloverInvocations',
});
/** Lambda's dimensions: per function, per alias (`Resource` = `<function>:<alias>`) and per version (`ExecutedVersion`). */
export const LAMBDA_DIMENSION = Object.freeze({
  FunctionName: 'FunctionName',
  Resource: 'Resource',
  ExecutedVersion: 'ExecutedVersion',
});

/** The value of Lambda's `Resource` dimension for an alias. */
export function aliasResource(functionName: string, alias: string): string {
  return `${functionName}:${alias}`;
}
