import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

/** A fresh folder under the system's temp folder, removed with everything in it when the test `t` ends. */
export async function tempDir(t: ExecutionContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * What a whole test file sets up in `test.before` and takes down in `test.after.always`: steps run in reverse
 * order of registration, and temp folders removed with them.
 */
export class SuiteCleanup {
  readonly #steps: (() => Promise<unknown>)[] = [];

  add(step: () => Promise<unknown>): void {
    this.#steps.push(step);
  }

  /** A fresh folder under the system's temp folder (its real path), removed by `run()`. */
  async tempDir(prefix: string): Promise<string> {
    const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)));
    this.add(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  async run(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) await step();
  }
}
