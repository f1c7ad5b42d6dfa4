/**
 * Artifact sizes: what `npm run build` ships, against the naive package, every file of the installed
 * onnxruntime-node (and onnxruntime-common) zipped as it is, which is what deploying `node_modules` would upload.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseBuildArgs, runBuild } from '../build.js';
import { deterministicZip, type ZipEntry } from '../commands/build/zip.js';
import { BUILD_RECORD_FILE, type Arch, type BuildRecord, type BuildRecordArtifact } from '../functions/contract/build-record.js';

export interface BuiltArtifacts {
  readonly outDir: string;
  readonly artifacts: readonly BuildRecordArtifact[];
}

/** `npm run build -- --model <modelDir> --arch <arch> --out <outDir>`, its log dropped. */
export async function buildFor(arch: Arch, outDir: string, modelDir: string): Promise<BuiltArtifacts> {
  await runBuild(parseBuildArgs(['--model', modelDir, '--arch', arch, '--out', outDir]), () => undefined);
  const record = JSON.parse(readFileSync(path.join(outDir, BUILD_RECORD_FILE), 'utf8')) as BuildRecord;
  return { outDir, artifacts: record.artifacts };
}

export function artifactSize(built: BuiltArtifacts, name: string): { bytes: number; unzippedBytes: number } {
  const artifact = built.artifacts.find((a) => a.name === name);
  if (artifact === undefined) throw new Error(`${built.outDir}/${BUILD_RECORD_FILE} lists no ${name} artifact`);
  return { bytes: artifact.bytes, unzippedBytes: artifact.unzippedBytes };
}

export interface NaiveSize {
  readonly bytes: number;
  readonly unzippedBytes: number;
  /** Read from node_modules/.cache: the same files (paths, sizes, times) were zipped before. */
  readonly cached: boolean;
}

function packageFiles(nodeModules: string, name: string): string[] {
  const dir = path.join(nodeModules, name);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((relative) => statSync(path.join(dir, relative)).isFile())
    .map((relative) => path.join(name, relative))
    .sort();
}

/**
 * The installed onnxruntime-node and onnxruntime-common, every platform's binaries included, zipped at the level
 * build.ts uses. Zipping every platform's binaries takes a while, so the result is kept under node_modules/.cache,
 * keyed by every file's path, size and modification time.
 */
export function naivePackageSize(nodeModules: string): NaiveSize {
  const files = [...packageFiles(nodeModules, 'onnxruntime-node'), ...packageFiles(nodeModules, 'onnxruntime-common')];
  const key = createHash('sha256');
  for (const file of files) {
    const stat = statSync(path.join(nodeModules, file));
    key.update(`${file}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  const digest = key.digest('hex');
  const cacheDir = path.join(nodeModules, '.cache', 'bench');
  const cacheFile = path.join(cacheDir, 'naive-package-size.json');
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; bytes: number; unzippedBytes: number };
    if (cached.key === digest) return { bytes: cached.bytes, unzippedBytes: cached.unzippedBytes, cached: true };
  }
  const entries: ZipEntry[] = files.map((file) => ({ path: `nodejs/node_modules/${file.split(path.sep).join('/')}`, data: readFileSync(path.join(nodeModules, file)) }));
  const zip = deterministicZip(entries);
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, `${JSON.stringify({ key: digest, bytes: zip.bytes.length, unzippedBytes: zip.unzippedBytes })}\n`);
  return { bytes: zip.bytes.length, unzippedBytes: zip.unzippedBytes, cached: false };
}
