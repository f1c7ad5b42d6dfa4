/**
 * The cold-start curve alone, by hand (`npm run bench` runs it too, in its "cold-curve" section):
 *   npx tsx bench/cold-start-curve-cli.ts [--quick] [--sizes 1,10,50] [--chart <file.svg>]
 * Builds the function for this machine, measures the curve (bench/cold-start-curve.ts), prints its table and writes
 * the chart (docs/cold-start-curve.svg unless --chart names another file, so a trial run can leave the published
 * chart alone). It leaves bench/results/latest.json and docs/PERFORMANCE.md to the full bench.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { usageMessage } from '../commands/cli/usage.js';
import { hostArch } from '../tools/emulator.js';
import { stageArtifacts } from '../tools/stage-artifacts.js';
import { buildFor } from './artifact-sizes.js';
import { coldStartCurveChart } from './charts.js';
import { CURVE_SIZES, coldStartCurve, curveChartPoints, curveMarkdown } from './cold-start-curve.js';

const USAGE = `usage: npx tsx bench/cold-start-curve-cli.ts [--quick] [--sizes 1,10,50] [--chart <file.svg>]
  --quick          one run of each way per size instead of three
  --sizes <list>   model sizes in MB, separated by commas (default ${CURVE_SIZES.join(',')})
  --chart <file>   where to write the chart (default docs/cold-start-curve.svg)`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function refuse(message: string): never {
  process.stderr.write(`cold-start-curve: ${message}\n${USAGE}\n`);
  process.exit(1);
}

let values;
try {
  values = parseArgs({ options: { quick: { type: 'boolean', default: false }, sizes: { type: 'string' }, chart: { type: 'string' }, help: { type: 'boolean', default: false } } }).values;
} catch (error) {
  refuse(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const sizes = values.sizes === undefined ? [...CURVE_SIZES] : values.sizes.split(',').map(Number);
if (sizes.some((s) => !Number.isFinite(s) || s <= 0)) refuse(usageMessage('sizes', values.sizes, 'model sizes in MB separated by commas, such as 1,10,50'));
const chartFile = path.resolve(values.chart ?? path.join(root, 'docs', 'cold-start-curve.svg'));
if (!chartFile.endsWith('.svg')) refuse(usageMessage('chart', values.chart, 'a file name ending in .svg'));
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
    writeFileSync(chartFile, await coldStartCurveChart(curveChartPoints(points), caption));
    const shown = path.relative(root, chartFile).startsWith('..') ? chartFile : path.relative(root, chartFile);
    console.log(`\n${caption}\n\n${curveMarkdown(points)}\n\nwrote ${shown}`);
  } finally {
    await staged.remove();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
