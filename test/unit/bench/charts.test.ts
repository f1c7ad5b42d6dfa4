import test from 'ava';
import { costChart, warmChart } from '../../../bench/charts.js';
import { costRows, type CostInput } from '../../../bench/lambda-cost.js';

const one: CostInput = { name: 'model, 1 row', durationMs: 0.2, predictionsPerRequest: 1, logBytesPerRequest: 600 };
const batch: CostInput = { name: 'model, 100 rows', durationMs: 10, predictionsPerRequest: 100, logBytesPerRequest: 1600 };

test("the cost chart is one SVG document drawn by Vega, with a line per workload in each architecture's panel", async (t) => {
  const svg = await costChart(costRows([one, batch]), 'caption & more');
  t.true(svg.trimStart().startsWith('<svg'));
  t.true(svg.trimEnd().endsWith('</svg>'));
  t.true(svg.includes('caption &amp; more'));
  t.true(svg.includes('arm64') && svg.includes('x86_64'));
  t.is(svg.match(/mark-line role-mark/g)?.length, 4);
  t.false(/NaN|undefined|Infinity/.test(svg));
});

test('the cost chart says which models are billed alike and so draw one line', async (t) => {
  const svg = await costChart(costRows([one, { ...one, name: 'other, 1 row', durationMs: 0.25 }, batch]), 'c');
  t.true(svg.includes('1 row per request: model, other are billed alike and draw one line.'));
  t.false(svg.includes('100 rows per request: model'));
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
