/**
 * The model file's journey to local disk, as types only: where it comes from (config.ts reads it from the
 * environment), the bounds on an S3 download, and the local file it ends as (model-source.ts, s3-download.ts,
 * checksum.ts). A leaf module, so that none of those files imports another for its types.
 */

/**
 * Where the model file comes from (ONNX, or ORT format for a `.ort` file or key: contract/model-format.ts). The
 * manifest (`model.json`) always comes from the model folder.
 */
export type ModelArtifactSource =
  | {
      readonly kind: 'bundle';
      readonly file: string;
      /**
       * The file to load instead when `file` does not exist: with MODEL_FILE unset, model.ort beside model.onnx, so
       * a build that ships the ORT format runs wherever its files are unpacked, MODEL_FILE or not.
       */
      readonly fallback?: string;
    }
  | {
      readonly kind: 's3';
      readonly bucket: string;
      readonly key: string;
      readonly versionId: string | undefined;
    };

export type S3ArtifactSource = Extract<ModelArtifactSource, { kind: 's3' }>;

/** Bounds on the S3 download; each falls back to the `DEFAULT_*` constant of the same name in s3-download.ts. */
export interface DownloadOptions {
  /** @default DEFAULT_CONNECT_TIMEOUT_MS */
  readonly connectTimeoutMs?: number;
  /** @default DEFAULT_ANSWER_TIMEOUT_MS */
  readonly answerTimeoutMs?: number;
  /** @default DEFAULT_IDLE_TIMEOUT_MS */
  readonly idleTimeoutMs?: number;
  /** @default DEFAULT_MAX_ATTEMPTS */
  readonly maxAttempts?: number;
  /** Bytes per ranged GET; an object no larger than this is fetched with one request. @default DEFAULT_PART_BYTES */
  readonly partBytes?: number;
  /** Ranged GETs in flight at once. @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number;
  /** Attempts per part whose body fails (a reset or a stall), the first included. @default DEFAULT_PART_ATTEMPTS */
  readonly partAttempts?: number;
}

/** A model file on local disk, ready for onnxruntime. */
export interface LocalArtifact {
  /** ONNX, or ORT format for a `.ort` file (contract/model-format.ts's modelFormatOf). */
  readonly file: string;
  readonly bytes: number;
  /** Hex sha256, when it was computed (always for S3 downloads; for packaged files only when one was expected). */
  readonly sha256: string | undefined;
  /** Where it came from, for logs: a path or an s3:// URL. */
  readonly origin: string;
  /**
   * When an S3 download began and ended, on performance.now()'s clock: an invocation that waited for it shows it as
   * its `s3-download` span.
   */
  readonly downloaded?: { readonly startMs: number; readonly endMs: number };
}
