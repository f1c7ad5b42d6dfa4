import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { ModelSourceError } from './errors.js';
import type { LocalArtifact } from './model-source.js';

/** A pass-through stream that feeds every chunk to `hash`, so a download is checksummed as it is written. */
export function hashingStream(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

export function sha256(): ReturnType<typeof createHash> {
  return createHash('sha256');
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Throws unless the artifact's sha256 is the expected one (when one is expected). */
export function verify(artifact: LocalArtifact, expected: string | undefined): LocalArtifact {
  if (expected !== undefined && artifact.sha256 !== expected) {
    throw new ModelSourceError(
      `model file ${artifact.origin} has sha256 ${artifact.sha256} but MODEL_SHA256 expects ${expected}; ` +
        "deploy the artifact the function was built for, or update MODEL_SHA256 to the new file's sha256",
    );
  }
  return artifact;
}
