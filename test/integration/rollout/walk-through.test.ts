/**
 * docs/ROLLOUT.md's walk-through, run as written against a moto server of its own (only the endpoint differs):
 * promote, roll back on an alarm, refuse and resume after a killed run, roll back on the canary analysis.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../../helpers/function.js';
import { startMoto } from '../../helpers/moto.js';
import { aliasRouting, motoEnv } from '../../helpers/rollout-bed.js';

function walkThrough(): string {
  const doc = readFileSync(path.join(ROOT, 'docs', 'ROLLOUT.md'), 'utf8');
  const section = doc.slice(doc.indexOf('**Against moto**'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('docs/ROLLOUT.md: no sh block after "**Against moto**"');
  return block;
}

test('the docs/ROLLOUT.md walk-through promotes, rolls back and resumes as it says', async (t) => {
  t.timeout(180_000);
  const moto = await startMoto();
  try {
    const script = walkThrough()
      .split('\n')
      .filter((line) => !line.includes('moto_server'))
      .join('\n')
      .replaceAll('http://127.0.0.1:5000', moto.endpoint);
    t.true(script.includes(moto.endpoint), 'the walk-through exports AWS_ENDPOINT_URL');
    // From a file: with `bash -c`, the walk-through's pkill pattern would match the shell's own command line.
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'rollout-readme-')), 'walk-through.sh');
    writeFileSync(file, script);
    const child = spawn('bash', [file], { cwd: ROOT, env: { ...process.env, ...motoEnv(moto.endpoint), NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise((resolve) => child.once('close', resolve));
    const expected = [
      /promoted: alias live serves version 2, no weights \(was 1\)/,
      /rolled back: alias live serves version 2 again, no weights\. Reason: alarm in ALARM during step 1 \(10%\): demo-predict-error-rate/,
      /version 3 was rolled back before \(alias live's description: "rollout: rolled back version 3 at [^"]*demo-predict-error-rate[^"]*"\); publish a fixed version, or roll this one out again with --retry/,
      /alias live already routes 10\.0% to version 3 \(stable 2\): a rollout is in progress or was interrupted\. Resume it: npm run rollout -- .* --resume/,
      /step 1\/3: 10% of alias live on version 3 \(stable 2\), already set/,
      /promoted: alias live serves version 3, no weights \(was 2\)/,
      /rolled back: alias live serves version 3 again, no weights\. Reason: canary analysis at step 1 \(10%\): error rate: version 4 20\.00% \(20\/100\) vs version 3 0\.00% \(0\/900\); threshold: at most 1\.00% \(\+1\.00%\)/,
    ];
    let from = 0;
    for (const pattern of expected) {
      const match = pattern.exec(output.slice(from));
      t.truthy(match, `${pattern} not found, in order, in:\n${output}`);
      if (match) from += match.index + match[0].length;
    }
    t.deepEqual(await aliasRouting(moto.endpoint, { functionName: 'demo-predict', alias: 'live', alarmPrefix: '', alarms: [], versions: [] }), { version: '3', weights: {} });
  } finally {
    await moto.stop();
  }
});
