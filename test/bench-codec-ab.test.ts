import test from 'ava';
import { spawn } from 'node:child_process';
import { ROOT } from './helpers/function.js';

/** Runs bench/codec-ab.ts as a developer would, and collects what it printed. */
async function codecAb(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/codec-ab.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

test('codec-ab checks that HEAD\'s codec and the working tree\'s read and write alike, then times both', async (t) => {
  const run = await codecAb(['HEAD', '--model', 'iris', '--rounds', '20']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^iris, 100 rows, float32 \(\d+ bytes in\)/m);
  t.regex(run.stdout, /^read: +[\d.]+ → [\d.]+ +\(after \/ before [\d.]+\)$/m);
  t.regex(run.stdout, /^write: +[\d.]+ → [\d.]+ +\(after \/ before [\d.]+\)$/m);
});

test('codec-ab reads the 17-digit spelling of breast-cancer\'s rows through both modules', async (t) => {
  const run = await codecAb(['HEAD', '--spelling', 'golden', '--rounds', '8']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^breast-cancer, 100 rows, golden/m);
});

test('codec-ab fails, naming git\'s complaint, for a revision that does not exist', async (t) => {
  const run = await codecAb(['no-such-revision-anywhere', '--rounds', '4']);
  t.not(run.code, 0);
  t.regex(run.stderr, /no-such-revision-anywhere/);
});
