/**
 * The cost advisor's chart: monthly cost against the average rate for each option (log scales: the options differ by
 * orders of magnitude), a diamond where an alternative crosses Lambda on demand, and a dashed rule at the profile.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, renderSvg, wrapCaption } from '../charts/render-svg.js';
import { ALTERNATIVES, breakEvenText, rps, type Advice } from './advice.js';
import { atRate, OPTION_TITLES, OPTIONS, optionCost, SEARCH_RANGE } from './model.js';

const POINTS = 400;

/** Subtitle lines longer than this are wrapped: Vega sizes the picture by its own generous estimate of text widths. */
const SUBTITLE_CHARS = 100;


/** The rates the chart spans: two decades either side of the profile and of every break-even. */
export function chartRange(advice: Advice): { readonly low: number; readonly high: number } {
  const marks = [advice.traffic.avgRps > 0 ? advice.traffic.avgRps : 1];
  for (const option of ALTERNATIVES) {
    const b = advice.breakEvens[option];
    if (b.kind === 'at') marks.push(b.rps);
  }
  const low = Math.max(SEARCH_RANGE.minRps, 10 ** Math.floor(Math.log10(Math.min(...marks)) - 2));
  const high = Math.min(SEARCH_RANGE.maxRps, 10 ** Math.ceil(Math.log10(Math.max(...marks)) + 2));
  return { low, high };
}

export async function costAdvisorChart(advice: Advice): Promise<string> {
  const { low, high } = chartRange(advice);
  const { traffic, workload, assumptions } = advice;
  const values: { rps: number; usd: number; option: string }[] = [];
  for (let i = 0; i <= POINTS; i++) {
    const rate = low * (high / low) ** (i / POINTS);
    const at = atRate(traffic, rate);
    for (const option of OPTIONS) {
      const usd = optionCost(option, at, workload, assumptions).monthlyUsd;
      if (Number.isFinite(usd) && usd > 0) values.push({ rps: rate, usd, option: OPTION_TITLES[option] });
    }
  }
  const crossings = ALTERNATIVES.flatMap((option) => {
    const b = advice.breakEvens[option];
    if (b.kind !== 'at') return [];
    return [{ rps: b.rps, usd: optionCost('lambda', atRate(traffic, b.rps), workload, assumptions).monthlyUsd, option: OPTION_TITLES[option] }];
  });
  const domain = OPTIONS.map((o) => OPTION_TITLES[o]);
  const color = { field: 'option', type: 'nominal', title: null, scale: { domain, scheme: 'tableau10' } } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Monthly cost against average traffic, USD',
      subtitle: [
        ...wrapCaption(`${workload.arch}, ${workload.memoryMb} MB, ${workload.billedMs.toFixed(2)} ms billed per request; ${traffic.hoursPerDay} h a day, ${traffic.daysPerMonth} days a month; peak = ${rps(traffic.peakRps / (traffic.avgRps || 1))} x average.`, SUBTITLE_CHARS),
        `Dashed rule: this profile, ${rps(traffic.avgRps)} rps. Diamonds: where an alternative becomes cheaper than Lambda on demand.`,
        ...ALTERNATIVES.map((option) => `${OPTION_TITLES[option]}: cheaper than on demand ${breakEvenText(advice.breakEvens[option])}.`),
        ...wrapCaption(`us-east-1 prices: ${advice.prices.map((p) => `${p.prices} ${p.asOf}`).join(', ')} (commands/pricing/prices.ts). An estimate.`, SUBTITLE_CHARS),
      ],
    },
    width: 620,
    height: 340,
    layer: [
      {
        data: { values },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'rps', type: 'quantitative', title: 'average requests per second (log)', scale: { type: 'log', domain: [low, high] }, axis: { format: '~g', grid: true } },
          y: { field: 'usd', type: 'quantitative', title: 'USD a month (log)', scale: { type: 'log' }, axis: { format: '$,~g' } },
          color,
        },
      },
      { data: { values: [{ rps: traffic.avgRps > 0 ? traffic.avgRps : low }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#333333', strokeWidth: 1.5 }, encoding: { x: { field: 'rps', type: 'quantitative' } } },
      ...(crossings.length === 0
        ? []
        : [{ data: { values: crossings }, mark: { type: 'point' as const, shape: 'diamond', filled: true, size: 110, stroke: '#222222', strokeWidth: 1, opacity: 1 }, encoding: { x: { field: 'rps', type: 'quantitative' as const }, y: { field: 'usd', type: 'quantitative' as const }, color } }]),
    ],
    config: { ...CHART_CONFIG, legend: { ...CHART_CONFIG.legend, orient: 'bottom', columns: 2, labelLimit: 320 } },
    padding: 12,
  } as TopLevelSpec;
  return renderSvg(spec);
}
