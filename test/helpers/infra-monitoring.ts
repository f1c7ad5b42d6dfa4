/**
 * A tiny stack with an AWS provider for the monitoring constructs' tests, and readers for its synthesized JSON.
 * Synthesis runs the constructs' validations (`Testing.synth(stack, true)`): plain synth skips them.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';

export type Json = Record<string, any>;

/** Apps are only synthesized through Testing.synth, which writes nothing; one outdir spares a temp dir per test. */
const OUTDIR = join(tmpdir(), 'cdktf-infra-monitoring-tests');

/** A fresh app (stubbed cdktf version) holding one stack with an AWS provider in eu-west-1. */
export function testStack(): TerraformStack {
  const stack = new TerraformStack(Testing.app({ outdir: OUTDIR }), 'monitoring');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  return stack;
}

/** The stack as Terraform JSON, validations run. */
export function synth(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack, true)) as Json;
}

/** Every resource of one type, in logical-id order. */
export function resourcesOf(synthesized: Json, type: string): Json[] {
  const byId = (synthesized['resource']?.[type] ?? {}) as Record<string, Json>;
  return Object.keys(byId)
    .sort()
    .map((id) => byId[id]!);
}

/** The one resource of a type whose `key` equals `value`; throws when there is not exactly one. */
export function resourceWith(synthesized: Json, type: string, key: string, value: unknown): Json {
  const found = resourcesOf(synthesized, type).filter((r) => r[key] === value);
  if (found.length !== 1) throw new Error(`expected one ${type} with ${key} = ${JSON.stringify(value)}, found ${found.length}`);
  return found[0]!;
}

/** metric_query entries of an alarm by id. */
export function queriesById(alarm: Json): Record<string, Json> {
  return Object.fromEntries((alarm['metric_query'] as Json[]).map((q) => [q['id'] as string, q]));
}
