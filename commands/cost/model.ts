/**
 * The cost advisor's arithmetic, pure: the monthly bill of one traffic profile on Lambda on demand, Lambda with
 * provisioned concurrency, SageMaker Serverless Inference and an always-on Fargate service, and the average rate at
 * which each alternative becomes cheaper than Lambda on demand. Every price comes from commands/pricing/prices.ts.
 */
import type { Arch } from '../../functions/contract/build-record.js';
import {
  FARGATE_PRICES,
  HOURS_PER_MONTH,
  LAMBDA_PC_PRICES,
  LAMBDA_PRICES,
  MB_PER_GB,
  SAGEMAKER_SERVERLESS_PRICES,
} from '../pricing/prices.js';

/** When traffic arrives: `avgRps` on average over the active hours, none outside them. */
export interface Traffic {
  readonly avgRps: number;
  /** The highest rate to be served without queueing; sizes provisioned concurrency and Fargate. */
  readonly peakRps: number;
  readonly hoursPerDay: number;
  readonly daysPerMonth: number;
}

/** What one request costs the function, measured. */
export interface Workload {
  readonly arch: Arch;
  readonly memoryMb: number;
  /** Mean time an execution environment is busy per request, ms: what sizes concurrency. */
  readonly durationMs: number;
  /** Mean billed duration per request, ms (Lambda bills whole ms, at least 1). */
  readonly billedMs: number;
  /** Billed INIT per cold start, ms; undefined leaves cold starts counted but not priced. */
  readonly initMs: number | undefined;
  readonly rowsPerRequest: number;
  /** Request plus response bytes, for SageMaker's data-processed charge. */
  readonly payloadBytes: number;
}

/** The sizing assumptions, each a flag with a documented default (docs/COST.md). */
export interface Assumptions {
  /** Share of provisioned concurrency busy at the peak: units = ceil(peak concurrency / this). */
  readonly pcTargetUtilization: number;
  /** A fixed number of provisioned concurrency units instead of the sized one (then spill-over is possible). */
  readonly pcUnits: number | undefined;
  /** Minutes an idle execution environment is kept before Lambda reclaims it (AWS does not publish it). */
  readonly idleMinutes: number;
  readonly taskVcpu: number;
  readonly taskMemoryGb: number;
  /** Requests one Fargate task serves at once. */
  readonly taskConcurrency: number;
  /** Share of a task's concurrency busy at the peak. */
  readonly taskUtilization: number;
  readonly minTasks: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = Object.freeze({
  pcTargetUtilization: 0.7,
  pcUnits: undefined,
  idleMinutes: 10,
  taskVcpu: 1,
  taskMemoryGb: 2,
  taskConcurrency: 1,
  taskUtilization: 0.7,
  minTasks: 1,
});

export const OPTIONS = ['lambda', 'lambda-pc', 'sagemaker-serverless', 'fargate'] as const;
export type OptionName = (typeof OPTIONS)[number];

export const OPTION_TITLES: Readonly<Record<OptionName, string>> = Object.freeze({
  lambda: 'Lambda on demand',
  'lambda-pc': 'Lambda + provisioned concurrency',
  'sagemaker-serverless': 'SageMaker Serverless Inference',
  fargate: 'Fargate, always on',
});

export interface CostLine {
  readonly item: string;
  readonly usd: number;
}

export interface OptionCost {
  readonly option: OptionName;
  /** USD a month; Infinity when the option cannot serve the workload (see notes). */
  readonly monthlyUsd: number;
  readonly lines: readonly CostLine[];
  readonly notes: readonly string[];
}

const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;

export function requestsPerMonth(traffic: Traffic): number {
  return traffic.avgRps * 3600 * traffic.hoursPerDay * traffic.daysPerMonth;
}

function gb(memoryMb: number): number {
  return memoryMb / MB_PER_GB;
}

/**
 * Cold starts a month on demand, a stated model: an arrival after a silence longer than the idle timeout finds no
 * warm environment (Poisson arrivals at the average rate: requests x e^(-rate x timeout)), and every active day
 * starts the environments its peak needs (ceil(peak x duration)) once, for the quiet night or Lambda's recycling.
 */
export function coldStartsPerMonth(traffic: Traffic, workload: Workload, assumptions: Assumptions): number {
  const requests = requestsPerMonth(traffic);
  if (requests === 0) return 0;
  const afterSilence = requests * Math.exp(-traffic.avgRps * assumptions.idleMinutes * 60);
  const daily = traffic.daysPerMonth * Math.max(1, Math.ceil((traffic.peakRps * workload.durationMs) / 1000));
  return Math.min(requests, afterSilence + daily);
}

export function lambdaOnDemand(traffic: Traffic, workload: Workload, assumptions: Assumptions): OptionCost {
  const requests = requestsPerMonth(traffic);
  const gbSecond = LAMBDA_PRICES.gbSecond[workload.arch];
  const coldStarts = coldStartsPerMonth(traffic, workload, assumptions);
  const lines: CostLine[] = [
    { item: 'requests', usd: (requests * LAMBDA_PRICES.perMillionRequests) / 1e6 },
    { item: 'duration', usd: requests * (workload.billedMs / 1000) * gb(workload.memoryMb) * gbSecond },
  ];
  const notes = [`${Math.round(coldStarts).toLocaleString('en-US')} cold starts a month (model in docs/COST.md)`];
  if (workload.initMs === undefined) notes.push('cold starts not priced: no init duration (pass --init-ms or --tune)');
  else lines.push({ item: 'init (cold starts)', usd: coldStarts * (workload.initMs / 1000) * gb(workload.memoryMb) * gbSecond });
  return { option: 'lambda', monthlyUsd: sum(lines), lines, notes };
}

/** Provisioned concurrency units sized for the peak: ceil(peak x duration / target utilization), at least 1. */
export function pcUnitsFor(traffic: Traffic, workload: Workload, assumptions: Assumptions): number {
  return assumptions.pcUnits ?? Math.max(1, Math.ceil((traffic.peakRps * workload.durationMs) / 1000 / assumptions.pcTargetUtilization));
}

export function lambdaProvisioned(traffic: Traffic, workload: Workload, assumptions: Assumptions): OptionCost {
  const requests = requestsPerMonth(traffic);
  const units = pcUnitsFor(traffic, workload, assumptions);
  const averageConcurrency = (traffic.avgRps * workload.durationMs) / 1000;
  // Requests beyond the configured concurrency run on demand, at on-demand prices (and cold starts, not priced).
  const spillShare = averageConcurrency > units ? 1 - units / averageConcurrency : 0;
  const billedGbSeconds = requests * (workload.billedMs / 1000) * gb(workload.memoryMb);
  const lines: CostLine[] = [
    { item: `provisioned concurrency (${units} x ${workload.memoryMb} MB, ${HOURS_PER_MONTH} h)`, usd: units * gb(workload.memoryMb) * SECONDS_PER_MONTH * LAMBDA_PC_PRICES.pcGbSecond[workload.arch] },
    { item: 'requests', usd: (requests * LAMBDA_PRICES.perMillionRequests) / 1e6 },
    { item: 'duration on provisioned concurrency', usd: (1 - spillShare) * billedGbSeconds * LAMBDA_PC_PRICES.durationGbSecond[workload.arch] },
  ];
  if (spillShare > 0) lines.push({ item: 'spill-over on demand', usd: spillShare * billedGbSeconds * LAMBDA_PRICES.gbSecond[workload.arch] });
  const notes = [`${units} unit(s), on all ${HOURS_PER_MONTH} hours of the month`];
  if (spillShare > 0) notes.push(`${(100 * spillShare).toFixed(1)}% of requests spill over to on demand`);
  return { option: 'lambda-pc', monthlyUsd: sum(lines), lines, notes };
}

/** The smallest SageMaker Serverless memory size that holds the function's memory, or undefined above 6144 MB. */
export function sagemakerMemoryFor(memoryMb: number): number | undefined {
  return SAGEMAKER_SERVERLESS_PRICES.memorySizesMb.find((size) => size >= memoryMb);
}

export function sagemakerServerless(traffic: Traffic, workload: Workload): OptionCost {
  const memoryMb = sagemakerMemoryFor(workload.memoryMb);
  if (memoryMb === undefined) {
    return { option: 'sagemaker-serverless', monthlyUsd: Infinity, lines: [], notes: [`${workload.memoryMb} MB is over Serverless Inference's largest size, 6144 MB`] };
  }
  const requests = requestsPerMonth(traffic);
  const lines: CostLine[] = [
    { item: `inference (${memoryMb} MB)`, usd: requests * (workload.billedMs / 1000) * gb(memoryMb) * SAGEMAKER_SERVERLESS_PRICES.perSecondPerGb },
    { item: 'data processed', usd: (requests * workload.payloadBytes * SAGEMAKER_SERVERLESS_PRICES.dataProcessedPerGb) / 2 ** 30 },
  ];
  const notes = [`${memoryMb} MB endpoint; the same billed duration as Lambda assumed; cold starts not priced`];
  const peakConcurrency = (traffic.peakRps * workload.durationMs) / 1000;
  if (peakConcurrency > 200) notes.push(`peak concurrency ${peakConcurrency.toFixed(0)} is over one endpoint's maximum, 200`);
  return { option: 'sagemaker-serverless', monthlyUsd: sum(lines), lines, notes };
}

/** Fargate tasks for the peak: each serves `taskConcurrency` requests at once, busy at `taskUtilization`. */
export function fargateTasksFor(traffic: Traffic, workload: Workload, assumptions: Assumptions): number {
  const perTaskRps = (assumptions.taskConcurrency * assumptions.taskUtilization) / (workload.durationMs / 1000);
  return Math.max(assumptions.minTasks, Math.ceil(traffic.peakRps / perTaskRps));
}

export function fargate(traffic: Traffic, workload: Workload, assumptions: Assumptions): OptionCost {
  const tasks = fargateTasksFor(traffic, workload, assumptions);
  const hourly = assumptions.taskVcpu * FARGATE_PRICES.vcpuHour[workload.arch] + assumptions.taskMemoryGb * FARGATE_PRICES.gbHour[workload.arch];
  const lines: CostLine[] = [{ item: `${tasks} task(s) of ${assumptions.taskVcpu} vCPU / ${assumptions.taskMemoryGb} GB, ${HOURS_PER_MONTH} h`, usd: tasks * HOURS_PER_MONTH * hourly }];
  return { option: 'fargate', monthlyUsd: sum(lines), lines, notes: [`${tasks} task(s), always on; load balancer not included`] };
}

export function optionCost(option: OptionName, traffic: Traffic, workload: Workload, assumptions: Assumptions): OptionCost {
  switch (option) {
    case 'lambda':
      return lambdaOnDemand(traffic, workload, assumptions);
    case 'lambda-pc':
      return lambdaProvisioned(traffic, workload, assumptions);
    case 'sagemaker-serverless':
      return sagemakerServerless(traffic, workload);
    case 'fargate':
      return fargate(traffic, workload, assumptions);
  }
}

/** The profile at another average rate, its peak kept in the same proportion to the average. */
export function atRate(traffic: Traffic, avgRps: number): Traffic {
  const ratio = traffic.avgRps > 0 ? traffic.peakRps / traffic.avgRps : 1;
  return { ...traffic, avgRps, peakRps: avgRps * ratio };
}

/** Where an alternative becomes cheaper than Lambda on demand, as the average rate grows (peak in proportion). */
export type BreakEven =
  | { readonly kind: 'always'; readonly belowRps: number }
  | { readonly kind: 'never'; readonly upToRps: number }
  | { readonly kind: 'at'; readonly rps: number; readonly staysCheaper: boolean };

/** The rates the break-even search covers. */
export const SEARCH_RANGE = Object.freeze({ minRps: 1e-4, maxRps: 1e6 });

const GRID_PER_DECADE = 40;
const MAX_STEP_POINTS = 20_000;

/**
 * Solves cost(alternative) = cost(Lambda on demand) for the average rate. Between the points where provisioned
 * units or Fargate tasks step up (each step point included while there are at most 20,000) and a log grid of 40
 * points a decade, the difference is continuous; the first interval where it turns negative is bisected to 1e-9
 * relative. "always": cheaper already at the lowest rate; "never": not cheaper up to the highest.
 */
export function breakEven(option: Exclude<OptionName, 'lambda'>, traffic: Traffic, workload: Workload, assumptions: Assumptions): BreakEven {
  const diff = (rps: number): number => {
    const at = atRate(traffic, rps);
    return optionCost(option, at, workload, assumptions).monthlyUsd - lambdaOnDemand(at, workload, assumptions).monthlyUsd;
  };
  const points = searchPoints(option, traffic, workload, assumptions);
  if (diff(points[0]!) < 0) return { kind: 'always', belowRps: points[0]! };
  for (let i = 1; i < points.length; i++) {
    if (diff(points[i]!) >= 0) continue;
    let low = points[i - 1]!;
    let high = points[i]!;
    while ((high - low) / high > 1e-9) {
      const mid = (low + high) / 2;
      if (diff(mid) < 0) high = mid;
      else low = mid;
    }
    const staysCheaper = points.slice(i).every((p) => diff(p) < 0);
    return { kind: 'at', rps: high, staysCheaper };
  }
  return { kind: 'never', upToRps: SEARCH_RANGE.maxRps };
}

function searchPoints(option: OptionName, traffic: Traffic, workload: Workload, assumptions: Assumptions): number[] {
  const { minRps, maxRps } = SEARCH_RANGE;
  const points = new Set<number>();
  const decades = Math.log10(maxRps / minRps);
  for (let i = 0; i <= decades * GRID_PER_DECADE; i++) points.add(minRps * 10 ** (i / GRID_PER_DECADE));
  const ratio = traffic.avgRps > 0 ? traffic.peakRps / traffic.avgRps : 1;
  // The average rates at which one more unit or task is needed: the functions jump just after these.
  let stepRps: number | undefined;
  if (option === 'lambda-pc' && assumptions.pcUnits === undefined) stepRps = (assumptions.pcTargetUtilization * 1000) / (workload.durationMs * ratio);
  if (option === 'fargate') stepRps = (assumptions.taskConcurrency * assumptions.taskUtilization * 1000) / (workload.durationMs * ratio);
  if (stepRps !== undefined) {
    for (let k = 1; k <= MAX_STEP_POINTS && k * stepRps <= maxRps; k++) {
      if (k * stepRps < minRps) continue;
      points.add(k * stepRps);
      points.add(k * stepRps * (1 + 1e-12));
    }
  }
  return [...points].sort((a, b) => a - b);
}

function sum(lines: readonly CostLine[]): number {
  return lines.reduce((total, line) => total + line.usd, 0);
}
