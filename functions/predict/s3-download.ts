import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rm, statfs, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { modelFormatOf } from '../contract/model-format.js';
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
 * init rather than lost when Lambda restarts it. A body that stalls is not retried by the SDK; a part's is, below.
 */
export const DEFAULT_MAX_ATTEMPTS = 2;
/**
 * Bytes per ranged GET. S3's performance guidance: "Typical sizes for byte-range requests are 8 MB or 16 MB", with
 * concurrent connections fetching different ranges of one object for more throughput than one whole-object request
 * (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/use-byte-range-fetches.html).
 * An object no larger than one part costs one request, as before.
 */
export const DEFAULT_PART_BYTES = 8 * 2 ** 20;
/**
 * Ranged GETs in flight. Small on purpose: a Lambda function at 1,769 MB has one vCPU, the parts are written to
 * /tmp as they arrive (memory stays about this many stream buffers, not the object), and a few connections already
 * carry several times what one does. The bench's overhead per part is in docs/PERFORMANCE.md.
 */
export const DEFAULT_CONCURRENCY = 4;
/** Attempts per part whose body breaks off (reset, stall, short), the first included; each re-fetches only its range. */
export const DEFAULT_PART_ATTEMPTS = 3;

const NETWORK_HINT = 'check the network path to S3 (VPC endpoint or NAT) and AWS_ENDPOINT_URL';
const HASH_READ_BYTES = 2 ** 20;

type Bounds = Required<DownloadOptions>;

/** The body went `idleMs` without a byte. */
class DownloadStalledError extends Error {
  constructor(idleMs: number) {
    super(`no data for ${idleMs} ms`);
    this.name = 'DownloadStalledError';
  }
}

/** The object is not the one the download began with: a later part failed If-Match, or came with another size. */
class ObjectChangedError extends Error {
  constructor(readonly etag: string | undefined) {
    super(`the object changed since its ETag was ${etag ?? 'unknown'}`);
    this.name = 'ObjectChangedError';
  }
}

/** MODEL_DOWNLOAD_DIR has less free space than the object needs, found before the first byte is written. */
class NoRoomError extends Error {
  constructor(
    readonly free: number,
    readonly total: number,
  ) {
    super(`${free} bytes free, ${total} needed`);
    this.name = 'NoRoomError';
  }
}

/** One part failed every attempt; `cause` is the last failure. */
class PartFailedError extends Error {
  constructor(
    readonly part: Part,
    readonly attempts: number,
    readonly received: number,
    cause: unknown,
  ) {
    super(`bytes ${part.start}-${part.end} failed ${attempts} times`, { cause });
    this.name = 'PartFailedError';
  }
}

interface Part {
  readonly index: number;
  readonly start: number;
  /** Inclusive, as in an HTTP Range. */
  readonly end: number;
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

function megabytes(bytes: number): number {
  return Math.ceil(bytes / 2 ** 20);
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function isFileError(error: unknown): error is Error & { code?: string } {
  return error instanceof Error && 'syscall' in error;
}

/** Why the download failed, in words that say what to fix. Local paths are left out: the message reaches logs. */
function reasonFor(error: unknown, received: number | undefined, total: number | undefined, bounds: Bounds): string {
  if (error instanceof PartFailedError) {
    const inner = reasonFor(error.cause, error.received, error.part.end - error.part.start + 1, bounds);
    return `bytes ${error.part.start}-${error.part.end} of ${total ?? '?'} failed ${attempts(error.attempts)}; the last: ${inner}`;
  }
  if (error instanceof ObjectChangedError) {
    return `the object changed during the download (it had ETag ${error.etag ?? 'unknown'} when the download began); redeploy after the upload finishes, or pin MODEL_VERSION_ID to one version`;
  }
  if (error instanceof NoRoomError) {
    return `the object is ${error.total} bytes but MODEL_DOWNLOAD_DIR has ${error.free} bytes free; raise the function's ephemeral storage to at least ${megabytes(error.total) + 1} MB`;
  }
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
  if (isFileError(error)) {
    // A file system error names the local file; its code is enough to act on.
    if (error.code === 'ENOSPC') {
      const size = total === undefined ? '' : ` (the object is ${total} bytes; set at least ${megabytes(total) + 1} MB)`;
      return `the file could not be written (ENOSPC): MODEL_DOWNLOAD_DIR is full; raise the function's ephemeral storage${size} or free the folder`;
    }
    return `the file could not be written (${error.code ?? error.name}); check MODEL_DOWNLOAD_DIR and its free space`;
  }
  if (received !== undefined && total !== undefined && received < total && !(error instanceof Error && httpStatus(error) !== undefined)) {
    return `S3 closed the connection after ${received} of ${total} bytes (${describeError(error)}); ${NETWORK_HINT}`;
  }
  return `${describeError(error)}; check the bucket policy, the function's role and the network path to S3`;
}

/** A failure that another attempt at the same range cannot fix. */
function isFinal(error: unknown): boolean {
  const status = httpStatus(error);
  return error instanceof ObjectChangedError || isFileError(error) || (status !== undefined && status >= 400 && status < 500) || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Writes `body` to `handle` from `position` on, one chunk at a time (so memory holds a stream buffer, not the part),
 * feeding `hash` when given. Fails with a DownloadStalledError when no chunk arrives for `idleMs`, and stops when
 * `signal` aborts. Returns the bytes written.
 */
async function writeBody(body: Readable, handle: FileHandle, position: number, idleMs: number, signal: AbortSignal, progress: (bytes: number) => void, hash?: Hash): Promise<number> {
  const idle = setTimeout(() => body.destroy(new DownloadStalledError(idleMs)), idleMs);
  const abort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', abort, { once: true });
  let written = 0;
  try {
    for await (const chunk of body) {
      idle.refresh();
      const buffer = chunk as Buffer;
      hash?.update(buffer);
      await handle.write(buffer, 0, buffer.length, position + written);
      written += buffer.length;
      progress(buffer.length);
    }
    return written;
  } finally {
    clearTimeout(idle);
    signal.removeEventListener('abort', abort);
  }
}

/** `bytes 0-99/1000` → its parts; undefined for a response that is not a range (a 200 with the whole object). */
function parseContentRange(value: string | undefined): { start: number; end: number; total: number } | undefined {
  const match = value === undefined ? null : /^bytes (\d+)-(\d+)\/(\d+)$/.exec(value.trim());
  if (match === null) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) };
}

/**
 * Hashes the file's parts in order as they complete, re-reading each from the file (the page cache, just written):
 * parts finish out of order, and holding the early finishers in memory until their turn would tie memory to the
 * slowest part. The reads overlap the parts still downloading; what they cost is in docs/PERFORMANCE.md.
 */
class OrderedHasher {
  readonly hash = sha256();
  readonly #done: boolean[];
  #next = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: { readonly cause: unknown } | undefined;
  readonly #buffer = Buffer.allocUnsafe(HASH_READ_BYTES);

  constructor(
    private readonly parts: readonly Part[],
    private readonly handle: FileHandle,
  ) {
    this.#done = parts.map(() => false);
  }

  partDone(index: number): void {
    this.#done[index] = true;
    this.#chain = this.#chain.then(async () => {
      while (this.#next < this.parts.length && this.#done[this.#next] === true) {
        const part = this.parts[this.#next]!;
        for (let at = part.start; at <= part.end; ) {
          const { bytesRead } = await this.handle.read(this.#buffer, 0, Math.min(HASH_READ_BYTES, part.end + 1 - at), at);
          if (bytesRead === 0) throw new Error(`the file ends at ${at} bytes, inside bytes ${part.start}-${part.end}`);
          this.hash.update(this.#buffer.subarray(0, bytesRead));
          at += bytesRead;
        }
        this.#next += 1;
      }
    }).catch((error: unknown) => {
      this.#error ??= { cause: error };
    });
  }

  /** The hex digest, once every part is hashed. */
  async digest(): Promise<string> {
    await this.#chain;
    if (this.#error !== undefined) throw this.#error.cause;
    if (this.#next !== this.parts.length) throw new Error(`only ${this.#next} of ${this.parts.length} parts were hashed`);
    return this.hash.digest('hex');
  }
}

function splitParts(total: number, partBytes: number): Part[] {
  const parts: Part[] = [];
  for (let start = 0, index = 0; start < total; start += partBytes, index += 1) parts.push({ index, start, end: Math.min(start + partBytes, total) - 1 });
  return parts;
}

async function checkRoom(dir: string, total: number): Promise<void> {
  const stats = await statfs(dir);
  const free = stats.bavail * stats.bsize;
  if (free < total) throw new NoRoomError(free, total);
}

/**
 * Where `download` writes the object: one name per bucket, key and version, so two sources never share a file. The
 * extension is the key's format's (`.ort` for a key ending in `.ort`), which the loader reads the format from.
 */
export function downloadPath(source: S3ArtifactSource, downloadDir: string): string {
  return path.join(downloadDir, `model-${sha256().update(s3Url(source)).digest('hex').slice(0, 16)}.${modelFormatOf(source.key)}`);
}

/**
 * Downloads the S3 object to `downloadDir`. The first request asks for the first part's range: its answer gives the
 * object's size and ETag. An object larger than one part is fetched as parallel ranged GETs (`partBytes`,
 * `concurrency`), each written at its offset in the file as it streams and retried alone when its body breaks off
 * (`partAttempts`). Every part is pinned to the first answer's object: MODEL_VERSION_ID when set, else If-Match on
 * its ETag, so an object replaced mid-download fails the download instead of mixing two versions. The sha256 is
 * computed in order as parts complete. `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) is honoured by the SDK; when it
 * is set, path-style addressing is used so local emulators work. Every wait is bounded (`DownloadOptions`); on any
 * failure the partial file is removed.
 */
export async function download(source: S3ArtifactSource, downloadDir: string, expected: string | undefined, options: DownloadOptions = {}): Promise<LocalArtifact> {
  const bounds: Bounds = {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    answerTimeoutMs: options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    partBytes: options.partBytes ?? DEFAULT_PART_BYTES,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    partAttempts: options.partAttempts ?? DEFAULT_PART_ATTEMPTS,
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
  const versionPin = source.versionId === undefined ? {} : { VersionId: source.versionId };
  const get = (range: string | undefined, pin: { VersionId?: string; IfMatch?: string }, signal?: AbortSignal) =>
    client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(range === undefined ? {} : { Range: range }), ...pin }), signal === undefined ? {} : { abortSignal: signal });

  const file = downloadPath(source, downloadDir);
  const stop = new AbortController();
  let handle: FileHandle | undefined;
  let received: number | undefined;
  let total: number | undefined;
  let digest: string;
  try {
    let first;
    try {
      first = await get(`bytes=0-${bounds.partBytes - 1}`, versionPin);
    } catch (error) {
      // An empty object has no byte 0: S3 answers 416 to any range. Ask for the whole of it instead.
      if (!(error instanceof Error && error.name === 'InvalidRange')) throw error;
      first = await get(undefined, versionPin);
    }
    if (first.Body === undefined) throw new Error('the response has no body');
    const firstBody = first.Body as Readable;
    const range = parseContentRange(first.ContentRange);
    total = range?.total ?? first.ContentLength;
    received = 0;
    await mkdir(downloadDir, { recursive: true });
    if (total !== undefined) await checkRoom(downloadDir, total);
    // Read and write: parts after the first are hashed by reading them back.
    handle = await open(file, 'w+');
    const count = (bytes: number) => (received = (received ?? 0) + bytes);
    if (range === undefined || total === undefined || range.end + 1 >= total) {
      // The whole object in one answer: hashed as it streams.
      const hash = sha256();
      const bytes = await writeBody(firstBody, handle, 0, bounds.idleTimeoutMs, stop.signal, count, hash);
      if (total !== undefined && bytes !== total) throw new Error(`the body ended after ${bytes} of ${total} bytes`);
      digest = hash.digest('hex');
    } else {
      digest = await fetchParts(firstBody, first.ETag, total, handle);
    }
    await handle.close();
    handle = undefined;
  } catch (error) {
    stop.abort();
    await handle?.close().catch(() => undefined);
    await rm(file, { force: true });
    throw new ModelSourceError(`model ${origin} could not be downloaded: ${reasonFor(error, received, total, bounds)}`, { cause: error });
  } finally {
    client.destroy();
  }
  try {
    return verify({ file, bytes: received ?? 0, sha256: digest, origin }, expected);
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }

  /** The parts after the first answer: workers take parts in order; the first part's body is already open. */
  async function fetchParts(firstBody: Readable, etag: string | undefined, size: number, out: FileHandle): Promise<string> {
    const parts = splitParts(size, bounds.partBytes);
    const hasher = new OrderedHasher(parts, out);
    const pin = source.versionId === undefined ? (etag === undefined ? {} : { IfMatch: etag }) : versionPin;
    const count = (bytes: number) => (received = (received ?? 0) + bytes);
    const fetchPart = async (part: Part): Promise<void> => {
      const length = part.end - part.start + 1;
      for (let attempt = 1; ; attempt += 1) {
        let partReceived = 0;
        try {
          let body: Readable;
          if (part.index === 0 && attempt === 1) {
            body = firstBody;
          } else {
            const answer = await get(`bytes=${part.start}-${part.end}`, pin, stop.signal).catch((error: unknown) => {
              throw httpStatus(error) === 412 ? new ObjectChangedError(etag) : error;
            });
            const got = parseContentRange(answer.ContentRange);
            if (got === undefined || got.total !== size || got.start !== part.start || got.end !== part.end) {
              (answer.Body as Readable | undefined)?.destroy();
              throw new ObjectChangedError(etag);
            }
            body = answer.Body as Readable;
          }
          const bytes = await writeBody(body, out, part.start, bounds.idleTimeoutMs, stop.signal, (n) => {
            partReceived += n;
            count(n);
          });
          if (bytes !== length) throw new Error(`the body ended after ${bytes} of ${length} bytes`);
          hasher.partDone(part.index);
          return;
        } catch (error) {
          // What this attempt wrote is overwritten by the next; only its count is taken back.
          received = (received ?? 0) - partReceived;
          if (part.index === 0 && attempt === 1) firstBody.destroy();
          if (stop.signal.aborted) throw error;
          if (isFinal(error)) throw error;
          if (attempt >= bounds.partAttempts) throw new PartFailedError(part, attempt, partReceived, error);
        }
      }
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < parts.length) {
        const part = parts[next]!;
        next += 1;
        await fetchPart(part);
      }
    };
    // The first failure aborts the others; all are awaited so that nothing writes to the file after it is removed.
    let failure: { readonly error: unknown } | undefined;
    const workers = Array.from({ length: Math.min(bounds.concurrency, parts.length) }, () =>
      worker().catch((error: unknown) => {
        if (failure !== undefined) return;
        failure = { error };
        stop.abort();
      }),
    );
    await Promise.all(workers);
    if (failure !== undefined) throw failure.error;
    return hasher.digest();
  }
}
