/**
 * A stand-in for a deployed service on a local AWS emulator (moto server), to try the rollout from a shell and to
 * test it: a function with published versions, its `live` alias and two alarms, plus the metrics a version's traffic
 * would produce (moto cannot run functions, so traffic is played as PutMetricData), and the alias's provisioned
 * concurrency registered with Application Auto Scaling as the service stack registers it. `lambda` runs the local
 * Lambda endpoint (tools/lambda-endpoint.ts) in front of moto, which adds what moto lacks: provisioned concurrency
 * (simulated) and invocations (each version's build under the runtime emulator); point AWS_ENDPOINT_URL_LAMBDA at it.
 * `changed-model` writes iris with one intercept changed (tools/changed-model.ts), a model that answers iris's golden
 * rows differently. Refuses to run without AWS_ENDPOINT_URL, so it never creates anything in a real account.
 *
 *   npx tsx tools/rollout-demo-bed.ts lambda  --build <dist dir> [--build <version>=<dist dir>] [--port <p>]
 *                                               [--allocation <s>] [--transient <weight>,<s>]
 *   npx tsx tools/rollout-demo-bed.ts changed-model --out <dir>
 *   npx tsx tools/rollout-demo-bed.ts create  [--function demo-predict] [--versions 2]
 *   npx tsx tools/rollout-demo-bed.ts scaling --function demo-predict [--min 1] [--max 10] [--suspended] [--pc <n>]
 *   npx tsx tools/rollout-demo-bed.ts traffic --function demo-predict --version 2 --requests 200 [--errors 20]
 *                                               [--invalid 0] [--latency 20] [--confidence 0.9]
 *   npx tsx tools/rollout-demo-bed.ts alarm   --name demo-predict-error-rate --state ALARM|OK
 *   npx tsx tools/rollout-demo-bed.ts wait    --function demo-predict --version 3 [--timeout 60]
 */
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, PutMetricAlarmCommand, PutMetricDataCommand, SetAlarmStateCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, LambdaClient, PublishVersionCommand, PutProvisionedConcurrencyConfigCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { zipSync } from 'fflate';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LAMBDA_SCALING, lambdaScalableTargetId, LIVE_ALIAS } from '../functions/contract/aws-names.js';
import { DEFAULT_RUNTIME, HANDLER } from '../functions/contract/build-record.js';
import { ENV } from '../functions/contract/env.js';
import { aliasResource, DIMENSION, LAMBDA_DIMENSION, LAMBDA_METRIC, LAMBDA_NAMESPACE, METRIC, METRIC_UNIT } from '../functions/contract/metrics.js';
import { irisWithChangedIntercept } from './changed-model.js';
import { startLambdaEndpoint, type VersionBuilds } from './lambda-endpoint.js';

/** The demo function's METRICS_NAMESPACE: not the default, so the rollout must read it from the version. */
export const DEMO_NAMESPACE = 'OnnxLambdaDemo';

export interface DemoClients {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly iam: IAMClient;
}

/** The function and alias whose traffic a demo plays. */
export interface DemoTarget {
  readonly functionName: string;
  readonly alias: string;
}

export interface DemoFunction extends DemoTarget {
  readonly alarmPrefix: string;
  readonly alarms: readonly string[];
  /** Published versions, oldest first; the alias starts on the first. */
  readonly versions: readonly string[];
}

function code(version: number): Uint8Array {
  const source = `export const handler = async () => ({ statusCode: 200, body: 'v${version}' });\n`;
  return zipSync({ 'index.mjs': new TextEncoder().encode(source) }, { mtime: new Date('2020-01-01T00:00:00Z') });
}

/** Two of the service's alarms (infra/constructs/alarms.ts), on Lambda's metrics of the function. */
function demoAlarms(functionName: string): { prefix: string; alarms: { name: string; metric: string; statistic: 'Sum' | 'Maximum'; threshold: number }[] } {
  const prefix = `${functionName}-`;
  return {
    prefix,
    alarms: [
      { name: `${prefix}error-rate`, metric: LAMBDA_METRIC.Errors, statistic: 'Sum', threshold: 1 },
      { name: `${prefix}duration-p99`, metric: LAMBDA_METRIC.Duration, statistic: 'Maximum', threshold: 1000 },
    ],
  };
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
      Runtime: DEFAULT_RUNTIME,
      Role: role.Role?.Arn,
      Handler: HANDLER,
      Code: { ZipFile: code(1) },
      Environment: { Variables: { [ENV.METRICS_NAMESPACE]: DEMO_NAMESPACE } },
    }),
  );
  const published: string[] = [];
  for (let i = 1; i <= versions; i += 1) {
    if (i > 1) await clients.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: code(i) }));
    const version = await clients.lambda.send(new PublishVersionCommand({ FunctionName: functionName }));
    published.push(version.Version ?? '');
  }
  await clients.lambda.send(new CreateAliasCommand({ FunctionName: functionName, Name: LIVE_ALIAS, FunctionVersion: published[0] }));
  const { prefix, alarms } = demoAlarms(functionName);
  for (const alarm of alarms) {
    await clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm.name,
        Namespace: LAMBDA_NAMESPACE,
        MetricName: alarm.metric,
        Dimensions: [{ Name: LAMBDA_DIMENSION.FunctionName, Value: functionName }],
        Statistic: alarm.statistic,
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: alarm.threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  }
  return { functionName, alias: LIVE_ALIAS, alarmPrefix: prefix, alarms: alarms.map((alarm) => alarm.name), versions: published };
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
export async function playTraffic(cloudwatch: CloudWatchClient, fn: DemoTarget, traffic: Traffic, namespace = DEMO_NAMESPACE): Promise<void> {
  const timestamp = new Date();
  const lambdaDims = [
    { Name: LAMBDA_DIMENSION.FunctionName, Value: fn.functionName },
    { Name: LAMBDA_DIMENSION.Resource, Value: aliasResource(fn.functionName, fn.alias) },
    { Name: LAMBDA_DIMENSION.ExecutedVersion, Value: traffic.version },
  ];
  const emfDims = [
    { Name: DIMENSION.FunctionName, Value: fn.functionName },
    { Name: DIMENSION.FunctionVersion, Value: traffic.version },
  ];
  const latency = traffic.latencyMs ?? 20;
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: LAMBDA_NAMESPACE,
      MetricData: [
        { MetricName: LAMBDA_METRIC.Invocations, Dimensions: lambdaDims, Value: traffic.requests, Unit: 'Count', Timestamp: timestamp },
        { MetricName: LAMBDA_METRIC.Errors, Dimensions: lambdaDims, Value: 0, Unit: 'Count', Timestamp: timestamp },
        { MetricName: LAMBDA_METRIC.Duration, Dimensions: lambdaDims, Values: [latency + 1], Counts: [traffic.requests], Unit: 'Milliseconds', Timestamp: timestamp },
      ],
    }),
  );
  const emf: MetricDatum[] = [
    { MetricName: METRIC.RequestLatency, Dimensions: emfDims, Values: [latency], Counts: [traffic.requests], Unit: METRIC_UNIT.RequestLatency, Timestamp: timestamp },
  ];
  const counts = [
    [METRIC.InternalError, traffic.errors],
    [METRIC.InvalidRequest, traffic.invalid],
  ] as const;
  for (const [name, count] of counts) {
    if (count !== undefined && count > 0) emf.push({ MetricName: name, Dimensions: emfDims, Values: [1], Counts: [count], Unit: METRIC_UNIT[name], Timestamp: timestamp });
  }
  if (traffic.confidence !== undefined) {
    emf.push({ MetricName: METRIC.PredictionConfidence, Dimensions: emfDims, Values: [traffic.confidence], Counts: [traffic.requests], Unit: METRIC_UNIT.PredictionConfidence, Timestamp: timestamp });
  }
  await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: emf }));
}

export async function setAlarmState(cloudwatch: CloudWatchClient, name: string, state: 'ALARM' | 'OK'): Promise<void> {
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `set by hand: ${state}` }));
}

/** Which scaling activities of a scalable target are suspended. */
export interface Suspended {
  readonly dynamicIn: boolean;
  readonly dynamicOut: boolean;
  readonly scheduled: boolean;
}

/**
 * Registers the alias's provisioned concurrency as a scalable target, as the service stack does (min and max PC), with
 * `suspended` scaling: what someone who paused scaling by hand leaves.
 */
export async function registerScaling(scaling: ApplicationAutoScalingClient, fn: DemoTarget, min = 1, max = 10, suspended?: Suspended): Promise<void> {
  await scaling.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: LAMBDA_SCALING.serviceNamespace,
      ScalableDimension: LAMBDA_SCALING.scalableDimension,
      ResourceId: lambdaScalableTargetId(fn.functionName, fn.alias),
      MinCapacity: min,
      MaxCapacity: max,
      ...(suspended === undefined
        ? {}
        : { SuspendedState: { DynamicScalingInSuspended: suspended.dynamicIn, DynamicScalingOutSuspended: suspended.dynamicOut, ScheduledScalingSuspended: suspended.scheduled } }),
    }),
  );
}

/** The alias's scalable target's suspended scaling, or undefined when it has none. */
export async function readSuspended(scaling: ApplicationAutoScalingClient, fn: DemoTarget): Promise<Suspended | undefined> {
  const resourceId = lambdaScalableTargetId(fn.functionName, fn.alias);
  const page = await scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: LAMBDA_SCALING.serviceNamespace, ScalableDimension: LAMBDA_SCALING.scalableDimension, ResourceIds: [resourceId] }));
  const target = page.ScalableTargets?.find((t) => t.ResourceId === resourceId);
  if (target === undefined) return undefined;
  const state = target.SuspendedState;
  return { dynamicIn: state?.DynamicScalingInSuspended === true, dynamicOut: state?.DynamicScalingOutSuspended === true, scheduled: state?.ScheduledScalingSuspended === true };
}

const POLL_MS = 200;

/**
 * Waits until the alias routes part of its traffic to `version` through its weights, which a rollout's first step
 * does; returns that share. Fails after `timeoutMs`.
 */
export async function waitForWeight(lambda: LambdaClient, fn: DemoTarget, version: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: fn.functionName, Name: fn.alias }));
    const weight = alias.RoutingConfig?.AdditionalVersionWeights?.[version] ?? 0;
    if (weight > 0) return weight;
    if (Date.now() >= deadline) throw new Error(`alias ${fn.alias} of ${fn.functionName} routed nothing to version ${version} within ${timeoutMs / 1000} s; is a rollout to it running?`);
    await sleep(POLL_MS);
  }
}

/** Waits until something answers HTTP at `endpoint` (a moto server just started in the background). */
async function waitForEndpoint(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(endpoint);
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw new Error(`nothing answers at ${endpoint} after ${timeoutMs / 1000} s (${error instanceof Error ? error.message : String(error)}); start moto server first`, { cause: error });
    }
    await sleep(POLL_MS);
  }
}

/** `--build <dir>` (every version) and `--build <version>=<dir>` flags as the endpoint takes them. */
export function versionBuilds(flags: readonly string[]): VersionBuilds {
  const byVersion: Record<string, string> = {};
  let fallback: string | undefined;
  for (const flag of flags) {
    const pinned = /^(\d+)=(.+)$/.exec(flag);
    if (pinned !== null) byVersion[pinned[1] as string] = path.resolve(pinned[2] as string);
    else if (fallback === undefined) fallback = path.resolve(flag);
    else throw new Error(`--build ${flag}: every version already runs ${fallback}; pin a build to one version with --build <version>=<dir>`);
  }
  return { default: fallback, byVersion };
}

/** Runs the local Lambda endpoint in front of moto (`upstream`) until SIGINT or SIGTERM. */
async function serveLambda(upstream: string, port: string | undefined, builds: readonly string[], allocation: string, transient: string | undefined): Promise<void> {
  if (port === undefined || !/^\d+$/.test(port)) throw new Error('lambda needs a port: --port <p>, or AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:<p>');
  const allocationS = Number(allocation);
  if (!(allocationS >= 0)) throw new Error(`--allocation ${allocation}: expected the seconds a PC change stays IN_PROGRESS, 0 or more`);
  const [weight, seconds] = (transient ?? '').split(',').map(Number);
  if (transient !== undefined && !(weight !== undefined && weight > 0 && weight < 1 && seconds !== undefined && seconds > 0)) {
    throw new Error(`--transient ${transient}: expected <weight>,<seconds>, such as 0.05,3 (the weight Lambda still reports on the old version, and for how long)`);
  }
  const lambda = await startLambdaEndpoint({
    upstream,
    port: Number(port),
    builds: versionBuilds(builds),
    pc: { allocationMs: allocationS * 1000, ...(transient === undefined ? {} : { transient: { weight: weight as number, ms: (seconds as number) * 1000 } }) },
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`local Lambda endpoint on ${lambda.endpoint}: provisioned concurrency (simulated) and invocations (runtime emulator) here, everything else from ${upstream}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await lambda.stop();
}

async function main(argv: string[]): Promise<void> {
  const endpoint = process.env['AWS_ENDPOINT_URL'];
  if (endpoint === undefined) throw new Error('AWS_ENDPOINT_URL is unset; this script only talks to a local emulator such as moto server (export AWS_ENDPOINT_URL=http://127.0.0.1:5000)');
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
      timeout: { type: 'string', default: '60' },
      min: { type: 'string', default: '1' },
      max: { type: 'string', default: '10' },
      suspended: { type: 'boolean', default: false },
      pc: { type: 'string' },
      build: { type: 'string', multiple: true, default: [] },
      port: { type: 'string' },
      allocation: { type: 'string', default: '0' },
      transient: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const lambdaEndpoint = process.env['AWS_ENDPOINT_URL_LAMBDA'];
  if (command === 'lambda') {
    await serveLambda(endpoint, values.port ?? (lambdaEndpoint === undefined ? undefined : new URL(lambdaEndpoint).port), values.build, values.allocation, values.transient);
    return;
  }
  if (command === 'changed-model') {
    if (values.out === undefined) throw new Error('changed-model needs --out <dir>');
    process.stdout.write(`wrote ${await irisWithChangedIntercept(path.resolve(values.out))}: iris@1 with one intercept raised by 0.5 (no golden.json; build it with --allow-missing-golden)\n`);
    return;
  }
  const num = (raw: string | undefined): number | undefined => (raw === undefined ? undefined : Number(raw));
  const target: DemoTarget = { functionName: values.function, alias: LIVE_ALIAS };
  const clients: DemoClients = { lambda: new LambdaClient({}), cloudwatch: new CloudWatchClient({}), iam: new IAMClient({}) };
  const scaling = new ApplicationAutoScalingClient({});
  try {
    if (command === 'create') {
      await waitForEndpoint(endpoint, 30_000);
      if (lambdaEndpoint !== undefined) await waitForEndpoint(lambdaEndpoint, 30_000);
      const fn = await createDemoFunction(clients, values.function, Number(values.versions));
      process.stdout.write(`created ${fn.functionName}: versions ${fn.versions.join(', ')}, alias ${fn.alias} on ${fn.versions[0]}, alarms ${fn.alarms.join(', ')}\n`);
    } else if (command === 'scaling') {
      const all = values.suspended;
      await registerScaling(scaling, target, Number(values.min), Number(values.max), all ? { dynamicIn: true, dynamicOut: true, scheduled: true } : undefined);
      if (values.pc !== undefined) {
        await clients.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: target.functionName, Qualifier: target.alias, ProvisionedConcurrentExecutions: Number(values.pc) }));
        process.stdout.write(`${target.functionName}:${target.alias} has provisioned concurrency ${values.pc}\n`);
      }
      process.stdout.write(`registered ${lambdaScalableTargetId(target.functionName, target.alias)}: provisioned concurrency ${values.min} to ${values.max}${all ? ', scaling suspended' : ''}\n`);
    } else if (command === 'traffic') {
      if (values.version === undefined) throw new Error('traffic needs --version <n>');
      await playTraffic(clients.cloudwatch, target, { version: values.version, requests: Number(values.requests), errors: num(values.errors), invalid: num(values.invalid), latencyMs: num(values.latency), confidence: num(values.confidence) });
      process.stdout.write(`played ${values.requests} requests on version ${values.version}\n`);
    } else if (command === 'alarm') {
      if (values.name === undefined || (values.state !== 'ALARM' && values.state !== 'OK')) throw new Error('alarm needs --name <alarm> --state ALARM|OK');
      await setAlarmState(clients.cloudwatch, values.name, values.state);
      process.stdout.write(`${values.name} is ${values.state}\n`);
    } else if (command === 'wait') {
      const timeoutS = Number(values.timeout);
      if (values.version === undefined || !(timeoutS > 0)) throw new Error('wait needs --version <n> and a --timeout in seconds above 0');
      const weight = await waitForWeight(clients.lambda, target, values.version, timeoutS * 1000);
      process.stdout.write(`alias ${target.alias} routes ${(weight * 100).toFixed(1)}% to version ${values.version}\n`);
    } else {
      throw new Error(`unknown command ${JSON.stringify(command)}; use lambda, changed-model, create, scaling, traffic, alarm or wait`);
    }
  } finally {
    clients.lambda.destroy();
    clients.cloudwatch.destroy();
    clients.iam.destroy();
    scaling.destroy();
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`demo-bed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
