/**
 * The tuning report: the JSON document (`--json`; the cost advisor reads it, so its field names are a contract),
 * and the table printed at the end of a run. Built from the measurers' records alone.
 */
import type { Arch } from '../../functions/contract/build-record.js';
import { costPerMillion, PRICES_NOTE, type CostPerMillion } from './cost.js';
import type { Failure, RawSizeMeasurement, Throttling } from './measurement.js';
import { recommend, type Candidate } from './recommend.js';
import { summarize, type BilledStats, type DurationStats } from './statistics.js';

/** One size in the JSON document. Statistics are null when no warm invocation succeeded. */
export interface SizeResult {
  readonly memoryMb: number;
  readonly cpuShare: number;
  readonly capped: boolean;
  /** The CPU quota's scheduler period at this size, µs (local mode with a control group). */
  readonly periodUs?: number;
  /** Periods in which the quota ran out and the time waited for the next, ms (local mode with a control group). */
  readonly cpuThrottled?: { readonly periods: number; readonly ms: number };
  readonly initMs: number | null;
  readonly durationMs: DurationStats | null;
  readonly billedMs: BilledStats | null;
  readonly peakMemoryMb: number | null;
  readonly invocations: number;
  /** Warm invocations that succeeded: the statistics' sample. */
  readonly warmInvocations: number;
  readonly failures: readonly Failure[];
  readonly stoppedEarly?: string;
  readonly costPerMillion: CostPerMillion | null;
}

export interface TuneDocument {
  /** `<name>@<version>` of the model measured, or what the payload ran against. */
  readonly model: string;
  /** The architecture of the build measured; its prices choose the recommendations. */
  readonly arch: Arch;
  /** The machine the figures come from (its CPU, not Lambda's). */
  readonly machine: string;
  readonly throttling: Throttling;
  /** What each size was sent. */
  readonly payload: string;
  readonly sizes: readonly SizeResult[];
  readonly recommendations: { readonly cheapest: number | null; readonly fastest: number | null; readonly balanced: number | null; readonly maxLatencyMs: number | null };
  readonly prices: { readonly asOf: string; readonly source: string };
  readonly measuredAt: string;
}

export interface DocumentInput {
  readonly model: string;
  readonly arch: Arch;
  readonly machine: string;
  readonly throttling: Throttling;
  readonly payload: string;
  readonly sizes: readonly RawSizeMeasurement[];
  readonly maxLatencyMs: number | null;
  readonly measuredAt: Date;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function roundStats<T extends object>(stats: T, digits: number): T {
  return Object.fromEntries(Object.entries(stats).map(([key, value]) => [key, round(value as number, digits)])) as T;
}

export function sizeResult(raw: RawSizeMeasurement): SizeResult {
  const stats = summarize(raw.warmDurationsMs);
  return {
    memoryMb: raw.memoryMb,
    cpuShare: round(raw.cpuShare, 3),
    capped: raw.capped,
    ...(raw.periodUs === undefined ? {} : { periodUs: raw.periodUs }),
    ...(raw.cpuThrottled === undefined ? {} : { cpuThrottled: { periods: raw.cpuThrottled.periods, ms: round(raw.cpuThrottled.ms, 1) } }),
    initMs: raw.initMs === undefined ? null : round(raw.initMs, 2),
    durationMs: stats === undefined ? null : roundStats(stats.durationMs, 3),
    billedMs: stats === undefined ? null : roundStats(stats.billedMs, 3),
    peakMemoryMb: raw.peakMemoryMb === undefined ? null : round(raw.peakMemoryMb, 1),
    invocations: raw.invocations,
    warmInvocations: raw.warmDurationsMs.length,
    failures: raw.failures,
    ...(raw.stoppedEarly === undefined ? {} : { stoppedEarly: raw.stoppedEarly }),
    costPerMillion: stats === undefined ? null : roundStats(costPerMillion(stats.billedMs.mean, raw.memoryMb), 6),
  };
}

export function buildDocument(input: DocumentInput): TuneDocument {
  const sizes = input.sizes.map(sizeResult);
  const candidates: Candidate[] = sizes.flatMap((size) =>
    size.durationMs === null || size.costPerMillion === null
      ? []
      : [{ memoryMb: size.memoryMb, meanMs: size.durationMs.mean, p99Ms: size.durationMs.p99, cost: size.costPerMillion[input.arch], clean: size.failures.length === 0 }],
  );
  const { cheapest, fastest, balanced, maxLatencyMs } = recommend(candidates, input.arch, input.maxLatencyMs);
  return {
    model: input.model,
    arch: input.arch,
    machine: input.machine,
    throttling: input.throttling,
    payload: input.payload,
    sizes,
    recommendations: { cheapest, fastest, balanced, maxLatencyMs },
    prices: { ...PRICES_NOTE },
    measuredAt: input.measuredAt.toISOString(),
  };
}

function ms(value: number | undefined | null): string {
  if (value === undefined || value === null) return '-';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function usd(value: number | undefined | null): string {
  if (value === undefined || value === null) return '-';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(3)}`;
}

function failuresText(failures: readonly Failure[]): string {
  if (failures.length === 0) return '';
  return failures.map((f) => `${f.count} ${f.kind}`).join(', ');
}

/** What the figures are, in a sentence, for the table's and the chart's captions. */
export function figuresNote(document: TuneDocument): string {
  const { throttling } = document;
  if (throttling.mode === 'aws') return `Measured on AWS Lambda (${document.arch}).`;
  if (throttling.mode === 'none') return `UNTHROTTLED: every figure is this machine at full speed, not Lambda's CPU share or memory limit (${throttling.reason ?? 'no control group'}).`;
  return `This machine's CPU (${document.machine}) held to Lambda's share of it by ${throttling.mode} (CPU quota per period of ${throttling.periodUs === undefined ? '?' : `${throttling.periodUs / 1000} ms`} or shorter, memory limit = size): the shape is the result, not the absolute figures.`;
}

/** The table printed at the end of a run, with its caption and the recommendations. */
export function tableText(document: TuneDocument): string {
  const rows = document.sizes.map((s) => [
    `${s.memoryMb} MB`,
    `${s.cpuShare.toFixed(3)}${s.capped ? ' capped' : ''}`,
    ms(s.initMs),
    ms(s.durationMs?.p50),
    ms(s.durationMs?.p90),
    ms(s.durationMs?.p99),
    ms(s.durationMs?.mean),
    ms(s.billedMs?.mean),
    s.peakMemoryMb === null ? '-' : `${s.peakMemoryMb.toFixed(0)} MB`,
    usd(s.costPerMillion?.arm64),
    usd(s.costPerMillion?.x86_64),
    `${s.warmInvocations}/${s.invocations}`,
    [failuresText(s.failures), s.stoppedEarly ?? ''].filter((part) => part !== '').join('; '),
  ]);
  const header = ['memory', 'vCPU', 'init ms', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms', 'billed ms', 'peak mem', 'arm64 $/M', 'x86_64 $/M', 'ok/runs', 'failures'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  const { recommendations: r } = document;
  const size = (memory: number | null) => (memory === null ? 'none' : `${memory} MB`);
  return [
    `${document.model} (${document.arch}), warm durations from the REPORT lines; $/M = USD per million requests, request fee included (prices as of ${document.prices.asOf}).`,
    figuresNote(document),
    '',
    line(header),
    ...rows.map(line),
    '',
    `cheapest: ${size(r.cheapest)}   fastest: ${size(r.fastest)}   balanced${r.maxLatencyMs === null ? '' : ` (p99 <= ${r.maxLatencyMs} ms)`}: ${size(r.balanced)}   (on ${document.arch} prices)`,
  ].join('\n');
}
