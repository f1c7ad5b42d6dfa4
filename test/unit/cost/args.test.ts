import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parseCostArgs } from '../../../commands/cost/args.js';
import { CostError } from '../../../commands/cost/errors.js';
import { tempDir } from '../../helpers/temp-dir.js';

const workload = ['--duration-ms', '1.9', '--memory', '1024'];

const tuneRun = {
  model: 'iris@1',
  arch: 'x86_64',
  sizes: [
    { memoryMb: 512, initMs: 240, durationMs: { mean: 4.1, p50: 4, p90: 5, p99: 7 }, billedMs: { mean: 4.6, p50: 5 }, failures: [] },
    { memoryMb: 1024, initMs: 130, durationMs: { mean: 2.1, p50: 2, p90: 3, p99: 4 }, billedMs: { mean: 2.7, p50: 3 }, failures: [] },
  ],
  recommendations: { cheapest: 512, fastest: 1024, balanced: 1024 },
};

test('a workload given by flags is billed in whole milliseconds, with the defaults documented in --help', (t) => {
  const parsed = parseCostArgs(['--rps', '5', ...workload]);
  if (parsed.help) return t.fail();
  t.deepEqual(parsed.traffic, { avgRps: 5, peakRps: 5, hoursPerDay: 24, daysPerMonth: 30 });
  t.like(parsed.workload, { arch: 'arm64', memoryMb: 1024, durationMs: 1.9, billedMs: 2, initMs: undefined, rowsPerRequest: 1 });
});

test('a tune file gives the balanced size, its mean billed duration, its init and its architecture', async (t) => {
  const file = path.join(await tempDir(t, 'cost-'), 'tune.json');
  await writeFile(file, JSON.stringify(tuneRun));
  const parsed = parseCostArgs(['--rps', '5', '--tune', file]);
  if (parsed.help) return t.fail();
  t.like(parsed.workload, { arch: 'x86_64', memoryMb: 1024, durationMs: 2.1, billedMs: 2.7, initMs: 130 });
  const chosen = parseCostArgs(['--rps', '5', '--tune', file, '--memory', '512', '--arch', 'arm64']);
  if (chosen.help) return t.fail();
  t.like(chosen.workload, { arch: 'arm64', memoryMb: 512, billedMs: 4.6 });
});

const badFlags: [string, string[], RegExp][] = [
  ['a negative rate', ['--rps', '-3', ...workload], /^--rps is "-3"; expected requests per second/],
  ['a peak under the average', ['--rps', '5', '--peak', '2', ...workload], /^--peak is "2"; expected a rate at least the average \(--rps 5\)/],
  ['more than 24 hours a day', ['--rps', '5', '--hours-per-day', '25', ...workload], /^--hours-per-day is "25"; expected hours a day, above 0 and at most 24/],
  ['an unknown architecture', ['--rps', '5', '--arch', 'riscv', ...workload], /^--arch is "riscv"; expected arm64 or x86_64/],
  ['no rate', [...workload], /^--rps is missing/],
  ['no duration', ['--rps', '5', '--memory', '1024'], /^--duration-ms is missing; expected the mean duration per request in ms \(with --memory\), or --tune/],
  ['a memory size that is not a whole MB', ['--rps', '5', '--duration-ms', '2', '--memory', '1024.5'], /^--memory is "1024.5"; expected a whole number of MB from 128 to 10240/],
  ['a Fargate size AWS does not offer', ['--rps', '5', ...workload, '--task-vcpu', '3'], /^--task-vcpu is "3"; expected one of Fargate's sizes/],
];

for (const [what, argv, message] of badFlags) {
  test(`rejects ${what}, naming the flag, the value and what is expected`, (t) => {
    const error = t.throws(() => parseCostArgs(argv), { instanceOf: CostError });
    t.regex(error.message, message);
  });
}

test('rejects a tune file that is not JSON', async (t) => {
  const file = path.join(await tempDir(t, 'cost-'), 'tune.json');
  await writeFile(file, 'size,ms\n1024,2\n');
  const error = t.throws(() => parseCostArgs(['--rps', '5', '--tune', file]), { instanceOf: CostError });
  t.true(error.message.startsWith(`--tune ${file}: the content is "size,ms\\n1024,2\\n"; expected JSON`), error.message);
});

test('rejects a tune file without the size asked for, listing the sizes it has', async (t) => {
  const file = path.join(await tempDir(t, 'cost-'), 'tune.json');
  await writeFile(file, JSON.stringify(tuneRun));
  const error = t.throws(() => parseCostArgs(['--rps', '5', '--tune', file, '--memory', '2048']), { instanceOf: CostError });
  t.is(error.message, `--tune ${file}: sizes is [512,1024]; expected a measured size of 2048 MB (--memory 2048); pass --memory with one of the sizes listed`);
});

test('rejects a tune file field by field, naming its path', async (t) => {
  const file = path.join(await tempDir(t, 'cost-'), 'tune.json');
  const broken = { ...tuneRun, sizes: [tuneRun.sizes[0], { ...tuneRun.sizes[1], billedMs: { mean: 'fast' } }] };
  await writeFile(file, JSON.stringify(broken));
  const error = t.throws(() => parseCostArgs(['--rps', '5', '--tune', file]), { instanceOf: CostError });
  t.is(error.message, `--tune ${file}: sizes[1].billedMs.mean is "fast"; expected a number of ms above 0`);
});

test('a tune run that recommended no size asks for --memory, and a size without a measured init leaves init unpriced', async (t) => {
  const file = path.join(await tempDir(t, 'cost-'), 'tune.json');
  const run = { ...tuneRun, sizes: [{ ...tuneRun.sizes[0], initMs: null }, { ...tuneRun.sizes[1], durationMs: null, billedMs: null }], recommendations: { ...tuneRun.recommendations, balanced: null } };
  await writeFile(file, JSON.stringify(run));
  const error = t.throws(() => parseCostArgs(['--rps', '5', '--tune', file]), { instanceOf: CostError });
  t.is(error.message, `--tune ${file}: recommendations.balanced is null; expected a memory size in MB (null: the run recommended none); pass --memory to choose a size`);
  const parsed = parseCostArgs(['--rps', '5', '--tune', file, '--memory', '512']);
  if (parsed.help) return t.fail();
  t.is(parsed.workload.initMs, undefined);
  t.throws(() => parseCostArgs(['--rps', '5', '--tune', file, '--memory', '1024']), { message: /sizes\[1\]\.durationMs is null; expected a measured size: this one had no successful warm invocation/ });
});
