/**
 * Lambda's CPU for a memory size: CPU grows in proportion to memory, one full vCPU at 1,769 MB, up to six vCPUs at
 * 10,240 MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). The local tuner gives the
 * emulated function this share of one of this machine's cores; a share beyond the machine's cores is measured at the
 * cores there are and labelled "capped".
 */
import { ONE_VCPU_MEMORY_MB } from '../../functions/contract/lambda-limits.js';

/** The most vCPUs a Lambda function gets (at 10,240 MB). */
export const MAX_LAMBDA_VCPUS = 6;

/** Lambda's vCPUs at `memoryMb`, as a share of one vCPU: 0.579 at 1,024 MB, 1 at 1,769 MB, 6 at most. */
export function lambdaCpuShare(memoryMb: number): number {
  return Math.min(memoryMb / ONE_VCPU_MEMORY_MB, MAX_LAMBDA_VCPUS);
}

/** The share a machine with `cores` cores can give, and whether it had to give less than Lambda's. */
export function localCpuShare(memoryMb: number, cores: number): { readonly share: number; readonly capped: boolean } {
  const lambda = lambdaCpuShare(memoryMb);
  return lambda > cores ? { share: cores, capped: true } : { share: lambda, capped: false };
}
