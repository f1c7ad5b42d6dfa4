/**
 * The build `npm run invoke` runs and the local tuner measures: a bundle built for this machine's architecture into
 * dist/local-<arch>/ when its inputs changed since the last build there (the two share that build), leaving the
 * deployable dist/ alone.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_RECORD_FILE, type Arch } from '../functions/contract/build-record.js';

/** The build failed; its output went to stderr. */
export class LocalBuildError extends Error {}

/** Every file a build reads, hashed: a changed input means a new build. */
export function inputsFingerprint(root: string, modelDir: string, arch: string): string {
  const hash = createHash('sha256').update(`${arch}\n${modelDir}\n`);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? walk(full) : [full];
    });
  const files = [...walk(path.join(root, 'functions')), ...walk(path.join(root, 'commands', 'build')), ...walk(modelDir), path.join(root, 'build.ts'), path.join(root, 'package-lock.json')].sort();
  for (const file of files) hash.update(`${path.relative(root, file)}\n`).update(readFileSync(file));
  return hash.digest('hex');
}

/** Builds `modelDir` for `arch` into dist/local-<arch>/ unless the build there is current; returns that folder. */
export function ensureLocalBuild(root: string, modelDir: string, arch: Arch, log: (line: string) => void): string {
  const outDir = path.join(root, 'dist', `local-${arch}`);
  const stamp = path.join(outDir, 'inputs.sha256');
  const fingerprint = inputsFingerprint(root, modelDir, arch);
  if (existsSync(path.join(outDir, BUILD_RECORD_FILE)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint) return outDir;
  log(`building ${path.relative(root, modelDir) || modelDir} for ${arch} into ${path.relative(root, outDir)}/`);
  // The build's table goes to stderr with the rest of the commentary; stdout carries only the command's own answer.
  const build = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'build.ts'), '--arch', arch, '--model', modelDir, '--out', outDir], {
    cwd: root,
    stdio: ['ignore', process.stderr, 'inherit'],
  });
  if (build.status !== 0) throw new LocalBuildError(`npm run build -- --model ${modelDir} --arch ${arch} failed (see above)`);
  writeFileSync(stamp, fingerprint);
  return outDir;
}
