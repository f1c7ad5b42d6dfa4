/**
 * A stand-in for a deployed service on a local AWS emulator (moto server), to try the rollout from a shell and to
 * test it: a function with published versions, its `live` alias and two alarms, plus the metrics a version's traffic
 * would produce (moto cannot run functions, so traffic is played as PutMetricData). Refuses to run without
 * AWS_ENDPOINT_URL, so it never creates anything in a real account.
 *
 *   npx tsx tools/rollout-demo-bed.ts create  [--function demo-predict] [--versions 2]
 *   npx tsx tools/rollout-demo-bed.ts traffic --function demo-predict --version 2 --requests 200 [--errors 20]
 *                                               [--invalid 0] [--latency 20] [--confidence 0.9]
 *   npx tsx tools/rollout-demo-bed.ts alarm   --name demo-predict-error-rate --state ALARM|OK
 */
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateFunctionCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const DEMO_NAMESPACE = 'OnnxLambdaDemo';

export interface DemoClients {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly iam: IAMClient;
}

export interface DemoFunction {
  readonly functionName: string;
  readonly alias: string;
  readonly alarmPrefix: string;
  readonly alarms: readonly string[];
  /** Published versions, oldest first; the alias starts on the first. */
  readonly versions: readonly string[];
}

function code(version: number): Uint8Array {
  const source = `export const handler = async () => ({ statusCode: 200, body: 'v${version}' });\n`;
  return zipSync({ 'index.mjs': new TextEncoder().encode(source) }, { mtime: new Date('2020-01-01T00:00:00Z') });
}

/** A function with `versions` published versions, the alias `live` on version 1, and alarms `<function>-*`. */
export async function createDemoFunction(clients: DemoClients, functionName: string, versions = 2): Promise<DemoFunction> {
  const role = await clients.iam.send(
    new CreateRoleCommand({
      RoleName: `${functionName}-role`,
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    }),
  );
  await clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: functionName,
      Runtime: 'nodejs22.x',
      Role: role.Role?.Arn,
      Handler: 'index.handler',
      Code: { ZipFile: code(1) },
      Environment: { Variables: { METRICS_NAMESPACE: DEMO_NAMESPACE } },
    }),
  );
  const published: string[] = [];
  for (let i = 1; i <= versions; i += 1) {
    if (i > 1) await clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: code(i) }));
    const version = await clients.lambda.send(new PublishVersionCommand({ FunctionName: functionName }));
    published.push(version.Version ?? '');
  }
  const alias = 'live';
  await clients.lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: published[0] }));
  const alarmPrefix = `${functionName}-`;
  const alarms = [`${alarmPrefix}error-rate`, `${alarmPrefix}duration-p99`];
  for (const name of alarms) {
    await clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'AWS/Lambda',
        MetricName: name.endsWith('error-rate') ? 'Errors' : 'Duration',
        Dimensions: [{ Name: 'FunctionName', Value: functionName }],
        Statistic: name.endsWith('error-rate') ? 'Sum' : 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: name.endsWith('error-rate') ? 1 : 1000,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  }
  return { functionName, alias, alarmPrefix, alarms, versions: published };
}

/** What a version served in a moment of traffic, as its metrics would say. */
export interface Traffic {
  readonly version: string;
  readonly requests: number;
  readonly errors?: number | undefined;
  readonly invalid?: number | undefined;
  readonly latencyMs?: number | undefined;
  readonly confidence?: number | undefined;
}

/**
 * Puts the metrics `traffic` would produce, timestamped now: Lambda's per-version Invocations, Errors and Duration
 * of alias invocations, and the function's EMF RequestLatency, InternalError, InvalidRequest, PredictionConfidence.
 */
export async function playTraffic(cloudwatch: CloudWatchClient, fn: { functionName: string; alias: string }, traffic: Traffic, namespace = DEMO_NAMESPACE): Promise<void> {
  const timestamp = new Date();
  const lambdaDims = [
    { Name: 'FunctionName', Value: fn.functionName },
    { Name: 'Resource', Value: `${fn.functionName}:${fn.alias}` },
    { Name: 'ExecutedVersion', Value: traffic.version },
  ];
  const emfDims = [
    { Name: 'FunctionName', Value: fn.functionName },
    { Name: 'FunctionVersion', Value: traffic.version },
  ];
  const latency = traffic.latencyMs ?? 20;
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
  const emf: MetricDatum[] = [{ MetricName: 'RequestLatency', Dimensions: emfDims, Values: [latency], Counts: [traffic.requests], Unit: 'Milliseconds', Timestamp: timestamp }];
  const counts: [string, number | undefined][] = [['InternalError', traffic.errors], ['InvalidRequest', traffic.invalid]];
  for (const [name, count] of counts) {
    if ((count ?? 0) > 0) emf.push({ MetricName: name, Dimensions: emfDims, Values: [1], Counts: [count ?? 0], Unit: 'Count', Timestamp: timestamp });
  }
  if (traffic.confidence !== undefined) emf.push({ MetricName: 'PredictionConfidence', Dimensions: emfDims, Values: [traffic.confidence], Counts: [traffic.requests], Unit: 'None', Timestamp: timestamp });
  await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: emf }));
}

export async function setAlarmState(cloudwatch: CloudWatchClient, name: string, state: 'ALARM' | 'OK'): Promise<void> {
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `set by hand: ${state}` }));
}

async function main(argv: string[]): Promise<void> {
  if (process.env['AWS_ENDPOINT_URL'] === undefined) throw new Error('AWS_ENDPOINT_URL is unset; this script only talks to a local emulator such as moto server (export AWS_ENDPOINT_URL=http://127.0.0.1:5000)');
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      function: { type: 'string', default: 'demo-predict' },
      versions: { type: 'string', default: '2' },
      version: { type: 'string' },
      requests: { type: 'string', default: '100' },
      errors: { type: 'string' },
      invalid: { type: 'string' },
      latency: { type: 'string' },
      confidence: { type: 'string' },
      name: { type: 'string' },
      state: { type: 'string' },
    },
  });
  const num = (raw: string | undefined): number | undefined => (raw === undefined ? undefined : Number(raw));
  const clients: DemoClients = { lambda: new LambdaClient({}), cloudwatch: new CloudWatchClient({}), iam: new IAMClient({}) };
  try {
    if (command === 'create') {
      const fn = await createDemoFunction(clients, values.function, Number(values.versions));
      process.stdout.write(`created ${fn.functionName}: versions ${fn.versions.join(', ')}, alias ${fn.alias} on ${fn.versions[0]}, alarms ${fn.alarms.join(', ')}\n`);
    } else if (command === 'traffic') {
      if (values.version === undefined) throw new Error('traffic needs --version <n>');
      await playTraffic(clients.cloudwatch, { functionName: values.function, alias: 'live' }, { version: values.version, requests: Number(values.requests), errors: num(values.errors), invalid: num(values.invalid), latencyMs: num(values.latency), confidence: num(values.confidence) });
      process.stdout.write(`played ${values.requests} requests on version ${values.version}\n`);
    } else if (command === 'alarm') {
      if (values.name === undefined || (values.state !== 'ALARM' && values.state !== 'OK')) throw new Error('alarm needs --name <alarm> --state ALARM|OK');
      await setAlarmState(clients.cloudwatch, values.name, values.state);
      process.stdout.write(`${values.name} is ${values.state}\n`);
    } else {
      throw new Error(`unknown command ${JSON.stringify(command)}; use create, traffic or alarm`);
    }
  } finally {
    clients.lambda.destroy();
    clients.cloudwatch.destroy();
    clients.iam.destroy();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`demo-bed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
