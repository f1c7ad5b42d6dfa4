/**
 * The bench's result records, and their forms: a console table, Markdown for docs/PERFORMANCE.md (between marker
 * comments the bench rewrites), and the `cases` of bench/results/latest.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export type Unit = 'us' | 'ms' | 'MB' | 'bytes' | 's';

/**
 * One figure beside its baseline. Timings carry `p50`/`p99` (and `baseline_p50`/`baseline_p99`); sizes and memory
 * carry `value` (and `baseline_value`). `ratio` is subject / baseline of the p50 or the value.
 */
export interface BenchCase {
  readonly case: string;
  readonly unit: Unit;
  readonly p50?: number;
  readonly p99?: number;
  readonly value?: number;
  readonly baseline: string | null;
  readonly baseline_p50?: number;
  readonly baseline_p99?: number;
  readonly baseline_value?: number;
  readonly ratio: number | null;
  /** The project's goal for this figure, e.g. "ratio <= 1.3", and whether this run met it. */
  readonly target?: string;
  readonly meets?: boolean;
  /** Samples behind the percentiles. */
  readonly n?: number;
  readonly [extra: string]: unknown;
}

/**
 * Bytes whole; ratios, seconds and milliseconds to 2 decimals (a warm invocation is short enough that 0.1 ms counts);
 * the rest to 1.
 */
export function round(value: number, unit: Unit | 'ratio'): number {
  const digits = unit === 'bytes' ? 0 : unit === 'ratio' || unit === 's' || unit === 'ms' ? 2 : 1;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A timing case: subject against baseline, p50 and p99, with a ratio target when the project has one. */
export function timingCase(name: string, unit: Unit, subject: { p50: number; p99: number; n: number }, baseline: string, base: { p50: number; p99: number }, maxRatio?: number, extra: Record<string, unknown> = {}): BenchCase {
  const ratio = round(subject.p50 / base.p50, 'ratio');
  return {
    case: name,
    unit,
    p50: round(subject.p50, unit),
    p99: round(subject.p99, unit),
    baseline,
    baseline_p50: round(base.p50, unit),
    baseline_p99: round(base.p99, unit),
    ratio,
    ...(maxRatio === undefined ? {} : { target: `ratio <= ${maxRatio}`, meets: ratio <= maxRatio }),
    n: subject.n,
    ...extra,
  };
}

/** A size or memory case: `value` against `baseline_value`. */
export function valueCase(name: string, unit: Unit, value: number, baseline: string | null, baseValue: number | undefined, target?: { readonly text: string; readonly meets: boolean }, extra: Record<string, unknown> = {}): BenchCase {
  return {
    case: name,
    unit,
    value: round(value, unit),
    baseline,
    ...(baseValue === undefined ? {} : { baseline_value: round(baseValue, unit) }),
    ratio: baseValue === undefined ? null : round(value / baseValue, 'ratio'),
    ...(target === undefined ? {} : { target: target.text, meets: target.meets }),
    ...extra,
  };
}

function shown(value: number | undefined, unit: Unit): string {
  if (value === undefined) return '';
  if (unit === 'bytes') return `${value.toLocaleString('en-US')} (${(value / 2 ** 20).toFixed(2)} MiB)`;
  return `${value} ${unit === 'us' ? 'µs' : unit}`;
}

export function consoleRows(cases: readonly BenchCase[]): Record<string, string>[] {
  return cases.map((c) => ({
    case: c.case,
    'p50 / value': shown(c.p50 ?? c.value, c.unit),
    p99: shown(c.p99, c.unit),
    baseline: c.baseline ?? '',
    'baseline p50 / value': shown(c.baseline_p50 ?? c.baseline_value, c.unit),
    ratio: c.ratio === null ? '' : c.ratio.toFixed(2),
    target: c.target ?? '',
    met: c.meets === undefined ? '' : c.meets ? 'yes' : 'NO',
  }));
}

export function casesMarkdown(cases: readonly BenchCase[]): string {
  const lines = ['| case | p50 / value | p99 | baseline | baseline p50 / value | ratio | target | met |', '|---|---|---|---|---|---|---|---|'];
  for (const row of consoleRows(cases)) {
    lines.push(`| ${row['case']} | ${row['p50 / value']} | ${row['p99']} | ${row['baseline']} | ${row['baseline p50 / value']} | ${row['ratio']} | ${row['target']?.replace('<=', '≤')} | ${row['met']} |`);
  }
  return lines.join('\n');
}

/**
 * The emulator cases (`rie/*`) as users pay for them: the function's and the naive function's REPORT Duration p50s
 * and their ratio against the target, the billed p50s (whole ms), and the naive function writing as much log as
 * the function's EMF line, with the function's ratio to it.
 */
export function emulatorMarkdown(cases: readonly BenchCase[]): string {
  const lines = [
    '| case | function p50 | naive p50 | ratio | target | met | billed p50, function / naive | naive + log line p50 | ratio to naive + log |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const ms = (value: unknown) => (typeof value === 'number' ? `${value} ms` : '');
  for (const c of cases) {
    const logRatio = c['ratio_to_naive_with_log'];
    lines.push(
      `| ${c.case} | ${ms(c.p50)} | ${ms(c.baseline_p50)} | ${c.ratio === null ? '' : c.ratio.toFixed(2)} | ${c.target?.replace('<=', '≤') ?? ''} | ${c.meets === undefined ? '' : c.meets ? 'yes' : 'NO'} | ${ms(c['billed_p50'])} / ${ms(c['baseline_billed_p50'])} | ${ms(c['naive_with_log_p50'])} | ${typeof logRatio === 'number' ? logRatio.toFixed(2) : ''} |`,
    );
  }
  return lines.join('\n');
}

/**
 * A two-column comparison of the cases whose names start with `prefix` (e.g. `int8-vs-float/`): each case's
 * baseline value, its own value and the ratio, under the given column titles.
 */
export function comparisonMarkdown(cases: readonly BenchCase[], prefix: string, baselineTitle: string, subjectTitle: string): string {
  const lines = [`| figure | ${baselineTitle} | ${subjectTitle} | ratio |`, '|---|---|---|---|'];
  for (const c of cases.filter((k) => k.case.startsWith(prefix))) {
    const what = typeof c['measures'] === 'string' ? `${c.case.slice(prefix.length)} (${c['measures']})` : c.case.slice(prefix.length);
    lines.push(`| ${what} | ${shown(c.baseline_p50 ?? c.baseline_value, c.unit)} | ${shown(c.p50 ?? c.value, c.unit)} | ${c.ratio === null ? '' : c.ratio.toFixed(2)} |`);
  }
  return lines.join('\n');
}

/**
 * Replaces the text between `<!-- bench:<name> -->` and `<!-- /bench:<name> -->` in `file`. Returns false (and
 * changes nothing) when the markers are missing.
 */
export function replaceSection(file: string, name: string, content: string): boolean {
  const text = readFileSync(file, 'utf8');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  if (start === -1 || end < start) return false;
  writeFileSync(file, `${text.slice(0, start + open.length)}\n${content}\n${text.slice(end)}`);
  return true;
}
