import * as v from 'valibot';
import { ModelBundleError } from './errors.js';

/** The validated `model.json` of a bundle (SPEC "Model bundle"). */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly task: 'classification' | 'regression';
  readonly input: string;
  readonly features: readonly string[];
  readonly output: string;
  /** Present exactly when `task` is `classification`. */
  readonly labels: readonly string[] | undefined;
  readonly maxBatch: number;
}

export const DEFAULT_MAX_BATCH = 256;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `${typeof value} ${JSON.stringify(value)}`;
}

/** The message for a value of the wrong type, or a missing one. */
function typed(expected: string) {
  return (issue: v.BaseIssue<unknown>) => (issue.input === undefined ? `is missing; it must be ${expected}` : `must be ${expected}, not ${describeValue(issue.input)}`);
}

const REQUIRED: Readonly<Record<string, string>> = {
  name: 'a string',
  version: 'a string',
  task: '"classification" or "regression"',
  input: 'a string',
  features: 'an array of feature names',
  output: 'a string',
};

const text = v.pipe(v.string(typed('a string')), v.regex(/\S/, 'must be a non-empty string'));

/**
 * The manifest's shape. Valibot rather than zod: the same checks cost about 2.5 ms of module load instead of about
 * 8 ms in the bundled function (measured with `npm run bench`'s cold-start case; see docs/PERFORMANCE.md).
 */
const manifestSchema = v.object(
  {
    name: v.pipe(text, v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must use only letters, digits, ".", "_" and "-" (it appears in URLs and metric dimensions)')),
    version: text,
    task: v.picklist(['classification', 'regression'], (issue) => `must be "classification" or "regression", not ${describeValue(issue.input)}`),
    input: text,
    features: v.pipe(v.array(text, typed('an array')), v.minLength(1, 'must list at least one feature name')),
    output: text,
    labels: v.optional(v.array(text, typed('an array'))),
    maxBatch: v.optional(
      v.pipe(v.number(typed('a number')), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(100_000, 'must be at most 100000')),
      DEFAULT_MAX_BATCH,
    ),
  },
  (issue) => {
    // Valibot reports a missing key with the object's message and the key as the issue's path.
    const key = issue.path?.at(-1)?.key;
    return typeof key === 'string' ? `is missing; it must be ${REQUIRED[key] ?? 'set'}` : typed('an object')(issue);
  },
);

function duplicates(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(values.filter((value) => (seen.has(value) ? true : (seen.add(value), false))))];
}

/**
 * Validates a parsed `model.json`. `source` names the file in messages. Throws ModelBundleError listing every
 * problem, each with its field and the fix.
 */
export function parseManifest(json: unknown, source: string): Manifest {
  const result = v.safeParse(manifestSchema, json);
  if (!result.success) {
    const problems = result.issues.map((issue) => {
      const path = issue.path?.map((item) => String(item.key)).join('.');
      return `${path === undefined || path === '' ? 'the manifest' : path} ${issue.message}`;
    });
    throw new ModelBundleError(`${source} is not a valid manifest: ${problems.join('; ')}. See SPEC "Model bundle" for the format.`);
  }
  const data = result.output;
  const problems: string[] = [];
  const repeatedFeatures = duplicates(data.features);
  if (repeatedFeatures.length > 0) problems.push(`features repeats ${repeatedFeatures.map((f) => `"${f}"`).join(', ')}; names must be unique`);
  if (data.task === 'classification') {
    if (data.labels === undefined || data.labels.length < 2) {
      problems.push('labels must list at least two class names for a classification model, in the order of the output columns');
    } else {
      const repeatedLabels = duplicates(data.labels);
      if (repeatedLabels.length > 0) problems.push(`labels repeats ${repeatedLabels.map((l) => `"${l}"`).join(', ')}; labels must be unique`);
    }
  } else if (data.labels !== undefined) {
    problems.push('labels is set but task is "regression"; remove labels or set task to "classification"');
  }
  if (problems.length > 0) throw new ModelBundleError(`${source} is not a valid manifest: ${problems.join('; ')}.`);

  return Object.freeze({
    name: data.name,
    version: data.version,
    task: data.task,
    input: data.input,
    features: Object.freeze([...data.features]),
    output: data.output,
    labels: data.labels === undefined ? undefined : Object.freeze([...data.labels]),
    maxBatch: data.maxBatch,
  });
}

/** The parts of onnxruntime's value metadata the checks need; kept structural so tests need no session. */
export type ValueInfo =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly (number | string)[] };

function names(values: readonly ValueInfo[]): string {
  return values.map((v) => `"${v.name}"`).join(', ');
}

/**
 * Checks a manifest against the ONNX session's own input and output metadata: input name, float32 tensor-ness,
 * feature count, output name, tensor-ness and label count. Symbolic dimensions cannot be checked here; the
 * warm-up run at load checks the actual output width.
 */
export function checkManifestAgainstModel(manifest: Manifest, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): void {
  const where = `model ${manifest.name}`;
  if (inputs.length !== 1) {
    throw new ModelBundleError(`${where}: the ONNX file has ${inputs.length} inputs (${names(inputs)}); a bundle needs exactly one float32 input of shape [batch, n_features]`);
  }
  const input = inputs[0]!;
  if (input.name !== manifest.input) {
    throw new ModelBundleError(`${where}: manifest input "${manifest.input}" is not in the ONNX file, whose input is "${input.name}"; set "input": "${input.name}" in model.json`);
  }
  if (!input.isTensor || input.type !== 'float32') {
    const got = input.isTensor ? `a ${input.type} tensor` : 'not a tensor';
    throw new ModelBundleError(`${where}: input "${input.name}" is ${got}; export the model with one float32 input (skl2onnx: FloatTensorType([None, n_features]))`);
  }
  const width = input.shape.length === 2 ? input.shape[1] : undefined;
  if (input.shape.length !== 2) {
    throw new ModelBundleError(`${where}: input "${input.name}" has shape [${input.shape.join(', ')}]; a bundle needs shape [batch, n_features]`);
  }
  if (typeof width === 'number' && width !== manifest.features.length) {
    throw new ModelBundleError(`${where}: the ONNX input "${input.name}" takes ${width} features but model.json lists ${manifest.features.length} (${manifest.features.join(', ')}); make the features list match the model`);
  }

  const output = outputs.find((o) => o.name === manifest.output);
  if (output === undefined) {
    throw new ModelBundleError(`${where}: manifest output "${manifest.output}" is not in the ONNX file, whose outputs are ${names(outputs)}; set "output" in model.json to one of them`);
  }
  if (!output.isTensor) {
    throw new ModelBundleError(`${where}: output "${output.name}" is not a tensor (a ZipMap or sequence output); re-export the classifier without ZipMap (skl2onnx options {"zipmap": False})`);
  }
  if (output.type !== 'float32') {
    throw new ModelBundleError(`${where}: output "${output.name}" is a ${output.type} tensor; the served output must be float32 (probabilities or regression values)`);
  }
  if (manifest.task === 'classification') {
    const columns = output.shape.length === 2 ? output.shape[1] : undefined;
    if (output.shape.length !== 2) {
      throw new ModelBundleError(`${where}: classification output "${output.name}" has shape [${output.shape.join(', ')}]; it must be [batch, n_labels]`);
    }
    if (typeof columns === 'number') checkOutputWidth(manifest, columns);
  } else if (output.shape.length === 2 && typeof output.shape[1] === 'number' && output.shape[1] !== 1) {
    throw new ModelBundleError(`${where}: regression output "${output.name}" has ${output.shape[1]} columns; a regression bundle serves one value per row ([batch] or [batch, 1])`);
  } else if (output.shape.length > 2) {
    throw new ModelBundleError(`${where}: regression output "${output.name}" has shape [${output.shape.join(', ')}]; it must be [batch] or [batch, 1]`);
  }
}

/** Checks the number of values one row produces against the manifest (labels for a classifier, 1 for a regressor). */
export function checkOutputWidth(manifest: Manifest, width: number): void {
  const where = `model ${manifest.name}`;
  if (manifest.task === 'classification') {
    const labels = manifest.labels ?? [];
    if (width !== labels.length) {
      throw new ModelBundleError(`${where}: output "${manifest.output}" has ${width} probability columns but model.json lists ${labels.length} labels (${labels.join(', ')}); list one label per class, in the model's class order`);
    }
  } else if (width !== 1) {
    throw new ModelBundleError(`${where}: regression output "${manifest.output}" gives ${width} values per row; a regression bundle serves one value per row`);
  }
}
