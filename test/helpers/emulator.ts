/**
 * The emulator runner lives in tools/emulator.ts (npm run invoke uses it too); this adds staging fixtures.
 */
import { cp, mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export * from '../../tools/emulator.js';

/** A task root and an opt folder, staged like a deployment package plus one layer. */
export interface StagedFunction {
  readonly taskRoot: string;
  readonly optDir: string;
  remove(): Promise<void>;
}

/**
 * Copies function code into a fresh task root and the given package folders into `<opt>/nodejs/node_modules`, in a
 * temp folder outside the repository, so that nothing resolves from the project's own node_modules by accident.
 */
export async function stageFunction(code: string, layerPackages: readonly string[] = []): Promise<StagedFunction> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), 'lambda-under-test-')));
  const taskRoot = path.join(base, 'task');
  const optDir = path.join(base, 'opt');
  const modules = path.join(optDir, 'nodejs', 'node_modules');
  await cp(code, taskRoot, { recursive: true });
  await mkdir(modules, { recursive: true });
  for (const folder of layerPackages) {
    const { name } = JSON.parse(await readFile(path.join(folder, 'package.json'), 'utf8')) as { name: string };
    await cp(folder, path.join(modules, name), { recursive: true });
  }
  return { taskRoot, optDir, remove: () => rm(base, { recursive: true, force: true }) };
}
