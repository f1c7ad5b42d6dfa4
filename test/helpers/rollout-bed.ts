/**
 * A function with published versions, a live alias and alarms, created in moto through the real AWS SDK, for the
 * rollout tests. Also the canary traffic: the metrics a version would have written (its EMF metrics and Lambda's
 * per-version metrics), put with PutMetricData, since moto cannot run a function.
 */
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';

export const REGION = 'us-east-1';
export const NAMESPACE = 'RolloutTest';

/** Settings every SDK client (in-process or the CLI's) needs to reach moto. */
export function motoEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
}

export function clients(endpoint: string): { lambda: LambdaClient; cloudwatch: CloudWatchClient; iam: IAMClient } {
  const config = { endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return { lambda: new LambdaClient(config), cloudwatch: new CloudWatchClient(config), iam: new IAMClient(config) };
}

export interface Bed {
  readonly functionName: string;
  readonly alias: string;
  readonly alarmPrefix: string;
  readonly alarms: readonly string[];
  /** Published versions, oldest first; the alias starts on the first. */
  readonly versions: readonly string[];
}

let counter = 0;

function code(version: number): Uint8Array {
  return zipSync({ 'index.mjs': new TextEncoder().encode(`export const handler = async () => ({ statusCode: 200, body: 'v${version}' });\n`) }, { mtime: new Date('2020-01-01T00:00:00Z') });
}

/** A function with `count` published versions and the alias on version 1, plus two alarms under its prefix. */
export async function createBed(endpoint: string, count = 2): Promise<Bed> {
  counter += 1;
  const functionName = `predict-${process.pid}-${counter}`;
  const { lambda, cloudwatch, iam } = clients(endpoint);
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `${functionName}-role`,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs22.x',
      Role: role.Role?.Arn,
      Handler: 'index.handler',
      Code: { ZipFile: code(1) },
      Environment: { Variables: { METRICS_NAMESPACE: NAMESPACE } },
    }),
  );
  const versions: string[] = [];
  for (let i = 1; i <= count; i += 1) {
    if (i > 1) await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: code(i) }));
    const published = await lambda.send(new PublishVersionCommand({ FunctionName: functionName }));
    versions.push(published.Version ?? '');
  }
  const alias = 'live';
  await lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: versions[0] }));
  const alarmPrefix = `${functionName}-`;
  const alarms = [`${alarmPrefix}error-rate`, `${alarmPrefix}duration-p99`];
  for (const name of alarms) {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: functionName }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  }
  lambda.destroy();
  cloudwatch.destroy();
  iam.destroy();
  return { functionName, alias, alarmPrefix, alarms, versions };
}

export async function aliasRouting(endpoint: string, bed: Bed): Promise<{ version: string; weights: Record<string, number> }> {
  const { lambda } = clients(endpoint);
  try {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
    return { version: alias.FunctionVersion ?? '', weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) } };
  } finally {
    lambda.destroy();
  }
}

export async function setAlarm(endpoint: string, name: string, state: 'ALARM' | 'OK'): Promise<void> {
  const { cloudwatch } = clients(endpoint);
  try {
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `set by the test: ${state}` }));
  } finally {
    cloudwatch.destroy();
  }
}

/** What a version served in a moment of traffic, as its metrics would say. */
export interface Traffic {
  readonly version: string;
  readonly requests: number;
  readonly errors?: number;
  readonly invalid?: number;
  readonly latencyMs?: number;
  readonly confidence?: number;
}

/** Puts the metrics `traffic` would produce: Lambda's per-version Invocations/Errors/Duration and the EMF ones. */
export async function serveTraffic(endpoint: string, bed: Bed, traffic: Traffic): Promise<void> {
  const { cloudwatch } = clients(endpoint);
  const timestamp = new Date();
  const lambdaDims = [
    { Name: 'FunctionName', Value: bed.functionName },
    { Name: 'Resource', Value: `${bed.functionName}:${bed.alias}` },
    { Name: 'ExecutedVersion', Value: traffic.version },
  ];
  const emfDims = [
    { Name: 'FunctionName', Value: bed.functionName },
    { Name: 'FunctionVersion', Value: traffic.version },
  ];
  const latency = traffic.latencyMs ?? 20;
  try {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/Lambda',
        MetricData: [
          { MetricName: 'Invocations', Dimensions: lambdaDims, Value: traffic.requests, Unit: 'Count', Timestamp: timestamp },
          { MetricName: 'Errors', Dimensions: lambdaDims, Value: 0, Unit: 'Count', Timestamp: timestamp },
          { MetricName: 'Duration', Dimensions: lambdaDims, Values: [latency + 1], Counts: [traffic.requests], Unit: 'Milliseconds', Timestamp: timestamp },
        ],
      }),
    );
    const emf = [{ MetricName: 'RequestLatency', Dimensions: emfDims, Values: [latency], Counts: [traffic.requests], Unit: 'Milliseconds' as const, Timestamp: timestamp }];
    if ((traffic.errors ?? 0) > 0) emf.push({ MetricName: 'InternalError', Dimensions: emfDims, Values: [1], Counts: [traffic.errors ?? 0], Unit: 'Count' as never, Timestamp: timestamp });
    if ((traffic.invalid ?? 0) > 0) emf.push({ MetricName: 'InvalidRequest', Dimensions: emfDims, Values: [1], Counts: [traffic.invalid ?? 0], Unit: 'Count' as never, Timestamp: timestamp });
    if (traffic.confidence !== undefined) emf.push({ MetricName: 'PredictionConfidence', Dimensions: emfDims, Values: [traffic.confidence], Counts: [traffic.requests], Unit: 'None' as never, Timestamp: timestamp });
    await cloudwatch.send(new PutMetricDataCommand({ Namespace: NAMESPACE, MetricData: emf }));
  } finally {
    cloudwatch.destroy();
  }
}
