import { GetAliasCommand, GetFunctionConfigurationCommand, ListVersionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LambdaTuner, tuningDescription } from '../../commands/tune/lambda-tuner.js';
import { startLambdaEndpoint, type LambdaEndpoint } from '../../tools/lambda-endpoint.js';
import { buildAndStage } from '../helpers/build.js';
import { ROOT, simulatedHttpApiEvent } from '../helpers/function.js';
import { runNpm } from '../helpers/npm.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { clients, createBed, destroy, motoEnv, type Bed } from '../helpers/rollout-bed.js';
import { SuiteCleanup, tempDir } from '../helpers/temp-dir.js';

// The AWS mode of `npm run tune` through the real SDK: moto keeps the function, its configuration and versions; the
// local Lambda endpoint (tools/lambda-endpoint.ts) runs each published version's invocations under AWS's Runtime
// Interface Emulator with the version's memory size, which RIE prints in the REPORT line the tuner reads. RIE does
// not throttle CPU or measure memory: these tests check what the tuner does with the API, not the figures.
const cleanup = new SuiteCleanup();
let moto: Moto;
let endpoint: LambdaEndpoint;
let lambda: LambdaClient;
let irisBuild: string;

test.before(async () => {
  moto = await startMoto();
  cleanup.add(() => moto.stop());
  const iris = await buildAndStage(cleanup);
  irisBuild = iris.outDir;
  endpoint = await startLambdaEndpoint({ upstream: moto.endpoint, builds: { default: iris.outDir } });
  cleanup.add(() => endpoint.stop());
  lambda = clients(endpoint.endpoint).lambda;
  cleanup.add(async () => destroy({ lambda }));
});

test.after.always(async () => {
  await cleanup.run();
});

const event = simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] }));

function tuner(bed: Bed, keepVersions = false, log: string[] = []): LambdaTuner {
  return new LambdaTuner({ lambda, functionName: bed.functionName, invocations: 3, payload: () => event, keepVersions, pollMs: 50, log: (line) => log.push(line) });
}

async function versions(bed: Bed): Promise<{ version: string; memory: number | undefined; description: string | undefined }[]> {
  const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: bed.functionName }));
  return (page.Versions ?? []).filter((v) => v.Version !== '$LATEST').map((v) => ({ version: v.Version ?? '', memory: v.MemorySize, description: v.Description }));
}

test('measures a published version per size from its REPORT lines, then puts the memory back and deletes those versions', async (t) => {
  const bed = await createBed(endpoint.endpoint, 2);
  const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: bed.functionName }));
  const aliasBefore = await lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
  const run = tuner(bed);
  const phases: string[] = [];
  const small = await run.measure(256, (p) => phases.push(`${p.memoryMb} ${p.phase} ${p.done}/${p.total}`));
  const large = await run.measure(1024, () => undefined);
  t.like(small, { memoryMb: 256, invocations: 4, failures: [] });
  t.is(small.warmDurationsMs.length, 3, 'the three warm invocations, the cold one apart');
  t.true(small.initMs !== undefined, 'the first invocation of a new version is a cold start with an Init Duration');
  t.is(small.peakMemoryMb, 256, 'RIE prints the memory size as Max Memory Used: the REPORT line is read as Lambda writes it');
  t.is(large.peakMemoryMb, 1024);
  t.deepEqual(phases, ['256 starting 0/4', '256 cold start 0/4', '256 warm 1/4', '256 warm 2/4', '256 warm 3/4', '256 done 4/4']);
  t.deepEqual(
    (await versions(bed)).slice(-2).map(({ memory, description }) => ({ memory, description })),
    [
      { memory: 256, description: tuningDescription(256) },
      { memory: 1024, description: tuningDescription(1024) },
    ],
  );
  const cost = run.cost();
  t.is(cost.invocations, 8);
  t.true(cost.gbSeconds > 0 && cost.usd > (8 * 0.2) / 1e6, 'the run cost its billed GB-seconds plus eight requests');

  await run.restore();
  const after = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: bed.functionName }));
  t.is(after.MemorySize, before.MemorySize, "$LATEST's memory is put back");
  t.deepEqual((await versions(bed)).map((v) => v.version), ['1', '2'], 'the versions the run published are deleted');
  const aliasAfter = await lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
  t.deepEqual([aliasAfter.FunctionVersion, aliasAfter.RoutingConfig], [aliasBefore.FunctionVersion, aliasBefore.RoutingConfig], 'the live alias is never touched');
  await t.notThrowsAsync(run.restore(), 'restoring twice is harmless');
});

test('a kept version is reused by the next run instead of publishing another', async (t) => {
  const bed = await createBed(endpoint.endpoint, 1);
  const first = tuner(bed, true);
  await first.measure(512, () => undefined);
  await first.restore();
  const kept = await versions(bed);
  t.deepEqual(kept.map((v) => v.memory), [128, 512], "the bed's version, and the one the run kept");
  t.is(kept[1]?.description, tuningDescription(512));

  const log: string[] = [];
  const second = tuner(bed, false, log);
  await second.measure(512, () => undefined);
  await second.restore();
  t.deepEqual(await versions(bed), kept, 'no version published, none deleted');
  t.true(log.some((line) => /512 MB: reusing version \d+, published by an earlier run/.test(line)), log.join('\n'));
});

test('refuses a function that does not exist, naming it', async (t) => {
  const run = new LambdaTuner({ lambda, functionName: 'no-such-function', invocations: 1, payload: () => event });
  const error = await t.throwsAsync(run.open());
  t.is(error?.name, 'ResourceNotFoundException');
});

function awsEnv(): Record<string, string> {
  return { ...motoEnv(moto.endpoint), AWS_ENDPOINT_URL_LAMBDA: endpoint.endpoint };
}

test('npm run tune against a deployed function prints the table, writes the report and says what the run cost', async (t) => {
  const bed = await createBed(endpoint.endpoint, 1);
  const dir = await tempDir(t, 'tune-aws-');
  const json = path.join(dir, 'report.json');
  const run = await runNpm('tune', ['--function', bed.functionName, '--region', 'us-east-1', '--memory', '256,512', '--invocations', '2', '--build', irisBuild, '--json', json, '--svg', path.join(dir, 'report.svg')], awsEnv());
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^Measured on AWS Lambda \(x86_64\)\./m);
  t.regex(run.stdout, /^256 MB +0\.145 /m);
  t.regex(run.stderr, /the run made 6 invocations, [\d.]+ GB-s: about \$[\d.]+ at x86_64 prices/);
  const report = JSON.parse(await readFile(json, 'utf8')) as { model: string; throttling: { mode: string }; sizes: { memoryMb: number; peakMemoryMb: number }[] };
  t.is(report.model, 'iris@1', 'the payload is the build\'s golden rows');
  t.is(report.throttling.mode, 'aws');
  t.deepEqual(report.sizes.map((s) => [s.memoryMb, s.peakMemoryMb]), [[256, 256], [512, 512]]);
  t.deepEqual((await versions(bed)).map((v) => v.version), ['1'], 'the versions it published are gone');
  t.is((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: bed.functionName }))).MemorySize, 128);
});

test('Ctrl-C during an AWS run puts the memory back and deletes the versions it published', async (t) => {
  const bed = await createBed(endpoint.endpoint, 1);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tools', 'tune', 'cli.ts'), '--function', bed.functionName, '--region', 'us-east-1', '--memory', '256,512', '--invocations', '5000', '--build', irisBuild, '--progress', '1'], {
    cwd: ROOT,
    env: { ...process.env, ...awsEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  for (const deadline = Date.now() + 60_000; !/256 MB: published version \d+/.test(stderr) && Date.now() < deadline; ) await sleep(100);
  t.is((await versions(bed)).length, 2, 'the run published a version for 256 MB');
  child.kill('SIGINT');
  t.is(await exited, 130, stderr);
  t.regex(stderr, /interrupted; .* is as it was/);
  t.deepEqual((await versions(bed)).map((v) => v.version), ['1']);
  t.is((await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: bed.functionName }))).MemorySize, 128);
});
