/**
 * The bench's charts, as Vega-Lite specifications rendered by commands/charts/render-svg.ts.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG as config, renderSvg, wrapCaption } from '../commands/charts/render-svg.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import type { CostRow } from './lambda-cost.js';

/** Subtitle lines are wrapped at this many characters: Vega sizes the picture by its own estimate of text widths. */
const CAPTION_CHARS = 110;
const COST_PANEL = { width: 300, height: 170 } as const;
/** Vertical room one line label needs, px. */
const LABEL_GAP_PX = 13;

/**
 * Lambda's charge per million predictions against memory size: a panel per architecture (columns) and per request
 * size (rows, each with its own dollar axis). Each line is labelled at its right end with the models it draws;
 * models billed alike at every size share one line and one label, and the subtitle says so. Labels that would
 * touch are spread apart; there is no legend to match colours against.
 */
export async function costChart(rows: readonly CostRow[], caption: string): Promise<string> {
  const values = rows.map((r) => ({
    model: r.input.split(', ')[0] ?? r.input,
    size: r.predictionsPerRequest === 1 ? '1 row per request' : `${r.predictionsPerRequest} rows per request`,
    arch: r.arch,
    memory: r.memoryMb,
    usd: r.lambdaPerMillion,
  }));
  const sizes = [...new Set(values.map((v) => v.size))];
  // Models billed alike at every size and architecture of a request size draw one line: group them.
  const shared: string[] = [];
  const groupOf = new Map<string, string>();
  for (const size of sizes) {
    const byModel = new Map<string, string>();
    for (const v of values.filter((w) => w.size === size)) byModel.set(v.model, `${byModel.get(v.model) ?? ''}${v.arch}:${v.memory}:${v.usd.toPrecision(6)} `);
    const groups = new Map<string, string[]>();
    for (const [model, key] of byModel) groups.set(key, [...(groups.get(key) ?? []), model]);
    for (const models of groups.values()) {
      for (const model of models) groupOf.set(`${size}|${model}`, models.join(', '));
      if (models.length > 1) shared.push(`${size}: ${models.join(', ')} are billed alike and draw one line.`);
    }
  }
  const series = [...new Map(values.map((v) => [`${v.size}|${v.arch}|${groupOf.get(`${v.size}|${v.model}`)}|${v.memory}`, { ...v, line: groupOf.get(`${v.size}|${v.model}`) ?? v.model }])).values()];
  const labels = lineLabels(series);
  const models = [...new Set(values.map((v) => v.model))].sort();
  const panels = sizes.flatMap((size) => [...new Set(values.map((v) => v.arch))].map((arch) => `${arch}: ${size}`));
  const panelOf = (v: { arch: string; size: string }): string => `${v.arch}: ${v.size}`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Estimated Lambda charge per million predictions, USD',
      subtitle: [
        ...wrapCaption(caption, CAPTION_CHARS),
        `Duration: warm REPORT Duration at ${ONE_VCPU_MEMORY_MB} MB x max(1, ${ONE_VCPU_MEMORY_MB} / MB), billed in whole ms (at least 1).`,
        'Request charge included; logs and init not. An estimate, not a measurement.',
        ...shared.flatMap((line) => wrapCaption(line, CAPTION_CHARS)),
      ],
    },
    data: { values: [...series.map((v) => ({ ...v, panel: panelOf(v), layer: 'line' })), ...labels.map((l) => ({ ...l, panel: panelOf(l), layer: 'label' }))] },
    // One wrapped facet, each panel titled "<arch>: <request size>": a column header over row headers collides with
    // them once the grid is laid out flush.
    facet: { field: 'panel', type: 'nominal', title: null, sort: panels, header: { labelFontSize: 12, labelFontWeight: 'bold', labelAnchor: 'start', labelPadding: 8 } },
    columns: 2,
    spec: {
      width: COST_PANEL.width,
      height: COST_PANEL.height,
      encoding: {
        x: { field: 'memory', type: 'ordinal', title: `memory (MB; one vCPU at ${ONE_VCPU_MEMORY_MB.toLocaleString('en-US')} MB)`, axis: { labelAngle: 0 } },
        color: { field: 'model', type: 'nominal', legend: null, scale: { domain: models, scheme: 'tableau10' } },
      },
      layer: [
        {
          transform: [{ filter: "datum.layer === 'line'" }],
          mark: { type: 'line', point: { size: 28 }, strokeWidth: 2 },
          // The title and the axis labels say USD; a rotated axis title longer (by Vega's estimate) than the panel is
          // tall would push the row labels and the memory axis away from the panels.
          encoding: { y: { field: 'usd', type: 'quantitative', title: null, scale: { zero: false, nice: false }, axis: { format: '$.3~r', tickCount: 5 } }, detail: { field: 'line' } },
        },
        {
          transform: [{ filter: "datum.layer === 'label'" }],
          mark: { type: 'text', align: 'left', baseline: 'middle', dx: 10, fontSize: 11, fontWeight: 'bold' },
          encoding: { y: { field: 'usd', type: 'quantitative' }, text: { field: 'line' } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
    // Flush bounds: the grid is laid out from the panels' sizes alone, the spacing leaving room for the line labels
    // and the next column's axis (Vega's estimate of the labels' widths is about twice their real width).
    bounds: 'flush',
    spacing: { column: 250, row: 72 },
    padding: { left: 12, right: 12, top: 12, bottom: 16 },
    config,
  } as TopLevelSpec;
  return renderSvg(spec);
}

interface SeriesPoint {
  readonly size: string;
  readonly arch: string;
  readonly model: string;
  readonly line: string;
  readonly memory: number;
  readonly usd: number;
}

/**
 * A label at the right end of each line of each panel, at the line's last value, spread apart where two would touch:
 * in dollars, LABEL_GAP_PX is the panel's value range over its height in pixels.
 */
function lineLabels(series: readonly SeriesPoint[]): SeriesPoint[] {
  const labels: SeriesPoint[] = [];
  for (const panel of new Set(series.map((v) => `${v.size}|${v.arch}`))) {
    const points = series.filter((v) => `${v.size}|${v.arch}` === panel);
    const lastMemory = Math.max(...points.map((v) => v.memory));
    const ends = points.filter((v) => v.memory === lastMemory).sort((a, b) => a.usd - b.usd);
    const low = Math.min(...points.map((v) => v.usd));
    const high = Math.max(...points.map((v) => v.usd));
    const gap = ((high - low || high || 1) / COST_PANEL.height) * LABEL_GAP_PX;
    const placed: number[] = [];
    for (const end of ends) placed.push(Math.max(end.usd, (placed.at(-1) ?? -Infinity) + gap));
    // Labels pushed above the panel's top come back down as a block, keeping their spacing.
    const over = Math.max(0, (placed.at(-1) ?? high) - high);
    ends.forEach((end, i) => labels.push({ ...end, usd: placed[i]! - over }));
  }
  return labels;
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

/** One size of the cold-start curve: p50 ms from process start to the first answer, per way of loading. */
export interface CurveChartPoint {
  readonly megabytes: number;
  /** Undefined where the model does not fit the zip. */
  readonly zipMs: number | undefined;
  readonly s3Ms: number;
  readonly floorMs: number;
  readonly ortFormatMs: number;
}

const CURVE_SERIES = [
  { key: 'zipMs', label: 'function, model.ort in the zip', color: '#4c78a8', dash: [] },
  { key: 's3Ms', label: 'function, model.ort from S3 (loopback stand-in)', color: '#e45756', dash: [] },
  { key: 'floorMs', label: 'floor: read + session', color: '#333333', dash: [5, 3] },
  { key: 'ortFormatMs', label: 'ORT format in place', color: '#54a24b', dash: [2, 2] },
] as const;

/**
 * The cold start against the model's size, both axes logarithmic: the function with its model in the zip (where it
 * fits) and from S3, the floor (onnxruntime reading the file and creating the session), and the ORT-format model
 * used in place. A legend under the plot names the lines: the zip line ends inside the plot, where a label at its
 * end would sit on the other lines.
 */
export async function coldStartCurveChart(points: readonly CurveChartPoint[], caption: string): Promise<string> {
  const values = points.flatMap((p) =>
    CURVE_SERIES.flatMap((s) => {
      const ms = p[s.key];
      return ms === undefined ? [] : [{ megabytes: p.megabytes, ms: Math.round(ms), series: s.label }];
    }),
  );
  const domain = CURVE_SERIES.map((s) => s.label);
  const legend = { orient: 'bottom', title: null, columns: 2, columnPadding: 24, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, labelLimit: 0 } as const;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Cold start against model size: process start to the first checked answer (p50)',
      subtitle: [...wrapCaption(caption, CAPTION_CHARS), "Both axes logarithmic. The zip line stops where function, layer and model pass Lambda's 250 MB unzipped."],
    },
    width: 560,
    height: 300,
    data: { values },
    mark: { type: 'line', point: { size: 30 }, strokeWidth: 2 },
    encoding: {
      x: { field: 'megabytes', type: 'quantitative', title: 'model size (MB)', scale: { type: 'log' }, axis: { values: points.map((p) => p.megabytes), format: '~s' } },
      y: { field: 'ms', type: 'quantitative', title: 'ms (p50)', scale: { type: 'log' } },
      color: { field: 'series', type: 'nominal', legend, scale: { domain, range: CURVE_SERIES.map((s) => s.color) } },
      strokeDash: { field: 'series', type: 'nominal', legend, scale: { domain, range: CURVE_SERIES.map((s) => [...s.dash]) } },
      tooltip: [{ field: 'series' }, { field: 'megabytes' }, { field: 'ms' }],
    },
    padding: { left: 12, right: 24, top: 12, bottom: 12 },
    config,
  } as TopLevelSpec;
  return renderSvg(spec);
}
