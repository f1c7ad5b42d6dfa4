/**
 * What a million requests cost at a memory size, from the prices in commands/pricing/prices.ts: duration (billed
 * milliseconds times memory in GB times the price per GB-second of the architecture) plus the request fee. Init is
 * left out: it is billed per cold start, whose rate depends on the traffic (the cost advisor's business).
 */
import { ARCHES, type Arch } from '../../functions/contract/build-record.js';
import { LAMBDA_PRICES, MB_PER_GB } from '../pricing/prices.js';

/** USD per million requests on each architecture. */
export type CostPerMillion = Readonly<Record<Arch, number>>;

/** USD for one request billed `billedMs` at `memoryMb` on `arch`, the request fee included. */
export function requestCost(billedMs: number, memoryMb: number, arch: Arch): number {
  return (billedMs / 1000) * (memoryMb / MB_PER_GB) * LAMBDA_PRICES.gbSecond[arch] + LAMBDA_PRICES.perMillionRequests / 1e6;
}

/** USD per million requests whose mean billed duration is `meanBilledMs`, at `memoryMb`, on both architectures. */
export function costPerMillion(meanBilledMs: number, memoryMb: number): CostPerMillion {
  const entries = ARCHES.map((arch) => [arch, 1e6 * requestCost(meanBilledMs, memoryMb, arch)] as const);
  return Object.freeze(Object.fromEntries(entries) as Record<Arch, number>);
}

/** The prices' date and source, for the report. */
export const PRICES_NOTE = Object.freeze({ asOf: LAMBDA_PRICES.asOf, source: LAMBDA_PRICES.source });
