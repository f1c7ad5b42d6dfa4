/**
 * Prepares the test bed before `npm test` (run as `pretest`): a project-local Python venv in `.testbed/venv` with
 * moto server, pinned in test/testbed-requirements.txt. Idempotent: a stamp holding the requirements' sha256
 * skips the install when nothing changed. Fails with a message that says what is missing and how to get it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TESTBED = path.join(root, '.testbed');
export const VENV = path.join(TESTBED, 'venv');
export const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server');

function run(command: string, args: string[], what: string): void {
  try {
    execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    process.stderr.write(`testbed: ${what} failed (${command} ${args.join(' ')}): ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
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
  process.stderr.write('testbed: no Python 3.9+ with the venv module found; install python3 and python3-venv, or set PYTHON\n');
  process.exit(1);
}

export function ensureMoto(): void {
  const requirements = path.join(root, 'test', 'testbed-requirements.txt');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = path.join(TESTBED, 'venv.sha256');
  if (existsSync(MOTO_SERVER) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  mkdirSync(TESTBED, { recursive: true });
  process.stderr.write('testbed: installing moto server into .testbed/venv (once)\n');
  if (!existsSync(path.join(VENV, 'bin', 'python'))) run(python(), ['-m', 'venv', VENV], 'creating the venv');
  run(path.join(VENV, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], 'installing test/testbed-requirements.txt from PyPI');
  writeFileSync(stamp, digest);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureMoto();
}
