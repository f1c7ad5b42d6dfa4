/**
 * The Python baseline: this kit's Node function against the two Python handlers guides show, all three under AWS's
 * Runtime Interface Emulator with their runtime's interface client, on the iris model and golden rows.
 *
 *   npx tsx bench/python-baseline/run.ts [--cold 9] [--warm 240] [--warmup 20]
 *
 * Writes bench/results/python-baseline.json and prints a Markdown table (docs/PYTHON-BASELINE.md holds one run's).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ENV } from '../../functions/contract/env.js';
import { LAMBDA_LIMITS, MB, ONE_VCPU_MEMORY_MB } from '../../functions/contract/lambda-limits.js';
import { startFunction } from '../../tools/emulator.js';
import { stageArtifacts } from '../../tools/stage-artifacts.js';
import { ensureRic, ensureRie } from '../../tools/testbed/install.js';
import { LAMBDA_NODE_VERSION, RIC_VERSION, RIE_VERSION } from '../../tools/testbed/paths.js';
import { readBundle } from '../bench-data.js';
import { coldStarts, warmRequests, type Cold, type Stats, type Subject, type Warm } from './measure.js';
import { IRIS, ROOT, buildNodeFunction, preparePythonPackage, preparePythonRuntime, type PackageSize } from './packages.js';
import { startPythonFunction } from './python-function.js';

/** Lambda's one full vCPU, as bench/under-emulator.ts gives its functions; RIE does not enforce it. */
const MEMORY_MB = ONE_VCPU_MEMORY_MB;
const SIZES = [1, 100] as const;

const { values } = parseArgs({ options: { cold: { type: 'string', default: '9' }, warm: { type: 'string', default: '240' }, warmup: { type: 'string', default: '20' } }, strict: true });
const count = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${value} is not a positive whole number`);
  return n;
};
const coldRuns = count('cold', values.cold);
const warmSamples = count('warm', values.warm);
const warmup = count('warmup', values.warmup);

interface SubjectResult {
  readonly label: string;
  readonly package: PackageSize & { readonly withinDirectUpload: boolean; readonly withinUnzipped: boolean };
  readonly cold: Cold;
  readonly warm: Warm;
}

const startedAt = new Date();
const loadBefore = loadavg();
ensureRie();
ensureRic();
const runtime = preparePythonRuntime();
const sklearnPackage = preparePythonPackage('sklearn', runtime);
const onnxPackage = preparePythonPackage('onnx', runtime);
const buildDir = await mkdtemp(path.join(tmpdir(), 'python-baseline-node-'));
const nodeSize = buildNodeFunction(buildDir);
const staged = await stageArtifacts(buildDir);
const bundle = readBundle(IRIS);

const subjects: Subject[] = [
  { key: 'node', label: 'Node function (this kit)', start: () => startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, memoryMB: MEMORY_MB, env: { [ENV.METRICS_NAMESPACE]: 'Bench' } }) },
  { key: 'python-onnx', label: 'Python + onnxruntime', start: () => startPythonFunction({ taskRoot: onnxPackage.dir, runtime, memoryMB: MEMORY_MB }) },
  { key: 'python-sklearn', label: 'Python + scikit-learn', start: () => startPythonFunction({ taskRoot: sklearnPackage.dir, runtime, memoryMB: MEMORY_MB }) },
];
const sizes: Record<string, PackageSize> = { node: nodeSize, 'python-onnx': onnxPackage.size, 'python-sklearn': sklearnPackage.size };

let cold: Record<string, Cold>;
let warm: Record<string, Warm>;
try {
  process.stderr.write(`python-baseline: ${coldRuns} cold starts of each function\n`);
  cold = await coldStarts(bundle, subjects, coldRuns);
  process.stderr.write(`python-baseline: ${warmSamples} warm requests of each size per function\n`);
  warm = await warmRequests(bundle, subjects, SIZES, warmup, warmSamples);
} finally {
  await staged.remove();
  await rm(buildDir, { recursive: true, force: true });
}

const results: Record<string, SubjectResult> = Object.fromEntries(
  subjects.map((s) => {
    const size = sizes[s.key]!;
    const pkg = { ...size, withinDirectUpload: size.zips.every((z) => z.bytes <= LAMBDA_LIMITS.directUploadZippedBytes), withinUnzipped: size.unzippedBytes <= LAMBDA_LIMITS.unzippedBytes };
    return [s.key, { label: s.label, package: pkg, cold: cold[s.key]!, warm: warm[s.key]! }];
  }),
);
const rootPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const record = {
  startedAt: startedAt.toISOString(),
  command: `npx tsx bench/python-baseline/run.ts --cold ${coldRuns} --warm ${warmSamples} --warmup ${warmup}`,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadavg() },
  memoryMB: MEMORY_MB,
  versions: {
    rie: RIE_VERSION,
    node: { node: LAMBDA_NODE_VERSION, 'aws-lambda-ric': RIC_VERSION, 'onnxruntime-node': rootPackage.dependencies['onnxruntime-node'] },
    python: { python: runtime.pythonVersion, runtime: runtime.installed, onnx: onnxPackage.installed, sklearn: sklearnPackage.installed },
  },
  limits: LAMBDA_LIMITS,
  results,
};
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench', 'results', 'python-baseline.json'), `${JSON.stringify(record, null, 2)}\n`);

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
const p50p90 = (s: Stats) => `${ms(s.p50)} / ${ms(s.p90)}`;
const mib = (bytes: number) => `${(bytes / MB).toFixed(1)} MiB`;
const keys = subjects.map((s) => s.key);
const row = (name: string, cell: (r: SubjectResult) => string) => `| ${name} | ${keys.map((k) => cell(results[k]!)).join(' | ')} |`;
const warmOf = (r: SubjectResult, rows: number) => r.warm.sizes.find((w) => w.rows === rows)!;
const lines = [
  `| ${coldRuns} cold starts, ${warmSamples} warm requests per size; ms as p50 / p90 | ${subjects.map((s) => s.label).join(' | ')} |`,
  `|---|${keys.map(() => '---:').join('|')}|`,
  row('Cold start: INIT REPORT duration', (r) => p50p90(r.cold.initMs)),
  row('Cold start: first response (round trip)', (r) => p50p90(r.cold.firstResponseMs)),
  ...SIZES.flatMap((rows) => [row(`Warm, ${rows} row${rows === 1 ? '' : 's'}: REPORT Duration`, (r) => p50p90(warmOf(r, rows).durationMs)), row(`Warm, ${rows} row${rows === 1 ? '' : 's'}: round trip`, (r) => p50p90(warmOf(r, rows).wallMs))]),
  row(`Zipped (${LAMBDA_LIMITS.directUploadZippedBytes / MB} MiB direct upload, per zip)`, (r) => `${mib(r.package.zippedBytes)}${r.package.zips.length > 1 ? ` (${r.package.zips.map((z) => `${z.name} ${mib(z.bytes)}`).join(', ')})` : ''}`),
  row(`Unzipped (${LAMBDA_LIMITS.unzippedBytes / MB} MiB limit)`, (r) => mib(r.package.unzippedBytes)),
  row('Peak RSS after the warm requests (VmHWM)', (r) => `${r.warm.peakRssMiB.toFixed(1)} MiB`),
  row('Peak RSS after the first request, p50', (r) => `${r.cold.peakRssAfterFirstMiB.p50.toFixed(1)} MiB`),
];
process.stdout.write(`${lines.join('\n')}\n\nRuntime processes read: ${keys.map((k) => `${k}: ${results[k]!.warm.runtimeProcess.command}`).join('; ')}\n`);
process.stdout.write(`Load average before ${loadBefore.map((l) => l.toFixed(1)).join(' ')}, after ${loadavg().map((l) => l.toFixed(1)).join(' ')}; wrote bench/results/python-baseline.json\n`);
