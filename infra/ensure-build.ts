/**
 * Before `cdktf synth` (npm run synth): builds each environment's `distDir` whose build.json is missing, for that
 * environment's arch and runtime, and leaves existing builds alone (see infra/main.ts for why).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseBuildArgs, runBuild } from '../build.js';
import { BUILD_RECORD_FILE } from '../functions/contract/build-record.js';
import { PROJECT_ROOT } from './build-record.js';
import { loadAppConfig } from './config.js';

const missing = new Map<string, string[]>();
for (const environment of loadAppConfig().environments) {
  const out = path.resolve(PROJECT_ROOT, environment.distDir);
  if (!existsSync(path.join(out, BUILD_RECORD_FILE)) && !missing.has(out)) {
    missing.set(out, ['--arch', environment.arch, '--runtime', environment.runtime, '--out', out]);
  }
}
for (const [out, args] of missing) {
  process.stdout.write(`${path.relative(PROJECT_ROOT, out) || '.'}/build.json is missing; building (npm run build -- ${args.join(' ')})\n`);
  try {
    await runBuild(parseBuildArgs(args), (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
