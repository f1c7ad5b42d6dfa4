import * as v from 'valibot';
import { ModelBundleError } from './errors.js';
import { inputSpecs, outputSpecs, shapeText, type TensorSpec, type ValueInfo } from './signature.js';

export const TASKS = ['classification', 'regression', 'tensor'] as const;
export type Task = (typeof TASKS)[number];

/** The validated `model.json` of a bundle (SPEC "Model bundle"), or the manifest derived for a bare `model.onnx`. */
export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly task: Task;
  /** The tabular input that `features` names; defaults to the model's only input. */
  readonly input: string | undefined;
  /** Feature names of a single rank-2 input, in column order: `/predict` then takes rows as arrays or named objects. */
  readonly features: readonly string[] | undefined;
  /** The output a classifier or regressor serves; defaults to the model's only tensor output. */
  readonly output: string | undefined;
  /** Present exactly when `task` is `classification`. */
  readonly labels: readonly string[] | undefined;
  readonly maxBatch: number;
  /**
   * The signature the manifest was written for (`npm run bundle` records it): checked against the ONNX file at load,
   * so a model file swapped under an old model.json is refused rather than served with the wrong meaning.
   */
  readonly inputs: readonly DeclaredTensor[] | undefined;
  readonly outputs: readonly DeclaredTensor[] | undefined;
  /** True when no model.json was given: a `tensor` model named after its folder or file, versioned by its sha256. */
  readonly derived: boolean;
}

/** One input or output as model.json declares it: OIP datatype, and dimensions (numbers fixed, names symbolic). */
export interface DeclaredTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly (number | string)[];
}

export const DEFAULT_MAX_BATCH = 256;
/** A name appears in URLs and metric dimensions. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/** The message for a value of the wrong type, or a missing one. */
function typed(expected: string) {
  return (issue: v.BaseIssue<unknown>) => (issue.input === undefined ? `is missing; it must be ${expected}` : `must be ${expected}, not ${describeValue(issue.input)}`);
}

const REQUIRED: Readonly<Record<string, string>> = {
  name: 'a string',
  version: 'a string',
  task: '"classification", "regression" or "tensor"',
};

const text = v.pipe(v.string(typed('a string')), v.regex(/\S/, 'must be a non-empty string'));

const declaredTensor = v.object(
  {
    name: text,
    datatype: v.string(typed('an OIP datatype such as "FP32"')),
    shape: v.array(v.union([v.pipe(v.number(), v.integer(), v.minValue(0)), v.string()], typed('a dimension: a whole number, or a name for a symbolic one')), typed('an array of dimensions')),
  },
  typed('an object with name, datatype and shape'),
);

/**
 * The manifest's shape. Valibot, chosen over zod for its smaller share of the bundled function's cold start
 * (docs/PERFORMANCE.md, "Cold start").
 */
const manifestSchema = v.object(
  {
    name: v.pipe(text, v.regex(MODEL_NAME, 'must use only letters, digits, ".", "_" and "-" (it appears in URLs and metric dimensions)')),
    version: text,
    task: v.picklist(TASKS, (issue) => `must be "classification", "regression" or "tensor", not ${describeValue(issue.input)}`),
    input: v.optional(text),
    features: v.optional(v.pipe(v.array(text, typed('an array of feature names')), v.minLength(1, 'must list at least one feature name'))),
    output: v.optional(text),
    labels: v.optional(v.array(text, typed('an array'))),
    maxBatch: v.optional(
      v.pipe(v.number(typed('a number')), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(100_000, 'must be at most 100000')),
      DEFAULT_MAX_BATCH,
    ),
    inputs: v.optional(v.array(declaredTensor, typed('an array of {name, datatype, shape}'))),
    outputs: v.optional(v.array(declaredTensor, typed('an array of {name, datatype, shape}'))),
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
  if (data.features !== undefined) {
    const repeated = duplicates(data.features);
    if (repeated.length > 0) problems.push(`features repeats ${repeated.map((f) => `"${f}"`).join(', ')}; names must be unique`);
  } else if (data.input !== undefined) {
    problems.push('input is set without features; input names the tabular input whose columns features lists: add features, or remove input');
  }
  if (data.task === 'classification') {
    if (data.labels === undefined || data.labels.length < 2) {
      problems.push('labels must list at least two class names for a classification model, in the order of the output columns');
    } else {
      const repeated = duplicates(data.labels);
      if (repeated.length > 0) problems.push(`labels repeats ${repeated.map((l) => `"${l}"`).join(', ')}; labels must be unique`);
    }
  } else if (data.labels !== undefined) {
    problems.push(`labels is set but task is "${data.task}"; remove labels or set task to "classification"`);
  }
  if (data.task === 'tensor' && data.output !== undefined) {
    problems.push('output is set but task is "tensor", which returns every output; remove output, or set task to "classification" or "regression"');
  }
  if (problems.length > 0) throw new ModelBundleError(`${source} is not a valid manifest: ${problems.join('; ')}.`);

  return Object.freeze({
    name: data.name,
    version: data.version,
    task: data.task,
    input: data.input,
    features: data.features === undefined ? undefined : Object.freeze([...data.features]),
    output: data.output,
    labels: data.labels === undefined ? undefined : Object.freeze([...data.labels]),
    maxBatch: data.maxBatch,
    inputs: data.inputs === undefined ? undefined : Object.freeze(data.inputs.map((t) => Object.freeze({ ...t, shape: Object.freeze([...t.shape]) }))),
    outputs: data.outputs === undefined ? undefined : Object.freeze(data.outputs.map((t) => Object.freeze({ ...t, shape: Object.freeze([...t.shape]) }))),
    derived: false,
  });
}

/**
 * The manifest of a folder (or file) holding only `model.onnx`: a `tensor` model named after the folder (or the
 * file without `.onnx`), version = the first 12 hex digits of the file's sha256.
 */
export function derivedManifest(baseName: string, sha256: string): Manifest {
  const name = baseName.replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return Object.freeze({
    name: name === '' ? 'model' : name,
    version: sha256.slice(0, 12),
    task: 'tensor',
    input: undefined,
    features: undefined,
    output: undefined,
    labels: undefined,
    maxBatch: DEFAULT_MAX_BATCH,
    inputs: undefined,
    outputs: undefined,
    derived: true,
  });
}

/** The tabular form of a model's single rank-2 input: column names and their positions. */
export interface TabularInput {
  readonly spec: TensorSpec;
  readonly features: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  /** "4: sepal_length, sepal_width, ..." for messages. */
  readonly expected: string;
}

/** What the request path serves: the manifest checked against the ONNX file's inputs and outputs. */
export interface ServedModel {
  readonly manifest: Manifest;
  readonly inputs: readonly TensorSpec[];
  /** Every tensor output, in the file's order. */
  readonly outputs: readonly TensorSpec[];
  readonly tabular: TabularInput | undefined;
  /** The output a classifier or regressor answers from. */
  readonly served: TensorSpec | undefined;
}

const NUMERIC = new Set(['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

function quoted(specs: readonly { readonly name: string }[]): string {
  return specs.map((s) => `"${s.name}"`).join(', ');
}

function tabularInput(manifest: Manifest, inputs: readonly TensorSpec[], features: readonly string[]): TabularInput {
  const where = `model ${manifest.name}`;
  const spec = manifest.input === undefined ? inputs[0]! : inputs.find((i) => i.name === manifest.input);
  if (spec === undefined) {
    throw new ModelBundleError(`${where}: manifest input "${manifest.input}" is not in the ONNX file, whose inputs are ${quoted(inputs)}; set "input" in model.json to one of them`);
  }
  if (inputs.length !== 1) {
    throw new ModelBundleError(`${where}: features name the columns of a single rank-2 input, but the ONNX file has ${inputs.length} inputs (${quoted(inputs)}); remove features and input from model.json to serve it as tensors`);
  }
  if (spec.shape !== undefined && spec.shape.length !== 2) {
    throw new ModelBundleError(`${where}: input "${spec.name}" has shape ${shapeText(spec.shape)}; features need a rank-2 input [batch, n_features]; remove features and input from model.json to serve it as tensors`);
  }
  if (!NUMERIC.has(spec.type)) {
    throw new ModelBundleError(`${where}: input "${spec.name}" is a ${spec.type} tensor; features need a numeric input; remove features and input from model.json to serve it as tensors`);
  }
  const width = spec.shape?.[1];
  if (typeof width === 'number' && width !== features.length) {
    throw new ModelBundleError(`${where}: the ONNX input "${spec.name}" takes ${width} features but model.json lists ${features.length} (${features.join(', ')}); make the features list match the model`);
  }
  return Object.freeze({
    spec: Object.freeze({ ...spec, shape: Object.freeze([spec.shape?.[0] ?? 'batch', features.length]) }),
    features,
    index: new Map(features.map((name, i) => [name, i])),
    expected: `${features.length}: ${features.join(', ')}`,
  });
}

function servedOutput(manifest: Manifest, outputs: readonly TensorSpec[], all: readonly ValueInfo[]): TensorSpec {
  const where = `model ${manifest.name}`;
  let spec: TensorSpec | undefined;
  if (manifest.output !== undefined) {
    spec = outputs.find((o) => o.name === manifest.output);
    if (spec === undefined) {
      const other = all.find((o) => o.name === manifest.output);
      if (other !== undefined) {
        throw new ModelBundleError(`${where}: output "${other.name}" is not a tensor (a ZipMap or sequence output); re-export the classifier without ZipMap (skl2onnx options {"zipmap": False})`);
      }
      throw new ModelBundleError(`${where}: manifest output "${manifest.output}" is not in the ONNX file, whose outputs are ${quoted(all)}; set "output" in model.json to one of them`);
    }
  } else if (outputs.length === 1) {
    spec = outputs[0]!;
  } else {
    throw new ModelBundleError(`${where}: the ONNX file has ${outputs.length} outputs (${quoted(outputs)}); set "output" in model.json to the one a ${manifest.task} model answers from`);
  }
  if (!NUMERIC.has(spec.type)) {
    throw new ModelBundleError(`${where}: output "${spec.name}" is a ${spec.type} tensor; a ${manifest.task} model answers from a numeric output`);
  }
  const shape = spec.shape;
  if (manifest.task === 'classification') {
    if (shape !== undefined && shape.length !== 2) {
      throw new ModelBundleError(`${where}: classification output "${spec.name}" has shape ${shapeText(shape)}; it must be [batch, n_labels]`);
    }
    const columns = shape?.[1];
    if (typeof columns === 'number') checkOutputWidth(manifest, spec.name, columns);
  } else if (shape !== undefined && (shape.length > 2 || (shape.length === 2 && typeof shape[1] === 'number' && shape[1] !== 1))) {
    throw new ModelBundleError(`${where}: regression output "${spec.name}" has shape ${shapeText(shape)}; a regression model serves one value per row ([batch] or [batch, 1])`);
  }
  return spec;
}

/**
 * Checks a manifest against the ONNX session's own input and output metadata and returns what the request path
 * serves. Symbolic widths cannot be checked here; the probe run at load and every response check the real width.
 */
export function serveModel(manifest: Manifest, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[]): ServedModel {
  const inputTensors = inputSpecs(manifest.name, inputs);
  const outputTensors = outputSpecs(manifest.name, outputs);
  if (manifest.inputs !== undefined) checkDeclared(manifest, 'input', manifest.inputs, inputTensors);
  if (manifest.outputs !== undefined) checkDeclared(manifest, 'output', manifest.outputs, outputTensors);
  if (manifest.input !== undefined && manifest.features === undefined && !inputTensors.some((i) => i.name === manifest.input)) {
    throw new ModelBundleError(`model ${manifest.name}: manifest input "${manifest.input}" is not in the ONNX file, whose inputs are ${quoted(inputTensors)}`);
  }
  const tabular = manifest.features === undefined ? undefined : tabularInput(manifest, inputTensors, manifest.features);
  const served = manifest.task === 'tensor' ? undefined : servedOutput(manifest, outputTensors, outputs);
  return Object.freeze({
    manifest,
    inputs: Object.freeze(tabular === undefined ? inputTensors : [tabular.spec]),
    outputs: Object.freeze(outputTensors),
    tabular,
    served,
  });
}

/** The signature a manifest records for a model: what `npm run bundle` writes into model.json. */
export function declaredTensors(specs: readonly TensorSpec[]): DeclaredTensor[] {
  return specs.map((spec) => ({ name: spec.name, datatype: spec.element.datatype, shape: [...(spec.shape ?? [])] }));
}

function declaredText(tensor: DeclaredTensor): string {
  return `${tensor.datatype} ${shapeText(tensor.shape)}`;
}

/**
 * Checks the signature model.json declares against the file: the same names, datatypes, ranks and fixed sizes. A
 * symbolic dimension matches any symbolic one (exporters rename them), never a fixed size.
 */
function checkDeclared(manifest: Manifest, role: 'input' | 'output', declared: readonly DeclaredTensor[], actual: readonly TensorSpec[]): void {
  const fix = 'the model file is not the one model.json was written for: rebuild model.json with npm run bundle, or restore the file';
  const files = new Map(actual.map((spec) => [spec.name, declaredTensors([spec])[0]!]));
  for (const want of declared) {
    const got = files.get(want.name);
    if (got === undefined) {
      throw new ModelBundleError(`model ${manifest.name}: model.json declares ${role} "${want.name}", which the ONNX file lacks (its ${role}s: ${quoted(actual)}); ${fix}`);
    }
    const same =
      got.datatype === want.datatype &&
      got.shape.length === want.shape.length &&
      got.shape.every((d, i) => (typeof d === 'number' ? d === want.shape[i] : typeof want.shape[i] === 'string'));
    if (!same) throw new ModelBundleError(`model ${manifest.name}: model.json declares ${role} "${want.name}" as ${declaredText(want)}, but the ONNX file has ${declaredText(got)}; ${fix}`);
  }
  const extra = actual.filter((spec) => !declared.some((d) => d.name === spec.name));
  if (extra.length > 0) throw new ModelBundleError(`model ${manifest.name}: the ONNX file has ${role}s model.json does not declare (${quoted(extra)}); ${fix}`);
}

/** Checks the number of values one row produces against the manifest (labels for a classifier, 1 for a regressor). */
export function checkOutputWidth(manifest: Manifest, output: string, width: number): void {
  const where = `model ${manifest.name}`;
  if (manifest.task === 'classification') {
    const labels = manifest.labels ?? [];
    if (width !== labels.length) {
      throw new ModelBundleError(`${where}: output "${output}" has ${width} probability columns but model.json lists ${labels.length} labels (${labels.join(', ')}); list one label per class, in the model's class order`);
    }
  } else if (manifest.task === 'regression' && width !== 1) {
    throw new ModelBundleError(`${where}: regression output "${output}" gives ${width} values per row; a regression model serves one value per row`);
  }
}
