import test from 'ava';
import { ENV } from '../../functions/contract/env.js';
import { runNpm } from '../helpers/npm.js';

const invoke = (args: readonly string[]) => runNpm('invoke', args);

// One test runs the real thing end to end (build if needed, emulator, runtime client); the others its refusals.
test('runs an example event through the built function and prints the response and the REPORT line', async (t) => {
  const run = await invoke(['--event', 'test/fixtures/events/predict-iris-batch.json', '--env', `${ENV.METRICS_NAMESPACE}=InvokeTest`]);
  t.is(run.code, 0, run.stderr);
  const response = JSON.parse(run.stdout) as { statusCode: number; body: string };
  t.is(response.statusCode, 200);
  t.deepEqual((JSON.parse(response.body) as { prediction: string[] }).prediction, ['setosa', 'virginica']);
  t.regex(run.stderr, /REPORT RequestId: \S+\tInit Duration: [\d.]+ ms\tDuration: [\d.]+ ms/);
  t.regex(run.stderr, /"Namespace":"InvokeTest"/);
});

test('refuses a missing --event with the usage', async (t) => {
  const run = await invoke([]);
  t.is(run.code, 1);
  t.regex(run.stderr, /--event is required; usage: npm run invoke -- --event <file>/);
});

test('refuses an event file that is not JSON', async (t) => {
  const run = await invoke(['--event', 'README.md']);
  t.is(run.code, 1);
  t.regex(run.stderr, /--event README\.md cannot be read as JSON/);
});
