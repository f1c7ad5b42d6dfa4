import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { verify } from './checksum.js';
import type { ModelArtifactSource } from './config.js';
import { ModelSourceError, describeError } from './errors.js';
import type { LocalArtifact } from './model-source.js';

type S3Source = Extract<ModelArtifactSource, { kind: 's3' }>;

/** A pass-through stream that feeds every chunk to `hash`, so a download is checksummed as it is written. */
function hashingStream(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

function sha256(): Hash {
  return createHash('sha256');
}

function s3Url(source: S3Source): string {
  return `s3://${source.bucket}/${source.key}${source.versionId === undefined ? '' : ` (version ${source.versionId})`}`;
}

/**
 * Streams the S3 object to `downloadDir`, hashing as it goes. `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) is
 * honoured by the SDK; when it is set, path-style addressing is used so local emulators work.
 */
export async function download(source: S3Source, downloadDir: string, expected: string | undefined): Promise<LocalArtifact> {
  const origin = s3Url(source);
  const { S3Client, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  const client = new S3Client({ forcePathStyle: endpoint !== undefined && endpoint !== '', maxAttempts: 3 });
  const file = path.join(downloadDir, `model-${sha256().update(origin).digest('hex').slice(0, 16)}.onnx`);
  const hash = sha256();
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
