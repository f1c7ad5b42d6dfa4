import { spawn } from 'node:child_process';
import { ROOT } from './function.js';

export interface NpmRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run <script> --silent -- <args>` in the project as a user would, and collects what it printed. */
export async function runNpm(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<NpmRun> {
  const child = spawn('npm', ['run', script, '--silent', '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close', not 'exit': 'exit' can fire before the last chunks of stdout and stderr have been read.
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}
