/**
 * The cold-start curve alone, by hand (`npm run bench` runs it too, in its "cold-curve" section):
 *   npx tsx bench/cold-start-curve-cli.ts [--quick] [--sizes 1,10,50]
 * Builds the function for this machine, measures the curve (bench/cold-start-curve.ts), prints its table and writes
 * docs/cold-start-curve.svg. It leaves bench/results/latest.json and docs/PERFORMANCE.md to the full bench.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hostArch } from '../tools/emulator.js';
import { stageArtifacts } from '../tools/stage-artifacts.js';
import { buildFor } from './artifact-sizes.js';
import { coldStartCurveChart } from './charts.js';
import { CURVE_SIZES, coldStartCurve, curveChartPoints, curveMarkdown } from './cold-start-curve.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, sizes: { type: 'string' } } });
const sizes = values.sizes === undefined ? [...CURVE_SIZES] : values.sizes.split(',').map(Number);
if (sizes.some((s) => !Number.isFinite(s) || s <= 0)) {
  process.stderr.write(`cold-start-curve: --sizes ${values.sizes}: expected model sizes in MB separated by commas, such as 1,10,50\n`);
  process.exit(1);
}
const started = Date.now();
const log = (line: string) => process.stderr.write(`[curve ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const work = mkdtempSync(path.join(os.tmpdir(), 'curve-build-'));
try {
  log(`build: iris for ${hostArch()} (the curve points MODEL_DIR at its own models)`);
  const staged = await stageArtifacts((await buildFor(hostArch(), path.join(work, 'dist'), path.join(root, 'models', 'iris'))).outDir);
  try {
    const points = await coldStartCurve(staged, { sizes, runs: values.quick ? 1 : 3, log });
    const command = `npx tsx bench/cold-start-curve-cli.ts${values.quick ? ' --quick' : ''}${values.sizes === undefined ? '' : ` --sizes ${values.sizes}`}`;
    const caption = `${command}, ${new Date().toISOString().slice(0, 10)}, on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`;
    writeFileSync(path.join(root, 'docs', 'cold-start-curve.svg'), await coldStartCurveChart(curveChartPoints(points), caption));
    console.log(`\n${caption}\n\n${curveMarkdown(points)}\n\nwrote docs/cold-start-curve.svg`);
  } finally {
    await staged.remove();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
