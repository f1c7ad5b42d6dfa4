import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './function.js';
import { runNpm, type NpmRun } from './npm.js';

/** `npm start` running in its own process group on a free port, with its stdout (the function's log) captured. */
export interface Server {
  readonly url: string;
  readonly stdout: () => string;
  /**
   * The first line of stdout that `match` accepts, waiting for it up to `timeoutMs`; undefined when none came. The
   * function writes some lines (its EMF record) after the response, so a client that has the response may not see
   * them yet.
   */
  stdoutLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startServer(args: readonly string[] = [], env: Record<string, string> = {}): Promise<Server> {
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not listen within 60 s: ${stderr}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    stdout: () => stdout,
    async stdoutLine(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = stdout.split('\n').find(match);
        if (line !== undefined || Date.now() > deadline) return line;
        await sleep(20);
      }
    },
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'))]);
    },
  };
}

/** Runs `npm start` with arguments that must make it exit, and returns its exit code and stderr. */
export function failingStart(args: readonly string[], env: Record<string, string> = {}): Promise<NpmRun> {
  return runNpm('start', args, env);
}
