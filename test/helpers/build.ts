import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { BUILD_RECORD_FILE, type BuildRecord } from '../../functions/contract/build-record.js';
import { runNpm, type NpmRun } from './npm.js';
import { stageArtifacts, type StagedArtifacts } from '../../tools/stage-artifacts.js';
import { hostArch } from './emulator.js';
import { tempDir, type SuiteCleanup } from './temp-dir.js';

export interface BuildRun extends NpmRun {
  readonly outDir: string;
}

/** Runs `npm run build` as a user does, into `outDir`. */
export async function runBuild(args: readonly string[], outDir: string): Promise<BuildRun> {
  return { ...(await runNpm('build', ['--out', outDir, ...args])), outDir };
}

/** Runs `npm run build` as a user does, into a fresh output folder that is removed when the test `t` ends. */
export async function runBuildInTempDir(t: ExecutionContext, args: readonly string[] = []): Promise<BuildRun> {
  return runBuild(args, await tempDir(t, 'dist-'));
}

/**
 * `npm run build` for this machine's architecture into a temp folder, staged as Lambda unpacks it; `cleanup` removes
 * both. Throws with the build's stderr when it fails.
 */
export async function buildAndStage(cleanup: SuiteCleanup, args: readonly string[] = []): Promise<{ readonly outDir: string; readonly staged: StagedArtifacts }> {
  const run = await runBuild(['--arch', hostArch(), ...args], await cleanup.tempDir('dist-'));
  if (run.code !== 0) throw new Error(`npm run build ${args.join(' ')} failed: ${run.stderr}`);
  const staged = await stageArtifacts(run.outDir);
  cleanup.add(() => staged.remove());
  return { outDir: run.outDir, staged };
}

/** The build record (`build.json`) a build wrote into `outDir`. */
export async function readBuildRecord(outDir: string): Promise<BuildRecord> {
  return JSON.parse(await readFile(path.join(outDir, BUILD_RECORD_FILE), 'utf8')) as BuildRecord;
}

/** Deterministic incompressible bytes (xorshift32), so a size test reproduces exactly. */
export function noise(length: number, seed = 2463534242): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, Math.min(i, length - 4));
  }
  return out;
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/**
 * A copy of a real bundle whose model.onnx carries `padding` extra bytes as an unknown protobuf field (number
 * 999). Protobuf parsers keep unknown fields and onnxruntime ignores them, so the model still loads and matches
 * its golden outputs; only its size changes. This is how the tests get a real model too large to ship in a zip. The
 * copy is removed when the test `t` ends.
 */
export async function paddedBundle(t: ExecutionContext, from: string, padding: number): Promise<string> {
  const dir = await tempDir(t, 'big-bundle-');
  await cp(from, dir, { recursive: true });
  const model = await readFile(path.join(from, 'model.onnx'));
  const tag = varint((999 << 3) | 2);
  await writeFile(path.join(dir, 'model.onnx'), Buffer.concat([model, tag, varint(padding), noise(padding)]));
  return dir;
}
