/**
 * The local tuner's measurer on a real emulator, in real control groups: a CPU-bound function with Lambda's CPU
 * share for each size, a memory limit that kills an oversized request as Lambda does, a timeout at one size that
 * does not stop the run, and an emulator that never starts. The function is written by the test: it spins a fixed
 * loop (`loops`) and allocates and fills `allocateMb` MB.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { openControlGroups } from '../../tools/tune/control-group.js';
import { LocalMeasurer, type LocalMeasurerOptions } from '../../tools/tune/local-measurer.js';
import { startFunction } from '../../tools/emulator.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';

const HANDLER = `exports.handler = async (event) => {
  if (event.allocateMb) {
    const chunks = [];
    for (let i = 0; i < event.allocateMb; i++) chunks.push(Buffer.alloc(1024 * 1024, 1));
    globalThis.kept = chunks;
  }
  let x = 0;
  for (let i = 0; i < (event.loops ?? 0); i++) x = (x * 31 + i) % 1000003;
  return { x };
};
`;

const cleanup = new SuiteCleanup();
let taskRoot = '';
const groups = openControlGroups();

test.before(async () => {
  taskRoot = await cleanup.tempDir('tune-fn-');
  await writeFile(path.join(taskRoot, 'index.js'), HANDLER);
});
test.after.always(() => cleanup.run());

function measurer(event: object, overrides: Partial<LocalMeasurerOptions> = {}): LocalMeasurer {
  return new LocalMeasurer({ staged: { taskRoot }, event: () => event, invocations: 8, timeoutSeconds: 5, groups, cores: availableParallelism(), ...overrides });
}

test.serial('at 512 MB the kernel holds a CPU-bound request to its quota; at 1,769 MB the period is 1 ms', async (t) => {
  // Many milliseconds of CPU per request, against a quota of 1 ms per 3.456 ms period at 512 MB: every request
  // spends its period's quota and waits at least once. The kernel's own counters say so; wall-clock ratios between the
  // sizes are logged, not asserted, since a machine busy with other tests moves them.
  const m = measurer({ loops: 2_000_000 });
  const small = await m.measure(512, () => {});
  const large = await m.measure(1769, () => {});
  t.deepEqual([small.failures, large.failures], [[], []]);
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const ratio = mean(small.warmDurationsMs) / mean(large.warmDurationsMs);
  t.log(`${groups.mode}: mean ${mean(small.warmDurationsMs).toFixed(1)} ms at 512 MB, ${mean(large.warmDurationsMs).toFixed(1)} ms at 1,769 MB, ratio ${ratio.toFixed(2)}; throttled ${JSON.stringify(small.cpuThrottled)} and ${JSON.stringify(large.cpuThrottled)}`);
  if (groups.mode === 'none') {
    // No writable control group here: nothing throttles, and the run must say why.
    t.regex(groups.reason ?? '', /control group/);
    t.is(small.cpuThrottled, undefined);
    return;
  }
  t.is(small.periodUs, 3456);
  t.is(large.periodUs, 1000);
  t.true(small.cpuThrottled !== undefined && small.cpuThrottled.periods >= small.warmDurationsMs.length, `throttled ${JSON.stringify(small.cpuThrottled)}`);
  t.true(small.cpuThrottled!.ms > 0);
});

test.serial('an oversized request at a size is reported as Lambda reports an out-of-memory kill, and the next size runs', async (t) => {
  // A timeout far beyond the ~0.3 s a request takes at 1,024 MB: a machine busy with other tests must not turn the
  // size that fits into timeouts (seen in CI at 5 s).
  const m = measurer({ allocateMb: 200 }, { invocations: 3, timeoutSeconds: 30 });
  const small = await m.measure(192, () => {});
  const large = await m.measure(1024, () => {});
  if (groups.mode === 'none') {
    t.regex(groups.reason ?? '', /control group/);
    t.deepEqual(small.failures, []);
    return;
  }
  t.is(small.failures[0]?.kind, 'out-of-memory');
  t.is(small.failures[0]?.message, 'Runtime.OutOfMemory: Runtime exited with error: signal: killed');
  t.deepEqual(small.warmDurationsMs, []);
  t.deepEqual(large.failures, []);
  t.is(large.warmDurationsMs.length, 3);
  t.true(large.peakMemoryMb !== undefined && large.peakMemoryMb > 200, `peak ${large.peakMemoryMb}`);
});

test.serial('a request that times out at one size is reported as a timeout, and the next size still runs', async (t) => {
  // At 128 MB a request of about 0.8 s at a full core needs some 11 s with a fourteenth of a core: past the 3 s
  // timeout by far. The next size gets a light request, so that what it checks (the run goes on, in a fresh emulator,
  // after a timeout) does not depend on how busy the machine is: a heavy request at 1,769 MB timed out in CI.
  const m = measurer({}, { invocations: 1, timeoutSeconds: 3, event: (memoryMb) => ({ loops: memoryMb === 128 ? 110_000_000 : 1_000 }) });
  const small = await m.measure(128, () => {});
  const large = await m.measure(1769, () => {});
  if (groups.mode === 'none') {
    t.regex(groups.reason ?? '', /control group/);
    return;
  }
  t.is(small.failures[0]?.kind, 'timeout');
  t.regex(small.failures[0]?.message ?? '', /Task timed out after 3\.00 seconds/);
  t.deepEqual(small.warmDurationsMs, []);
  t.deepEqual(large.failures, []);
  t.is(large.warmDurationsMs.length, 1);
});

test.serial('an emulator that never starts fails its size after a bounded wait, with a message saying so', async (t) => {
  // An emulator program that runs and never listens: the wait for it must end by itself.
  const silent = path.join(taskRoot, 'silent-emulator.sh');
  await writeFile(silent, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
  const m = measurer({ loops: 1 }, { startTimeoutMs: 1500, start: (options) => startFunction({ ...options, emulatorBin: silent }) });
  const started = Date.now();
  const result = await m.measure(1024, () => {});
  t.true(Date.now() - started < 10_000);
  t.is(result.invocations, 0);
  t.is(result.failures[0]?.kind, 'error');
  t.regex(result.failures[0]?.message ?? '', /^the emulator did not start: aws-lambda-rie did not listen on 127\.0\.0\.1:\d+ within 1\.5 s/);
});
