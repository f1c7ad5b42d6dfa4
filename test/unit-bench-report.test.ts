import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { casesMarkdown, replaceSection, timingCase, valueCase } from '../bench/report.js';

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
