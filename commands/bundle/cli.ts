/**
 * `npm run bundle`: turns an ONNX file into a model bundle folder (SPEC "Model bundle"), the way the function will
 * serve it. The file's own metadata gives the inputs, outputs, types and shapes; flags give what a file cannot say
 * (the task, the class labels, feature names). The result is checked with the function's own loader, and the
 * command ends with what is still missing before `npm run build` (golden outputs from the training framework).
 * With `--baseline-from`, it also writes the training baseline (baseline.json, docs/DRIFT.md) from a file of sample
 * inputs run through the bundle; given a bundle folder instead of an ONNX file, it writes only that.
 *
 *   npm run bundle -- <model.onnx> [--out models/<name>] [--name <name>] [--version <v>]
 *                     [--task tensor|classification|regression] [--labels a,b,c | --labels-file <file>]
 *                     [--output <name>] [--features f1,f2,... | --features-file <file>] [--max-batch <n>]
 *                     [--baseline-from <samples.json>] [--force]
 *   npm run bundle -- <bundle dir> --baseline-from <samples.json> [--force]
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { BASELINE_FILE } from '../../functions/contract/capture.js';
import { DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE } from '../../functions/contract/env.js';
import { DEFAULT_MAX_BATCH, MODEL_NAME, TASKS, declaredTensors, derivedManifest, parseManifest, serveModel, type ServedModel, type Task } from '../../functions/predict/manifest.js';
import { shapeText, type TensorSpec, type ValueInfo } from '../../functions/predict/signature.js';
import { baselineText } from '../drift/baseline.js';
import { DriftError } from '../drift/errors.js';
import { baselineFromSamples } from '../drift/sample-baseline.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const USAGE = `usage: npm run bundle -- <model.onnx> [options]
       npm run bundle -- <bundle dir> --baseline-from <samples.json> [--force]

  --out <dir>              the bundle folder to write (default: models/<name>)
  --name <name>            the model's name in URLs, responses and metrics (default: the file's name)
  --version <v>            (default: the first 12 hex digits of the file's sha256)
  --task <task>            tensor (every output as it is; the default), classification or regression
  --labels <a,b,c>         class names in the order of the output's columns (classification)
  --labels-file <file>     the same, one per line
  --output <name>          the output a classifier or regressor answers from (default: the only tensor output,
                           or one named probabilities / variable)
  --features <f1,f2,...>   column names of a single rank-2 input: /predict then takes rows as arrays or objects
  --features-file <file>   the same, one per line
  --max-batch <n>          rows per request (default: ${DEFAULT_MAX_BATCH})
  --baseline-from <file>   write ${BASELINE_FILE}, the training distribution npm run drift compares traffic with, from
                           sample inputs: a JSON array of rows in /predict's instance form (or {"instances": [...]}),
                           ideally the training rows; given a bundle folder, only ${BASELINE_FILE} is written
  --force                  replace model.onnx and model.json (and ${BASELINE_FILE}) in an existing folder`;

export class BundleUsageError extends Error {}

export interface BundleOptions {
  /** The ONNX file to bundle, or an existing bundle folder whose baseline alone is written (`baselineOnly`). */
  readonly file: string;
  readonly baselineOnly: boolean;
  /** Sample inputs to compute baseline.json from. */
  readonly baselineFrom: string | undefined;
  readonly out: string | undefined;
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly task: Task;
  readonly labels: readonly string[] | undefined;
  readonly output: string | undefined;
  readonly features: readonly string[] | undefined;
  readonly maxBatch: number;
  readonly force: boolean;
}

function list(inline: string | undefined, file: string | undefined, flag: string): string[] | undefined {
  if (inline !== undefined && file !== undefined) throw new BundleUsageError(`--${flag} and --${flag}-file both given; use one`);
  if (file !== undefined) {
    if (!existsSync(file)) throw new BundleUsageError(`--${flag}-file ${file} does not exist`);
    return readFileSync(file, 'utf8').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  }
  return inline?.split(',').map((item) => item.trim());
}

export function parseBundleArgs(argv: readonly string[]): BundleOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        name: { type: 'string' },
        version: { type: 'string' },
        task: { type: 'string', default: 'tensor' },
        labels: { type: 'string' },
        'labels-file': { type: 'string' },
        output: { type: 'string' },
        features: { type: 'string' },
        'features-file': { type: 'string' },
        'max-batch': { type: 'string', default: String(DEFAULT_MAX_BATCH) },
        'baseline-from': { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new BundleUsageError(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new BundleUsageError(`give exactly one ONNX file, not ${positionals.length}\n\n${USAGE}`);
  const file = path.resolve(positionals[0]!);
  if (!existsSync(file)) throw new BundleUsageError(`${positionals[0]} does not exist; give the path of an .onnx file`);
  const baselineFrom = values['baseline-from'] === undefined ? undefined : path.resolve(values['baseline-from']);
  if (baselineFrom !== undefined && !existsSync(baselineFrom)) {
    throw new BundleUsageError(`--baseline-from ${values['baseline-from']} does not exist; give a JSON file of sample rows in /predict's instance form`);
  }
  if (statSync(file).isDirectory()) {
    if (baselineFrom === undefined) throw new BundleUsageError(`${positionals[0]} is a folder; give an .onnx file to bundle, or add --baseline-from <samples.json> to write the folder's ${BASELINE_FILE}`);
    const given = ['out', 'name', 'version', 'labels', 'labels-file', 'output', 'features', 'features-file'].filter((flag) => values[flag as keyof typeof values] !== undefined);
    if (given.length > 0) throw new BundleUsageError(`--${given[0]} does not apply to an existing bundle folder, whose model.json stays as it is; give the .onnx file to rebundle, or leave it out`);
    return { file, baselineOnly: true, baselineFrom, out: undefined, name: undefined, version: undefined, task: 'tensor', labels: undefined, output: undefined, features: undefined, maxBatch: DEFAULT_MAX_BATCH, force: values.force };
  }
  if (!(TASKS as readonly string[]).includes(values.task)) throw new BundleUsageError(`--task ${values.task} is not one of ${TASKS.join(', ')}`);
  const maxBatch = Number(values['max-batch']);
  if (!/^\d+$/.test(values['max-batch']) || maxBatch < 1 || maxBatch > 100_000) throw new BundleUsageError(`--max-batch ${values['max-batch']} is not a whole number from 1 to 100000`);
  if (values.name !== undefined && !MODEL_NAME.test(values.name)) {
    throw new BundleUsageError(`--name ${values.name} must use only letters, digits, ".", "_" and "-" (it appears in URLs and metric dimensions)`);
  }
  return {
    file,
    baselineOnly: false,
    baselineFrom,
    out: values.out === undefined ? undefined : path.resolve(values.out),
    name: values.name,
    version: values.version,
    task: values.task as Task,
    labels: list(values.labels, values['labels-file'], 'labels'),
    output: values.output,
    features: list(values.features, values['features-file'], 'features'),
    maxBatch,
    force: values.force,
  };
}

/** The output a classifier or regressor answers from, when the flags name none and the file leaves one choice. */
function guessOutput(task: Task, outputs: readonly ValueInfo[]): string | undefined {
  const tensors = outputs.filter((o) => o.isTensor);
  if (task === 'tensor' || tensors.length === 1) return undefined;
  const conventional = task === 'classification' ? ['probabilities', 'output_probability', 'probs'] : ['variable', 'predictions', 'output'];
  return tensors.find((o) => conventional.includes(o.name))?.name;
}

export interface BundleResult {
  readonly dir: string;
  readonly manifest: Record<string, unknown>;
  readonly served: ServedModel;
  readonly missing: readonly string[];
}

function describe(spec: TensorSpec): string {
  return `${spec.element.datatype} ${shapeText(spec.shape)}`;
}

/** An example golden row for one input: zeros of its type and shape, batch dimension left out. */
function exampleValue(spec: TensorSpec): unknown {
  const zero = spec.type === 'string' ? '' : spec.type === 'bool' ? false : 0;
  const dims = (spec.shape ?? [1, 1]).slice(1).map((d) => (typeof d === 'number' ? d : 1));
  const build = (depth: number): unknown => (depth === dims.length ? zero : Array.from({ length: dims[depth]! }, () => build(depth + 1)));
  return build(0);
}

/** Writes the bundle folder: model.onnx and a model.json that the function's loader has accepted. */
export async function createBundle(options: BundleOptions, log: (line: string) => void): Promise<BundleResult> {
  const bytes = readFileSync(options.file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const derived = derivedManifest(path.basename(options.file) === DEFAULT_MODEL_FILE ? path.basename(path.dirname(options.file)) : path.basename(options.file), sha256);
  const name = options.name ?? derived.name;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(options.file);
  } catch (error) {
    throw new BundleUsageError(`onnxruntime cannot load ${options.file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const inputs = session.inputMetadata as readonly ValueInfo[];
  const outputs = session.outputMetadata as readonly ValueInfo[];
  await session.release();

  const output = options.output ?? guessOutput(options.task, outputs);
  const draft: Record<string, unknown> = {
    name,
    version: options.version ?? derived.version,
    task: options.task,
    ...(options.features === undefined ? {} : { input: inputs[0]?.name, features: options.features }),
    ...(output === undefined ? {} : { output }),
    ...(options.labels === undefined ? {} : { labels: options.labels }),
    maxBatch: options.maxBatch,
  };
  let served: ServedModel;
  try {
    served = serveModel(parseManifest(draft, 'the model.json to write'), inputs, outputs);
  } catch (error) {
    throw new BundleUsageError(error instanceof Error ? error.message : String(error));
  }
  const manifest = { ...draft, inputs: declaredTensors(served.inputs), outputs: declaredTensors(served.outputs) };
  // The signature as written must load too (the loader checks it against the file).
  serveModel(parseManifest(manifest, MODEL_MANIFEST_FILE), inputs, outputs);

  const dir = options.out ?? path.join(root, 'models', name);
  const target = path.join(dir, DEFAULT_MODEL_FILE);
  const manifestFile = path.join(dir, MODEL_MANIFEST_FILE);
  if (!options.force && (existsSync(target) || existsSync(manifestFile))) {
    throw new BundleUsageError(`${dir} already holds a model.onnx or model.json; choose another --out, or pass --force to replace them`);
  }
  mkdirSync(dir, { recursive: true });
  if (path.resolve(options.file) !== path.resolve(target)) copyFileSync(options.file, target);
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);

  log(`wrote ${path.relative(process.cwd(), dir) || '.'}/ : model ${name}@${String(draft['version'])}, task ${options.task}, sha256 ${sha256.slice(0, 12)}`);
  for (const spec of served.inputs) log(`  input  ${spec.name}: ${describe(spec)}`);
  for (const spec of served.outputs) log(`  output ${spec.name}: ${describe(spec)}${spec.name === served.served?.name ? ` (answers ${options.task === 'classification' ? 'labels and probabilities' : 'values'})` : ''}`);
  const skipped = outputs.filter((o) => !o.isTensor);
  if (skipped.length > 0) log(`  left out: ${skipped.map((o) => o.name).join(', ')} (not tensors; a ZipMap or sequence cannot be served)`);

  if (options.baselineFrom !== undefined) {
    try {
      await writeBaseline(dir, options.baselineFrom, true, log);
    } catch (error) {
      throw new BundleUsageError(`wrote the bundle, but not ${BASELINE_FILE}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const missing: string[] = [];
  if (!existsSync(path.join(dir, 'golden.json'))) {
    const instance = served.inputs.length === 1 ? exampleValue(served.inputs[0]!) : Object.fromEntries(served.inputs.map((s) => [s.name, exampleValue(s)]));
    missing.push(
      'golden.json: your training framework\'s own outputs for a few rows, so the build can prove onnxruntime reproduces them. ' +
        `Write {"inputs": [row, ...], "outputs": [output, ...]} with each row in /predict's instance form, e.g. ${JSON.stringify(instance).slice(0, 200)}, ` +
        `and each output ${served.served === undefined ? 'an object keyed by output name' : options.task === 'classification' ? 'the row of probabilities' : 'the value'}; ` +
        'a quantized model adds "tolerance" and "minTop1Agreement" (models/README.md). Without it, npm run build refuses the bundle unless given --allow-missing-golden',
    );
  }
  if (options.task === 'tensor' && served.outputs.some((o) => o.name === 'probabilities' || o.name === 'output_probability')) {
    missing.push('labels: the model has a probabilities output; to answer with class names, rerun with --task classification --labels <names in column order>');
  }
  if (options.features === undefined && served.inputs.length === 1 && served.inputs[0]!.shape?.length === 2 && options.task !== 'tensor') {
    missing.push('features (optional): name the input\'s columns with --features to accept rows as objects keyed by feature name');
  }
  log(missing.length === 0 ? 'nothing missing: npm run build -- --model ' + path.relative(process.cwd(), dir) : `still missing before npm run build -- --model ${path.relative(process.cwd(), dir)}:`);
  for (const item of missing) log(`  - ${item}`);
  if (!existsSync(path.join(dir, BASELINE_FILE))) {
    log(`for npm run drift (optional): ${BASELINE_FILE}, the training distribution captured traffic is compared with; write it with npm run bundle -- ${path.relative(process.cwd(), dir) || '.'} --baseline-from <samples.json> (the training rows, in /predict's instance form)`);
  }
  return { dir, manifest, served, missing };
}

/** Computes baseline.json for the bundle in `dir` from sample inputs and writes it (an existing one only with `replace`). */
export async function writeBaseline(dir: string, samples: string, replace: boolean, log: (line: string) => void): Promise<void> {
  const target = path.join(dir, BASELINE_FILE);
  if (!replace && existsSync(target)) throw new BundleUsageError(`${target} already exists; pass --force to replace it`);
  let baseline;
  try {
    baseline = await baselineFromSamples(dir, samples);
  } catch (error) {
    if (error instanceof DriftError) throw new BundleUsageError(error.message);
    throw error;
  }
  writeFileSync(target, baselineText(baseline));
  const p = baseline.prediction;
  const answered = p.kind === 'labels' ? p.labels.map((label, i) => `${label} ${(p.shares[i]! * 100).toFixed(1)}%`).join(', ') : p.kind === 'values' ? `predicted mean ${p.summary.mean.toPrecision(4)}` : `${p.outputs.length} output(s) summarised`;
  log(`wrote ${path.relative(process.cwd(), target) || target}: ${baseline.rows} sample rows, ${baseline.inputs.length} input summaries; ${answered}`);
}

/** The whole command: a bundle (with its baseline when asked), or only a bundle folder's baseline. */
export async function runBundle(options: BundleOptions, log: (line: string) => void): Promise<void> {
  if (options.baselineOnly) await writeBaseline(options.file, options.baselineFrom!, options.force, log);
  else await createBundle(options, log);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await runBundle(parseBundleArgs(process.argv.slice(2)), (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`bundle: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
