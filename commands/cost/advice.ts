/**
 * The cost advisor's answer for one profile: every option's monthly bill with its lines, the break-even rates, and the
 * prices' dates and sources; then the same as a plain-text table for a terminal.
 */
import { FARGATE_PRICES, HOURS_PER_MONTH, LAMBDA_PC_PRICES, LAMBDA_PRICES, SAGEMAKER_SERVERLESS_PRICES } from '../pricing/prices.js';
import {
  breakEven,
  OPTION_TITLES,
  OPTIONS,
  optionCost,
  requestsPerMonth,
  type Assumptions,
  type BreakEven,
  type OptionCost,
  type OptionName,
  type Traffic,
  type Workload,
} from './model.js';

export type Alternative = Exclude<OptionName, 'lambda'>;

export interface PriceSource {
  readonly prices: string;
  readonly asOf: string;
  readonly source: string;
  readonly caveat?: string;
}

export interface Advice {
  readonly traffic: Traffic;
  readonly workload: Workload;
  readonly assumptions: Assumptions;
  readonly durationSource: string;
  readonly requestsPerMonth: number;
  readonly options: readonly (OptionCost & { readonly perMillionPredictions: number })[];
  readonly breakEvens: Readonly<Record<Alternative, BreakEven>>;
  readonly prices: readonly PriceSource[];
}

export const PRICE_SOURCES: readonly PriceSource[] = Object.freeze([
  { prices: 'Lambda on demand', asOf: LAMBDA_PRICES.asOf, source: LAMBDA_PRICES.source },
  { prices: 'Lambda provisioned concurrency', asOf: LAMBDA_PC_PRICES.asOf, source: LAMBDA_PC_PRICES.source, caveat: 'checked against Price List API transcriptions' },
  {
    prices: 'SageMaker Serverless Inference',
    asOf: SAGEMAKER_SERVERLESS_PRICES.asOf,
    source: SAGEMAKER_SERVERLESS_PRICES.source,
    caveat: 'compute price from secondary sources; data-processed price unverified; provisioned concurrency not priced',
  },
  { prices: 'Fargate', asOf: FARGATE_PRICES.asOf, source: FARGATE_PRICES.source, caveat: 'from secondary sources quoting AWS' },
]);

export const ALTERNATIVES: readonly Alternative[] = ['lambda-pc', 'sagemaker-serverless', 'fargate'];

export function advise(traffic: Traffic, workload: Workload, assumptions: Assumptions, durationSource: string): Advice {
  const requests = requestsPerMonth(traffic);
  const options = OPTIONS.map((option) => {
    const cost = optionCost(option, traffic, workload, assumptions);
    return { ...cost, perMillionPredictions: requests === 0 ? NaN : (cost.monthlyUsd / (requests * workload.rowsPerRequest)) * 1e6 };
  });
  const breakEvens = Object.fromEntries(ALTERNATIVES.map((option) => [option, breakEven(option, traffic, workload, assumptions)])) as Record<Alternative, BreakEven>;
  return { traffic, workload, assumptions, durationSource, requestsPerMonth: requests, options, breakEvens, prices: PRICE_SOURCES };
}

export function usd(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return `$${Math.round(value).toLocaleString('en-US')}`;
  if (value >= 1) return `$${value.toFixed(2)}`;
  if (value === 0) return '$0';
  return `$${value.toPrecision(3)}`;
}

export function rps(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(3)).toString();
}

export function breakEvenText(b: BreakEven): string {
  switch (b.kind) {
    case 'always':
      return 'at every rate';
    case 'never':
      return `at no rate up to ${rps(b.upToRps)} rps`;
    case 'at':
      return `above ${rps(b.rps)} rps${b.staysCheaper ? '' : ' (not at every rate above it: steps)'}`;
  }
}

/** The answer as text: profile, a table of options, break-evens, assumptions and where the prices come from. */
export function adviceText(advice: Advice): string {
  const { traffic: t, workload: w, assumptions: a } = advice;
  const lines = [
    `Traffic: ${rps(t.avgRps)} rps average (peak ${rps(t.peakRps)}), ${t.hoursPerDay} h a day, ${t.daysPerMonth} days a month: ${Math.round(advice.requestsPerMonth).toLocaleString('en-US')} requests, ${w.rowsPerRequest} row(s) each.`,
    `Workload: ${w.arch}, ${w.memoryMb} MB, ${fixed(w.durationMs)} ms busy and ${fixed(w.billedMs)} ms billed per request, ${w.initMs === undefined ? 'init not given' : `init ${fixed(w.initMs)} ms`}; from ${advice.durationSource}.`,
    '',
  ];
  const lambda = advice.options.find((o) => o.option === 'lambda')!;
  const rows = advice.options.map((o) => [
    OPTION_TITLES[o.option],
    usd(o.monthlyUsd),
    usd(o.perMillionPredictions),
    o.option === 'lambda' ? '' : ratio(o.monthlyUsd, lambda.monthlyUsd),
    o.option === 'lambda' ? '' : breakEvenText(advice.breakEvens[o.option]),
    o.notes.join('; '),
  ]);
  lines.push(...table(['option', 'a month', 'per M predictions', 'vs on demand', 'cheaper than on demand', 'notes'], rows), '');
  lines.push(
    'Assumptions:',
    `- Break-evens vary the average rate with the peak in the same proportion (${rps(t.peakRps)} / ${rps(t.avgRps)}), the rest as above.`,
    `- Provisioned concurrency: ceil(peak x duration / ${a.pcTargetUtilization}) units${a.pcUnits === undefined ? '' : ` (fixed: ${a.pcUnits})`}, billed all ${HOURS_PER_MONTH} h of the month.`,
    `- Cold starts on demand: arrivals after ${a.idleMinutes} idle minutes, plus the peak's environments once each active day; billed init = --init-ms.`,
    `- SageMaker Serverless: smallest memory size >= the function's, same billed duration, ${w.payloadBytes} bytes in and out per request.`,
    `- Fargate: tasks of ${a.taskVcpu} vCPU / ${a.taskMemoryGb} GB, ${a.taskConcurrency} request(s) at once each, busy at ${a.taskUtilization} at the peak, at least ${a.minTasks}, on all ${HOURS_PER_MONTH} h, same duration as Lambda.`,
    '- Not included: API Gateway or a load balancer in front, data transfer, CloudWatch Logs, free tiers, Savings Plans.',
    '',
    'Prices (us-east-1):',
    ...advice.prices.map((p) => `- ${p.prices}: as of ${p.asOf}, ${p.source}${p.caveat === undefined ? '' : ` (${p.caveat})`}`),
  );
  return lines.join('\n');
}

/** The answer as JSON-safe data: Infinity and NaN become null. */
export function adviceJson(advice: Advice): unknown {
  return JSON.parse(JSON.stringify(advice, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value)));
}

function ratio(value: number, base: number): string {
  if (!Number.isFinite(value) || base === 0) return 'n/a';
  return `${(value / base).toPrecision(3)}x`;
}

function fixed(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 1 || i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((n) => '-'.repeat(n))), ...rows.map(line)];
}
