/**
 * golden.json, the training framework's own outputs for some rows (SPEC "Model bundle"): reading it, and judging a
 * model's answers for those rows against it. Pure: the build's golden check feeds it onnxruntime's outputs, the
 * rollout's traffic check feeds it what a deployed version answered over HTTP, and both judge by the same rules:
 * every value within the bundle's tolerance, and for a bundle that states `minTop1Agreement` (a quantized model
 * judged against its float model) at least that share of rows with the same best label.
 */

/** The largest absolute error allowed when golden.json states none. */
export const GOLDEN_TOLERANCE = 1e-4;

/** A golden.json that cannot be read or has the wrong form. */
export class GoldenFileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GoldenFileError';
  }
}

/** A golden output: a number, nested arrays of numbers, or for a model with several outputs an object keyed by output name. */
export type GoldenValue = number | readonly GoldenValue[] | { readonly [output: string]: GoldenValue };

/** golden.json, checked. */
export interface GoldenRows {
  /** Rows in `/predict`'s instance form. */
  readonly inputs: readonly unknown[];
  readonly outputs: readonly GoldenValue[];
  readonly tolerance: number;
  readonly minTop1Agreement: number | undefined;
}

function isNumbers(value: unknown): boolean {
  return typeof value === 'number' || (Array.isArray(value) && value.every(isNumbers));
}

function isGoldenValue(value: unknown): boolean {
  if (isNumbers(value)) return true;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(isNumbers);
}

/** Parses golden.json's text; `file` names it in messages. */
export function parseGolden(text: string, file: string): GoldenRows {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GoldenFileError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GoldenFileError(`${file} must hold a JSON object with "inputs" and "outputs"`);
  const { inputs, outputs, tolerance, minTop1Agreement } = json as Record<string, unknown>;
  if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length === 0 || inputs.length !== outputs.length) {
    throw new GoldenFileError(`${file} must hold "inputs" and "outputs" arrays of the same non-zero length`);
  }
  const bad = outputs.findIndex((row) => !isGoldenValue(row));
  if (bad !== -1) {
    throw new GoldenFileError(`${file} outputs[${bad}] is ${JSON.stringify(outputs[bad])?.slice(0, 80)}; golden outputs are numbers, nested arrays of numbers, or an object of those keyed by output name`);
  }
  if (tolerance !== undefined && !(typeof tolerance === 'number' && tolerance > 0 && tolerance < 1)) {
    throw new GoldenFileError(`${file} "tolerance" is ${JSON.stringify(tolerance)}; it must be a number between 0 and 1 (the largest absolute error allowed)`);
  }
  if (minTop1Agreement !== undefined && !(typeof minTop1Agreement === 'number' && minTop1Agreement > 0 && minTop1Agreement <= 1)) {
    throw new GoldenFileError(`${file} "minTop1Agreement" is ${JSON.stringify(minTop1Agreement)}; it must be a share between 0 and 1`);
  }
  return {
    inputs,
    outputs: outputs as GoldenValue[],
    tolerance: (tolerance as number | undefined) ?? GOLDEN_TOLERANCE,
    minTop1Agreement: minTop1Agreement as number | undefined,
  };
}

/** Which outputs a golden row speaks of. */
export interface AnsweredOutputs {
  /** The one output a classifier or regressor answers from: a golden row is that output's values. */
  readonly served: string | undefined;
  /** Every output the model answered with (a tensor model's), in its order. */
  readonly all: readonly string[];
}

/** Every number of a nested value, in order. */
function flatNumbers(value: GoldenValue, into: number[] = []): number[] {
  if (typeof value === 'number') into.push(value);
  else if (Array.isArray(value)) for (const item of value as readonly GoldenValue[]) flatNumbers(item, into);
  return into;
}

/** Why a model's answers fail golden.json: the first problem in row order, or the top-1 agreement. */
export type GoldenDifference =
  /** A value further from golden than the tolerance (the first such value, in row order). */
  | { readonly kind: 'value'; readonly row: number; readonly output: string; readonly index: number; readonly got: number; readonly expected: number }
  /** A row with a different number of values than golden gives. */
  | { readonly kind: 'width'; readonly row: number; readonly output: string; readonly got: number; readonly expected: number }
  /** A value that is not a number (NaN, or null in JSON). */
  | { readonly kind: 'nan'; readonly row: number; readonly output: string; readonly index: number }
  /** Golden names an output the model did not answer with; `output` undefined: golden's row is not keyed by name, and the model has several outputs. */
  | { readonly kind: 'output'; readonly row: number; readonly output: string | undefined; readonly available: readonly string[] }
  /** Too few rows whose best label agrees with golden's. */
  | { readonly kind: 'top1'; readonly agreeing: number; readonly rows: number; readonly minTop1Agreement: number };

export interface GoldenComparison {
  readonly rows: number;
  readonly tolerance: number;
  /** The largest absolute difference over every compared value, and the first row where it occurs. */
  readonly maxDiff: number;
  readonly worstRow: number;
  /** The share of rows whose best label agrees with golden's, for a classifier. */
  readonly top1Agreement: number | undefined;
  readonly minTop1Agreement: number | undefined;
  /** Undefined when the answers pass. */
  readonly difference: GoldenDifference | undefined;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Compares a model's answers with golden.json. `answer(row, output)` gives one row's values of one output, in
 * row-major order, or undefined when the model gave no such output; `task` is the manifest's (a classifier's
 * best label is compared too).
 */
export function compareGolden(
  golden: GoldenRows,
  task: string,
  outputs: AnsweredOutputs,
  answer: (row: number, output: string) => ArrayLike<number> | undefined,
): GoldenComparison {
  const rows = golden.outputs.length;
  let maxDiff = 0;
  let worstRow = 0;
  let agreeing = 0;
  let structural: GoldenDifference | undefined;
  let beyond: GoldenDifference | undefined;
  for (let row = 0; row < rows && structural === undefined; row++) {
    const raw = golden.outputs[row]!;
    let expectedByOutput: [string, number[]][];
    if (outputs.served !== undefined) expectedByOutput = [[outputs.served, flatNumbers(raw)]];
    else if (typeof raw === 'number' || Array.isArray(raw)) {
      if (outputs.all.length !== 1) {
        structural = { kind: 'output', row, output: undefined, available: outputs.all };
        break;
      }
      expectedByOutput = [[outputs.all[0]!, flatNumbers(raw)]];
    } else expectedByOutput = Object.entries(raw as Record<string, GoldenValue>).map(([name, value]) => [name, flatNumbers(value)]);

    for (const [output, expected] of expectedByOutput) {
      const got = outputs.all.includes(output) ? answer(row, output) : undefined;
      if (got === undefined) {
        structural = { kind: 'output', row, output, available: outputs.all };
        break;
      }
      if (got.length !== expected.length) {
        structural = { kind: 'width', row, output, got: got.length, expected: expected.length };
        break;
      }
      for (let index = 0; index < expected.length; index++) {
        const diff = Math.abs(got[index]! - expected[index]!);
        if (Number.isNaN(diff)) {
          structural = { kind: 'nan', row, output, index };
          break;
        }
        if (diff > maxDiff) {
          maxDiff = diff;
          worstRow = row;
        }
        if (diff > golden.tolerance && beyond === undefined) beyond = { kind: 'value', row, output, index, got: got[index]!, expected: expected[index]! };
      }
      if (structural !== undefined) break;
      if (task === 'classification' && argmax(got) === argmax(expected)) agreeing++;
    }
  }
  const top1Agreement = task === 'classification' ? agreeing / rows : undefined;
  let difference = structural ?? beyond;
  if (difference === undefined && golden.minTop1Agreement !== undefined && (top1Agreement ?? 0) < golden.minTop1Agreement) {
    difference = { kind: 'top1', agreeing, rows, minTop1Agreement: golden.minTop1Agreement };
  }
  return { rows, tolerance: golden.tolerance, maxDiff, worstRow, top1Agreement, minTop1Agreement: golden.minTop1Agreement, difference };
}

/** A difference in words, for a build's or a rollout's message; `where` names the golden file. */
export function describeDifference(difference: GoldenDifference, tolerance: number, where = 'golden.json'): string {
  const output = (name: string | undefined) => (name === undefined ? '' : ` "${name}"`);
  switch (difference.kind) {
    case 'value':
      return `row ${difference.row}${output(difference.output)}[${difference.index}] is ${difference.got}; ${where} gives ${difference.expected}, ${Math.abs(difference.got - difference.expected).toExponential(2)} away (tolerance ${tolerance})`;
    case 'width':
      return `row ${difference.row}${output(difference.output)} has ${difference.got} values; ${where} gives ${difference.expected}`;
    case 'nan':
      return `row ${difference.row}${output(difference.output)}[${difference.index}] is not a number`;
    case 'output':
      return difference.output === undefined
        ? `${where} outputs[${difference.row}] is not keyed by output name, and the model answers with several outputs (${difference.available.join(', ')})`
        : `${where} outputs[${difference.row}] names output "${difference.output}", which the model does not answer with (its outputs: ${difference.available.join(', ') || 'none'})`;
    case 'top1':
      return `the top-1 label agrees with ${where} on ${difference.agreeing} of ${difference.rows} rows (${((difference.agreeing / difference.rows) * 100).toFixed(1)}%); the bundle states at least ${difference.minTop1Agreement * 100}%`;
  }
}
