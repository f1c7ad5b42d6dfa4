/**
 * The build context of a container image: `Dockerfile` and `rootfs/`, the image's own files at the paths they have
 * in the image (`rootfs/var/task/...`). The function's code and the model sit where the function zip puts them in the
 * task root, and onnxruntime-node for the image's architecture (the same files as the runtime layer) in the task
 * root's `node_modules/`, where the function's `createRequire` finds it with no NODE_PATH. `rootfs/` is also the
 * staged tree: the runtime emulator runs `rootfs/var/task` as the task root, exactly what the image copies.
 *
 * Deterministic: the folder is written afresh, every file and folder with a fixed mode and modification time, so
 * the same inputs give the same context and the same content sha256 (the image's tag).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NODE_ARCH, imageContentLines, type Arch, type BuildRecordImageFile } from '../../functions/contract/build-record.js';
import { IMAGE_MAX_BYTES } from '../../functions/contract/lambda-limits.js';
import { MB } from '../../functions/contract/lambda-limits.js';
import { IMAGE_ROOTFS, IMAGE_TASK_ROOT } from './dockerfile.js';
import { runtimeLayerEntries } from './runtime-layer.js';
import { FIXED_MTIME, type ZipEntry } from './zip.js';

/** Where the layer's `nodejs/node_modules/` goes in the image: the task root's own node_modules. */
const LAYER_PREFIX = 'nodejs/node_modules/';

export class ImageBuildError extends Error {}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/**
 * onnxruntime-node for linux/<arch>, as the image holds it. An architecture whose binaries the installed
 * onnxruntime-node lacks is refused before anything is written: the runtime layer could not be built for it either,
 * and an image without them would fail at its first cold start.
 */
export function imageRuntimeEntries(nodeModules: string, arch: Arch): ZipEntry[] {
  const binaries = path.join(nodeModules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', NODE_ARCH[arch]);
  if (!existsSync(binaries) || !statSync(binaries).isDirectory() || readdirSync(binaries).length === 0) {
    throw new ImageBuildError(
      `--arch ${arch}: the runtime layer has no onnxruntime-node binaries for linux/${NODE_ARCH[arch]} (${binaries} is missing or empty), so an image for ${arch} could not load onnxruntime; ` +
        'build the image for an architecture onnxruntime-node ships (see node_modules/onnxruntime-node/bin/napi-v6/linux/), or install an onnxruntime-node version that ships this one',
    );
  }
  return runtimeLayerEntries(nodeModules, arch).map((entry) => {
    if (!entry.path.startsWith(LAYER_PREFIX)) throw new ImageBuildError(`runtime layer entry ${entry.path} is outside ${LAYER_PREFIX}; commands/build/runtime-layer.ts changed its layout`);
    return { ...entry, path: `node_modules/${entry.path.slice(LAYER_PREFIX.length)}` };
  });
}

/** Fails when the model alone is over a container image's limit: checked from the file's size, before anything reads it. */
export function checkModelFitsImage(modelBytes: number, limit = IMAGE_MAX_BYTES): void {
  if (modelBytes > limit) {
    throw new ImageBuildError(
      `model.onnx is ${mb(modelBytes)}, over the ${mb(limit)} a Lambda container image may hold uncompressed (base image included); ` +
        'no Lambda packaging can carry it: quantize or shrink the model',
    );
  }
}

export interface ImageContext {
  readonly files: readonly BuildRecordImageFile[];
  /** Sum of the files' bytes. */
  readonly bytes: number;
  /** Hex sha256 of imageContentLines(files). */
  readonly sha256: string;
}

/**
 * Writes `dir` afresh: the Dockerfile and the task root's files under `rootfs/var/task/`. `taskFiles` are paths
 * relative to the task root. Fails, writing nothing, when the files are over `limit` (Lambda's 10 GB).
 */
export function writeImageContext(dir: string, dockerfileText: string, taskFiles: readonly ZipEntry[], limit = IMAGE_MAX_BYTES): ImageContext {
  const entries: ZipEntry[] = [{ path: 'Dockerfile', data: Buffer.from(dockerfileText) }, ...taskFiles.map((f) => ({ ...f, path: `${IMAGE_ROOTFS}/${IMAGE_TASK_ROOT}/${f.path}` }))];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) throw new ImageBuildError(`the image would hold ${entry.path} twice; the function's files and onnxruntime-node's must not overlap`);
    seen.add(entry.path);
  }
  const bytes = entries.reduce((sum, e) => sum + e.data.length, 0);
  if (bytes > limit) {
    throw new ImageBuildError(
      `the image's files are ${mb(bytes)}, over the ${mb(limit)} a Lambda container image may hold uncompressed (base image included); quantize or shrink the model`,
    );
  }

  rmSync(dir, { recursive: true, force: true });
  const dirs = new Set<string>([dir]);
  const files: BuildRecordImageFile[] = [];
  for (const entry of entries) {
    const target = path.join(dir, ...entry.path.split('/'));
    for (let parent = path.dirname(target); parent.startsWith(dir) && !dirs.has(parent); parent = path.dirname(parent)) dirs.add(parent);
    mkdirSync(path.dirname(target), { recursive: true });
    const mode = entry.executable === true ? 0o755 : 0o644;
    writeFileSync(target, entry.data);
    // Explicit, whatever the umask: Lambda runs the image as a user other than root, which must read every file.
    chmodSync(target, mode);
    utimesSync(target, FIXED_MTIME, FIXED_MTIME);
    files.push({ path: entry.path, bytes: entry.data.length, sha256: createHash('sha256').update(entry.data).digest('hex'), mode });
  }
  // Deepest first, so setting a folder's time is not undone by writing into it.
  for (const folder of [...dirs].sort((a, b) => b.length - a.length)) {
    chmodSync(folder, 0o755);
    utimesSync(folder, FIXED_MTIME, FIXED_MTIME);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, bytes, sha256: createHash('sha256').update(imageContentLines(files)).digest('hex') };
}
