import { ModelSourceError } from './errors.js';
import type { LocalArtifact } from './model-artifact.js';

/**
 * The sha256 of a packaged model file. `node:crypto` and the file stream are imported here, on first use: the
 * function ships as one ES module, where a static import is loaded at cold start even if unused, and hashing is
 * needed only when MODEL_SHA256 is set (what node:crypto costs to load: docs/PERFORMANCE.md, "Cold start").
 */
export async function sha256OfFile(file: string): Promise<string> {
  const [{ createHash }, { createReadStream }] = await Promise.all([import('node:crypto'), import('node:fs')]);
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
