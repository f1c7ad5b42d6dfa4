/**
 * Before/after for a change to the request path, as docs/PERFORMANCE.md reports it: two function bundles, each in
 * processes of its own (bench/request-path-worker.ts), alternating A, B, B, A, ... per round, each
 * process interleaving the handler with raw `session.run` on a prepared tensor. The figure is the handler/raw
 * ratio of p50s, median of the rounds (an in-process A/B favours whichever module loads first).
 *
 *   tsx bench/request-path-ab.ts bundle <name>
 *     bundles the working tree as build.ts does, into node_modules/.cache/bench/ab/<name>
 *   tsx bench/request-path-ab.ts compare <nameA> <nameB> [--rounds 4] [--cases iris:1,iris:100,breast-cancer:1,...]
 *                                                        [--budget 1500] [--no-runtime-turn]
 *     --no-runtime-turn: nothing between calls (the bench's runtime turn off); a case is model:rows or
 *     model:rows:spelling (float32; golden, the 17-digit texts; oip-binary; float32 when left out)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFunction } from '../build.js';
import type { Spelling } from './bench-data.js';
import type { WorkerConfig, WorkerResult } from './request-path-worker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const abDir = path.join(root, 'node_modules', '.cache', 'bench', 'ab');
const [command, ...args] = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const modelDir = (name: string) => path.join(root, 'models', name);

if (command === 'bundle') {
  const dir = path.join(abDir, args[0] ?? 'current');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of await bundleFunction()) writeFileSync(path.join(dir, entry.path), entry.data);
  console.log(`bundled into ${path.relative(root, dir)}`);
} else if (command === 'compare') {
  const names = [args[0] ?? 'a', args[1] ?? 'b'];
  const rounds = Number(option('rounds', '4'));
  const cases = option('cases', 'iris:1,iris:100,breast-cancer:1,breast-cancer:100').split(',');
  const run = (name: string, model: string, rows: number, spelling: Spelling): WorkerResult => {
    const config: WorkerConfig = {
      functionDir: path.join(abDir, name),
      bundleDir: modelDir(model),
      rows,
      spelling,
      runtimeTurn: !args.includes('--no-runtime-turn'),
      budgetMs: Number(option('budget', '1500')),
      minRequests: 300,
      maxRequests: 2000,
      warmupCalls: 5000,
      warmupMs: 1500,
    };
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'request-path-worker.ts'), JSON.stringify(config)], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`worker ${name} ${model} x${rows} failed:\n${child.stderr.slice(-2000)}`);
    return JSON.parse(child.stderr.trim().split('\n').at(-1) ?? '') as WorkerResult;
  };
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  console.log(`| case | ${names[0]}: handler p50 / raw p50 (${rounds} rounds) | ${names[1]} | ${names[1]} / ${names[0]} |`);
  console.log('|---|---|---|---|');
  for (const c of cases) {
    const [model = 'iris', rowsText = '1', spelling = 'float32'] = c.split(':');
    const rows = Number(rowsText);
    const ratios: [number[], number[]] = [[], []];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const k of order) {
        const result = run(names[k]!, model, rows, spelling as Spelling);
        ratios[k as 0 | 1].push(result.handler.p50 / result.raw.p50);
      }
    }
    const text = (v: number[]) => `${median(v).toFixed(2)} (${Math.min(...v).toFixed(2)} to ${Math.max(...v).toFixed(2)})`;
    console.log(`| ${model}, ${rows} row${rows === 1 ? '' : 's'}${spelling === 'float32' ? '' : `, ${spelling}`} | ${text(ratios[0])} | ${text(ratios[1])} | ${(median(ratios[1]) / median(ratios[0])).toFixed(3)} |`);
  }
} else {
  console.error('usage: tsx bench/request-path-ab.ts bundle <name> | compare <nameA> <nameB> [--rounds n] [--cases model:rows,...] [--budget ms] [--no-runtime-turn]');
  process.exitCode = 1;
}
