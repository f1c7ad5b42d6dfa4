/**
 * The memory floor (issue 15 part 3): the smallest memory size at which the bundle's largest allowed request
 * (maxBatch rows) completes. A binary search over candidate sizes, assuming that a request that completes at a size
 * completes at every larger one (more memory, and more CPU for the same timeout). Pure: the caller says whether a
 * size completes.
 */

export interface FloorProbe {
  readonly memoryMb: number;
  readonly completes: boolean;
  /** Why it did not complete (the failures, in words). */
  readonly reason?: string;
}

export interface FloorResult {
  /** The smallest candidate that completes; null when even the largest does not. */
  readonly floorMb: number | null;
  /** Every size tried, in the order tried. */
  readonly probes: readonly FloorProbe[];
}

/** Lambda sizes the floor search tries without --memory: 128 MB to 3,008 MB in 64 MB steps, and 3,008. */
export function floorCandidates(): number[] {
  const sizes: number[] = [];
  for (let mb = 128; mb < 3008; mb += 64) sizes.push(mb);
  sizes.push(3008);
  return sizes;
}

/** Binary search over `candidates` (ascending) for the smallest size whose probe completes. */
export async function findFloor(candidates: readonly number[], probe: (memoryMb: number) => Promise<FloorProbe>): Promise<FloorResult> {
  const probes: FloorProbe[] = [];
  let low = 0;
  let high = candidates.length - 1;
  let floor: number | null = null;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const result = await probe(candidates[middle]!);
    probes.push(result);
    if (result.completes) {
      floor = candidates[middle]!;
      high = middle - 1;
    } else low = middle + 1;
  }
  return { floorMb: floor, probes };
}
