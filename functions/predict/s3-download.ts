import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { verify } from './checksum.js';
import { ModelSourceError, describeError } from './errors.js';
import type { DownloadOptions, LocalArtifact, S3ArtifactSource } from './model-artifact.js';

/**
 * How long one attempt may take to open a TCP connection to S3. In-region S3 connects in milliseconds; a VPC without
 * an S3 gateway endpoint or NAT drops the SYN, and without a bound the init would wait for the OS (minutes).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2_000;
/** How long one attempt may wait for the response headers, connection included. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 3_000;
/**
 * How long the body may go without a byte before the download is abandoned. The whole download has no fixed cap
 * (a large model may take longer than Lambda's 10 s init, and Lambda then re-runs init inside the first invoke);
 * it is bounded by progress instead. Longer than the answer timeout so TCP retransmission backoff is not a stall.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 5_000;
/**
 * Attempts per GetObject, the first included (the SDK retries timeouts, throttling and 5xx). With the timeouts
 * above, a silent endpoint fails in about 2 × 3 s, inside Lambda's 10 s init, so the cause is logged by this
 * init rather than lost when Lambda restarts it. A body that stalls is not retried.
 */
export const DEFAULT_MAX_ATTEMPTS = 2;

const NETWORK_HINT = 'check the network path to S3 (VPC endpoint or NAT) and AWS_ENDPOINT_URL';

/** The body went `idleMs` without a byte. */
class DownloadStalledError extends Error {
  constructor(idleMs: number) {
    super(`no data for ${idleMs} ms`);
    this.name = 'DownloadStalledError';
  }
}

/**
 * A pass-through stream that feeds every chunk to `hash` and counts it, so a download is checksummed as it is
 * written, and that fails with a DownloadStalledError when no chunk arrives for `idleMs`.
 */
class ReceivingStream extends Transform {
  received = 0;
  readonly #hash: Hash;
  readonly #idle: NodeJS.Timeout;

  constructor(hash: Hash, idleMs: number) {
    super();
    this.#hash = hash;
    this.#idle = setTimeout(() => this.destroy(new DownloadStalledError(idleMs)), idleMs);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.#idle.refresh();
    this.received += chunk.length;
    this.#hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: () => void): void {
    clearTimeout(this.#idle);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#idle);
    callback(error);
  }
}

function sha256(): Hash {
  return createHash('sha256');
}

function s3Url(source: S3ArtifactSource): string {
  return `s3://${source.bucket}/${source.key}${source.versionId === undefined ? '' : ` (version ${source.versionId})`}`;
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function attempts(n: number): string {
  return n === 1 ? '1 attempt' : `${n} attempts`;
}

/** Why the download failed, in words that say what to fix. Local paths are left out: the message reaches logs. */
function reasonFor(error: unknown, received: number | undefined, total: number | undefined, bounds: Required<DownloadOptions>): string {
  const name = error instanceof Error ? error.name : '';
  // `received` is set once the headers have arrived; a timeout after that is a stalled body.
  if (error instanceof DownloadStalledError || (received !== undefined && name === 'TimeoutError')) {
    const of = total === undefined ? '' : ` of ${total}`;
    return `S3 stopped sending the object after ${received ?? 0}${of} bytes and sent nothing for ${seconds(bounds.idleTimeoutMs)}; ${NETWORK_HINT}`;
  }
  if (name === 'TimeoutError') {
    // The SDK names both of its timeouts TimeoutError; only the connection one says "establish a connection".
    const connecting = error instanceof Error && error.message.includes('establish a connection');
    const what = connecting ? `S3 did not accept a connection within ${seconds(bounds.connectTimeoutMs)}` : `S3 did not answer within ${seconds(bounds.answerTimeoutMs)}`;
    return `${what} (${attempts(bounds.maxAttempts)}); ${NETWORK_HINT}`;
  }
  if (name === 'NoSuchKey' || name === 'NotFound') return 'the object does not exist; upload the model artifact or fix MODEL_KEY';
  if (name === 'NoSuchBucket') return 'the bucket does not exist; fix MODEL_BUCKET';
  if (name === 'NoSuchVersion' || name === 'InvalidArgument') return 'that version does not exist; fix MODEL_VERSION_ID';
  if (error instanceof Error && 'syscall' in error && 'path' in error) {
    // A file system error names the local file; its code is enough to act on.
    return `the file could not be written (${'code' in error ? String(error.code) : error.name}); check MODEL_DOWNLOAD_DIR and its free space`;
  }
  return `${describeError(error)}; check the bucket policy, the function's role and the network path to S3`;
}

/**
 * Streams the S3 object to `downloadDir`, hashing as it goes. `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) is
 * honoured by the SDK; when it is set, path-style addressing is used so local emulators work. Every wait is bounded
 * (`DownloadOptions`); on any failure the partial file is removed.
 */
export async function download(source: S3ArtifactSource, downloadDir: string, expected: string | undefined, options: DownloadOptions = {}): Promise<LocalArtifact> {
  const bounds: Required<DownloadOptions> = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    answerTimeoutMs: options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
  const origin = s3Url(source);
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  const client = new S3Client({
    forcePathStyle: endpoint !== undefined && endpoint !== '',
    maxAttempts: bounds.maxAttempts,
    requestHandler: {
      connectionTimeout: bounds.connectTimeoutMs,
      // Without throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes.
      requestTimeout: bounds.answerTimeoutMs,
      throwOnRequestTimeout: true,
      // Also covers the moment between the headers and the first read of the body.
      socketTimeout: bounds.idleTimeoutMs,
    },
  });
  const file = path.join(downloadDir, `model-${sha256().update(origin).digest('hex').slice(0, 16)}.onnx`);
  const hash = sha256();
  let receiving: ReceivingStream | undefined;
  let total: number | undefined;
  try {
    const response = await client.send(
      new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(source.versionId === undefined ? {} : { VersionId: source.versionId }) }),
    );
    // Started only now: the answer timeout, not the idle one, bounds the wait for the headers.
    receiving = new ReceivingStream(hash, bounds.idleTimeoutMs);
    total = response.ContentLength;
    if (response.Body === undefined) throw new Error('the response has no body');
    await mkdir(downloadDir, { recursive: true });
    await pipeline(response.Body as Readable, receiving, createWriteStream(file));
  } catch (error) {
    receiving?.destroy();
    await rm(file, { force: true });
    throw new ModelSourceError(`model ${origin} could not be downloaded: ${reasonFor(error, receiving?.received, total, bounds)}`, { cause: error });
  } finally {
    client.destroy();
  }
  const bytes = (await stat(file)).size;
  try {
    return verify({ file, bytes, sha256: hash.digest('hex'), origin }, expected);
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
}
