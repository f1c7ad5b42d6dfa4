/**
 * `npm run invoke -- --event <file>` (like `sam local invoke`): runs one event through the built function under
 * AWS's Runtime Interface Emulator and Node.js runtime interface client, with the runtime layer on NODE_PATH as
 * Lambda puts it. Builds for this machine's architecture into dist/local-<arch>/ when the inputs changed since the
 * last build there (so the deployable dist/ is left alone). The function's response goes to stdout; its log, the
 * REPORT line and the init time to stderr.
 *
 *   npm run invoke -- --event test/fixtures/events/predict-iris.json [--model <bundle dir>] [--env NAME=value ...]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hostArch, startFunction } from './emulator.js';
import { ensureLocalBuild, LocalBuildError } from './local-build.js';
import { stageArtifacts } from './stage-artifacts.js';
import { ensureBuildPackages, ensureRic, ensureRie } from './testbed/install.js';
import { LAMBDA_ENV } from '../functions/contract/env.js';
import { newTraceHeader } from './trace-header.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run invoke -- --event <file> [--model <bundle dir>] [--env NAME=value ...]';

function fail(message: string): never {
  process.stderr.write(`invoke: ${message}\n`);
  process.exit(1);
}

let values;
try {
  values = parseArgs({
    options: {
      event: { type: 'string' },
      model: { type: 'string', default: path.join(root, 'models', 'iris') },
      env: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  }).values;
} catch (error) {
  fail(`${error instanceof Error ? error.message : String(error)}; ${USAGE}`);
}
if (values.event === undefined) fail(`--event is required; ${USAGE}`);

let event: unknown;
try {
  event = JSON.parse(readFileSync(values.event, 'utf8'));
} catch (error) {
  fail(`--event ${values.event} cannot be read as JSON (${error instanceof Error ? error.message : String(error)}); see test/fixtures/events/ for examples`);
}
const env: Record<string, string> = {};
for (const pair of values.env) {
  const at = pair.indexOf('=');
  if (at < 1) fail(`--env ${pair} is not NAME=value`);
  env[pair.slice(0, at)] = pair.slice(at + 1);
}

// The daemon's address reaches the function as Lambda sets it, and the invocation gets a trace header to go with it.
const daemonAddress = process.env[LAMBDA_ENV.XRAY_DAEMON_ADDRESS]?.trim() || undefined;
if (daemonAddress !== undefined) env[LAMBDA_ENV.XRAY_DAEMON_ADDRESS] ??= daemonAddress;
const traceHeader = daemonAddress === undefined ? undefined : newTraceHeader();

const arch = hostArch();
const modelDir = path.resolve(values.model);
if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) fail(`--model ${values.model} is not a bundle folder`);
let outDir: string;
try {
  outDir = ensureLocalBuild(root, modelDir, arch, (line) => process.stderr.write(`invoke: ${line}\n`));
} catch (error) {
  if (error instanceof LocalBuildError) fail(error.message);
  throw error;
}

ensureBuildPackages();
ensureRie();
ensureRic();

const staged = await stageArtifacts(outDir);
const fn = await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, handler: staged.build.handler, functionName: 'predict', env, traceHeaders: traceHeader !== undefined });
try {
  const invocation = await fn.invoke(event, traceHeader === undefined ? {} : { traceHeader });
  if (traceHeader !== undefined) process.stderr.write(`trace header: ${traceHeader}\n`);
  process.stderr.write(invocation.logs.endsWith('\n') ? invocation.logs : `${invocation.logs}\n`);
  if (invocation.runtimeInitMs !== undefined) process.stderr.write(`init (emulator's INIT REPORT): ${invocation.runtimeInitMs.toFixed(1)} ms\n`);
  process.stdout.write(`${invocation.raw}\n`);
  if (invocation.initError || invocation.timedOut) process.exitCode = 1;
} finally {
  await fn.stop();
  await staged.remove();
}
