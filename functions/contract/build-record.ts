/**
 * `dist/build.json`, the build record: what `npm run build` (build.ts) writes and the infrastructure (infra/) reads
 * (SPEC "Build artifacts"). The shape is the JSON on disk; infra/build-record.ts checks a file against it.
 */

export const BUILD_RECORD_FILE = 'build.json';

/** Where `npm run build` writes without `--out`, relative to the project; the environments deploy it by default. */
export const DEFAULT_DIST_DIR = 'dist';

/** Lambda's architecture names, as the build, the layer and the function's `architectures` spell them. */
export const ARCHES = ['arm64', 'x86_64'] as const;
export type Arch = (typeof ARCHES)[number];
export const DEFAULT_ARCH: Arch = 'arm64';

/** Lambda's architecture name to Node's `process.arch`, as onnxruntime-node names its binary folders. */
export const NODE_ARCH: Readonly<Record<Arch, string>> = Object.freeze({ arm64: 'arm64', x86_64: 'x64' });

/** The Lambda runtimes the build targets (`--runtime`); the function zip runs on either. */
export const RUNTIMES = ['nodejs24.x', 'nodejs22.x'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const DEFAULT_RUNTIME: Runtime = 'nodejs24.x';

/** How the model reaches the function: inside the function zip, or uploaded to the model store and fetched at init. */
export const MODEL_PACKAGINGS = ['zip', 's3'] as const;
export type ModelPackaging = (typeof MODEL_PACKAGINGS)[number];

/** The artifacts' names in `artifacts[]`. */
export const ARTIFACT = Object.freeze({ function: 'function', runtimeLayer: 'runtime-layer' });

/** The handler string of the unzipped function. */
export const HANDLER = 'index.handler';

export interface BuildRecordArtifact {
  readonly name: string;
  /** Relative to the project when inside it, absolute otherwise. */
  readonly file: string;
  readonly bytes: number;
  readonly unzippedBytes: number;
  /** Hex sha256 of the zip. */
  readonly sha256: string;
}

/**
 * `model.golden`: "missing" for a build made with --allow-missing-golden, else what the golden check found, and the
 * bundle's golden.json as the build copied it beside build.json, so the rows travel with the build (the rollout's
 * traffic check sends them to a new version before any traffic moves).
 */
export type GoldenRecord =
  | 'missing'
  | {
      readonly rows: number;
      readonly tolerance: number;
      readonly maxDiff: number;
      readonly top1Agreement?: number;
      readonly minTop1Agreement?: number;
      /** The copy of golden.json, in build.json's folder: relative to the project when inside it, absolute otherwise. */
      readonly file: string;
      /** Hex sha256 of that file. */
      readonly sha256: string;
    };

/** A bundle's golden outputs (SPEC "Model bundle"), and the name of the copy the build writes beside build.json. */
export const GOLDEN_FILE = 'golden.json';

export interface BuildRecordModel {
  readonly name: string;
  readonly version: string;
  /** Hex sha256 of model.onnx. */
  readonly sha256: string;
  readonly bytes: number;
  readonly packaging: ModelPackaging;
  /** The ONNX file to upload, only for packaging "s3". */
  readonly file?: string;
  readonly task: string;
  /** The most rows one request may carry (model.json's maxBatch). */
  readonly maxBatch: number;
  readonly golden: GoldenRecord;
  /**
   * The smallest memory size, MB, at which the bundle's largest allowed request completed (`npm run tune -- --floor`,
   * the bundle's memory-floor.json), when it was measured for this model file.
   */
  readonly memoryFloorMb?: number;
}

/** Where `npm run tune -- --floor` records a bundle's memory floor, and the build reads it. */
export const MEMORY_FLOOR_FILE = 'memory-floor.json';

/** The JSON of `dist/build.json`. */
export interface BuildRecord {
  readonly arch: Arch;
  readonly runtime: Runtime;
  readonly handler: string;
  readonly artifacts: readonly BuildRecordArtifact[];
  readonly model: BuildRecordModel;
}
