/**
 * Synthesis helpers for the infra tests: real builds to deploy (npm run build, shared by the test files of one run),
 * stacks to put constructs in, and readers for the synthesized Terraform JSON. Synthesis always runs the validations
 * (`Testing.synth(stack, true)`); plain synth skips them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { link, mkdtemp, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { TerraformStack, Testing, type App } from 'cdktf';
import { BUILD_RECORD_FILE, DEFAULT_ARCH, DEFAULT_RUNTIME } from '../../functions/contract/build-record.js';
import { readBuildRecord, type DeployableBuild } from '../../infra/build-record.js';
import { DEFAULT_CONFIG, type EnvironmentConfig } from '../../infra/config.js';
import { InferenceFunction, type InferenceFunctionProps } from '../../infra/constructs/inference-function.js';
import { ServiceStack } from '../../infra/stacks/service-stack.js';
import { runBuild } from './build.js';

// Synthesized Terraform JSON is read by path in assertions; `any` keeps those reads short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started (clock ticks since boot on Linux), so that a reused pid does not pass for the same process. */
function startOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    try {
      return execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8' }).replace(/\W+/g, '');
    } catch {
      return '';
    }
  }
}

const RUN_PREFIX = 'onnx-infra-tests-';
/** ava's process is the parent of every test file's worker process: one run. */
const RUN = `${process.ppid}-${startOf(process.ppid)}`;

/** Deletes `dir` once process `pid` has ended, from a process of its own that outlives this worker. */
const REAPER = `
const [pid, dir] = process.argv.slice(1);
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch (error) { return error.code === 'EPERM'; } };
const timer = setInterval(() => { if (!alive()) { clearInterval(timer); require('node:fs').rmSync(dir, { recursive: true, force: true }); } }, 500);
`;

let runRoot: string | undefined;

/**
 * The folder of this ava run, holding everything the infra tests write: builds, edited copies, synth outputs. The
 * test file that creates it starts a reaper that deletes it when ava exits, however ava ends, and removes what runs
 * whose ava is gone left behind. A run never sees another run's files, so no later run reuses a stale build.
 */
export function runFolder(): string {
  if (runRoot !== undefined) return runRoot;
  const root = path.join(tmpdir(), `${RUN_PREFIX}${RUN}`);
  try {
    mkdirSync(root);
    spawn(process.execPath, ['-e', REAPER, String(process.ppid), root], { detached: true, stdio: 'ignore' }).unref();
    for (const name of readdirSync(tmpdir())) {
      const [, pid, start] = name.startsWith(RUN_PREFIX) ? (/^(\d+)-(.*)$/.exec(name.slice(RUN_PREFIX.length)) ?? []) : [];
      if (pid !== undefined && (!alive(Number(pid)) || startOf(Number(pid)) !== start)) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (runRoot = root);
}

/** A new empty folder in the run's folder. */
export function runTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(runFolder(), prefix));
}

/**
 * An app whose output folder is this worker's own: cdktf creates `stacks/` with a check and then a mkdir, which two
 * test files' workers racing on one folder turned into EEXIST.
 */
export function testApp(): App {
  const outdir = path.join(runFolder(), `cdktf.out-${process.pid}`);
  mkdirSync(path.join(outdir, 'stacks'), { recursive: true });
  return Testing.app({ outdir });
}

/** Creates `file` holding `text` only if it does not exist yet, atomically: readers never see it half-written. */
async function createOnce(file: string, text: string): Promise<boolean> {
  const draft = `${file}.${process.pid}`;
  await writeFile(draft, text);
  try {
    await link(draft, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft);
  }
}

const builds = new Map<string, Promise<string>>();

/**
 * `npm run build -- <args>` into the run's folder, built once per run for each set of arguments: the first test file
 * to ask takes `<key>.lock` (holding its pid) and builds, the others wait for `<key>.ready` (naming the finished
 * build folder). A waiter whose lock holder died builds itself instead of waiting on it. Throws with the build's
 * stderr when it fails. Tests never modify a shared build; they copy what they change.
 */
export function buildDist(args: readonly string[] = []): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 16);
  let build = builds.get(key);
  if (build === undefined) builds.set(key, (build = sharedBuild(args, path.join(runFolder(), `build-${key}`))));
  return build;
}

async function sharedBuild(args: readonly string[], base: string): Promise<string> {
  const ready = `${base}.ready`;
  const failed = `${base}.failed`;
  const build = async (): Promise<string> => {
    const run = await runBuild(args, `${base}.${process.pid}`);
    if (run.code !== 0) {
      const message = `npm run build -- ${args.join(' ')} failed:\n${run.stderr}`;
      await createOnce(failed, message);
      throw new Error(message);
    }
    await createOnce(ready, run.outDir);
    return readFile(ready, 'utf8');
  };
  if (await createOnce(`${base}.lock`, String(process.pid))) return build();
  const holder = Number(await readFile(`${base}.lock`, 'utf8'));
  for (;;) {
    if (existsSync(ready)) return readFile(ready, 'utf8');
    if (existsSync(failed)) throw new Error(await readFile(failed, 'utf8'));
    if (!alive(holder)) return build();
    await setTimeout(200);
  }
}

/** The build in `distDir`, read as the service stack reads it. */
export function deployableBuild(distDir: string): DeployableBuild {
  return readBuildRecord(distDir, { arch: DEFAULT_ARCH, runtime: DEFAULT_RUNTIME, where: 'test' });
}

/**
 * A copy of an S3-packaged build whose model is `bytes` long: build.json is rewritten and the model file is a sparse
 * file of that size (instant, no disk used), so /tmp sizing can be tested with models of gigabytes. The zips stay
 * the build's own (build.json in a temp folder lists them by absolute path).
 */
export async function withModelOfSize(s3Dist: string, bytes: number): Promise<string> {
  const dir = await runTempDir('dist-big-model-');
  const json = JSON.parse(await readFile(path.join(s3Dist, BUILD_RECORD_FILE), 'utf8')) as Json;
  const model = path.join(dir, 'model-sparse.onnx');
  const handle = await open(model, 'w');
  await handle.truncate(bytes);
  await handle.close();
  json['model'] = { ...json['model'], bytes, file: model };
  await writeFile(path.join(dir, BUILD_RECORD_FILE), JSON.stringify(json, null, 2));
  return dir;
}

/** A copy of a build's build.json in a new folder, changed by `edit` (the zips stay where they are). */
export async function editedDist(distDir: string, edit: (json: Json) => void): Promise<string> {
  const dir = await runTempDir('dist-edited-');
  const json = JSON.parse(await readFile(path.join(distDir, BUILD_RECORD_FILE), 'utf8')) as Json;
  edit(json);
  await writeFile(path.join(dir, BUILD_RECORD_FILE), JSON.stringify(json, null, 2));
  return dir;
}

/** An empty folder: no build.json. */
export function emptyDist(): Promise<string> {
  return runTempDir('dist-empty-');
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
  const fn = new InferenceFunction(stack, 'function', { build: deployableBuild(distDir), functionName: 'onnx-test-predict', ...props });
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
