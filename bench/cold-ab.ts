/**
 * Before/after for the fresh-process cold start (`cold/iris/in-process` of `npm run bench`): the artifacts built
 * from a git revision against the working tree's, each round measured as the bench measures it (bench/fresh-process.ts:
 * fresh processes to the first response, handler against the floor, `--runs` pairs), the two builds alternating
 * round by round so the machine's slow and fast phases hit both. Prints each round's handler/floor ratio and the
 * median per build. The revision is built in a temporary git worktree with this checkout's node_modules.
 *
 *   tsx bench/cold-ab.ts <git revision> [--rounds 6] [--runs 21]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch } from '../tools/emulator.js';
import { stageArtifacts } from '../tools/stage-artifacts.js';
import { buildFor } from './artifact-sizes.js';
import { readBundle } from './bench-data.js';
import { coldInProcess } from './fresh-process.js';
import { revisionArgs } from './revision-args.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { revision, values } = revisionArgs('usage: tsx bench/cold-ab.ts <git revision> [--rounds 6] [--runs 21]', { rounds: '6', runs: '21' });
const rounds = Number(values.rounds);
const runs = Number(values.runs);
const arch = hostArch();

function run(command: string, commandArgs: string[], cwd: string): void {
  const child = spawnSync(command, commandArgs, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed in ${cwd}:\n${child.stderr.slice(-2000)}`);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'cold-ab-'));
const worktree = path.join(work, 'revision');
try {
  run('git', ['worktree', 'add', '--detach', worktree, revision], root);
  symlinkSync(path.join(root, 'node_modules'), path.join(worktree, 'node_modules'));
  run(process.execPath, ['--import', 'tsx', 'build.ts', '--arch', arch, '--out', path.join(work, 'dist-before')], worktree);
  await buildFor(arch, path.join(work, 'dist-after'), path.join(root, 'models', 'iris'));
  const before = await stageArtifacts(path.join(work, 'dist-before'));
  const after = await stageArtifacts(path.join(work, 'dist-after'));
  try {
    const iris = readBundle(path.join(root, 'models', 'iris'));
    const ratios: Record<'before' | 'after', number[]> = { before: [], after: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const which of order) {
        const cold = await coldInProcess(which === 'before' ? before : after, iris, runs);
        ratios[which].push(cold.handler.p50 / cold.floor.p50);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log(`cold/iris/in-process, handler p50 / floor p50, ${rounds} rounds of ${runs} pairs`);
    for (const [which, values] of Object.entries(ratios)) {
      console.log(`${which === 'before' ? revision : 'working tree'}: ${values.map((v) => v.toFixed(2)).join(' ')}  median ${median(values).toFixed(2)}`);
    }
  } finally {
    await before.remove();
    await after.remove();
  }
} finally {
  spawnSync('git', ['worktree', 'remove', '--force', worktree], { cwd: root });
  rmSync(work, { recursive: true, force: true });
}
