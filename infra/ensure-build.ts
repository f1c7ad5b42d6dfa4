/**
 * Before `cdktf synth` (npm run synth): makes each build the configuration deploys whose build.json is missing (an
 * environment's `distDir`, or each listed model's folder; infra/model-builds.ts), for that environment's arch and
 * runtime, and leaves existing builds alone (see infra/main.ts for why).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseBuildArgs, runBuild } from '../build.js';
import { BUILD_RECORD_FILE } from '../functions/contract/build-record.js';
import { PROJECT_ROOT } from './build-record.js';
import { loadAppConfig } from './config.js';
import { plannedBuilds } from './model-builds.js';

for (const { outDir, args } of plannedBuilds(loadAppConfig())) {
  if (existsSync(path.join(outDir, BUILD_RECORD_FILE))) continue;
  process.stdout.write(`${path.relative(PROJECT_ROOT, outDir) || '.'}/build.json is missing; building (npm run build -- ${args.join(' ')})\n`);
  try {
    await runBuild(parseBuildArgs(args), (line) => process.stdout.write(`${line}\n`));
  } catch (error) {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
