import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { tempDir } from '../../helpers/temp-dir.js';

const root = path.resolve(import.meta.dirname, '../../..');

function cost(args: readonly string[]) {
  return spawnSync(process.execPath, ['--import=tsx', 'commands/cost/cli.ts', ...args], { cwd: root, encoding: 'utf8' });
}

test('npm run cost answers a profile as JSON and draws the chart', async (t) => {
  const svg = path.join(await tempDir(t, 'cost-'), 'cost.svg');
  const run = cost(['--rps', '5', '--peak', '20', '--duration-ms', '1.9', '--memory', '1024', '--init-ms', '120', '--json', '--svg', svg]);
  t.is(run.status, 0, run.stderr);
  const answer = JSON.parse(run.stdout) as { options: { option: string; monthlyUsd: number }[]; breakEvens: Record<string, { kind: string }> };
  t.deepEqual(answer.options.map((o) => o.option), ['lambda', 'lambda-pc', 'sagemaker-serverless', 'fargate']);
  t.true(answer.options.every((o) => o.monthlyUsd > 0));
  t.deepEqual(Object.keys(answer.breakEvens), ['lambda-pc', 'sagemaker-serverless', 'fargate']);
  const drawn = await readFile(svg, 'utf8');
  t.true(drawn.startsWith('<svg') && drawn.includes('Monthly cost against average traffic'));
  t.false(/NaN|undefined|Infinity/.test(drawn));
});

test('npm run cost exits 1 on bad input with the flag, the value and the fix on stderr', (t) => {
  const run = cost(['--rps', '5', '--peak', '1', '--duration-ms', '2', '--memory', '1024']);
  t.is(run.status, 1);
  t.is(run.stdout, '');
  t.is(run.stderr, 'cost: --peak is "1"; expected a rate at least the average (--rps 5), or leave it out\n');
});
