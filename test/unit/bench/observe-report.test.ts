import test from 'ava';
import { modeSettings, observeCases, observeMarkdown, OBSERVE_MODES, percentiles, type ObserveMode, type ObserveResult, type RieMode, type WarmMode } from '../../../bench/observe-report.js';

const p = (p50: number, p90 = p50 * 2, n = 100) => ({ p50, p90, p99: p90 * 2, n });
const warmModes = (plain: number): Record<ObserveMode, WarmMode> => ({
  plain: { total: p(plain), response: p(plain - 2), logBytes: 600, logLines: 1 },
  traced: { total: p(plain * 2), response: p(plain * 2 - 2), logBytes: 600, logLines: 1 },
  captured: { total: p(plain * 3), response: p(plain - 1), logBytes: 1100, logLines: 2 },
  'traced+captured': { total: p(plain * 4), response: p(plain * 2), logBytes: 1100, logLines: 2 },
});
const rieModes = (plain: number): Record<ObserveMode, RieMode> => ({
  plain: { duration: p(plain), billed: p(2) },
  traced: { duration: p(plain * 1.25), billed: p(3) },
  captured: { duration: p(plain * 1.5), billed: p(3) },
  'traced+captured': { duration: p(plain * 2), billed: p(4) },
});
const result: ObserveResult = {
  model: 'iris',
  warm: [
    { rows: 1, modes: warmModes(20), spans: { received: 2990, expected: 3000 } },
    { rows: 100, modes: warmModes(100), spans: { received: 600, expected: 600 } },
  ],
  rie: [
    { rows: 1, modes: rieModes(1.2) },
    { rows: 100, modes: rieModes(2) },
  ],
  first: { traced: p(25, 30, 15), untraced: p(2, 3, 15), node: 'v24.0.0' },
};

test('the modes are plain, traced, captured and both, in that order', (t) => {
  t.deepEqual([...OBSERVE_MODES], ['plain', 'traced', 'captured', 'traced+captured']);
  t.deepEqual(
    OBSERVE_MODES.map((mode) => modeSettings(mode)),
    [
      { traced: false, captured: false },
      { traced: true, captured: false },
      { traced: false, captured: true },
      { traced: true, captured: true },
    ],
  );
});

test('percentiles give the nearest-rank p50, p90 and p99 and the sample count', (t) => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.deepEqual(percentiles(values), { p50: 51, p90: 91, p99: 100, n: 100 });
});

test('every mode but plain is a case against plain, in process and under the emulator, then the first traced invocation', (t) => {
  const cases = observeCases(result);
  t.deepEqual(
    cases.map((c) => c.case),
    [
      'observe/iris/single/traced',
      'observe/iris/single/captured',
      'observe/iris/single/traced+captured',
      'observe/iris/batch100/traced',
      'observe/iris/batch100/captured',
      'observe/iris/batch100/traced+captured',
      'observe/iris/rie/single/traced',
      'observe/iris/rie/single/captured',
      'observe/iris/rie/single/traced+captured',
      'observe/iris/rie/batch100/traced',
      'observe/iris/rie/batch100/captured',
      'observe/iris/rie/batch100/traced+captured',
      'observe/iris/first-traced-invocation',
    ],
  );
  t.like(cases[0], { unit: 'us', p50: 40, baseline_p50: 20, ratio: 2, p90: 80, baseline_p90: 40, response_p50: 38, log_bytes: 600, spans_received: 2990, spans_expected: 3000 });
  t.false('spans_received' in cases[1]!, 'capture alone sends no spans');
  t.like(cases[6], { unit: 'ms', p50: 1.5, baseline_p50: 1.2, ratio: 1.25, billed_p50: 3, baseline_billed_p50: 2 });
  t.like(cases[12], { unit: 'ms', p50: 25, baseline_p50: 2, extra_ms: 23, node: 'v24.0.0' });
});

test('without the emulator the cases are the in-process ones and the first traced invocation', (t) => {
  const cases = observeCases({ ...result, rie: 'the emulator is not installed' });
  t.is(cases.length, 7);
  t.false(cases.some((c) => c.case.includes('/rie/')));
});

test('the table gives each request size its four modes with ratios to plain, then the first invocation and the spans received', (t) => {
  const lines = observeMarkdown(result).split('\n');
  t.is(lines[0], '| request | mode | in process, p50 / p90 | ratio | to the response, p50 | log bytes | emulator, REPORT Duration p50 / p90 | ratio | billed p50 |');
  t.is(lines[2], '| iris, 1 row | plain | 20 / 40 µs | 1.00 | 18 µs | 600 | 1.2 / 2.4 ms | 1.00 | 2 ms |');
  t.is(lines[5], '|  | traced+captured | 80 / 160 µs | 4.00 | 40 µs | 1,100 | 2.4 / 4.8 ms | 2.00 | 4 ms |');
  t.is(lines[6], '| iris, 100 rows | plain | 100 / 200 µs | 1.00 | 98 µs | 600 | 2 / 4 ms | 1.00 | 2 ms |');
  t.regex(lines[11]!, /^First invocation of a fresh process \(15 of each, alternating, Node v24\.0\.0\): 25 ms traced against 2 ms untraced \(p50; p90 30 and 3\), so .* adds 23 ms once per container\.$/);
  t.is(lines[13], 'Spans the local daemon listener received from the in-process traced requests: 2,990 of 3,000 (1 row), 600 of 600 (100 rows).');
});

test('without the emulator the table says why, and its emulator columns are empty', (t) => {
  const text = observeMarkdown({ ...result, rie: 'the emulator is not installed' });
  t.true(text.includes('| iris, 1 row | plain | 20 / 40 µs | 1.00 | 18 µs | 600 | – | – | – |'));
  t.true(text.endsWith('Not measured under the emulator in this run: the emulator is not installed'));
});
