/**
 * The rollout tests' stand-in for a deployed service, in moto through the real AWS SDK: tools/rollout-demo-bed.ts
 * (the same docs/ROLLOUT.md's shell walk-through uses) with a unique function name per test.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createDemoFunction, playTraffic, readSuspended, registerScaling, setAlarmState, type DemoFunction, type DemoTarget, type Suspended, type Traffic } from '../../tools/rollout-demo-bed.js';

export type { Suspended, Traffic };
export type Bed = DemoFunction;
const REGION = 'us-east-1';

/** Settings every SDK client (in-process or the CLI's) needs to reach moto. */
export function motoEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: REGION, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' };
}

export function clients(endpoint: string): { lambda: LambdaClient; cloudwatch: CloudWatchClient; iam: IAMClient; scaling: ApplicationAutoScalingClient } {
  const config = { endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  return { lambda: new LambdaClient(config), cloudwatch: new CloudWatchClient(config), iam: new IAMClient(config), scaling: new ApplicationAutoScalingClient(config) };
}

export function destroy(all: Partial<ReturnType<typeof clients>>): void {
  all.lambda?.destroy();
  all.cloudwatch?.destroy();
  all.iam?.destroy();
  all.scaling?.destroy();
}

let counter = 0;

/** A function with `count` published versions, the alias on version 1, two alarms under `<function>-`. */
export async function createBed(endpoint: string, count = 2): Promise<Bed> {
  counter += 1;
  const all = clients(endpoint);
  try {
    return await createDemoFunction(all, `predict-${process.pid}-${counter}`, count);
  } finally {
    destroy(all);
  }
}

/** The alias's version and weights, as moto holds them now. */
export async function aliasRouting(endpoint: string, bed: DemoTarget): Promise<{ version: string; weights: Record<string, number> }> {
  const all = clients(endpoint);
  try {
    const alias = await all.lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
    return { version: alias.FunctionVersion ?? '', weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) } };
  } finally {
    destroy(all);
  }
}

export async function setAlarm(endpoint: string, name: string, state: 'ALARM' | 'OK'): Promise<void> {
  const all = clients(endpoint);
  try {
    await setAlarmState(all.cloudwatch, name, state);
  } finally {
    destroy(all);
  }
}

export async function serveTraffic(endpoint: string, bed: Bed, traffic: Traffic): Promise<void> {
  const all = clients(endpoint);
  try {
    await playTraffic(all.cloudwatch, bed, traffic);
  } finally {
    destroy(all);
  }
}

/** Registers the alias's provisioned concurrency with Application Auto Scaling, its scaling `suspended` as given. */
export async function registerScalingTarget(endpoint: string, bed: DemoTarget, suspended?: Suspended): Promise<void> {
  const all = clients(endpoint);
  try {
    await registerScaling(all.scaling, bed, 1, 10, suspended);
  } finally {
    destroy(all);
  }
}

/** Which scaling of the alias's scalable target is suspended now, as moto holds it. */
export async function scalingSuspended(endpoint: string, bed: DemoTarget): Promise<Suspended | undefined> {
  const all = clients(endpoint);
  try {
    return await readSuspended(all.scaling, bed);
  } finally {
    destroy(all);
  }
}
