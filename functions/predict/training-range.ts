/**
 * The online half of drift: the share of a request's values outside the range the model saw in training, from the
 * bundle's baseline.json (contract/capture.ts), written as the OutOfTrainingRange metric on every prediction. Only
 * the ranges are read here; `npm run drift` compares whole distributions offline.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BASELINE_FILE, BASELINE_TYPE } from '../contract/capture.js';
import type { Manifest } from './manifest.js';
import type { InputTensors } from './predict-request.js';

/** One feature's (a column of a rank-2 input) or one whole input tensor's training range. */
export interface TrainingRange {
  readonly input: string;
  /** The column of a tabular input; undefined: every value of the tensor. */
  readonly column: number | undefined;
  readonly min: number;
  readonly max: number;
}

/** The ranges, or why there are none (said once in the log). */
export type TrainingRanges = { readonly ok: true; readonly ranges: readonly TrainingRange[] } | { readonly ok: false; readonly reason: string };

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** The ranges of a parsed baseline.json, checked against the manifest of the model it must describe. */
export function trainingRanges(json: unknown, manifest: Manifest): TrainingRanges {
  const baseline = json as { _type?: unknown; model?: { name?: unknown; version?: unknown }; inputs?: unknown } | null;
  if (typeof baseline !== 'object' || baseline === null || baseline._type !== BASELINE_TYPE || !Array.isArray(baseline.inputs)) {
    return { ok: false, reason: `${BASELINE_FILE} is not a training baseline (no "_type": "${BASELINE_TYPE}" with inputs)` };
  }
  if (baseline.model?.name !== manifest.name || baseline.model.version !== manifest.version) {
    return { ok: false, reason: `${BASELINE_FILE} describes ${String(baseline.model?.name)}@${String(baseline.model?.version)}, not ${manifest.name}@${manifest.version}; rerun models/train/baseline.py or npm run bundle -- --baseline-from` };
  }
  const ranges: TrainingRange[] = [];
  for (const entry of baseline.inputs as { input?: unknown; column?: unknown; summary?: { min?: unknown; max?: unknown } }[]) {
    const { input, column, summary } = entry;
    if (typeof input !== 'string' || !finite(summary?.min) || !finite(summary.max) || (column !== undefined && !(Number.isInteger(column) && (column as number) >= 0))) {
      return { ok: false, reason: `${BASELINE_FILE} has an input without a name, a whole column or a finite min and max` };
    }
    ranges.push({ input, column: column as number | undefined, min: summary.min, max: summary.max });
  }
  return ranges.length === 0 ? { ok: false, reason: `${BASELINE_FILE} has no input ranges` } : { ok: true, ranges };
}

/** Reads `<modelDir>/baseline.json`; a bundle without one gives the reason, and the metric stays off. */
export async function readTrainingRanges(modelDir: string, manifest: Manifest): Promise<TrainingRanges> {
  let text: string;
  try {
    text = await readFile(path.join(modelDir, BASELINE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: `the bundle has no ${BASELINE_FILE}` };
    return { ok: false, reason: `${BASELINE_FILE} cannot be read (${(error as Error).message})` };
  }
  try {
    return trainingRanges(JSON.parse(text), manifest);
  } catch {
    return { ok: false, reason: `${BASELINE_FILE} is not valid JSON` };
  }
}

/**
 * The percentage of the request's numeric values that fall outside their training range, over every range the
 * baseline gives; undefined when none of its inputs is in the request or holds numbers.
 */
export function outOfRangePercent(ranges: readonly TrainingRange[], inputs: InputTensors): number | undefined {
  let total = 0;
  let outside = 0;
  for (const range of ranges) {
    const tensor = inputs.tensors.get(range.input);
    if (tensor === undefined || tensor.type === 'string') continue;
    const data = tensor.data as ArrayLike<number | bigint | boolean>;
    const width = range.column === undefined ? 1 : (tensor.dims[1] ?? 0);
    if (range.column !== undefined && (tensor.dims.length !== 2 || range.column >= width)) continue;
    for (let i = range.column ?? 0; i < data.length; i += width) {
      const value = Number(data[i]);
      total += 1;
      if (!(value >= range.min && value <= range.max)) outside += 1;
    }
  }
  return total === 0 ? undefined : (outside / total) * 100;
}
