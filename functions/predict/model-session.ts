import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE, ORT_MODEL_FILE } from '../contract/env.js';
import { ORT_IN_PLACE_SESSION_ENTRIES, modelFormatOf, type ModelFormat } from '../contract/model-format.js';
import type { FunctionConfig } from './config.js';
import { ModelBundleError, describeError } from './errors.js';
import { checkOutputWidth, derivedManifest, parseManifest, serveModel, type Manifest, type ServedModel } from './manifest.js';
import type { LocalArtifact } from './model-artifact.js';
import { fetchModelArtifact } from './model-source.js';
import type { InputTensors } from './predict-request.js';
import { float16InputMessage, type RequestLimits, type ValueInfo } from './signature.js';
import type { TensorValue } from './tensor-types.js';

/** An output tensor as onnxruntime returned it. */
export interface OutputTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint | string | boolean> & Iterable<number | bigint | string | boolean>;
}

/** A loaded, checked model: the only object that touches onnxruntime. */
export interface LoadedModel {
  readonly manifest: Manifest;
  readonly served: ServedModel;
  /** `<name>@<version>`, as responses and metrics show it. */
  readonly version: string;
  /** onnxruntime's own metadata, for the Open Inference Protocol's model metadata. */
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly limits: RequestLimits;
  readonly artifact: LocalArtifact;
  /** The model file's format: ORT format (a `.ort` file, as `npm run build` ships it by default) or ONNX. */
  readonly format: ModelFormat;
  /**
   * An ORT-format model's bytes, which the session uses in place (ORT_IN_PLACE_SESSION_ENTRIES): onnxruntime keeps
   * pointers into this buffer without holding a reference to it, so it is referenced here for as long as the session
   * (held by `run`) lives, or the garbage collector could free memory the session still reads. Undefined for ONNX.
   */
  readonly modelBytes: Uint8Array | undefined;
  /** Why the warm-up run at load failed, if it did (a model whose zero inputs are invalid); requests still run. */
  readonly probeError: string | undefined;
  /**
   * Runs the model through onnxruntime-node's public `InferenceSession.run` and returns the named outputs (by
   * default the served output of a classifier or regressor, every tensor output of a tensor model).
   */
  run(inputs: InputTensors, outputs?: readonly string[]): Promise<Map<string, OutputTensor>>;
}

/**
 * Session options, chosen with `npm run bench` on the bundled models (see docs/PERFORMANCE.md): one intra-op
 * thread (a Lambda below 1,769 MB has less than one vCPU, and for rows this small a second thread costs more than
 * it saves), sequential execution, full graph optimisation, and no spinning so an idle container burns no CPU. An
 * ORT-format model's bytes are used in place (docs/PERFORMANCE.md, "Cold start against model size"): the session
 * neither parses protobuf nor copies the initializers, which roughly halves both its creation time and peak memory
 * for large models. Its saved optimisations stop at "extended", so "all" still applies the rest for this CPU at load.
 */
export function sessionOptions(intraOpThreads: number, format: ModelFormat = 'onnx'): ort.InferenceSession.SessionOptions {
  const inPlace = format === 'ort' ? ORT_IN_PLACE_SESSION_ENTRIES : {};
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' }, ...inPlace } },
  };
}

/** The bundle's model.json, or undefined when the folder has none (the model is then served as tensors). */
async function readManifest(modelDir: string): Promise<Manifest | undefined> {
  const file = path.join(modelDir, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelBundleError(`${file} cannot be read (${describeError(error)})`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelBundleError(`${file} is not valid JSON (${describeError(error)})`, { cause: error });
  }
  return parseManifest(json, file);
}

/** The names a bundle's model ships under: model.onnx, or the build's model.ort; any other file is served on its own. */
const BUNDLE_MODEL_FILES: readonly string[] = [DEFAULT_MODEL_FILE, ORT_MODEL_FILE];

/** The name a bare model file serves under: its folder's for `model.onnx` (or `model.ort`), its own otherwise. */
function derivedName(config: FunctionConfig): string {
  const file = config.artifact.kind === 'bundle' ? config.artifact.file : config.artifact.key;
  const base = path.basename(file);
  return BUNDLE_MODEL_FILES.includes(base) && config.artifact.kind === 'bundle' ? path.basename(path.dirname(file)) : base;
}

/**
 * The session: an ONNX file by path; an ORT-format file read into a buffer that the session uses in place, returned
 * with it so the loaded model can keep it referenced.
 */
async function createSession(file: string, format: ModelFormat, intraOpThreads: number): Promise<{ session: ort.InferenceSession; bytes: Uint8Array | undefined }> {
  if (format === 'onnx') return { session: await ort.InferenceSession.create(file, sessionOptions(intraOpThreads)), bytes: undefined };
  const bytes = await readFile(file);
  return { session: await ort.InferenceSession.create(bytes, sessionOptions(intraOpThreads, 'ort')), bytes };
}

/** One row of zeros (empty strings, false) for every input, symbolic dimensions 1: the warm-up run's input. */
function zeroInputs(served: ServedModel): InputTensors {
  const tensors = new Map<string, TensorValue>();
  for (const spec of served.inputs) {
    const dims = (spec.shape ?? [1, 1]).map((d) => (typeof d === 'number' ? d : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    tensors.set(spec.name, { type: spec.type, dims, data: spec.element.allocate(count) });
  }
  return { rows: 1, tensors };
}

/**
 * Loads the model once per container: manifest (model.json, or derived for a bare model.onnx), artifact (packaged
 * or from S3, checksummed), session (ONNX, or ORT format used in place), the checks of the manifest against the
 * session's metadata, and one warm-up run on zero inputs, which also checks a classifier's real output width where
 * the ONNX shape is symbolic.
 */
export async function loadModel(config: FunctionConfig): Promise<LoadedModel> {
  // Both at once, but a bad manifest is reported before a missing artifact whichever fails first.
  // A packaged file under another name than model.onnx or model.ort (npm start -- --model resnet.onnx) is served on its own.
  const bare = config.artifact.kind === 'bundle' && !BUNDLE_MODEL_FILES.includes(path.basename(config.artifact.file));
  const [manifestRead, artifactRead] = await Promise.allSettled([bare ? Promise.resolve(undefined) : readManifest(config.modelDir), fetchModelArtifact(config.artifact, config.downloadDir, config.modelSha256, config.download)]);
  if (manifestRead.status === 'rejected') throw manifestRead.reason;
  if (artifactRead.status === 'rejected') throw artifactRead.reason;
  const artifact = artifactRead.value;
  let manifest = manifestRead.value;
  if (manifest === undefined) {
    const sha256 = artifact.sha256 ?? (await (await import('./checksum.js')).sha256OfFile(artifact.file));
    manifest = derivedManifest(derivedName(config), sha256);
  }
  const format = modelFormatOf(artifact.file);
  let session: ort.InferenceSession;
  let modelBytes: Uint8Array | undefined;
  try {
    ({ session, bytes: modelBytes } = await createSession(artifact.file, format, config.intraOpThreads));
  } catch (error) {
    throw new ModelBundleError(`model ${manifest.name}: onnxruntime cannot load ${artifact.origin} (${describeError(error)})`, { cause: error });
  }
  const inputs = session.inputMetadata as readonly ValueInfo[];
  const outputs = session.outputMetadata as readonly ValueInfo[];
  const served = serveModel(manifest, inputs, outputs);
  const defaultOutputs = served.served === undefined ? served.outputs.map((o) => o.name) : [served.served.name];

  const run = async (request: InputTensors, names: readonly string[] = defaultOutputs): Promise<Map<string, OutputTensor>> => {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of request.tensors) feeds[name] = new ort.Tensor(tensor.type, tensor.data as ort.Tensor.DataType, tensor.dims);
    const result = await session.run(feeds, names);
    const out = new Map<string, OutputTensor>();
    for (const name of names) {
      const tensor = result[name];
      if (tensor === undefined) throw new ModelBundleError(`model ${manifest.name}: onnxruntime returned no output "${name}"`);
      out.set(name, { name, type: tensor.type, dims: tensor.dims, data: tensor.data as OutputTensor['data'] });
    }
    return out;
  };

  let probeError: string | undefined;
  try {
    const probe = await run(zeroInputs(served));
    if (served.served !== undefined) {
      const tensor = probe.get(served.served.name)!;
      checkOutputWidth(manifest, served.served.name, tensor.data.length);
    }
  } catch (error) {
    if (error instanceof ModelBundleError) throw error;
    // A runtime that cannot take the model's float16 inputs fails every request the same way: refuse at load.
    const float16 = typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'function' ? float16InputMessage(manifest.name, served.inputs) : undefined;
    if (float16 !== undefined) throw new ModelBundleError(float16, { cause: error });
    probeError = describeError(error);
  }

  return Object.freeze({
    manifest,
    served,
    version: `${manifest.name}@${manifest.version}`,
    inputs,
    outputs,
    limits: Object.freeze({ model: manifest.name, maxBatch: manifest.maxBatch, maxElements: config.maxRequestElements }),
    artifact,
    format,
    modelBytes,
    probeError,
    run,
  });
}
