import test from 'ava';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseGolden } from '../../../commands/build/golden-rows.js';
import { lambdaInvoker } from '../../../commands/rollout/invoker.js';
import { runTrafficCheck } from '../../../commands/rollout/traffic-check.js';
import type { GoldenSet } from '../../../commands/rollout/traffic-check-golden.js';
import { MODELS } from '../../helpers/function.js';
import { startMoto, type Moto } from '../../helpers/moto.js';

// The production Invoker, Lambda's Invoke API through the real SDK client, against moto server. moto cannot run a
// function without Docker; with its Lambda "use_docker": false setting it answers each Invoke with the next payload
// queued through its /moto-api/static/lambda-simple/response API, whatever the function and qualifier. So these
// tests prove the wire (the Invoke call, the payload's encoding both ways, the SDK's errors), not a function's
// behaviour: that is the emulator tests' (traffic-check.test.ts).

const GOLDEN = parseGolden(readFileSync(path.join(MODELS, 'iris', 'golden.json'), 'utf8'), 'golden.json');
const SET: GoldenSet = { model: 'iris@1', task: 'classification', maxBatch: 256, golden: GOLDEN, file: 'golden.json', sha256: '' };
let moto: Moto | undefined;

test.before(async () => {
  moto = await startMoto();
});

test.after.always(async () => {
  await moto?.stop();
});

function client(): LambdaClient {
  if (moto === undefined) throw new Error('moto did not start');
  return new LambdaClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
}

/** An HTTP response as the function returns it, with `probabilities` for every golden row. */
function answer(probabilities: readonly (readonly number[])[]): string {
  return JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ probabilities, model_version: 'iris@1' }), isBase64Encoded: false });
}

// Serial: the first test needs moto's Docker-backed Lambda (which knows which functions exist); the second switches
// the whole server to the simple backend.
test.serial('a version that does not exist gives an error verdict with the SDK error, and no exception', async (t) => {
  const lambda = client();
  t.teardown(() => lambda.destroy());
  const verdict = await runTrafficCheck(lambdaInvoker(lambda), { functionName: 'no-such-function', qualifier: '3', golden: SET });
  t.like(verdict, { outcome: 'error', statusCode: undefined, invocations: 1 });
  t.regex(verdict.message, /^version 3 of no-such-function could not be invoked with golden rows 0 to 44 of iris@1: ResourceNotFoundException: /);
});

test.serial('the Invoke API answers reach the check: golden answers pass, a changed row fails by name', async (t) => {
  const { endpoint } = moto!;
  const config = await fetch(`${endpoint}/moto-api/config`, { method: 'POST', body: JSON.stringify({ lambda: { use_docker: false } }) });
  t.is(config.status, 201);
  const expected = GOLDEN.outputs as number[][];
  const changed = expected.map((row, r) => (r === 7 ? [row[0]! + 0.001, row[1]!, row[2]!] : row));
  const queue = await fetch(`${endpoint}/moto-api/static/lambda-simple/response`, { method: 'POST', body: JSON.stringify({ results: [answer(expected), answer(changed)], region: 'us-east-1' }) });
  t.is(queue.status, 201);
  const lambda = client();
  t.teardown(() => lambda.destroy());
  const invoker = lambdaInvoker(lambda);
  const passed = await runTrafficCheck(invoker, { functionName: 'predict-iris', qualifier: '4', golden: SET });
  t.is(passed.outcome, 'passed', passed.message);
  const failed = await runTrafficCheck(invoker, { functionName: 'predict-iris', qualifier: '4', golden: SET });
  t.like(failed, { outcome: 'failed', difference: { kind: 'value', row: 7, index: 0, expected: expected[7]![0] } });
});
