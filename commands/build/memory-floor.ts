/**
 * A bundle's memory floor, as `npm run tune -- --floor` records it in the bundle's memory-floor.json: the smallest
 * memory size at which the bundle's largest allowed request completed. The build copies it into build.json when it
 * was measured for the model file being built, so that synth can warn about an environment configured under it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MEMORY_FLOOR_FILE } from '../../functions/contract/build-record.js';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';

/** What the bundle's memory-floor.json says about the model being built. */
export type MemoryFloor =
  | { readonly kind: 'none' }
  | { readonly kind: 'measured'; readonly floorMb: number; readonly file: string }
  /** Measured for another model.onnx, or no size completed: not recorded, and the build says why. */
  | { readonly kind: 'unusable'; readonly reason: string };

export class MemoryFloorError extends Error {}

/** Reads `<modelDir>/memory-floor.json` for the model whose sha256 is `modelSha256`; throws on a malformed file. */
export function readMemoryFloor(modelDir: string, modelSha256: string): MemoryFloor {
  const file = path.join(modelDir, MEMORY_FLOOR_FILE);
  if (!existsSync(file)) return { kind: 'none' };
  const remeasure = `rerun npm run tune -- --floor --model ${modelDir}`;
  let record: { modelSha256?: unknown; memoryFloorMb?: unknown; measuredAt?: unknown };
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as typeof record;
  } catch (error) {
    throw new MemoryFloorError(`${file} is not JSON (${error instanceof Error ? error.message : String(error)}); ${remeasure}, or delete the file`);
  }
  if (typeof record !== 'object' || record === null || typeof record.modelSha256 !== 'string') {
    throw new MemoryFloorError(`${file} has no "modelSha256" naming the model it was measured for; ${remeasure}, or delete the file`);
  }
  const floor = record.memoryFloorMb;
  if (floor !== null && (typeof floor !== 'number' || !Number.isInteger(floor) || floor < LAMBDA_LIMITS.minMemoryMb || floor > LAMBDA_LIMITS.maxMemoryMb)) {
    throw new MemoryFloorError(`${file}: "memoryFloorMb" is ${JSON.stringify(floor)}; expected a whole number of MB from ${LAMBDA_LIMITS.minMemoryMb} to ${LAMBDA_LIMITS.maxMemoryMb}, or null; ${remeasure}`);
  }
  if (record.modelSha256 !== modelSha256) {
    return { kind: 'unusable', reason: `${file} was measured for another model.onnx (sha256 ${record.modelSha256.slice(0, 12)}…, this one is ${modelSha256.slice(0, 12)}…); ${remeasure}` };
  }
  if (floor === null) return { kind: 'unusable', reason: `${file}: no memory size tried answered the largest allowed request; lower maxBatch, or ${remeasure} with larger sizes` };
  return { kind: 'measured', floorMb: floor, file };
}
