/**
 * docs/ROLLOUT.md's walk-through, run as written against a moto server and a local Lambda endpoint of the test's own
 * (only the ports and the demo folder differ; the test starts moto and the endpoint itself, the endpoint with the
 * arguments the walk-through gives it, so that it can stop both whatever happens): a version whose model answers the
 * golden rows differently refused at 0%, a promotion with provisioned concurrency raised and put back, a rollback on an
 * alarm, a refusal and a resume after a killed run, a rollback on the canary analysis, each with the alias's scaling
 * suspended and resumed.
 */
import { GetProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../tools/free-port.js';
import { ROOT } from '../../helpers/function.js';
import { startMoto } from '../../helpers/moto.js';
import { aliasRouting, clients, motoEnv, scalingSuspended } from '../../helpers/rollout-bed.js';
import { tempDir } from '../../helpers/temp-dir.js';

const DOC_ENDPOINT = 'http://127.0.0.1:5000';
const DOC_LAMBDA_ENDPOINT = 'http://127.0.0.1:5001';
const DOC_DEMO_DIR = '/tmp/rollout-demo';
const START_MOTO = /^\.testbed\/venv\/bin\/moto_server .*& moto=\$!/;
const STOP_MOTO = /^kill \$moto\b/;
const START_LAMBDA = /^(npx tsx tools\/rollout-demo-bed\.ts lambda [^>&]*?)\s*(?:>\S+ 2>&1\s*)?& lambda=\$!/;
const STOP_LAMBDA = /^kill -- -\$lambda\b/;
const WALK_THROUGH_DEADLINE_MS = 270_000;

/** Ends `child` and its process group (npx, tsx and the endpoint) and waits for it. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('close', resolve));
  process.kill(-child.pid, 'SIGTERM');
  await exited;
}

/** The sh block after "**Against moto**" in docs/ROLLOUT.md, its lines. */
function walkThrough(): string[] {
  const doc = readFileSync(path.join(ROOT, 'docs', 'ROLLOUT.md'), 'utf8');
  const section = doc.slice(doc.indexOf('**Against moto**'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/ROLLOUT.md: no sh block after "**Against moto**"');
  return block.split('\n');
}

test('the docs/ROLLOUT.md walk-through refuses, promotes with provisioned concurrency, rolls back and resumes as it says', async (t) => {
  t.timeout(300_000);
  const lines = walkThrough();
  t.true(lines.some((line) => START_MOTO.test(line)) && lines.some((line) => STOP_MOTO.test(line)), 'the walk-through starts moto in the background and stops it by its pid');
  const lambdaLine = lines.find((line) => START_LAMBDA.test(line));
  t.truthy(lambdaLine, 'the walk-through starts the local Lambda endpoint in the background');
  t.true(lines.some((line) => STOP_LAMBDA.test(line)), "the walk-through stops the endpoint's process group");
  t.true(lines.some((line) => line.includes(DOC_ENDPOINT)) && lines.some((line) => line.includes(DOC_LAMBDA_ENDPOINT)), 'the walk-through exports AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_LAMBDA');
  t.false(lines.some((line) => /\b(sleep|pkill|killall)\b/.test(line)), 'the walk-through waits on states and ends only the processes it started');
  t.false(lines.some((line) => line.includes('--skip-traffic-check')), 'every rollout runs its traffic checks');

  const [moto, lambdaPort, demoDir] = await Promise.all([startMoto(), freePort(), tempDir(t, 'rollout-demo-')]);
  const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`;
  const local = (text: string) => text.replaceAll(DOC_ENDPOINT, moto.endpoint).replaceAll(DOC_LAMBDA_ENDPOINT, lambdaEndpoint).replaceAll(DOC_DEMO_DIR, demoDir);
  const env = { ...process.env, ...motoEnv(moto.endpoint), AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint, NODE_NO_WARNINGS: '1' };
  let endpointOutput = '';
  // Its own process group, stopped below whatever happens; `demo` as the walk-through sets it.
  const endpoint = spawn('bash', ['-c', `demo=${demoDir}; exec ${local(START_LAMBDA.exec(lambdaLine ?? '')?.[1] ?? 'false')}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  endpoint.stdout.on('data', (chunk: Buffer) => (endpointOutput += chunk.toString()));
  endpoint.stderr.on('data', (chunk: Buffer) => (endpointOutput += chunk.toString()));
  const { lambda } = clients(lambdaEndpoint);
  try {
    // A process group of its own, so that a walk-through stuck past the deadline ends with everything in that group.
    // The jobs it starts in groups of their own (set -m) end by themselves once moto is gone.
    const script = lines.filter((line) => ![START_MOTO, STOP_MOTO, START_LAMBDA, STOP_LAMBDA].some((pattern) => pattern.test(line))).join('\n');
    const shell = spawn('bash', ['-c', local(script)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = setTimeout(() => {
      if (shell.pid !== undefined) process.kill(-shell.pid, 'SIGKILL');
    }, WALK_THROUGH_DEADLINE_MS);
    const [, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => shell.once('close', (...end) => resolve(end)));
    clearTimeout(deadline);
    t.is(signal, null, `the walk-through did not end within ${WALK_THROUGH_DEADLINE_MS / 1000} s:\n${output}`);
    const suspended = /suspended scaling of function:demo-predict:live \(dynamic in, dynamic out, scheduled\) for the rollout/;
    const resumed = /resumed scaling of function:demo-predict:live \(dynamic in, dynamic out, scheduled\)/;
    const expected = [
      /demo-predict:live has provisioned concurrency 1/,
      /registered function:demo-predict:live: provisioned concurrency 1 to 10/,
      /pre-traffic check: version 5 of demo-predict answers the golden rows of iris@1 differently: row \d+ "probabilities"\[\d\] is /,
      /refused at 0%: alias live serves version 1, no weight was set\./,
      /pre-traffic check: version 2 of demo-predict answers the 45 golden rows of iris@1 within 0\.0001/,
      suspended,
      /raised provisioned concurrency of alias live from 1 to 3; waiting up to 600 s for READY/,
      /provisioned concurrency of alias live is READY: 3 allocated/,
      /step 1\/2: 50% of alias live on version 2 \(stable 1\)/,
      /alias live reports no weights after \d+ s: Lambda cleared its entry for version 1/,
      /post-traffic check: alias live of demo-predict answers the 45 golden rows of iris@1 within 0\.0001/,
      /provisioned concurrency of alias live back to 1 \(from 3\)/,
      resumed,
      /promoted: alias live serves version 2, no weights \(was 1\)/,
      suspended,
      resumed,
      /rolled back: alias live serves version 2 again, no weights\. Reason: alarm in ALARM during step 1 \(10%\): demo-predict-error-rate/,
      /version 3 was rolled back before \(alias live's description: "rollout: rolled back version 3 at [^"]*demo-predict-error-rate[^"]*"\); publish a fixed version, or roll this one out again with --retry/,
      suspended,
      /alias live already routes 10\.0% to version 3 \(stable 2\): a rollout is in progress or was interrupted\. Resume it: npm run rollout -- .* --resume/,
      /scaling of function:demo-predict:live: suspended by an earlier run, resumed after this one \(dynamic in, dynamic out, scheduled\)/,
      /step 1\/3: 10% of alias live on version 3 \(stable 2\), already set/,
      resumed,
      /promoted: alias live serves version 3, no weights \(was 2\)/,
      /rolled back: alias live serves version 3 again, no weights\. Reason: canary analysis at step 1 \(10%\): error rate: version 4 20\.00% \(20\/100\) vs version 3 0\.00% \(0\/900\); threshold: at most 1\.00% \(\+1\.00%\)/,
    ];
    let from = 0;
    for (const pattern of expected) {
      const match = pattern.exec(output.slice(from));
      t.truthy(match, `${pattern} not found, in order, in:\n${output}`);
      if (match) from += match.index + match[0].length;
    }
    t.deepEqual(await aliasRouting(moto.endpoint, { functionName: 'demo-predict', alias: 'live' }), { version: '3', weights: {} });
    t.deepEqual(await scalingSuspended(moto.endpoint, { functionName: 'demo-predict', alias: 'live' }), { dynamicIn: false, dynamicOut: false, scheduled: false }, 'every rollout resumed the scaling it suspended');
    const pc = await lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'demo-predict', Qualifier: 'live' }));
    t.is(pc.RequestedProvisionedConcurrentExecutions, 1, 'the provisioned concurrency raised for a rollout was put back');
    t.regex(endpointOutput, /version 5 of demo-predict runs .*dist-changed \(iris@1\) under the runtime emulator/, endpointOutput);
  } finally {
    lambda.destroy();
    await stopGroup(endpoint);
    await moto.stop();
  }
});
