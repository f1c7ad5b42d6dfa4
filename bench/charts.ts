/**
 * The bench's charts, as Vega-Lite specifications rendered by commands/charts/render-svg.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG as config, renderSvg } from '../commands/charts/render-svg.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import type { CostRow } from './lambda-cost.js';

/**
 * Lambda's charge per million predictions against memory size: a panel per architecture (columns) and per request
 * size (rows, each with its own dollar axis), a colour per model. Workloads billed alike draw one line; the
 * subtitle says so.
 */
export async function costChart(rows: readonly CostRow[], caption: string): Promise<string> {
  const values = rows.map((r) => ({
    model: r.input.split(', ')[0],
    size: r.predictionsPerRequest === 1 ? '1 row per request' : `${r.predictionsPerRequest} rows per request`,
    arch: r.arch,
    memory: r.memoryMb,
    usd: r.lambdaPerMillion,
  }));
  // Models billed alike at every size draw one line, the last one's colour: say which.
  const shared: string[] = [];
  for (const size of [...new Set(values.map((v) => v.size))]) {
    const byModel = new Map<string, string>();
    for (const v of values.filter((w) => w.size === size)) byModel.set(v.model ?? '', `${byModel.get(v.model ?? '') ?? ''}${v.arch}:${v.memory}:${v.usd.toPrecision(6)} `);
    const groups = new Map<string, string[]>();
    for (const [model, key] of byModel) groups.set(key, [...(groups.get(key) ?? []), model]);
    for (const models of groups.values()) if (models.length > 1) shared.push(`${size}: ${models.join(', ')} are billed alike and draw one line.`);
  }
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Estimated Lambda charge per million predictions, USD',
      subtitle: [
        caption,
        `Duration: warm REPORT Duration at ${ONE_VCPU_MEMORY_MB} MB x max(1, ${ONE_VCPU_MEMORY_MB} / MB), billed in whole ms (at least 1).`,
        'Request charge included; logs and init not. An estimate, not a measurement.',
        ...shared,
      ],
    },
    data: { values },
    facet: {
      column: { field: 'arch', type: 'nominal', title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
      // Each row's label above its panels: beside them, Vega reserves a column as wide as its generous estimate of the
      // text, which leaves the labels far from the panels they name.
      row: { field: 'size', type: 'nominal', title: null, header: { labelFontSize: 12, labelFontWeight: 'bold', labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelPadding: 8 } },
    },
    spec: {
      width: 300,
      height: 170,
      mark: { type: 'line', point: { size: 28 }, strokeWidth: 2 },
      encoding: {
        x: { field: 'memory', type: 'ordinal', title: `memory (MB; one vCPU at ${ONE_VCPU_MEMORY_MB.toLocaleString('en-US')} MB)`, axis: { labelAngle: 0 } },
        // The title and the axis labels say USD; a rotated axis title longer (by Vega's estimate) than the panel is
        // tall would push the row labels and the memory axis away from the panels.
        y: { field: 'usd', type: 'quantitative', title: null, scale: { zero: false, nice: true }, axis: { format: '$.3~r', tickCount: 5 } },
        color: { field: 'model', type: 'nominal', title: null, scale: { scheme: 'tableau10' } },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config,
  } as TopLevelSpec;
  return renderSvg(spec);
}

/** One warm case under the emulator: the function's and the naive function's REPORT Duration p50s. */
export interface WarmBar {
  readonly workload: string;
  readonly functionMs: number;
  readonly naiveMs: number;
  /** The naive function writing as many log bytes as the function's EMF line, when measured. */
  readonly naiveLoggedMs?: number;
}

/**
 * The function against the naive function, warm under the emulator: the ratio of their REPORT Duration p50s per
 * workload, with the target drawn as a rule and both p50s written beside each bar; a dot marks the ratio to the
 * naive function writing as much log as the function.
 */
export async function warmChart(bars: readonly WarmBar[], caption: string, target: number): Promise<string> {
  const values = bars.map((b) => ({ workload: b.workload, ratio: b.functionMs / b.naiveMs, text: `${b.functionMs.toFixed(2)} ms vs ${b.naiveMs.toFixed(2)} ms` }));
  const logged = bars.flatMap((b) => (b.naiveLoggedMs === undefined ? [] : [{ workload: b.workload, ratio: b.functionMs / b.naiveLoggedMs, what: 'the function / the naive function writing as much log' }]));
  const high = Math.max(target, ...values.map((v) => v.ratio), ...logged.map((v) => v.ratio)) * 1.7;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Warm invocations under the Runtime Interface Emulator',
      subtitle: [
        caption,
        "Bars: the function's REPORT Duration p50 / the naive function's, same emulator, layer and model.",
        `Dots: the same against the naive function writing as much log as the function. Rule: the target, ${target.toFixed(2)}.`,
      ],
    },
    width: 520,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', height: { band: 0.6 }, color: '#4c78a8' },
        encoding: {
          y: { field: 'workload', type: 'nominal', title: null, sort: null, axis: { labelLimit: 240 } },
          x: { field: 'ratio', type: 'quantitative', title: 'the function / the naive function (p50)', scale: { domain: [0, high] } },
        },
      },
      {
        data: { values },
        mark: { type: 'text', align: 'right', dx: -4, fontSize: 10, color: '#333333' },
        encoding: {
          y: { field: 'workload', type: 'nominal', sort: null },
          x: { datum: high },
          text: { value: { expr: "format(datum.ratio, '.2f') + '  (' + datum.text + ')'" } },
        },
      },
      { data: { values: [{ target }] }, mark: { type: 'rule', color: '#d62728', strokeDash: [5, 3], strokeWidth: 1.5 }, encoding: { x: { field: 'target', type: 'quantitative' } } },
      ...(logged.length === 0
        ? []
        : [
            {
              data: { values: logged },
              mark: { type: 'point' as const, filled: true, size: 45, color: '#f58518', stroke: '#333333', strokeWidth: 0.5 },
              encoding: { y: { field: 'workload', type: 'nominal' as const, sort: null }, x: { field: 'ratio', type: 'quantitative' as const } },
            },
          ]),
    ],
    config,
  } as TopLevelSpec;
  return renderSvg(spec);
}
