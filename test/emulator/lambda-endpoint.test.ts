import {
  DeleteProvisionedConcurrencyConfigCommand,
  GetAliasCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListVersionsByFunctionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import test from 'ava';
import { startLambdaEndpoint, type LambdaEndpoint } from '../../tools/lambda-endpoint.js';
import { buildAndStage } from '../helpers/build.js';
import { irisWithChangedIntercept } from '../../tools/changed-model.js';
import { simulatedHttpApiEvent } from '../helpers/function.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { clients, createBed, destroy, type Bed } from '../helpers/rollout-bed.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';

// The local Lambda endpoint (tools/lambda-endpoint.ts) through the real SDK: moto behind it keeps the function, its
// versions and alias; the endpoint answers provisioned concurrency from its simulation and invocations from real
// builds under AWS's Runtime Interface Emulator. Versions 1 and 2 run iris as built, version 3 iris with one
// intercept changed.
const cleanup = new SuiteCleanup();
let moto: Moto;
let endpoint: LambdaEndpoint;
let lambda: LambdaClient;

test.before(async () => {
  moto = await startMoto();
  cleanup.add(() => moto.stop());
  const iris = await buildAndStage(cleanup);
  const changed = await buildAndStage(cleanup, ['--model', await irisWithChangedIntercept(await cleanup.tempDir('iris-changed-')), '--allow-missing-golden']);
  endpoint = await startLambdaEndpoint({
    upstream: moto.endpoint,
    builds: { default: iris.outDir, byVersion: { '3': changed.outDir } },
    pc: { allocationMs: 300, transient: { weight: 0.05, ms: 60_000 } },
    random: () => 0.5,
  });
  cleanup.add(() => endpoint.stop());
  lambda = clients(endpoint.endpoint).lambda;
  cleanup.add(async () => destroy({ lambda }));
});

test.after.always(async () => {
  await cleanup.run();
});

const predict = simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] }));

async function invoke(functionName: string, qualifier: string, logs = false): Promise<{ status: number | undefined; version: string | undefined; error: string | undefined; body: Record<string, unknown>; log: string }> {
  const answer = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: new TextEncoder().encode(JSON.stringify(predict)), ...(logs ? { LogType: 'Tail' } : {}) }));
  const payload = JSON.parse(new TextDecoder().decode(answer.Payload)) as Record<string, unknown>;
  const body = typeof payload['body'] === 'string' ? (JSON.parse(payload['body']) as Record<string, unknown>) : payload;
  return { status: answer.StatusCode, version: answer.ExecutedVersion, error: answer.FunctionError, body, log: Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8') };
}

async function bed(versions = 3): Promise<Bed> {
  return createBed(endpoint.endpoint, versions);
}

test('a version runs its build under the emulator and answers as Lambda does, with its REPORT line in the log tail', async (t) => {
  const fn = await bed();
  const one = await invoke(fn.functionName, '1', true);
  t.like(one, { status: 200, version: '1', error: undefined });
  t.is((one.body['prediction'] as string[])[0], 'setosa');
  t.regex(one.log, /^REPORT RequestId: \S+\t(Init Duration: [\d.]+ ms\t)?Duration: [\d.]+ ms\tBilled Duration: \d+ ms/m);
  t.notRegex(one.log, /\(rapid\)/, "the emulator's own lines are not the function's log");
  const three = await invoke(fn.functionName, '3');
  t.not((three.body['probabilities'] as number[][])[0]?.[0], (one.body['probabilities'] as number[][])[0]?.[0], 'version 3 runs the changed model');
});

test('an alias is routed by the weights moto holds and reports the version that ran', async (t) => {
  const fn = await bed();
  t.is((await invoke(fn.functionName, 'live')).version, '1');
  // The draw is 0.5: a weight above it takes the request.
  await lambda.send(new UpdateAliasCommand({ FunctionName: fn.functionName, Name: fn.alias, RoutingConfig: { AdditionalVersionWeights: { '2': 0.6 } } }));
  t.is((await invoke(fn.functionName, 'live')).version, '2');
});

test('provisioned concurrency follows the simulation: IN_PROGRESS then READY, refused while the alias has weights, removable', async (t) => {
  const fn = await bed();
  const ref = { FunctionName: fn.functionName, Qualifier: fn.alias };
  const missing = await t.throwsAsync(lambda.send(new GetProvisionedConcurrencyConfigCommand(ref)));
  t.is(missing?.name, 'ProvisionedConcurrencyConfigNotFoundException');

  const put = await lambda.send(new PutProvisionedConcurrencyConfigCommand({ ...ref, ProvisionedConcurrentExecutions: 2 }));
  t.like(put, { RequestedProvisionedConcurrentExecutions: 2, Status: 'IN_PROGRESS' });
  for (let i = 0; (await lambda.send(new GetProvisionedConcurrencyConfigCommand(ref))).Status !== 'READY'; i += 1) {
    if (i === 50) t.fail('PC never became READY');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.like(await lambda.send(new GetProvisionedConcurrencyConfigCommand(ref)), { AllocatedProvisionedConcurrentExecutions: 2, Status: 'READY' });

  await lambda.send(new UpdateAliasCommand({ FunctionName: fn.functionName, Name: fn.alias, RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
  const refused = await t.throwsAsync(lambda.send(new PutProvisionedConcurrencyConfigCommand({ ...ref, ProvisionedConcurrentExecutions: 5 })));
  t.is(refused?.name, 'InvalidParameterValueException');
  t.is(refused?.message, 'Alias with weights can not be used with Provisioned Concurrency');

  await lambda.send(new DeleteProvisionedConcurrencyConfigCommand(ref));
  t.is((await t.throwsAsync(lambda.send(new GetProvisionedConcurrencyConfigCommand(ref))))?.name, 'ProvisionedConcurrencyConfigNotFoundException');
});

test("after a version change on an alias with provisioned concurrency, GetAlias reports the old version's transient weight", async (t) => {
  const fn = await bed();
  await lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn.functionName, Qualifier: fn.alias, ProvisionedConcurrentExecutions: 1 }));
  await lambda.send(new UpdateAliasCommand({ FunctionName: fn.functionName, Name: fn.alias, FunctionVersion: '2' }));
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: fn.functionName, Name: fn.alias }));
  t.is(alias.FunctionVersion, '2');
  t.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { '1': 0.05 });
});

test('everything else is moto, unchanged; a version with no build, $LATEST and an unknown alias are refused with the reason', async (t) => {
  const fn = await createBed(endpoint.endpoint, 4);
  const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: fn.functionName }));
  t.deepEqual(versions.Versions?.map((v) => v.Version), ['$LATEST', '1', '2', '3', '4']);

  const alone = await startLambdaEndpoint({ upstream: moto.endpoint, builds: { byVersion: {} } });
  const { lambda: bare } = clients(alone.endpoint);
  try {
    const noBuild = await t.throwsAsync(bare.send(new InvokeCommand({ FunctionName: fn.functionName, Qualifier: '4' })));
    t.is(noBuild?.name, 'ResourceNotFoundException');
    t.regex(noBuild?.message ?? '', /no build runs version 4 of .*: start the endpoint with --build <dir> or --build 4=<dir>/);
  } finally {
    destroy({ lambda: bare });
    await alone.stop();
  }
  const latest = await t.throwsAsync(lambda.send(new InvokeCommand({ FunctionName: fn.functionName })));
  t.is(latest?.name, 'InvalidParameterValueException');
  const unknown = await t.throwsAsync(lambda.send(new InvokeCommand({ FunctionName: fn.functionName, Qualifier: 'nope' })));
  t.is(unknown?.name, 'ResourceNotFoundException');
});
