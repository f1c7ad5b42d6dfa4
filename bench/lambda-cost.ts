/**
 * An estimate, not a measurement: what Lambda would charge per million predictions for the durations the bench
 * measured, at 512 to 3008 MB, on arm64 and x86_64, with AWS's published us-east-1 prices. Written as a Markdown
 * table here and as a chart by bench/charts.ts.
 *
 * The model: a function gets CPU in proportion to its memory, one vCPU at 1,769 MB, so a single-threaded request
 * that takes d ms on one full core takes about d * max(1, 1769 / M) ms at M MB (more memory than 1,769 MB adds a
 * second vCPU, which one inference thread does not use). Lambda bills whole milliseconds, at least one. The input
 * durations are the emulator's warm REPORT Durations at 1,769 MB; the bench's core is taken as one Lambda vCPU of
 * either architecture; arm64 was not measured.
 */
import { ARCHES, type Arch } from '../functions/contract/build-record.js';
import { LAMBDA_PRICES, MB_PER_GB } from '../commands/pricing/prices.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';

/** The Lambda prices the table uses (commands/pricing/prices.ts). */
export const PRICING = LAMBDA_PRICES;

export const MEMORY_SIZES = [512, 1024, 1536, ONE_VCPU_MEMORY_MB, 2048, 3008] as const;

/** One measured workload the table prices. */
export interface CostInput {
  readonly name: string;
  /** Billed duration per request on one full core before rounding (REPORT Duration at 1,769 MB), ms. */
  readonly durationMs: number;
  readonly predictionsPerRequest: number;
  /** Bytes of EMF log written per request. */
  readonly logBytesPerRequest: number;
}

export interface CostRow {
  readonly input: string;
  readonly predictionsPerRequest: number;
  readonly arch: Arch;
  readonly memoryMb: number;
  /** Modelled handler time at this memory size, ms. */
  readonly durationMs: number;
  readonly billedMs: number;
  /** USD per million predictions: duration plus request charges. */
  readonly lambdaPerMillion: number;
  /** USD per million predictions for the EMF log lines' ingestion. */
  readonly logsPerMillion: number;
}

export function cpuScale(memoryMb: number): number {
  return Math.max(1, ONE_VCPU_MEMORY_MB / memoryMb);
}

export function costRows(inputs: readonly CostInput[]): CostRow[] {
  const rows: CostRow[] = [];
  for (const input of inputs) {
    const requestsPerMillion = 1e6 / input.predictionsPerRequest;
    for (const arch of ARCHES) {
      for (const memoryMb of MEMORY_SIZES) {
        const durationMs = input.durationMs * cpuScale(memoryMb);
        const billedMs = Math.max(1, Math.ceil(durationMs));
        const perRequest = (billedMs / 1000) * (memoryMb / MB_PER_GB) * PRICING.gbSecond[arch] + PRICING.perMillionRequests / 1e6;
        rows.push({
          input: input.name,
          predictionsPerRequest: input.predictionsPerRequest,
          arch,
          memoryMb,
          durationMs,
          billedMs,
          lambdaPerMillion: requestsPerMillion * perRequest,
          logsPerMillion: (requestsPerMillion * input.logBytesPerRequest * PRICING.logsPerGb) / 2 ** 30,
        });
      }
    }
  }
  return rows;
}

/** USD for one cold start's billed init of `initMs` (measured on one core) at each memory size. */
export function initCost(initMs: number, arch: Arch, memoryMb: number): number {
  return ((initMs * cpuScale(memoryMb)) / 1000) * (memoryMb / MB_PER_GB) * PRICING.gbSecond[arch];
}

function usd(value: number): string {
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(3)}`;
}

/** The Markdown table of `rows` at the given memory sizes (all of MEMORY_SIZES unless told). */
export function costMarkdown(rows: readonly CostRow[], initMs: number, sizes: readonly number[] = MEMORY_SIZES): string {
  const lines = [
    `| workload | memory | modelled duration | billed | arm64 $/M predictions | x86_64 $/M predictions | EMF logs $/M | init, arm64 / x86_64, per 1,000 cold starts |`,
    `|---|---|---|---|---|---|---|---|`,
  ];
  const inputs = [...new Set(rows.map((r) => r.input))];
  for (const input of inputs) {
    for (const memoryMb of sizes) {
      const arm = rows.find((r) => r.input === input && r.memoryMb === memoryMb && r.arch === 'arm64')!;
      const x86 = rows.find((r) => r.input === input && r.memoryMb === memoryMb && r.arch === 'x86_64')!;
      lines.push(
        `| ${input} | ${memoryMb} MB | ${arm.durationMs < 1 ? arm.durationMs.toFixed(3) : arm.durationMs.toFixed(1)} ms | ${arm.billedMs} ms | ${usd(arm.lambdaPerMillion)} | ${usd(x86.lambdaPerMillion)} | ${usd(arm.logsPerMillion)} | ${usd(1000 * initCost(initMs, 'arm64', memoryMb))} / ${usd(1000 * initCost(initMs, 'x86_64', memoryMb))} |`,
      );
    }
  }
  return lines.join('\n');
}
