/**
 * The tuning chart: warm duration (p50, p99 and mean) and cost per million requests (arm64 and x86_64) against
 * memory, side by side, with the recommendations marked. Rendered only through commands/charts/render-svg.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ONE_VCPU_MEMORY_MB } from '../../functions/contract/lambda-limits.js';
import { CHART_CONFIG as config, renderSvg, wrapCaption } from '../charts/render-svg.js';
import { figuresNote, type TuneDocument } from './report.js';


/** The Vega-Lite specification of the chart, for tests to read. */
export function tuneChartSpec(document: TuneDocument): TopLevelSpec {
  const measured = document.sizes.filter((s) => s.durationMs !== null && s.costPerMillion !== null);
  const durations = measured.flatMap((s) => [
    { memory: s.memoryMb, ms: s.durationMs!.p50, series: 'p50' },
    { memory: s.memoryMb, ms: s.durationMs!.p99, series: 'p99' },
    { memory: s.memoryMb, ms: s.durationMs!.mean, series: 'mean' },
  ]);
  const costs = measured.flatMap((s) => [
    { memory: s.memoryMb, usd: s.costPerMillion!.arm64, series: 'arm64' },
    { memory: s.memoryMb, usd: s.costPerMillion!.x86_64, series: 'x86_64' },
  ]);
  const failed = document.sizes.filter((s) => s.failures.length > 0).map((s) => `${s.memoryMb} MB: ${s.failures.map((f) => `${f.count} ${f.kind}`).join(', ')}`);
  const { cheapest, fastest, balanced, maxLatencyMs } = document.recommendations;
  const size = (memory: number | null) => (memory === null ? 'none' : `${memory} MB`);
  const x = { field: 'memory', type: 'ordinal' as const, title: `memory, MB (one vCPU at ${ONE_VCPU_MEMORY_MB.toLocaleString('en-US')} MB)`, axis: { labelAngle: 0 } };
  const marks = [
    ...(balanced === null ? [] : [{ memory: balanced, what: 'balanced' }]),
  ];
  const panel = (title: string) => ({ width: 330, height: 220, title: { text: title, fontSize: 12, anchor: 'start' as const } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `npm run tune: ${document.model} (${document.arch}), warm invocations by memory size`,
      subtitle: [
        ...wrapCaption(figuresNote(document), 120),
        `Cheapest ${size(cheapest)}, fastest ${size(fastest)}, balanced${maxLatencyMs === null ? '' : ` (p99 <= ${maxLatencyMs} ms)`} ${size(balanced)} (dashed rule), on ${document.arch} prices as of ${document.prices.asOf}; request fee included, init not.`,
        ...(failed.length === 0 ? [] : wrapCaption(`Failures: ${failed.join('; ')}.`, 120)),
      ],
    },
    hconcat: [
      {
        ...panel('warm REPORT Duration, ms (log scale)'),
        layer: [
          {
            data: { values: durations },
            mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
            encoding: {
              x,
              y: { field: 'ms', type: 'quantitative', title: null, scale: { type: 'log' }, axis: { tickCount: 6 } },
              color: { field: 'series', type: 'nominal', title: 'duration', sort: ['p50', 'mean', 'p99'], scale: { domain: ['p50', 'mean', 'p99'], range: ['#4c78a8', '#f58518', '#b279a2'] } },
            },
          },
          ...(marks.length === 0 ? [] : [{ data: { values: marks }, mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#555555' }, encoding: { x: { field: 'memory', type: 'ordinal' as const } } }]),
        ],
      },
      {
        ...panel('cost per million requests, USD'),
        layer: [
          {
            data: { values: costs },
            mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
            encoding: {
              x,
              y: { field: 'usd', type: 'quantitative', title: null, scale: { zero: false, nice: true }, axis: { format: '$.3~r', tickCount: 6 } },
              color: { field: 'series', type: 'nominal', title: 'architecture', scale: { domain: ['arm64', 'x86_64'], range: ['#54a24b', '#e45756'] } },
            },
          },
          ...(marks.length === 0 ? [] : [{ data: { values: marks }, mark: { type: 'rule' as const, strokeDash: [4, 3], color: '#555555' }, encoding: { x: { field: 'memory', type: 'ordinal' as const } } }]),
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config,
  } as TopLevelSpec;
}

export async function tuneChart(document: TuneDocument): Promise<string> {
  return renderSvg(tuneChartSpec(document));
}
