/**
 * `npm run cost -- ...` flags, parsed with node:util parseArgs into frozen CostOptions. Every error names the flag, the
 * value and what is expected (exit 1).
 */
import { parseArgs } from 'node:util';
import { ARCHES, DEFAULT_ARCH, type Arch } from '../../functions/contract/build-record.js';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';
import { CostError, CostUsageError } from './errors.js';
import { DEFAULT_ASSUMPTIONS, type Assumptions, type Traffic, type Workload } from './model.js';
import { readTuneFile } from './tune-file.js';

export const FARGATE_VCPUS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

/** Request plus response bytes assumed when --payload-bytes is not given. */
export const DEFAULT_PAYLOAD_BYTES = 2048;

const d = DEFAULT_ASSUMPTIONS;

export const USAGE = `usage: npm run cost -- --rps <avg> [--peak <rps>] (--duration-ms <ms> --memory <MB> | --tune <tune.json>) [options]

traffic
  --rps <n>                  average requests per second over the active hours (required)
  --peak <n>                 the highest rate to serve without queueing; sizes provisioned concurrency and Fargate
                             (default: --rps)
  --hours-per-day <h>        active hours a day, 0 < h <= 24; no traffic outside them (default: 24)
  --days <d>                 active days a month, 0 < d <= 31 (default: 30)
  --rows-per-request <n>     rows (predictions) per request, for the cost per million predictions (default: 1)
  --payload-bytes <n>        request plus response bytes, for SageMaker's data-processed charge (default: ${DEFAULT_PAYLOAD_BYTES})

workload (one of)
  --duration-ms <ms> --memory <MB>   mean duration per request at that memory size; billed as whole ms
  --tune <file>              the JSON of npm run tune -- --json: the size --memory names, else its "balanced"
                             recommendation, at its mean billed duration and its init
  --init-ms <ms>             billed INIT per cold start (default: the tune file's; without it cold starts are counted,
                             not priced)
  --arch arm64|x86_64        prices for this architecture (default: the tune file's, else ${DEFAULT_ARCH})

assumptions
  --pc-utilization <u>       share of provisioned concurrency busy at the peak, 0 < u <= 1 (default: ${d.pcTargetUtilization})
  --pc-units <n>             configure n units instead of sizing them for the peak (spill-over runs on demand)
  --idle-minutes <m>         minutes before Lambda reclaims an idle environment (default: ${d.idleMinutes}; not published)
  --task-vcpu <n>            Fargate task vCPU: ${FARGATE_VCPUS.join(', ')} (default: ${d.taskVcpu})
  --task-memory-gb <n>       Fargate task memory, GB (default: ${d.taskMemoryGb})
  --task-concurrency <n>     requests one task serves at once (default: ${d.taskConcurrency}: one inference at a time)
  --task-utilization <u>     share of a task's concurrency busy at the peak (default: ${d.taskUtilization})
  --min-tasks <n>            tasks always running, at least 1 (default: ${d.minTasks})

output
  --json                     the whole answer as one JSON object on stdout
  --svg <file>               draw monthly cost against the average rate, break-evens and this profile marked
  --help

exit: 0 answered, 1 bad input (the message names the flag)`;

export interface CostOptions {
  readonly traffic: Traffic;
  readonly workload: Workload;
  readonly assumptions: Assumptions;
  /** Where the durations came from, for the report. */
  readonly durationSource: string;
  readonly json: boolean;
  readonly svg: string | undefined;
}

export type Parsed = { readonly help: true } | ({ readonly help: false } & CostOptions);

export function parseCostArgs(argv: readonly string[]): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        rps: { type: 'string' },
        peak: { type: 'string' },
        'hours-per-day': { type: 'string' },
        days: { type: 'string' },
        'rows-per-request': { type: 'string' },
        'payload-bytes': { type: 'string' },
        'duration-ms': { type: 'string' },
        memory: { type: 'string' },
        tune: { type: 'string' },
        'init-ms': { type: 'string' },
        arch: { type: 'string' },
        'pc-utilization': { type: 'string' },
        'pc-units': { type: 'string' },
        'idle-minutes': { type: 'string' },
        'task-vcpu': { type: 'string' },
        'task-memory-gb': { type: 'string' },
        'task-concurrency': { type: 'string' },
        'task-utilization': { type: 'string' },
        'min-tasks': { type: 'string' },
        json: { type: 'boolean', default: false },
        svg: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new CostError(`${(error as Error).message}; see npm run cost -- --help`);
  }
  if (values.help) return { help: true };

  const avgRps = number(values, 'rps', undefined, { min: 0, expected: 'requests per second, 0 or more' });
  const peakRps = number(values, 'peak', avgRps, { min: 0, expected: 'requests per second, 0 or more' });
  if (peakRps < avgRps) throw new CostUsageError('peak', values.peak, `a rate at least the average (--rps ${avgRps}), or leave it out`);
  const hoursPerDay = number(values, 'hours-per-day', 24, { min: 0, exclusiveMin: true, max: 24, expected: 'hours a day, above 0 and at most 24' });
  const daysPerMonth = number(values, 'days', 30, { min: 0, exclusiveMin: true, max: 31, expected: 'days a month, above 0 and at most 31' });
  const rowsPerRequest = integer(values, 'rows-per-request', 1, 1, 'a whole number of rows, 1 or more');
  const payloadBytes = integer(values, 'payload-bytes', DEFAULT_PAYLOAD_BYTES, 0, 'a whole number of bytes, 0 or more');

  const memoryFlag = values.memory === undefined ? undefined : memory(values.memory);
  let arch: Arch | undefined;
  if (values.arch !== undefined) {
    if (!(ARCHES as readonly string[]).includes(values.arch)) throw new CostUsageError('arch', values.arch, ARCHES.join(' or '));
    arch = values.arch as Arch;
  }
  let initMs = values['init-ms'] === undefined ? undefined : number(values, 'init-ms', undefined, { min: 0, expected: 'ms, 0 or more' });
  let memoryMb: number;
  let durationMs: number;
  let billedMs: number;
  let durationSource: string;
  if (values.tune !== undefined) {
    if (values['duration-ms'] !== undefined) throw new CostUsageError('duration-ms', values['duration-ms'], 'no value with --tune, which gives the durations');
    const choice = readTuneFile(values.tune, memoryFlag);
    memoryMb = choice.size.memoryMb;
    durationMs = choice.size.meanDurationMs;
    billedMs = choice.size.meanBilledMs;
    initMs ??= choice.size.initMs;
    arch ??= choice.arch;
    durationSource = `${values.tune} (${choice.model}, ${choice.arch}, ${memoryMb} MB chosen by ${choice.chosenBy}; mean billed duration${choice.size.failures === 0 ? '' : `; WARNING: ${choice.size.failures} failure(s) at this size in the tune run`})`;
  } else {
    if (values['duration-ms'] === undefined) throw new CostUsageError('duration-ms', undefined, 'the mean duration per request in ms (with --memory), or --tune <file>');
    if (memoryFlag === undefined) throw new CostUsageError('memory', undefined, 'the memory size in MB the duration was measured at (with --duration-ms)');
    memoryMb = memoryFlag;
    durationMs = number(values, 'duration-ms', undefined, { min: 0, exclusiveMin: true, expected: 'ms above 0' });
    billedMs = Math.max(1, Math.ceil(durationMs));
    durationSource = `--duration-ms ${durationMs} at --memory ${memoryMb}`;
  }

  const taskVcpu = number(values, 'task-vcpu', d.taskVcpu, { min: 0, expected: FARGATE_VCPUS.join(', ') });
  if (!(FARGATE_VCPUS as readonly number[]).includes(taskVcpu)) throw new CostUsageError('task-vcpu', values['task-vcpu'], `one of Fargate's sizes: ${FARGATE_VCPUS.join(', ')}`);
  const assumptions: Assumptions = Object.freeze({
    pcTargetUtilization: number(values, 'pc-utilization', d.pcTargetUtilization, { min: 0, exclusiveMin: true, max: 1, expected: 'a share above 0 and at most 1' }),
    pcUnits: values['pc-units'] === undefined ? undefined : integer(values, 'pc-units', 1, 1, 'a whole number of units, 1 or more'),
    idleMinutes: number(values, 'idle-minutes', d.idleMinutes, { min: 0, exclusiveMin: true, expected: 'minutes above 0' }),
    taskVcpu,
    taskMemoryGb: number(values, 'task-memory-gb', d.taskMemoryGb, { min: 0.5, max: 120, expected: 'GB from 0.5 to 120' }),
    taskConcurrency: integer(values, 'task-concurrency', d.taskConcurrency, 1, 'a whole number of requests, 1 or more'),
    taskUtilization: number(values, 'task-utilization', d.taskUtilization, { min: 0, exclusiveMin: true, max: 1, expected: 'a share above 0 and at most 1' }),
    minTasks: integer(values, 'min-tasks', d.minTasks, 1, 'a whole number of tasks, 1 or more'),
  });
  return Object.freeze({
    help: false as const,
    traffic: Object.freeze({ avgRps, peakRps, hoursPerDay, daysPerMonth }),
    workload: Object.freeze({ arch: arch ?? DEFAULT_ARCH, memoryMb, durationMs, billedMs, initMs, rowsPerRequest, payloadBytes }),
    assumptions,
    durationSource,
    json: values.json,
    svg: values.svg,
  });
}

/** `--rps -3` reaches the range check (and its message) instead of parseArgs's "ambiguous argument" error. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg.startsWith('--') && !arg.includes('=') && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

interface Range {
  readonly min: number;
  readonly exclusiveMin?: boolean;
  readonly max?: number;
  readonly expected: string;
}

function number(values: Record<string, unknown>, flag: string, fallback: number | undefined, range: Range): number {
  const raw = values[flag];
  if (raw === undefined) {
    if (fallback === undefined) throw new CostUsageError(flag, undefined, range.expected);
    return fallback;
  }
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  const tooLow = range.exclusiveMin ? value <= range.min : value < range.min;
  if (!Number.isFinite(value) || tooLow || (range.max !== undefined && value > range.max)) throw new CostUsageError(flag, raw, range.expected);
  return value;
}

function integer(values: Record<string, unknown>, flag: string, fallback: number, min: number, expected: string): number {
  const value = number(values, flag, fallback, { min, expected });
  if (!Number.isInteger(value)) throw new CostUsageError(flag, values[flag], expected);
  return value;
}

function memory(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < LAMBDA_LIMITS.minMemoryMb || value > LAMBDA_LIMITS.maxMemoryMb) {
    throw new CostUsageError('memory', raw, `a whole number of MB from ${LAMBDA_LIMITS.minMemoryMb} to ${LAMBDA_LIMITS.maxMemoryMb}`);
  }
  return value;
}
