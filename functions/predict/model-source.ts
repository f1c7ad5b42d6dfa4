import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelArtifactSource } from './config.js';
import { ModelSourceError, describeError } from './errors.js';

/** A model file on local disk, ready for onnxruntime. */
export interface LocalArtifact {
  readonly file: string;
  readonly bytes: number;
  /** Hex sha256, when it was computed (always for S3 downloads; for packaged files only when one was expected). */
  readonly sha256: string | undefined;
  /** Where it came from, for logs: a path or an s3:// URL. */
  readonly origin: string;
}

function hashingStream(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function verify(artifact: LocalArtifact, expected: string | undefined): LocalArtifact {
  if (expected !== undefined && artifact.sha256 !== expected) {
    throw new ModelSourceError(
      `model file ${artifact.origin} has sha256 ${artifact.sha256} but MODEL_SHA256 expects ${expected}; ` +
        'deploy the artifact the function was built for, or update MODEL_SHA256 to the new file\'s sha256',
    );
  }
  return artifact;
}

async function packaged(file: string, expected: string | undefined): Promise<LocalArtifact> {
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch (error) {
    throw new ModelSourceError(`model file ${file} cannot be read (${describeError(error)}); package model.onnx beside model.json, or set MODEL_BUCKET and MODEL_KEY`, { cause: error });
  }
  const sha256 = expected === undefined ? undefined : await sha256OfFile(file);
  return verify({ file, bytes, sha256, origin: file }, expected);
}

function s3Url(source: Extract<ModelArtifactSource, { kind: 's3' }>): string {
  return `s3://${source.bucket}/${source.key}${source.versionId === undefined ? '' : ` (version ${source.versionId})`}`;
}

/**
 * Streams the S3 object to `downloadDir`, hashing as it goes. The S3 client is imported here, not at module scope,
 * so a function with a packaged model never pays for loading the SDK. `AWS_ENDPOINT_URL` is honoured by the SDK;
 * when it is set, path-style addressing is used so local emulators work.
 */
async function download(source: Extract<ModelArtifactSource, { kind: 's3' }>, downloadDir: string, expected: string | undefined): Promise<LocalArtifact> {
  const origin = s3Url(source);
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  const client = new S3Client({ forcePathStyle: endpoint !== undefined && endpoint !== '', maxAttempts: 3 });
  const file = path.join(downloadDir, `model-${createHash('sha256').update(origin).digest('hex').slice(0, 16)}.onnx`);
  const hash = createHash('sha256');
  try {
    const response = await client.send(
      new GetObjectCommand({ Bucket: source.bucket, Key: source.key, ...(source.versionId === undefined ? {} : { VersionId: source.versionId }) }),
    );
    if (response.Body === undefined) throw new Error('the response has no body');
    await mkdir(downloadDir, { recursive: true });
    await pipeline(response.Body as Readable, hashingStream(hash), createWriteStream(file));
  } catch (error) {
    await rm(file, { force: true });
    const name = error instanceof Error ? error.name : '';
    const reason =
      name === 'NoSuchKey' || name === 'NotFound'
        ? 'the object does not exist; upload the model artifact or fix MODEL_KEY'
        : name === 'NoSuchBucket'
          ? 'the bucket does not exist; fix MODEL_BUCKET'
          : name === 'NoSuchVersion' || name === 'InvalidArgument'
            ? 'that version does not exist; fix MODEL_VERSION_ID'
            : `${describeError(error)}; check the bucket policy, the function's role and the network path to S3`;
    throw new ModelSourceError(`model ${origin} could not be downloaded: ${reason}`, { cause: error });
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

/** Makes the model file available locally: the packaged file, or the S3 object downloaded and checksummed. */
export function fetchModelArtifact(source: ModelArtifactSource, downloadDir: string, expectedSha256: string | undefined): Promise<LocalArtifact> {
  return source.kind === 'bundle' ? packaged(source.file, expectedSha256) : download(source, downloadDir, expectedSha256);
}
