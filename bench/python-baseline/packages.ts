/**
 * The three packages the Python baseline compares, built the way each is deployed: the two Python functions with
 * `pip install --target <package> -r requirements-*.txt` from PyPI (wheels for Lambda's x86_64 Linux, as AWS's guide
 * for Python .zip packages says), the handler beside them; and this repository's Node function with build.ts.
 * The Python side also gets a stand-in for Lambda's Python runtime: a bare venv of Python 3.12 (Lambda's
 * /var/lang) and AWS's runtime interface client installed into a folder of its own (Lambda's /var/runtime).
 *
 * Everything lands in .testbed/python-baseline/ (gitignored) and is rebuilt only when its inputs change.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deterministicZip, type ZipEntry } from '../../commands/build/zip.js';
import { BUILD_RECORD_FILE, type BuildRecord } from '../../functions/contract/build-record.js';
import { TESTBED } from '../../tools/testbed/paths.js';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const IRIS = path.join(ROOT, 'models', 'iris');
const WORK = path.join(TESTBED, 'python-baseline');

/**
 * The Python of the Lambda runtime stood in for, python3.12: the pinned numpy, scipy, scikit-learn and onnxruntime
 * ship wheels for glibc 2.27 or later only, which Lambda's python3.12 (Amazon Linux 2023, glibc 2.34) has and its
 * python3.11 (Amazon Linux 2, glibc 2.26) has not.
 */
export const PYTHON_MINOR = '3.12';
/**
 * Wheels for x86_64 Linux, as AWS's guide installs them (it names manylinux2014). pip takes each tag literally, so
 * glibc 2.28's is named too: the pinned numpy, scipy, scikit-learn and onnxruntime have no manylinux2014 wheels.
 * Whatever Python runs pip, the wheels are chosen for PYTHON_MINOR.
 */
const PIP_PLATFORM = ['--platform', 'manylinux2014_x86_64', '--platform', 'manylinux_2_28_x86_64', '--implementation', 'cp', '--python-version', PYTHON_MINOR, '--only-binary=:all:'];

export class PrepareError extends Error {}

function run(command: string, args: readonly string[], what: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-25).join('\n');
    throw new PrepareError(`${what} failed (${command} ${args.join(' ')}: ${result.error?.message ?? `exit ${result.status ?? result.signal}`}):\n${output}`);
  }
  return result.stdout;
}

function log(message: string): void {
  process.stderr.write(`python-baseline: ${message}\n`);
}

function digest(files: readonly string[], extra = ''): string {
  const hash = createHash('sha256').update(extra);
  for (const file of files) hash.update(`${path.relative(ROOT, file)}\0`).update(readFileSync(file));
  return hash.digest('hex');
}

/** Every regular file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((relative) => statSync(path.join(dir, relative)).isFile())
    .sort();
}

/** The distributions pip put into `dir`, from their `<name>-<version>.dist-info` folders. */
function distributions(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const entry of readdirSync(dir).sort()) {
    const match = /^(.+)-([^-]+)\.dist-info$/.exec(entry);
    if (match?.[1] !== undefined && match[2] !== undefined) found[match[1]] = match[2];
  }
  return found;
}

/** pyenv's installs of PYTHON_MINOR, newest first, for machines where pyenv's default is another Python. */
function pyenvPythons(): string[] {
  const versions = path.join(process.env['PYENV_ROOT'] ?? path.join(homedir(), '.pyenv'), 'versions');
  if (!existsSync(versions)) return [];
  return readdirSync(versions)
    .filter((v) => v.startsWith(`${PYTHON_MINOR}.`))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]))
    .map((v) => path.join(versions, v, 'bin', `python${PYTHON_MINOR}`));
}

/** A real Python binary of PYTHON_MINOR, not a pyenv shim (a shell script that would add its own start-up to every cold start). */
function basePython(): string {
  for (const candidate of [process.env['PYTHON'], `python${PYTHON_MINOR}`, ...pyenvPythons(), 'python3']) {
    if (candidate === undefined) continue;
    try {
      const out = execFileSync(candidate, ['-c', 'import sys; print(sys.executable); print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const [executable, minor] = out.trim().split('\n');
      if (minor === PYTHON_MINOR && executable !== undefined) return executable;
    } catch {
      // try the next one
    }
  }
  throw new PrepareError(`no Python ${PYTHON_MINOR} found (tried $PYTHON, python${PYTHON_MINOR}, pyenv's versions, python3); install it or set PYTHON to its binary`);
}

export interface PythonRuntime {
  /** The venv's python: Lambda's /var/lang/bin/python3.12, with no site-packages of its own. */
  readonly python: string;
  /** Where awslambdaric is installed: Lambda's /var/runtime, on PYTHONPATH. */
  readonly runtimeDir: string;
  /** `python --version`'s number, e.g. 3.12.1. */
  readonly pythonVersion: string;
  readonly installed: Readonly<Record<string, string>>;
}

/** The stand-in for Lambda's Python runtime, (re)built when requirements-runtime.txt or the base Python changes. */
export function preparePythonRuntime(): PythonRuntime {
  const base = basePython();
  const venv = path.join(WORK, `python${PYTHON_MINOR}`);
  const runtimeDir = path.join(WORK, 'runtime');
  const python = path.join(venv, 'bin', `python${PYTHON_MINOR}`);
  const requirements = path.join(HERE, 'requirements-runtime.txt');
  const key = digest([requirements], base);
  const stamp = path.join(WORK, 'runtime.sha256');
  if (!(existsSync(stamp) && readFileSync(stamp, 'utf8') === key && existsSync(python))) {
    log(`installing the Python runtime stand-in (${base} as a bare venv, awslambdaric into ${path.relative(ROOT, runtimeDir)})`);
    rmSync(venv, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    run(base, ['-m', 'venv', '--without-pip', venv], 'creating the runtime venv');
    run(base, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', runtimeDir, ...PIP_PLATFORM, '-r', requirements], 'installing requirements-runtime.txt from PyPI');
    writeFileSync(stamp, key);
  }
  const pythonVersion = run(python, ['-c', 'import platform; print(platform.python_version())'], 'asking the runtime venv its version').trim();
  return { python, runtimeDir, pythonVersion, installed: distributions(runtimeDir) };
}

export interface PackageSize {
  /** Each zip as it would be uploaded (the function, and its layer for the Node function). */
  readonly zips: readonly { readonly name: string; readonly bytes: number; readonly unzippedBytes: number }[];
  readonly zippedBytes: number;
  readonly unzippedBytes: number;
}

export interface PythonPackage {
  readonly kind: PythonKind;
  /** The task root: what the function's zip unpacks to. */
  readonly dir: string;
  readonly size: PackageSize;
  /** Files in the package. */
  readonly files: number;
  readonly installed: Readonly<Record<string, string>>;
}

export type PythonKind = 'sklearn' | 'onnx';

const PACKAGE_INPUTS: Record<PythonKind, { requirements: string; handler: string; extra: readonly string[] }> = {
  sklearn: { requirements: 'requirements-sklearn.txt', handler: 'handler_sklearn.py', extra: ['train_sklearn_iris.py'] },
  onnx: { requirements: 'requirements-onnx.txt', handler: 'handler_onnx.py', extra: [] },
};

/** Zips the package with the compressor and level build.ts uses, so the sizes compare with the Node artifacts'. */
function zipSize(dir: string): { files: number; bytes: number; unzippedBytes: number } {
  const entries: ZipEntry[] = filesUnder(dir).map((relative) => {
    const file = path.join(dir, relative);
    return { path: relative.split(path.sep).join('/'), data: readFileSync(file), executable: (statSync(file).mode & 0o111) !== 0 };
  });
  const zip = deterministicZip(entries);
  return { files: entries.length, bytes: zip.bytes.length, unzippedBytes: zip.unzippedBytes };
}

/**
 * One Python package: `pip install --target`, the handler as handler.py, and the model: for `sklearn` trained and
 * joblib-dumped by train_sklearn_iris.py with the package's own scikit-learn; for `onnx` models/iris/model.onnx and
 * model.json copied in.
 */
export function preparePythonPackage(kind: PythonKind, runtime: PythonRuntime): PythonPackage {
  const inputs = PACKAGE_INPUTS[kind];
  const dir = path.join(WORK, `package-${kind}`);
  const record = path.join(WORK, `package-${kind}.json`);
  const sources = [inputs.requirements, inputs.handler, ...inputs.extra].map((name) => path.join(HERE, name));
  const key = digest([...sources, path.join(IRIS, 'model.onnx'), path.join(IRIS, 'model.json'), path.join(IRIS, 'golden.json')], runtime.pythonVersion);
  if (existsSync(record)) {
    const saved = JSON.parse(readFileSync(record, 'utf8')) as { key: string; files: number; size: PackageSize };
    if (saved.key === key && existsSync(path.join(dir, 'handler.py'))) return { kind, dir, size: saved.size, files: saved.files, installed: distributions(dir) };
  }
  log(`building the ${kind} package with pip install --target ${path.relative(ROOT, dir)} (once per change of its inputs)`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(record, { force: true });
  mkdirSync(dir, { recursive: true });
  const base = basePython();
  run(base, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', dir, ...PIP_PLATFORM, '-r', path.join(HERE, inputs.requirements)], `installing ${inputs.requirements} from PyPI`);
  copyFileSync(path.join(HERE, inputs.handler), path.join(dir, 'handler.py'));
  if (kind === 'sklearn') {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PYTHONPATH: dir, PYTHONDONTWRITEBYTECODE: '1' };
    run(runtime.python, [path.join(HERE, 'train_sklearn_iris.py'), dir, IRIS], 'training and dumping the iris LogisticRegression', env);
  } else {
    copyFileSync(path.join(IRIS, 'model.onnx'), path.join(dir, 'model.onnx'));
    copyFileSync(path.join(IRIS, 'model.json'), path.join(dir, 'model.json'));
  }
  log(`zipping the ${kind} package to measure it`);
  const zipped = zipSize(dir);
  const size: PackageSize = { zips: [{ name: 'function', bytes: zipped.bytes, unzippedBytes: zipped.unzippedBytes }], zippedBytes: zipped.bytes, unzippedBytes: zipped.unzippedBytes };
  writeFileSync(record, `${JSON.stringify({ key, files: zipped.files, size }, null, 2)}\n`);
  return { kind, dir, size, files: zipped.files, installed: distributions(dir) };
}

/** The Node function and its runtime layer, built for x86_64 into `outDir` by this repository's build.ts. */
export function buildNodeFunction(outDir: string): PackageSize {
  log(`building the Node function: npx tsx build.ts --arch x86_64 --model models/iris --out ${outDir}`);
  const result = spawnSync('npx', ['tsx', 'build.ts', '--arch', 'x86_64', '--model', IRIS, '--out', outDir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new PrepareError(`build.ts failed (exit ${result.status ?? result.signal}):\n${`${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-25).join('\n')}`);
  const build = JSON.parse(readFileSync(path.join(outDir, BUILD_RECORD_FILE), 'utf8')) as BuildRecord;
  const zips = build.artifacts.map(({ name, bytes, unzippedBytes }) => ({ name, bytes, unzippedBytes }));
  return { zips, zippedBytes: zips.reduce((sum, z) => sum + z.bytes, 0), unzippedBytes: zips.reduce((sum, z) => sum + z.unzippedBytes, 0) };
}
