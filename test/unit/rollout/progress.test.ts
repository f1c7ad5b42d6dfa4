import test from 'ava';
import { LiveLine, PeriodicProgress, progressText, timeLeft, type Progress } from '../../../commands/rollout/progress.js';

const T0 = 1_000_000;

const STEP: Progress = { phase: 'step', step: 1, steps: 3, percent: 10, canary: '8', stable: '7', endsAt: T0 + 245_000, alarms: 'ok' };

const TEXTS: readonly { readonly what: string; readonly progress: Progress; readonly text: string }[] = [
  {
    what: 'a step before its metrics were read',
    progress: STEP,
    text: 'step 1/3: 10% on version 8, 90% on version 7 | 4:05 left | requests: not read yet | alarms OK',
  },
  {
    what: 'a step after its metrics were read, alarms unchecked',
    progress: { ...STEP, percent: 33.3, served: { canary: 12, stable: 108 }, alarms: 'unchecked' },
    text: 'step 1/3: 33.3% on version 8, 66.7% on version 7 | 4:05 left | requests in this step: version 8 12, version 7 108 | alarms not checked',
  },
  {
    what: 'a step past its window (the analysis is reading)',
    progress: { ...STEP, endsAt: T0 - 5000 },
    text: 'step 1/3: 10% on version 8, 90% on version 7 | 0:00 left | requests: not read yet | alarms OK',
  },
  {
    what: 'provisioned concurrency being allocated',
    progress: { phase: 'provisioned-concurrency', requested: 5, allocated: 2, status: 'IN_PROGRESS', endsAt: T0 + 3_725_000 },
    text: 'provisioned concurrency 5: IN_PROGRESS, 2 of 5 allocated | 1:02:05 left to become READY',
  },
  {
    what: 'Lambda\'s transient weight after a promotion',
    progress: { phase: 'settle', version: '8', weights: { '7': 0.05 }, endsAt: T0 + 90_000 },
    text: 'alias on version 8, Lambda still reports 5% on version 7 | 1:30 left for it to clear',
  },
];

for (const { what, progress, text } of TEXTS) {
  test(`describes ${what} in one line`, (t) => {
    t.is(progressText(progress, T0), text);
  });
}

for (const [ms, text] of [[0, '0:00'], [1, '0:01'], [59_001, '1:00'], [3_600_000, '1:00:00'], [-1, '0:00']] as const) {
  test(`shows ${ms} ms left as ${text}`, (t) => {
    t.is(timeLeft(T0 + ms, T0), text);
  });
}

function terminal(columns = 200): { columns: number; writes: string[]; write: (text: string) => boolean } {
  const writes: string[] = [];
  return { columns, writes, write: (text) => writes.push(text) > 0 };
}

test('at a terminal, the line is rewritten in place, cleared before other output and after the run', (t) => {
  const stream = terminal();
  let now = T0;
  const line = new LiveLine(stream, () => now, 0);
  line.clear();
  t.deepEqual(stream.writes, [], 'nothing shown, nothing to clear');
  line.update(STEP);
  now += 5000;
  line.redraw();
  line.clear();
  line.stop();
  t.deepEqual(stream.writes, [
    '\r\x1b[2Kstep 1/3: 10% on version 8, 90% on version 7 | 4:05 left | requests: not read yet | alarms OK',
    '\r\x1b[2Kstep 1/3: 10% on version 8, 90% on version 7 | 4:00 left | requests: not read yet | alarms OK',
    '\r\x1b[2K',
  ]);
  line.redraw();
  t.is(stream.writes.length, 3, 'nothing drawn after stop');
});

test('at a narrow terminal, the line is cut to its width', (t) => {
  const stream = terminal(40);
  new LiveLine(stream, () => T0, 0).update(STEP);
  t.is(stream.writes[0], '\r\x1b[2Kstep 1/3: 10% on version 8, 90% on ver…');
});

test('in a log, a snapshot is passed on at most once per period, the first one a period after the start', (t) => {
  let now = T0;
  const lines: string[] = [];
  const periodic = new PeriodicProgress(30_000, (_progress, text) => lines.push(text), () => now);
  const at = (ms: number): void => {
    now = T0 + ms;
    periodic.update(STEP);
  };
  for (const ms of [0, 15_000, 29_999, 30_000, 45_000, 59_999, 60_000, 61_000]) at(ms);
  t.deepEqual(lines, [progressText(STEP, T0 + 30_000), progressText(STEP, T0 + 60_000)]);
});

test('a period of 0 passes nothing on', (t) => {
  let now = T0;
  const lines: string[] = [];
  const periodic = new PeriodicProgress(0, (_progress, text) => lines.push(text), () => now);
  now += 3_600_000;
  periodic.update(STEP);
  t.deepEqual(lines, []);
});
