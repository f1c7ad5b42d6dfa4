import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FunctionConfig } from './config.js';
import { ModelBundleError, describeError } from './errors.js';
import { checkManifestAgainstModel, checkOutputWidth, parseManifest, type Manifest, type ValueInfo } from './manifest.js';
import { fetchModelArtifact, type LocalArtifact } from './model-source.js';
import { openNativeSession, type NativeSession } from './native-session.js';
import { featureSpec, type Batch, type FeatureSpec } from './validate-request.js';

/** A raw output tensor, as the Open Inference Protocol routes return it. */
export interface OutputTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayLike<number | bigint | string | boolean>;
}

/** A loaded, checked model: the only object that touches onnxruntime. */
export interface LoadedModel {
  readonly manifest: Manifest;
  readonly spec: FeatureSpec;
  /** `<name>@<version>`, as responses and metrics show it. */
  readonly version: string;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly artifact: LocalArtifact;
  /**
   * Runs a batch and returns the manifest's output, row-major. Synchronous, as onnxruntime's native run is: the
   * request path needs no promise for it. Throws what onnxruntime throws.
   */
  predict(batch: Batch): Float32Array;
  /** Runs a batch and returns the named outputs (all when `names` is empty). Synchronous, like `predict`. */
  run(batch: Batch, names: readonly string[]): OutputTensor[];
}

/**
 * Session options, chosen with `npm run bench` on the bundled models (see docs/PERFORMANCE.md): one intra-op
 * thread (a Lambda below 1,769 MB has less than one vCPU, and for rows this small a second thread costs more than
 * it saves), sequential execution, full graph optimisation, and no spinning so an idle container burns no CPU.
 */
export function sessionOptions(intraOpThreads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    enableCpuMemArena: true,
    enableMemPattern: true,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

async function readManifest(modelDir: string): Promise<Manifest> {
  const file = path.join(modelDir, 'model.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ModelBundleError(`${file} cannot be read (${describeError(error)}); set MODEL_DIR to a bundle folder holding model.json`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelBundleError(`${file} is not valid JSON (${describeError(error)})`, { cause: error });
  }
  return parseManifest(json, file);
}

/**
 * Loads the model once per container: manifest, artifact (packaged or from S3, checksummed), session, the checks
 * of the manifest against the session's metadata, and one warm-up row, which also checks the real output width
 * where the ONNX shape is symbolic.
 */
export async function loadModel(config: FunctionConfig): Promise<LoadedModel> {
  // Both at once, but a bad manifest is reported before a missing artifact whichever fails first: without a
  // model.json the folder is not a bundle at all, and that is the error to fix first.
  const [manifestRead, artifactRead] = await Promise.allSettled([readManifest(config.modelDir), fetchModelArtifact(config.artifact, config.downloadDir, config.modelSha256)]);
  if (manifestRead.status === 'rejected') throw manifestRead.reason;
  if (artifactRead.status === 'rejected') throw artifactRead.reason;
  const manifest = manifestRead.value;
  const artifact = artifactRead.value;
  let session: NativeSession;
  try {
    session = openNativeSession(artifact.file, sessionOptions(config.intraOpThreads));
  } catch (error) {
    if (error instanceof ModelBundleError) throw error;
    throw new ModelBundleError(`model ${manifest.name}: onnxruntime cannot load ${artifact.origin} (${describeError(error)})`, { cause: error });
  }
  const { inputs, outputs } = session;
  checkManifestAgainstModel(manifest, inputs, outputs);

  const width = manifest.features.length;
  const feed = (batch: Batch) => ({ [manifest.input]: new ort.Tensor('float32', batch.data, [batch.rows, width]) });
  const only = { [manifest.output]: null };
  const allTensors = Object.fromEntries(outputs.filter((o) => o.isTensor).map((o) => [o.name, null] as const));

  // Prepared inputs: one buffer for the largest batch, and per row count a tensor over its start, made on first
  // use. A prediction copies its rows in rather than handing onnxruntime a new array and tensor each time (less
  // work per run, no new ArrayBuffer for the garbage collector; docs/PERFORMANCE.md). The native run is
  // synchronous, so no other prediction can touch the buffer while onnxruntime reads it.
  const prepared = new Float32Array(manifest.maxBatch * width);
  const preparedFeeds = new Map<number, Record<string, ort.Tensor>>();
  const preparedFeed = (rows: number) => {
    let feeds = preparedFeeds.get(rows);
    if (feeds === undefined) {
      feeds = { [manifest.input]: new ort.Tensor('float32', prepared.subarray(0, rows * width), [rows, width]) };
      preparedFeeds.set(rows, feeds);
    }
    return feeds;
  };
  /** The batch as onnxruntime's input: copied into the prepared tensor, or a tensor of its own beyond maxBatch. */
  const inputOf = (batch: Batch): Record<string, ort.Tensor> => {
    if (batch.rows > manifest.maxBatch) return feed(batch);
    prepared.set(batch.data);
    return preparedFeed(batch.rows);
  };
  let lastNames: readonly string[] = [];
  let lastFetches: Record<string, null> = allTensors;
  const predict = (batch: Batch): Float32Array => session.run(inputOf(batch), only)[manifest.output]!.data as Float32Array;

  const model: LoadedModel = {
    manifest,
    spec: featureSpec(manifest),
    version: `${manifest.name}@${manifest.version}`,
    inputs,
    outputs,
    artifact,
    predict,
    run(batch, names) {
      // The same names (an infer reader's kept request) give the same fetches.
      if (names !== lastNames) {
        lastNames = names;
        lastFetches = names.length > 0 ? Object.fromEntries(names.map((name) => [name, null] as const)) : allTensors;
      }
      const fetches = lastFetches;
      const result = session.run(inputOf(batch), fetches);
      return Object.entries(result).map(([name, tensor]) => ({ name, type: tensor.type, dims: tensor.dims, data: tensor.data as OutputTensor['data'] }));
    },
  };

  const probe = model.predict({ rows: 1, data: new Float32Array(width) });
  checkOutputWidth(manifest, probe.length);
  return model;
}
