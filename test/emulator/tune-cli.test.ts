/**
 * `npm run tune` end to end on the default model: the table, the JSON report the cost advisor reads, the chart; and
 * Ctrl-C in the middle of a run, which ends the emulator and removes the control groups.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { childPids } from '../../tools/emulator.js';
import { ROOT } from '../helpers/function.js';
import { runNpm } from '../helpers/npm.js';
import { tempDir } from '../helpers/temp-dir.js';

test.serial('a run prints the table and writes the JSON report and the chart', async (t) => {
  const dir = await tempDir(t, 'tune-run-');
  const [json, svg] = [path.join(dir, 'iris.json'), path.join(dir, 'iris.svg')];
  const run = await runNpm('tune', ['--memory', '512,1769', '--invocations', '5', '--json', json, '--svg', svg, '--max-latency', '1000']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^memory +vCPU +init ms +p50 ms +p90 ms +p99 ms +mean ms +billed ms +peak mem +arm64 \$\/M +x86_64 \$\/M/m);
  t.regex(run.stdout, /^512 MB +0\.289 /m);
  t.regex(run.stdout, /^cheapest: \d+ MB +fastest: \d+ MB +balanced \(p99 <= 1000 ms\): \d+ MB/m);
  const report = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown> & { sizes: Record<string, unknown>[]; recommendations: Record<string, unknown> };
  t.is(report['model'], 'iris@1');
  t.deepEqual(Object.keys(report).sort(), ['arch', 'machine', 'measuredAt', 'model', 'payload', 'prices', 'recommendations', 'sizes', 'throttling']);
  t.deepEqual(
    report.sizes.map((s) => s['memoryMb']),
    [512, 1769],
  );
  for (const key of ['memoryMb', 'cpuShare', 'capped', 'initMs', 'durationMs', 'billedMs', 'peakMemoryMb', 'invocations', 'failures', 'costPerMillion']) t.true(key in report.sizes[0]!, key);
  t.deepEqual(Object.keys(report.sizes[0]!['durationMs'] as object).sort(), ['mean', 'p50', 'p90', 'p99']);
  t.deepEqual(Object.keys(report.sizes[0]!['costPerMillion'] as object).sort(), ['arm64', 'x86_64']);
  // The kernel's throttling counters come with every size a control group held; an unthrottled run has none.
  const throttled = (report['throttling'] as { mode: string }).mode !== 'none';
  t.deepEqual(
    report.sizes.map((s) => (s['cpuThrottled'] === undefined ? undefined : Object.keys(s['cpuThrottled'] as object).sort())),
    throttled ? [['ms', 'periods'], ['ms', 'periods']] : [undefined, undefined],
  );
  t.is(report.recommendations['maxLatencyMs'], 1000);
  t.regex(await readFile(svg, 'utf8'), /^<svg /);
});

test.serial('Ctrl-C ends the emulator and removes the control groups', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tools', 'tune', 'cli.ts'), '--memory', '256,512', '--invocations', '5000', '--progress', '1', '--json', path.join(await tempDir(t, 'tune-int-'), 'x.json')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const deadline = Date.now() + 60_000;
  while (!/256 MB \| warm/.test(stderr) && Date.now() < deadline) await sleep(100);
  t.regex(stderr, /256 MB \| warm/);
  const emulators = childPids(child.pid!);
  t.true(emulators.length > 0);
  const runtimes = emulators.flatMap((pid) => childPids(pid));
  child.kill('SIGINT');
  t.is(await exited, 130);
  // A killed process leaves /proc once reaped, a moment after its signal.
  const alive = () => [...emulators, ...runtimes].filter((pid) => existsSync(`/proc/${pid}`));
  for (const until = Date.now() + 3000; alive().length > 0 && Date.now() < until; ) await sleep(50);
  t.deepEqual(alive(), []);
  const groups = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup'].filter(existsSync).flatMap((dir) => readdirSync(dir).filter((name) => name.startsWith(`onnx-lambda-tune-${child.pid}-`)));
  t.deepEqual(groups, []);
});
