import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { casesMarkdown, comparisonMarkdown, emulatorMarkdown, replaceSection, timingCase, valueCase } from '../../../bench/report.js';

test('a timing case carries both p50s, the ratio and whether its target was met', (t) => {
  const c = timingCase('warm/x/single', 'us', { p50: 39, p99: 80, n: 500 }, 'raw session.run', { p50: 30, p99: 60 }, 1.3);
  t.like(c, { case: 'warm/x/single', unit: 'us', p50: 39, baseline_p50: 30, ratio: 1.3, target: 'ratio <= 1.3', meets: true, n: 500 });
  t.false(timingCase('w', 'us', { p50: 40, p99: 80, n: 1 }, 'raw', { p50: 30, p99: 60 }, 1.3).meets);
});

test('a size case carries value and baseline_value instead of p50', (t) => {
  const c = valueCase('size/layer-arm64', 'bytes', 10_000_000, 'naive', 100_000_000, { text: '<= 12 MiB zipped', meets: true });
  t.like(c, { value: 10_000_000, baseline_value: 100_000_000, ratio: 0.1, meets: true });
  t.false('p50' in c);
  t.is(valueCase('synth', 's', 6.123, null, undefined).ratio, null);
});

test('the Markdown table shows sizes in bytes and MiB, and marks a missed target', (t) => {
  const table = casesMarkdown([
    valueCase('size/layer-arm64', 'bytes', 2 ** 20, 'naive', 2 ** 21),
    timingCase('warm/x/batch100', 'us', { p50: 40, p99: 80, n: 1 }, 'raw', { p50: 20, p99: 60 }, 1.3),
  ]);
  t.true(table.includes('| size/layer-arm64 | 1,048,576 (1.00 MiB) |'));
  t.true(table.includes('| 2.00 | ratio ≤ 1.3 | NO |'));
});

test('replaceSection rewrites only the text between its markers', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'doc.md');
  await writeFile(file, 'before\n<!-- bench:results -->\nold\n<!-- /bench:results -->\nafter\n');
  t.true(replaceSection(file, 'results', 'new table'));
  t.is(await readFile(file, 'utf8'), 'before\n<!-- bench:results -->\nnew table\n<!-- /bench:results -->\nafter\n');
  t.false(replaceSection(file, 'cost', 'x'));
});

test('a comparison table shows the cases of one prefix, baseline first, with what each measures', (t) => {
  const table = comparisonMarkdown(
    [
      valueCase('int8-vs-float/size/model.onnx', 'bytes', 2 ** 19, 'float', 2 ** 20),
      timingCase('int8-vs-float/rie/single', 'ms', { p50: 1.2, p99: 3, n: 10 }, 'float', { p50: 1.5, p99: 3 }, undefined, { measures: 'REPORT Duration' }),
      timingCase('warm/iris/single', 'us', { p50: 40, p99: 80, n: 1 }, 'raw', { p50: 20, p99: 60 }),
    ],
    'int8-vs-float/',
    'float CNN',
    'int8 CNN',
  ).split('\n');
  t.is(table.length, 4);
  t.is(table[0], '| figure | float CNN | int8 CNN | ratio |');
  t.is(table[2], '| size/model.onnx | 1,048,576 (1.00 MiB) | 524,288 (0.50 MiB) | 0.50 |');
  t.is(table[3], '| rie/single (REPORT Duration) | 1.5 ms | 1.2 ms | 0.80 |');
});

test('the emulator table shows both p50s, the billed milliseconds and the naive function with a log line', (t) => {
  const c = timingCase('rie/iris/single', 'ms', { p50: 1.21, p99: 3, n: 600 }, 'naive', { p50: 1.1, p99: 2 }, 1.1, {
    billed_p50: 2,
    baseline_billed_p50: 2,
    naive_with_log_p50: 1.15,
    ratio_to_naive_with_log: 1.05,
  });
  const table = emulatorMarkdown([c]).split('\n');
  t.is(table.length, 3);
  t.is(table[2], '| rie/iris/single | 1.21 ms | 1.1 ms | 1.10 | ratio ≤ 1.1 | yes | 2 ms / 2 ms | 1.15 ms | 1.05 |');
});
