/**
 * Reads the JSON `npm run tune -- --json` writes and picks the memory size the advisor prices: the one --memory
 * names, else the "balanced" recommendation. Checked field by field, so a wrong file fails with the field's path.
 */
import { readFileSync } from 'node:fs';
import { ARCHES, type Arch } from '../../functions/contract/build-record.js';
import { TuneFileError } from './errors.js';

export interface TunedSize {
  readonly memoryMb: number;
  /** Null in the file when the size's cold start was not measured: cold starts are then not priced. */
  readonly initMs: number | undefined;
  readonly meanDurationMs: number;
  readonly meanBilledMs: number;
  /** Failures the tune run reported at this size (an out-of-memory kill, a timeout). */
  readonly failures: number;
}

export interface TuneChoice {
  readonly model: string;
  readonly arch: Arch;
  readonly size: TunedSize;
  /** How the size was chosen, for the report. */
  readonly chosenBy: string;
}

type Json = unknown;

export function readTuneFile(file: string, memoryMb: number | undefined): TuneChoice {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TuneFileError(file, 'the file', (error as NodeJS.ErrnoException).code ?? String(error), 'a readable file written by npm run tune -- --json');
  }
  let data: Json;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TuneFileError(file, 'the content', text.slice(0, 40), `JSON (${(error as Error).message})`);
  }
  return chooseSize(file, data, memoryMb);
}

export function chooseSize(file: string, data: Json, memoryMb: number | undefined): TuneChoice {
  const root = object(file, '(root)', data);
  const model = root.model;
  if (typeof model !== 'string' || model === '') throw new TuneFileError(file, 'model', model, 'the model name and version, e.g. "iris@1"');
  const arch = root.arch;
  if (typeof arch !== 'string' || !(ARCHES as readonly string[]).includes(arch)) throw new TuneFileError(file, 'arch', arch, ARCHES.join(' or '));
  const sizes = root.sizes;
  if (!Array.isArray(sizes) || sizes.length === 0) throw new TuneFileError(file, 'sizes', sizes, 'a non-empty array of measured memory sizes');
  const measured = sizes.map((size: Json, i: number) => memoryOf(file, `sizes[${i}]`, size));
  let wanted = memoryMb;
  let chosenBy = `--memory ${memoryMb}`;
  if (wanted === undefined) {
    const recommendations = object(file, 'recommendations', root.recommendations);
    wanted = recommendedMemory(file, recommendations.balanced);
    chosenBy = 'the tune run\'s "balanced" recommendation';
  }
  const index = measured.indexOf(wanted);
  if (index < 0) throw new TuneFileError(file, 'sizes', measured, `a measured size of ${wanted} MB (${chosenBy}); pass --memory with one of the sizes listed`);
  return { model, arch: arch as Arch, size: tunedSize(file, `sizes[${index}]`, sizes[index]), chosenBy };
}

function memoryOf(file: string, where: string, value: Json): number {
  const memoryMb = object(file, where, value).memoryMb;
  if (typeof memoryMb !== 'number' || !Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10_240) {
    throw new TuneFileError(file, `${where}.memoryMb`, memoryMb, 'a whole number of MB from 128 to 10240');
  }
  return memoryMb;
}

/** The chosen size's figures, checked; the other sizes need only their memory size. */
function tunedSize(file: string, where: string, value: Json): TunedSize {
  const size = object(file, where, value);
  const memoryMb = memoryOf(file, where, value);
  const noWarm = 'a measured size: this one had no successful warm invocation in the tune run; pass --memory with another';
  if (size.durationMs === null) throw new TuneFileError(file, `${where}.durationMs`, null, noWarm);
  if (size.billedMs === null) throw new TuneFileError(file, `${where}.billedMs`, null, noWarm);
  const failures = size.failures ?? [];
  if (!Array.isArray(failures)) throw new TuneFileError(file, `${where}.failures`, failures, 'an array (empty when every invocation succeeded)');
  const duration = object(file, `${where}.durationMs`, size.durationMs);
  const billed = object(file, `${where}.billedMs`, size.billedMs);
  return {
    memoryMb,
    initMs: size.initMs === null ? undefined : nonNegative(file, `${where}.initMs`, size.initMs),
    meanDurationMs: positive(file, `${where}.durationMs.mean`, duration.mean),
    meanBilledMs: positive(file, `${where}.billedMs.mean`, billed.mean),
    failures: failures.length,
  };
}

/** A recommendation is a memory size, or an object holding one as `memoryMb`. */
function recommendedMemory(file: string, value: Json): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>).memoryMb === 'number') return (value as Record<string, number>).memoryMb!;
  throw new TuneFileError(file, 'recommendations.balanced', value, 'a memory size in MB (null: the run recommended none); pass --memory to choose a size');
}

function object(file: string, where: string, value: Json): Record<string, Json> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TuneFileError(file, where, value, 'an object');
  return value as Record<string, Json>;
}

function positive(file: string, where: string, value: Json): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new TuneFileError(file, where, value, 'a number of ms above 0');
  return value;
}

function nonNegative(file: string, where: string, value: Json): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TuneFileError(file, where, value, 'a number of ms, 0 or more');
  return value;
}
