/**
 * The drift report's chart: the PSI of each feature and of the prediction as bars coloured by their usual reading,
 * with the 0.1 and 0.25 marks and the threshold as rules; below it, the prediction's distribution in the training
 * data beside the window's (label shares, or the share in each bin of predicted values).
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG, renderSvg, wrapCaption } from '../charts/render-svg.js';
import { PSI_LEVELS } from './psi.js';
import type { DriftReport } from './report.js';

const SUBTITLE_CHARS = 100;
const WIDTH = 560;
const LEVELS = ['stable', 'moderate', 'significant', 'no data'];
const LEVEL_COLORS = ['#59a14f', '#f28e2b', '#e15759', '#bab0ac'];

/** `2026-05-01T06:00Z`: the report's times to the minute, so the caption stays short. */
function minute(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 16)}Z`;
}

/**
 * A bar's name with its value, `petal_length 3.613`: written beside the axis, where no bar or rule can cover it, in
 * a monospace font, right-aligned, so the values line up.
 */
function barName(name: string, psi: number | null): string {
  return `${name} ${psi === null ? 'no data' : psi.toFixed(3)}`;
}

/** Ticks of the square-root scale: the usual readings among them, up to the domain's end. */
const TICKS = [0, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64];

export async function driftChart(report: DriftReport): Promise<string> {
  const named = [
    ...report.prediction.map((p) => ({ name: p.name === 'prediction' ? 'prediction' : `output ${p.name}`, psi: p.psi, level: p.level })),
    ...report.features.map((f) => ({ name: f.name, psi: f.psi, level: f.level })),
  ];
  const bars = named.map((b) => ({ name: barName(b.name, b.psi), psi: b.psi ?? 0, level: b.level }));
  const top = Math.max(report.threshold, PSI_LEVELS.significant, ...bars.map((b) => b.psi)) * 1.1;
  const rules = [{ psi: PSI_LEVELS.moderate }, { psi: PSI_LEVELS.significant }];
  const shares = report.prediction.flatMap((p) =>
    p.bins.flatMap((bin, i) => [
      { output: p.name, bin, order: i, side: 'training', share: p.baselineShares[i] ?? 0 },
      { output: p.name, bin, order: i, side: 'window', share: p.windowShares[i] ?? 0 },
    ]),
  );
  const firstPrediction = report.prediction[0];
  const verdict =
    report.verdict === 'too little'
      ? `Too little to judge: ${report.rows} rows, fewer than ${report.minRows}.`
      : report.verdict === 'drift'
        ? `Drift: PSI above ${report.threshold} for ${report.drifted.join(', ')}.`
        : `No PSI above the threshold ${report.threshold}.`;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Drift of ${report.model} against its training baseline`,
      subtitle: [
        ...wrapCaption(
          `${report.records.used} captured records (${report.rows} rows) from ${minute(report.window.first)} to ${minute(report.window.last)}, against ${report.baseline.rows} training rows.`,
          SUBTITLE_CHARS,
        ),
        ...wrapCaption(`${verdict} Dashed rules: the usual readings ${PSI_LEVELS.moderate} and ${PSI_LEVELS.significant}; solid rule: the threshold. Square-root scale.`, SUBTITLE_CHARS),
      ],
    },
    vconcat: [
      {
        width: WIDTH,
        height: { step: 18 },
        data: { values: bars },
        layer: [
          {
            mark: { type: 'bar' },
            encoding: {
              y: { field: 'name', type: 'nominal', sort: null, title: null, axis: { labelLimit: 480, labelFont: 'DejaVu Sans Mono, Menlo, Consolas, monospace' } },
              x: { field: 'psi', type: 'quantitative', title: 'population stability index (PSI), square-root scale', scale: { type: 'sqrt', domain: [0, top], nice: false }, axis: { values: TICKS.filter((v) => v <= top), format: '~g' } },
              color: { field: 'level', type: 'nominal', title: 'reading', scale: { domain: LEVELS, range: LEVEL_COLORS } },
            },
          },
          {
            data: { values: rules },
            mark: { type: 'rule', strokeDash: [4, 4], color: '#777777' },
            encoding: { x: { field: 'psi', type: 'quantitative' } },
          },
          {
            data: { values: [{ psi: report.threshold }] },
            mark: { type: 'rule', color: '#222222', strokeWidth: 1.5 },
            encoding: { x: { field: 'psi', type: 'quantitative' } },
          },
        ],
      },
      ...(firstPrediction === undefined
        ? []
        : report.prediction.map((p) => ({
            title: { text: `${p.name === 'prediction' ? 'Prediction' : `Output ${p.name}`}: ${p.kind === 'labels' ? 'share of each label' : 'share of values in each training decile bin'}`, fontSize: 12 },
            width: WIDTH,
            height: 140,
            data: { values: shares.filter((s) => s.output === p.name) },
            mark: { type: 'bar' as const },
            encoding: {
              x: { field: 'bin', type: 'nominal' as const, sort: { field: 'order' }, title: null, axis: { labelAngle: p.bins.length > 6 && p.bins.some((bin) => bin.length > 4) ? -40 : 0, labelLimit: 200 } },
              xOffset: { field: 'side', type: 'nominal' as const },
              y: { field: 'share', type: 'quantitative' as const, title: 'share', axis: { format: '.0%' } },
              color: { field: 'side', type: 'nominal' as const, title: 'data', scale: { domain: ['training', 'window'], range: ['#4e79a7', '#edc948'] } },
            },
          }))),
    ],
    resolve: { scale: { color: 'independent' } },
    config: CHART_CONFIG,
    padding: 12,
  } as TopLevelSpec;
  return renderSvg(spec);
}
