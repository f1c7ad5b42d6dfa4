import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../tools/free-port.js';
import { MOTO_SERVER } from '../../tools/testbed/paths.js';

export { freePort };

/** A moto server started for one test file, on a free loopback port; `stop` ends that process alone. */
export interface Moto {
  readonly endpoint: string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`moto server is not installed at ${MOTO_SERVER}; run "npm test" (its pretest step installs it) or "npx tsx tools/testbed/install.ts"`);
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode}: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto server did not answer on ${endpoint}/moto-api/ within 30 s: ${stderr}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const grace = new AbortController();
      const killLater = sleep(5000, undefined, { signal: grace.signal }).then(
        () => child.kill('SIGKILL'),
        () => {},
      );
      await exited;
      grace.abort();
      await killLater;
    },
  };
}
