/**
 * `dist/build.json`, the build record: what `npm run build` (build.ts) writes and the infrastructure (infra/) reads
 * (SPEC "Build artifacts"). The shape is the JSON on disk; infra/build-record.ts checks a file against it.
 */

import type { ModelFormat } from './model-format.js';

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

/**
 * How the model reaches the function: inside the function zip, uploaded to the model store and fetched to /tmp at
 * init, or inside a container image with the function and onnxruntime (`image`: no zip, no layer; see `image`).
 */
export const MODEL_PACKAGINGS = ['zip', 's3', 'image'] as const;
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
      /**
       * When the model ships in ORT format: the largest difference of model.ort's answers from golden.json, checked
       * the same way as model.onnx's (`maxDiff`) and within the same tolerance.
       */
      readonly ortMaxDiff?: number;
      /** The copy of golden.json, in build.json's folder: relative to the project when inside it, absolute otherwise. */
      readonly file: string;
      /** Hex sha256 of that file. */
      readonly sha256: string;
    };

/** A bundle's golden outputs (SPEC "Model bundle"), and the name of the copy the build writes beside build.json. */
export const GOLDEN_FILE = 'golden.json';

/**
 * `model`. Two files can be meant: model.onnx, the bundle's model, and the file that ships (model.onnx itself, or
 * model.ort, the same model saved in ORT format by `npm run build -- --optimize auto|ort`). `sha256` is always
 * model.onnx's: it is the model's identity, on which memory-floor.json, a bare bundle's version and messages key.
 * `bytes`, `shippedName` and `shippedSha256` describe the shipped file: what the zip, the model store or the image
 * carries, what /tmp must hold, and what MODEL_SHA256 checks. The fields added with the ORT format are optional, so
 * records written before it still read: they shipped model.onnx.
 */
export interface BuildRecordModel {
  readonly name: string;
  readonly version: string;
  /** Hex sha256 of model.onnx, the model's identity (whatever file ships). */
  readonly sha256: string;
  /** Bytes of the shipped file (`shippedName`). */
  readonly bytes: number;
  readonly packaging: ModelPackaging;
  /** The shipped file's format. @default "onnx" */
  readonly format?: ModelFormat;
  /**
   * The shipped file's name in the function's model folder (MODEL_FILE) and the last segment of its S3 key:
   * MODEL_FILE_OF_FORMAT[format]. @default "model.onnx"
   */
  readonly shippedName?: string;
  /** Hex sha256 of the shipped file: for a model in S3, what MODEL_SHA256 checks. @default `sha256` (model.onnx ships) */
  readonly shippedSha256?: string;
  /** Bytes of model.onnx, beside the shipped file's `bytes`. @default `bytes` (model.onnx ships) */
  readonly onnxBytes?: number;
  /** The shipped file to upload, only for packaging "s3". */
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

/** One file of the image's build context, as the build wrote it. */
export interface BuildRecordImageFile {
  /** Relative to the context folder, "/"-separated: `Dockerfile`, `rootfs/var/task/index.mjs`, ... */
  readonly path: string;
  readonly bytes: number;
  /** Hex sha256 of the file. */
  readonly sha256: string;
  /** The file's mode as the image holds it: 0o644, or 0o755 for native binaries. */
  readonly mode: number;
}

/** `image`: the container image build context, only for packaging "image". */
export interface BuildRecordImage {
  /** The build context folder (Dockerfile and `rootfs/`): relative to the project when inside it, absolute otherwise. */
  readonly context: string;
  /**
   * The image's file tree as a folder (the context's `rootfs/`): what the image adds to the base image, at the paths it
   * has there (`var/task/...`), so the runtime emulator can run exactly that tree.
   */
  readonly rootfs: string;
  /**
   * AWS's Lambda base image the Dockerfile starts from, by tag (`public.ecr.aws/lambda/nodejs:24`): no digest for it
   * could be verified when this was written, so the deploy workflow resolves the tag, builds on that digest and
   * records it.
   */
  readonly baseImage: string;
  /** The platform to build for, from `arch`: `linux/arm64` or `linux/amd64`. */
  readonly platform: string;
  /** CMD of the image: the handler, as `handler` names it. */
  readonly command: readonly string[];
  /** Sum of the files' bytes: what the image adds to the base image, uncompressed. */
  readonly bytes: number;
  /**
   * Hex sha256 of imageContentLines(files), the sorted files' paths, modes and sha256s: the image's tag in the
   * repository, so the same build pushes the same tag and a changed one a new tag (tags are immutable).
   */
  readonly sha256: string;
  readonly files: readonly BuildRecordImageFile[];
}

/** The JSON of `dist/build.json`. */
export interface BuildRecord {
  readonly arch: Arch;
  readonly runtime: Runtime;
  readonly handler: string;
  /** The function zip and runtime layer zip; empty for packaging "image", whose files are in `image`. */
  readonly artifacts: readonly BuildRecordArtifact[];
  readonly model: BuildRecordModel;
  /** Only for packaging "image". */
  readonly image?: BuildRecordImage;
}

/** Docker's platform name for a Lambda architecture. */
export const IMAGE_PLATFORM: Readonly<Record<Arch, string>> = Object.freeze({ arm64: 'linux/arm64', x86_64: 'linux/amd64' });

/** What the image's content sha256 is taken over: each file's path, mode and sha256, sorted by path; the build and infra agree on it. */
export function imageContentLines(files: readonly BuildRecordImageFile[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path}\0${f.mode.toString(8)}\0${f.sha256}\n`)
    .join('');
}
