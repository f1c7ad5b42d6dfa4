/**
 * Unpacks built artifacts the way Lambda does: the function zip into a task root (Lambda's /var/task) and the
 * runtime layer into an opt folder (Lambda's /opt), so the emulator runs exactly what would be deployed. A container
 * image build (`--package image`) is already a file tree: its `rootfs/var/task` is the task root as the image holds it
 * (code, onnxruntime-node in node_modules, model), run in place, and its `rootfs/opt` the opt folder (the image adds
 * nothing there, so the folder may not exist: Lambda's base image has no layers either).
 */
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readZip } from '../commands/build/zip.js';
import { ARTIFACT, BUILD_RECORD_FILE, type BuildRecord } from '../functions/contract/build-record.js';

/** The image's task root and opt folder, inside its `rootfs/` (Lambda's base images put the task root at /var/task). */
const IMAGE_TASK_ROOT = ['var', 'task'];
const IMAGE_OPT = ['opt'];

export interface StagedArtifacts {
  readonly taskRoot: string;
  readonly optDir: string;
  readonly build: BuildRecord;
  remove(): Promise<void>;
}

async function unzipInto(zipFile: string, dir: string): Promise<void> {
  const files = readZip(await readFile(zipFile));
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    const target = path.join(dir, name);
    if (!target.startsWith(dir + path.sep)) throw new Error(`${zipFile} holds ${name}, which points outside the folder it unpacks into`);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
    if (name.endsWith('.node') || name.includes('.so')) await chmod(target, 0o755);
  }
}

/**
 * Reads `<outDir>/build.json` and unpacks its function and layer zips into a fresh temp folder; for an image build,
 * points at the image's file tree in `<outDir>/image/rootfs` (`remove` then leaves the build alone).
 */
export async function stageArtifacts(outDir: string): Promise<StagedArtifacts> {
  const build = JSON.parse(await readFile(path.join(outDir, BUILD_RECORD_FILE), 'utf8')) as BuildRecord;
  if (build.model.packaging === 'image') {
    if (build.image === undefined) throw new Error(`${outDir}/${BUILD_RECORD_FILE} packages the model in an image but has no "image" record; run npm run build -- --package image`);
    // The record's path is relative to the project; the folder beside build.json is the same one wherever dist/ moved.
    const rootfs = await realpath(path.join(outDir, path.relative(path.dirname(build.image.context), build.image.rootfs)));
    return { taskRoot: path.join(rootfs, ...IMAGE_TASK_ROOT), optDir: path.join(rootfs, ...IMAGE_OPT), build, remove: async () => {} };
  }
  const find = (name: string) => {
    const artifact = build.artifacts.find((a) => a.name === name);
    if (artifact === undefined) throw new Error(`${outDir}/${BUILD_RECORD_FILE} lists no ${name} artifact; run npm run build`);
    return path.join(outDir, path.basename(artifact.file));
  };
  const base = await realpath(await mkdtemp(path.join(tmpdir(), 'lambda-artifacts-')));
  const taskRoot = path.join(base, 'task');
  const optDir = path.join(base, 'opt');
  await unzipInto(find(ARTIFACT.function), taskRoot);
  await unzipInto(find(ARTIFACT.runtimeLayer), optDir);
  return { taskRoot, optDir, build, remove: () => rm(base, { recursive: true, force: true }) };
}
