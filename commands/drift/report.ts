/**
 * The drift report: the captured records of one model in a time window, compared with its training baseline. Per
 * input feature (or input tensor), the PSI of the window's values over the baseline's bins, their mean and the share
 * outside the training range; for the prediction, the PSI of the label shares (classifier) or of the predicted
 * values over the baseline's bins (regressor, and each output of a tensor model). Pure: no I/O.
 */
import type { BaselineInput, CaptureRecord, CapturedTensor, CapturedValue, TrainingBaseline, ValueSummary } from '../../functions/contract/capture.js';
import { argmaxRows, binShares, labelShares } from './baseline.js';
import { psi, psiLevel, type PsiLevel } from './psi.js';

export interface Window {
  readonly since: Date | undefined;
  readonly until: Date;
}

/** Which of the records read count: the model's, inside the window. */
export interface Selection {
  readonly used: readonly CaptureRecord[];
  /** Records of the model outside the window. */
  readonly outside: number;
  /** Records of other models (or versions), by `<name>@<version>`. */
  readonly otherModels: Readonly<Record<string, number>>;
  /** The earliest and latest record used. */
  readonly first: string | undefined;
  readonly last: string | undefined;
}

export function selectRecords(records: readonly CaptureRecord[], model: string, window: Window): Selection {
  const used: CaptureRecord[] = [];
  const otherModels: Record<string, number> = {};
  let outside = 0;
  let first: number | undefined;
  let last: number | undefined;
  for (const record of records) {
    if (record.model !== model) {
      otherModels[record.model] = (otherModels[record.model] ?? 0) + 1;
      continue;
    }
    const time = Date.parse(record.time);
    if ((window.since !== undefined && time < window.since.getTime()) || time > window.until.getTime()) {
      outside++;
      continue;
    }
    used.push(record);
    first = first === undefined ? time : Math.min(first, time);
    last = last === undefined ? time : Math.max(last, time);
  }
  return {
    used,
    outside,
    otherModels,
    first: first === undefined ? undefined : new Date(first).toISOString(),
    last: last === undefined ? undefined : new Date(last).toISOString(),
  };
}

/** One distribution's comparison: the baseline's shares and the window's over the same bins (or labels). */
export interface Comparison {
  /** Values (or rows) the window contributed. */
  readonly count: number;
  /** Null when the window has no value to compare. */
  readonly psi: number | null;
  readonly level: PsiLevel | 'no data';
  /** The bins' names: `<= 1.5`, `1.5 to 3`, `> 6.2`, or the labels. */
  readonly bins: readonly string[];
  readonly baselineShares: readonly number[];
  readonly windowShares: readonly number[];
}

export interface FeatureDrift extends Comparison {
  readonly name: string;
  readonly input: string;
  readonly column?: number;
  readonly baselineMean: number;
  readonly windowMean: number | null;
  /** Share of the window's values outside the baseline's [min, max]. */
  readonly outsideRange: number | null;
}

export interface PredictionDrift extends Comparison {
  /** `prediction` for a classifier or regressor, the output's name for a tensor model. */
  readonly name: string;
  readonly kind: 'labels' | 'values';
}

export interface DriftReport {
  readonly model: string;
  readonly baseline: { readonly file: string; readonly rows: number; readonly source: string; readonly writer: string };
  readonly location: string;
  readonly window: { readonly since: string | null; readonly until: string; readonly first: string | null; readonly last: string | null };
  readonly records: {
    readonly files: number;
    readonly skippedFiles: number;
    readonly read: number;
    readonly used: number;
    readonly outsideWindow: number;
    readonly otherModels: Readonly<Record<string, number>>;
    readonly malformed: number;
    /** Records of the model without an input or output the baseline summarises, by name. */
    readonly missing: Readonly<Record<string, number>>;
  };
  /** Rows of the used records (whole rows kept by the capture caps). */
  readonly rows: number;
  readonly threshold: number;
  readonly minRows: number;
  /** Drift: a PSI above the threshold; too little: fewer rows than minRows, whatever the PSI; else stable. */
  readonly verdict: 'stable' | 'drift' | 'too little';
  readonly features: readonly FeatureDrift[];
  readonly prediction: readonly PredictionDrift[];
  /** The highest PSI and where. */
  readonly worst: { readonly name: string; readonly psi: number } | null;
  /** Names whose PSI is above the threshold. */
  readonly drifted: readonly string[];
  readonly warnings: readonly string[];
}

function toNumber(value: CapturedValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return undefined;
}

/** Elements per row of a captured tensor (the product of its dimensions after the batch). */
function rowWidth(tensor: CapturedTensor): number {
  return tensor.shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * A captured value as the model saw it. A float32 is written as its shortest decimal (5.1), the baseline was computed
 * on the float32 itself (5.099999904632568), and a decile edge is often such a value: compared unrounded, every 5.1
 * would land one bin above where training put it.
 */
function modelValue(float32: boolean): (value: number) => number {
  return float32 ? Math.fround : (value) => value;
}

/** The numbers of a captured tensor's complete rows (the capture keeps whole rows), or of one column of them. */
function tensorValues(tensor: CapturedTensor, column: number | undefined): number[] {
  const width = rowWidth(tensor);
  if (width === 0) return [];
  const rows = Math.floor(tensor.data.length / width);
  const exact = modelValue(tensor.type === 'float32');
  const values: number[] = [];
  const add = (raw: CapturedValue | undefined) => {
    const value = toNumber(raw);
    if (value !== undefined) values.push(exact(value));
  };
  if (column !== undefined) {
    if (column < width) for (let r = 0; r < rows; r++) add(tensor.data[r * width + column]);
    return values;
  }
  for (let i = 0; i < rows * width; i++) add(tensor.data[i]);
  return values;
}

function format(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/** Names of the bins of `edges`: `<= e0`, `e0 to e1`, ..., `> e_last`. */
export function binNames(edges: readonly number[]): string[] {
  if (edges.length === 0) return ['all'];
  return [`<= ${format(edges[0]!)}`, ...edges.slice(1).map((e, i) => `${format(edges[i]!)} to ${format(e)}`), `> ${format(edges[edges.length - 1]!)}`];
}

function compare(bins: readonly string[], baselineShares: readonly number[], window: { readonly shares: number[]; readonly count: number }): Comparison {
  if (window.count === 0) return { count: 0, psi: null, level: 'no data', bins, baselineShares, windowShares: window.shares };
  const value = psi(baselineShares, window.shares);
  return { count: window.count, psi: value, level: psiLevel(value), bins, baselineShares, windowShares: window.shares };
}

function compareValues(summary: ValueSummary, values: readonly number[]): Comparison {
  return compare(binNames(summary.edges), summary.shares, binShares(summary.edges, values));
}

function featureDrift(input: BaselineInput, values: readonly number[]): FeatureDrift {
  const finite = values.filter((v) => !Number.isNaN(v));
  const { min, max } = input.summary;
  return {
    name: input.name,
    input: input.input,
    ...(input.column === undefined ? {} : { column: input.column }),
    ...compareValues(input.summary, finite),
    baselineMean: input.summary.mean,
    windowMean: finite.length === 0 ? null : finite.reduce((a, b) => a + b, 0) / finite.length,
    outsideRange: finite.length === 0 ? null : finite.filter((v) => v < min || v > max).length / finite.length,
  };
}

export interface ReportContext {
  readonly baselineFile: string;
  readonly location: string;
  readonly window: Window;
  readonly threshold: number;
  readonly minRows: number;
  readonly files: number;
  readonly skippedFiles: number;
  readonly read: number;
  readonly malformed: number;
  readonly warnings: readonly string[];
}

/** Compares the selected records with the baseline. */
export function driftReport(baseline: TrainingBaseline, selection: Selection, context: ReportContext): DriftReport {
  const missing: Record<string, number> = {};
  const miss = (name: string) => {
    missing[name] = (missing[name] ?? 0) + 1;
  };
  const featureValues = baseline.inputs.map(() => [] as number[]);
  let rows = 0;
  const prediction = baseline.prediction;
  const labelIndex = prediction.kind === 'labels' ? new Map(prediction.labels.map((label, i) => [label, i])) : undefined;
  const labelRows: number[] = [];
  const predictedValues: number[][] = prediction.kind === 'tensors' ? prediction.outputs.map(() => []) : [[]];

  for (const record of selection.used) {
    rows += Math.min(record.rows, ...Object.values(record.inputs).map((t) => (rowWidth(t) === 0 ? 0 : Math.floor(t.data.length / rowWidth(t)))));
    baseline.inputs.forEach((input, i) => {
      const tensor = record.inputs[input.input];
      if (tensor === undefined) return miss(input.input);
      for (const value of tensorValues(tensor, input.column)) featureValues[i]!.push(value);
    });
    if (prediction.kind === 'labels') {
      if (record.prediction !== undefined) {
        for (const label of record.prediction) labelRows.push(typeof label === 'string' ? (labelIndex!.get(label) ?? -1) : -1);
      } else {
        const tensor = record.outputs[prediction.output];
        if (tensor === undefined) miss(prediction.output);
        else for (const best of argmaxRows(tensorValues(tensor, undefined), prediction.labels.length)) labelRows.push(best);
      }
    } else if (prediction.kind === 'values') {
      if (record.prediction !== undefined) {
        const exact = modelValue(record.outputs[prediction.output]?.type === 'float32');
        for (const value of record.prediction) if (typeof value === 'number') predictedValues[0]!.push(exact(value));
      } else {
        const tensor = record.outputs[prediction.output];
        if (tensor === undefined) miss(prediction.output);
        else predictedValues[0]!.push(...tensorValues(tensor, undefined));
      }
    } else {
      prediction.outputs.forEach((output, i) => {
        const tensor = record.outputs[output.name];
        if (tensor === undefined) miss(output.name);
        else predictedValues[i]!.push(...tensorValues(tensor, undefined));
      });
    }
  }

  const features = baseline.inputs.map((input, i) => featureDrift(input, featureValues[i]!));
  let predictions: PredictionDrift[];
  if (prediction.kind === 'labels') {
    predictions = [{ name: 'prediction', kind: 'labels', ...compare(prediction.labels, prediction.shares, labelShares(prediction.labels, labelRows)) }];
  } else if (prediction.kind === 'values') {
    predictions = [{ name: 'prediction', kind: 'values', ...compareValues(prediction.summary, predictedValues[0]!) }];
  } else {
    predictions = prediction.outputs.map((output, i) => ({ name: output.name, kind: 'values' as const, ...compareValues(output.summary, predictedValues[i]!) }));
  }
  const all = [...features, ...predictions].filter((c) => c.psi !== null);
  const drifted = all.filter((c) => c.psi! > context.threshold).map((c) => c.name);
  const worst = all.reduce<{ name: string; psi: number } | null>((top, c) => (top === null || c.psi! > top.psi ? { name: c.name, psi: c.psi! } : top), null);
  return {
    model: `${baseline.model.name}@${baseline.model.version}`,
    baseline: { file: context.baselineFile, rows: baseline.rows, source: baseline.source, writer: baseline.writer },
    location: context.location,
    window: { since: context.window.since?.toISOString() ?? null, until: context.window.until.toISOString(), first: selection.first ?? null, last: selection.last ?? null },
    records: {
      files: context.files,
      skippedFiles: context.skippedFiles,
      read: context.read,
      used: selection.used.length,
      outsideWindow: selection.outside,
      otherModels: selection.otherModels,
      malformed: context.malformed,
      missing,
    },
    rows,
    threshold: context.threshold,
    minRows: context.minRows,
    verdict: rows < context.minRows ? 'too little' : drifted.length > 0 ? 'drift' : 'stable',
    features,
    prediction: predictions,
    worst,
    drifted,
    warnings: context.warnings,
  };
}

function percent(share: number | null): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)}%`;
}

function psiText(value: number | null): string {
  return value === null ? '-' : value.toFixed(3);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

/** The shares of a prediction's bins, baseline against window: `setosa 33.3% -> 20.0%`. */
function sharesText(p: PredictionDrift): string {
  return p.bins.map((bin, i) => `${bin} ${percent(p.baselineShares[i]!)} -> ${percent(p.windowShares[i] ?? 0)}`).join(', ');
}

/** The report as text: what was read, a table per feature, the prediction, and the verdict. */
export function reportText(report: DriftReport): string {
  const r = report.records;
  const lines: string[] = [];
  const window = `${report.window.since ?? 'the first record'} to ${report.window.until}`;
  lines.push(`drift of ${report.model} against ${report.baseline.file} (${report.baseline.rows} training rows, ${report.baseline.writer})`);
  lines.push(`captures: ${report.location}, window ${window}`);
  lines.push(
    `  ${r.files} file(s) read${r.skippedFiles > 0 ? ` (${r.skippedFiles} written before the window, skipped)` : ''}, ${r.read} record(s); ${r.used} of ${report.model} in the window (${report.rows} rows, ${report.window.first ?? '-'} to ${report.window.last ?? '-'})`,
  );
  const others = Object.entries(r.otherModels);
  if (r.outsideWindow > 0 || others.length > 0) lines.push(`  left out: ${r.outsideWindow} outside the window${others.length === 0 ? '' : `; other models: ${others.map(([m, n]) => `${m} (${n})`).join(', ')}`}`);
  if (r.malformed > 0) lines.push(`  ${r.malformed} unreadable capture line(s) skipped`);
  for (const [name, n] of Object.entries(r.missing)) lines.push(`  ${n} record(s) without "${name}"`);
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  lines.push('');
  lines.push(
    ...table(
      ['feature', 'values', 'PSI', 'level', 'training mean', 'window mean', 'outside training range'],
      report.features.map((f) => [f.name, String(f.count), psiText(f.psi), f.level, format(f.baselineMean), f.windowMean === null ? '-' : format(f.windowMean), percent(f.outsideRange)]),
      new Set([1, 2, 4, 5, 6]),
    ),
  );
  lines.push('');
  for (const p of report.prediction) {
    lines.push(`${p.name} (${p.kind === 'labels' ? 'label shares' : 'value bins'}): PSI ${psiText(p.psi)} ${p.level}, ${p.count} ${p.kind === 'labels' ? 'rows' : 'values'}`);
    lines.push(`  ${sharesText(p)}`);
  }
  lines.push('');
  const verdict =
    report.verdict === 'too little'
      ? `TOO LITTLE TO JUDGE: ${report.rows} rows in the window, fewer than ${report.minRows} (--min-rows); a PSI this few rows give is mostly chance, so widen the window`
      : report.verdict === 'drift'
        ? `DRIFT: PSI above ${report.threshold} for ${report.drifted.join(', ')}`
        : `no drift: every PSI is at most ${report.threshold}${report.worst === null ? '' : ` (highest ${report.worst.name}, ${report.worst.psi.toFixed(3)})`}`;
  lines.push(verdict);
  lines.push('PSI: under 0.1 stable, 0.1 to 0.25 moderate, above 0.25 significant (docs/DRIFT.md)');
  return `${lines.join('\n')}\n`;
}
