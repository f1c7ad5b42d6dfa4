import { stat } from 'node:fs/promises';
import { ModelSourceError, describeError } from './errors.js';
import type { DownloadOptions, LocalArtifact, ModelArtifactSource } from './model-artifact.js';

async function packaged(file: string, expected: string | undefined): Promise<LocalArtifact> {
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch (error) {
    throw new ModelSourceError(`model file ${file} cannot be read (${describeError(error)}); package model.onnx beside model.json, or set MODEL_BUCKET and MODEL_KEY`, { cause: error });
  }
  if (expected === undefined) return { file, bytes, sha256: undefined, origin: file };
  const { sha256OfFile, verify } = await import('./checksum.js');
  return verify({ file, bytes, sha256: await sha256OfFile(file), origin: file }, expected);
}

/**
 * Makes the model file available locally: the packaged file, or the S3 object downloaded and checksummed. Hashing
 * and the S3 client are imported only when needed, so a packaged model without MODEL_SHA256 loads neither
 * node:crypto nor the AWS SDK at cold start. `download` bounds the S3 download's waits (each defaults to the
 * `DEFAULT_*` constant in s3-download.ts).
 */
export async function fetchModelArtifact(
  source: ModelArtifactSource,
  downloadDir: string,
  expectedSha256: string | undefined,
  download: DownloadOptions = {},
): Promise<LocalArtifact> {
  if (source.kind === 'bundle') return packaged(source.file, expectedSha256);
  const s3 = await import('./s3-download.js');
  return s3.download(source, downloadDir, expectedSha256, download);
}
