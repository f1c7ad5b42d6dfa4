/**
 * A tiny stack with an AWS provider for the monitoring constructs' tests, and readers for its synthesized JSON.
 * Synthesis runs the constructs' validations (`Testing.synth(stack, true)`): plain synth skips them.
 */
import { TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { testApp, type Json } from './infra-synth.js';

export type { Json } from './infra-synth.js';

/** A fresh app (stubbed cdktf version) holding one stack with an AWS provider in eu-west-1. */
export function testStack(): TerraformStack {
  const stack = new TerraformStack(testApp(), 'monitoring');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  return stack;
}

/** The synthesized-JSON readers are infra-synth's; these names read better beside alarms and dashboards. */
export { synth, all as resourcesOf, oneWhere as resourceWith } from './infra-synth.js';

/** metric_query entries of an alarm by id. */
export function queriesById(alarm: Json): Record<string, Json> {
  return Object.fromEntries((alarm['metric_query'] as Json[]).map((q) => [q['id'] as string, q]));
}
