import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ORT_MODEL_FILE } from '../contract/env.js';
import { ModelSourceError, describeError } from './errors.js';
import type { DownloadOptions, LocalArtifact, ModelArtifactSource } from './model-artifact.js';

async function packaged(source: Extract<ModelArtifactSource, { kind: 'bundle' }>, expected: string | undefined): Promise<LocalArtifact> {
  let file = source.file;
  let bytes: number;
  try {
    bytes = (await stat(file)).size;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const fallback = missing && source.fallback !== undefined ? await stat(source.fallback).catch(() => undefined) : undefined;
    if (fallback === undefined || source.fallback === undefined) {
      const instead = source.fallback === undefined ? '' : `, and there is no ${path.basename(source.fallback)} beside it`;
      throw new ModelSourceError(
        `model file ${file} cannot be read (${describeError(error)})${instead}; package model.onnx (or the build's ${ORT_MODEL_FILE}) beside model.json, or set MODEL_BUCKET and MODEL_KEY`,
        { cause: error },
      );
    }
    file = source.fallback;
    bytes = fallback.size;
  }
  if (expected === undefined) return { file, bytes, sha256: undefined, origin: file };
  const { sha256OfFile, verify } = await import('./checksum.js');
  return verify({ file, bytes, sha256: await sha256OfFile(file), origin: file }, expected);
}

/**
 * Makes the model file available locally: the packaged file (or its fallback, when it has one and the file is not
 * there), or the S3 object downloaded and checksummed. Hashing
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
  if (source.kind === 'bundle') return packaged(source, expectedSha256);
  const startMs = performance.now();
  const s3 = await import('./s3-download.js');
  const artifact = await s3.download(source, downloadDir, expectedSha256, download);
  return { ...artifact, downloaded: { startMs, endMs: performance.now() } };
}
