/**
 * docs/ROLLOUT.md's walk-through, run as written against a moto server of the test's own (only the endpoint
 * differs, and the lines that start and stop moto are left out): promote, roll back on an alarm, refuse and resume
 * after a killed run, roll back on the canary analysis, each with the alias's scaling suspended and resumed.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../helpers/function.js';
import { startMoto } from '../../helpers/moto.js';
import { aliasRouting, motoEnv, scalingSuspended } from '../../helpers/rollout-bed.js';

const DOC_ENDPOINT = 'http://127.0.0.1:5000';
const START_MOTO = /^\.testbed\/venv\/bin\/moto_server .*& moto=\$!/;
const STOP_MOTO = /^kill \$moto\b/;
const WALK_THROUGH_DEADLINE_MS = 270_000;

/** The sh block after "**Against moto**" in docs/ROLLOUT.md, its lines. */
function walkThrough(): string[] {
  const doc = readFileSync(path.join(ROOT, 'docs', 'ROLLOUT.md'), 'utf8');
  const section = doc.slice(doc.indexOf('**Against moto**'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/ROLLOUT.md: no sh block after "**Against moto**"');
  return block.split('\n');
}

test('the docs/ROLLOUT.md walk-through promotes, rolls back and resumes as it says', async (t) => {
  t.timeout(300_000);
  const lines = walkThrough();
  t.true(lines.some((line) => START_MOTO.test(line)) && lines.some((line) => STOP_MOTO.test(line)), 'the walk-through starts moto in the background and stops it by its pid');
  t.true(lines.some((line) => line.includes(DOC_ENDPOINT)), 'the walk-through exports AWS_ENDPOINT_URL');
  t.false(lines.some((line) => /\b(sleep|pkill|killall)\b/.test(line)), 'the walk-through waits on states and ends only the processes it started');

  const moto = await startMoto();
  try {
    // A process group of its own, so that a walk-through stuck past the deadline ends with everything in that group.
    // The jobs it starts in groups of their own (set -m) end by themselves once moto is gone.
    const shell = spawn('bash', ['-c', lines.filter((line) => !START_MOTO.test(line) && !STOP_MOTO.test(line)).join('\n').replaceAll(DOC_ENDPOINT, moto.endpoint)], {
      cwd: ROOT,
      env: { ...process.env, ...motoEnv(moto.endpoint), NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
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
      /registered function:demo-predict:live: provisioned concurrency 1 to 10/,
      suspended,
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
  } finally {
    await moto.stop();
  }
});
