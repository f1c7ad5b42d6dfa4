/**
 * Synthesis helpers for the infra tests: real builds to deploy (npm run build into temp folders), stacks to put
 * constructs in, and readers for the synthesized Terraform JSON. Synthesis always runs the validations
 * (`Testing.synth(stack, true)`); plain synth skips them.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { TerraformStack, Testing, type App } from 'cdktf';
import { readBuildManifest, type BuildManifest } from '../../infra/build-record.js';
import { DEFAULT_CONFIG, type EnvironmentConfig } from '../../infra/config.js';
import { InferenceFunction, type InferenceFunctionProps } from '../../infra/constructs/inference-function.js';
import { ServiceStack } from '../../infra/stacks/service-stack.js';
import { runBuild } from './build.js';

// Synthesized Terraform JSON is read by path in assertions; `any` keeps those reads short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** Testing.synth writes nothing; one outdir spares a temp dir per app. */
const OUTDIR = path.join(tmpdir(), 'cdktf-infra-tests');

export function testApp(): App {
  return Testing.app({ outdir: OUTDIR });
}

/**
 * Builds shared by the test files of one ava run (ava's process is every test file's parent): each set of build
 * arguments is built once, by whichever file asks first, and the others wait for its build.json, which the build
 * writes last. Tests never modify a shared build; they copy what they change.
 */
const SHARED_BUILDS = path.join(tmpdir(), `onnx-infra-test-builds-${process.ppid}`);

/** `npm run build -- <args>` into a folder shared with the run's other test files; throws with stderr on failure. */
export async function buildDist(args: readonly string[] = []): Promise<string> {
  const dir = path.join(SHARED_BUILDS, createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16));
  const done = path.join(dir, 'build.json');
  const failed = `${dir}.failed`;
  await mkdir(SHARED_BUILDS, { recursive: true });
  try {
    await mkdir(`${dir}.lock`);
  } catch {
    for (let waited = 0; waited < 120_000; waited += 200) {
      if (existsSync(done)) return dir;
      if (existsSync(failed)) throw new Error(await readFile(failed, 'utf8'));
      await setTimeout(200);
    }
    throw new Error(`gave up after 2 minutes waiting for another test file's build into ${dir}`);
  }
  const run = await runBuild(args, dir);
  if (run.code !== 0) {
    const message = `npm run build -- ${args.join(' ')} failed:\n${run.stderr}`;
    await writeFile(failed, message);
    throw new Error(message);
  }
  return dir;
}

export function manifestOf(distDir: string): BuildManifest {
  return readBuildManifest(distDir, { arch: 'arm64', runtime: 'nodejs24.x', where: 'test' });
}

/**
 * A copy of an S3-packaged build whose model is `bytes` long: build.json is rewritten and the model file is a sparse
 * file of that size (instant, no disk used), so /tmp sizing can be tested with models of gigabytes. The zips stay
 * the build's own (build.json in a temp folder lists them by absolute path).
 */
export async function withModelOfSize(s3Dist: string, bytes: number): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dist-big-model-'));
  const json = JSON.parse(await readFile(path.join(s3Dist, 'build.json'), 'utf8')) as Json;
  const model = path.join(dir, 'model-sparse.onnx');
  const handle = await open(model, 'w');
  await handle.truncate(bytes);
  await handle.close();
  json['model'] = { ...json['model'], bytes, file: model };
  await writeFile(path.join(dir, 'build.json'), JSON.stringify(json, null, 2));
  return dir;
}

/** A copy of a build's build.json in a new folder, changed by `edit` (the zips stay where they are). */
export async function editedDist(distDir: string, edit: (json: Json) => void): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dist-edited-'));
  const json = JSON.parse(await readFile(path.join(distDir, 'build.json'), 'utf8')) as Json;
  edit(json);
  await writeFile(path.join(dir, 'build.json'), JSON.stringify(json, null, 2));
  return dir;
}

/** An empty folder: no build.json. */
export async function emptyDist(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'dist-empty-'));
}

/** A stack with an AWS provider, for one construct. */
export function constructStack(): TerraformStack {
  const stack = new TerraformStack(testApp(), 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  return stack;
}

/** A stack holding an InferenceFunction for the build in `distDir` (for the constructs that take one). */
export function stackWithFunction(distDir: string, props: Partial<InferenceFunctionProps> = {}): { stack: TerraformStack; fn: InferenceFunction } {
  const stack = constructStack();
  const fn = new InferenceFunction(stack, 'function', { manifest: manifestOf(distDir), functionName: 'onnx-test-predict', ...props });
  return { stack, fn };
}

/** The dev environment of the default config, deploying `distDir`, with `overrides`. */
export function environment(distDir: string, overrides: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  const dev = DEFAULT_CONFIG.environments.find((e) => e.name === 'dev')!;
  return { ...dev, distDir, ...overrides };
}

/** A service stack as `npm run synth` builds it, for one environment. */
export function serviceStack(env: EnvironmentConfig): ServiceStack {
  return new ServiceStack(testApp(), env.name, { project: DEFAULT_CONFIG.project, state: DEFAULT_CONFIG.state, environment: env });
}

/** The stack as Terraform JSON, validations run. */
export function synth(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack, true)) as Json;
}

/**
 * The stack's Terraform JSON as cdktf writes it to `cdk.tf.json`, "//" keys included: what checkov scans, with the
 * skips written in code (infra/checkov.ts). `synth` drops every "//" key (Testing.synth removes cdktf's metadata).
 * Validations run first, as in `synth`.
 */
export function synthWithComments(stack: TerraformStack): Json {
  Testing.synth(stack, true);
  return JSON.parse(JSON.stringify(stack.toTerraform())) as Json;
}

/** Every resource (or data source, with `kind: 'data'`) of one type, in logical-id order. */
export function all(out: Json, type: string, kind: 'resource' | 'data' = 'resource'): Json[] {
  const byId = (out[kind]?.[type] ?? {}) as Record<string, Json>;
  return Object.keys(byId)
    .sort()
    .map((id) => byId[id]!);
}

/** The one resource of a type; throws when there is not exactly one. */
export function one(out: Json, type: string, kind: 'resource' | 'data' = 'resource'): Json {
  const found = all(out, type, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${type}, found ${found.length}`);
  return found[0]!;
}

/** The Terraform reference to the one resource of a type (`${aws_x.id.attr}`). */
export function ref(out: Json, type: string, attribute: string, kind: 'resource' | 'data' = 'resource'): string {
  const ids = Object.keys((out[kind]?.[type] ?? {}) as Json);
  if (ids.length !== 1) throw new Error(`expected one ${kind} ${type}, found ${ids.length}`);
  return `\${${kind === 'data' ? 'data.' : ''}${type}.${ids[0]}.${attribute}}`;
}

/** The Terraform reference to the one resource of a type whose `key` equals `value`. */
export function refWhere(out: Json, type: string, key: string, value: unknown, attribute: string): string {
  const ids = Object.entries((out['resource']?.[type] ?? {}) as Record<string, Json>)
    .filter(([, resource]) => resource[key] === value)
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} with ${key} = ${JSON.stringify(value)}, found ${ids.length}`);
  return `\${${type}.${ids[0]}.${attribute}}`;
}

/** The one resource of a type whose `key` equals `value`. */
export function oneWhere(out: Json, type: string, key: string, value: unknown): Json {
  const found = all(out, type).filter((resource) => resource[key] === value);
  if (found.length !== 1) throw new Error(`expected one ${type} with ${key} = ${JSON.stringify(value)}, found ${found.length}`);
  return found[0]!;
}

/** The statements of an aws_iam_policy_document data source, by sid. */
export function statementsBySid(document: Json): Record<string, Json> {
  return Object.fromEntries((document['statement'] as Json[]).map((s) => [s['sid'] as string, s]));
}

/**
 * The synthesized JSON with everything that changes with the build's bytes blanked: hex sha256 digests (asset
 * paths, MODEL_SHA256, source_hash) and their base64 form (source_code_hash).
 */
export function blankHashes(out: Json): Json {
  return JSON.parse(
    JSON.stringify(out)
      .replace(/[0-9a-f]{64}/g, '<sha256>')
      .replace(/[A-Za-z0-9+/]{43}=/g, '<sha256-base64>'),
  ) as Json;
}

/** The dashboard body Terraform will see: the Dashboard writes it as base64decode("<base64>"). */
export function decodeDashboardBody(expression: string): Json {
  const encoded = /^\$\{base64decode\("([A-Za-z0-9+/=]+)"\)\}$/.exec(expression)?.[1];
  if (encoded === undefined) throw new Error(`dashboard_body is not base64decode("..."): ${expression.slice(0, 80)}`);
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Json;
}
