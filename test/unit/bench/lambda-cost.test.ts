import test from 'ava';
import { costChart, warmChart } from '../../../bench/charts.js';
import { MEMORY_SIZES, PRICING, costMarkdown, costRows, cpuScale, initCost } from '../../../bench/lambda-cost.js';

const one = { name: 'model, 1 row', durationMs: 0.2, predictionsPerRequest: 1, logBytesPerRequest: 600 };
const batch = { name: 'model, 100 rows', durationMs: 10, predictionsPerRequest: 100, logBytesPerRequest: 1600 };

test('CPU share scales with memory up to one vCPU at 1,769 MB and no further', (t) => {
  t.is(cpuScale(1769), 1);
  t.is(cpuScale(3008), 1);
  t.is(cpuScale(884.5), 2);
});

test('a request shorter than a millisecond is billed one millisecond', (t) => {
  const row = costRows([one]).find((r) => r.arch === 'arm64' && r.memoryMb === 1024)!;
  t.is(row.billedMs, 1);
  // 1e6 requests x (1 ms x 1 GB x the arm64 price) + 1e6 requests x $0.20 per million.
  t.is(row.lambdaPerMillion.toFixed(6), (1e6 * 0.001 * 1 * PRICING.gbSecond.arm64 + 0.2).toFixed(6));
});

test('a batch spreads the request charge over its predictions, and slows down below one vCPU', (t) => {
  const at512 = costRows([batch]).find((r) => r.arch === 'x86_64' && r.memoryMb === 512)!;
  t.is(at512.billedMs, Math.ceil(10 * (1769 / 512)));
  const requests = 1e6 / 100;
  t.is(at512.lambdaPerMillion.toFixed(6), (requests * ((at512.billedMs / 1000) * 0.5 * PRICING.gbSecond.x86_64 + 0.2 / 1e6)).toFixed(6));
});

test('arm64 costs less than x86_64 at every memory size, and every size and arch is priced', (t) => {
  const rows = costRows([one, batch]);
  t.is(rows.length, 2 * 2 * MEMORY_SIZES.length);
  for (const r of rows.filter((row) => row.arch === 'arm64')) {
    const x86 = rows.find((row) => row.arch === 'x86_64' && row.input === r.input && row.memoryMb === r.memoryMb)!;
    t.true(r.lambdaPerMillion < x86.lambdaPerMillion);
  }
});

test('EMF log ingestion is priced per GB of lines', (t) => {
  const row = costRows([one])[0]!;
  t.is(row.logsPerMillion.toFixed(6), ((1e6 * 600 * PRICING.logsPerGb) / 2 ** 30).toFixed(6));
});

test('billed init scales like the invocation', (t) => {
  t.is(initCost(100, 'arm64', 1769).toFixed(12), (0.1 * (1769 / 1024) * PRICING.gbSecond.arm64).toFixed(12));
  t.is(initCost(100, 'arm64', 512).toFixed(12), (0.1 * (1769 / 512) * 0.5 * PRICING.gbSecond.arm64).toFixed(12));
});

test('the Markdown table can show a few memory sizes only', (t) => {
  const table = costMarkdown(costRows([one, batch]), 100, [1024, 1769]).split('\n');
  t.is(table.length, 2 + 2 * 2);
  t.true(table[3]!.startsWith('| model, 1 row | 1769 MB |'));
});

test('the Markdown table has a row per workload and memory size', (t) => {
  const table = costMarkdown(costRows([one, batch]), 100).split('\n');
  t.is(table.length, 2 + 2 * MEMORY_SIZES.length);
  t.true(table[2]!.startsWith('| model, 1 row | 512 MB |'));
});

test('the cost chart is one SVG document drawn by Vega, with a line per workload in each architecture\'s panel', async (t) => {
  const svg = await costChart(costRows([one, batch]), 'caption & more');
  t.true(svg.trimStart().startsWith('<svg'));
  t.true(svg.trimEnd().endsWith('</svg>'));
  t.true(svg.includes('caption &amp; more'));
  t.true(svg.includes('arm64') && svg.includes('x86_64'));
  t.is(svg.match(/mark-line role-mark/g)?.length, 4);
  t.false(/NaN|undefined|Infinity/.test(svg));
});

test('the warm chart draws a bar per workload and the target as a rule', async (t) => {
  const svg = await warmChart(
    [
      { workload: 'model, 1 row', functionMs: 1.1, naiveMs: 1 },
      { workload: 'model, 100 rows', functionMs: 2.2, naiveMs: 2, naiveLoggedMs: 2.1 },
    ],
    'caption',
    1.1,
  );
  t.true(svg.includes('1.10  (1.10 ms vs 1.00 ms)'));
  t.true(svg.includes('model, 100 rows'));
  t.is(svg.match(/mark-rule role-mark/g)?.length, 1);
  t.is(svg.match(/role-mark[^>]*>(?:<path [^>]*aria-roledescription="point"[^>]*>)+/g)?.[0]?.match(/aria-roledescription="point"/g)?.length, 1, 'one dot, for the workload measured against the naive function with a log line');
  t.false(/NaN|undefined|Infinity/.test(svg));
});

test('the cost chart says which models are billed alike and so draw one line', async (t) => {
  const svg = await costChart(costRows([one, { ...one, name: 'other, 1 row', durationMs: 0.25 }, batch]), 'c');
  t.true(svg.includes('1 row per request: model, other are billed alike and draw one line.'));
  t.false(svg.includes('100 rows per request: model'));
});
