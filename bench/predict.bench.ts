/**
 * `npm run bench [-- --quick]`: the figures that matter for serving a model on Lambda, each beside its baseline,
 * measured in the same run (docs/PERFORMANCE.md explains the method):
 *
 * - warm/<model>/*: in one process, the shipped handler against onnxruntime-node's public `session.run` on a
 *   prepared tensor, interleaved (bench/request-path-worker.ts); single rows have a target, batches are information;
 * - rie/<model>/*: warm invocations of the built zip under AWS's Runtime Interface Emulator and runtime interface
 *   client, against the naive function (bench/entries/naive-function.mjs) under the same emulator, by REPORT
 *   Duration, which is what Lambda bills (bench/under-emulator.ts);
 * - int8-vs-float/*: the quantized CNN against the float CNN: model size, warm latency, cold start;
 * - cold/*: fresh processes, and the Lambda runtime under the emulator, against the naive function;
 * - size/*: the built artifacts against zipping the installed onnxruntime-node as it is;
 * - rss/*: peak resident memory of a process serving the model, against onnxruntime's own share;
 * - synth: seconds for `npm run synth`;
 * - cold-curve/<size>/*: the cold start against the model's size, 1 to 500 MB, zip and S3 each beside the floor, and
 *   the ways under the floor (bench/cold-start-curve.ts);
 * - observe/<model>/*: what tracing and prediction capture add to a request, beside the request without them, in
 *   process and under the emulator, and the first traced invocation (bench/observe.ts). `--only observe` runs this
 *   section alone and rewrites only its table.
 *
 * Every answer the bench times is checked against golden.json first; a wrong one fails the run. Timings never
 * fail it: targets are reported (met: yes / NO), since this machine's noise is not the code's. A model bundle that
 * is missing (the CNNs are trained separately) is skipped, and the run says so.
 * Writes bench/results/latest.json, docs/cost-per-million.svg, docs/warm-under-emulator.svg, docs/cold-start-curve.svg
 * and the tables in docs/PERFORMANCE.md (`--only <section>`: bench/results/<section>.json and that section's table).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bundleFunction } from '../build.js';
import { ARCHES, ARTIFACT, type Arch } from '../functions/contract/build-record.js';
import { DEFAULT_MODEL_FILE } from '../functions/contract/env.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import { hostArch, lambdaRuntime } from '../tools/emulator.js';
import { stageArtifacts, type StagedArtifacts } from '../tools/stage-artifacts.js';
import { RIE_BIN } from '../tools/testbed/paths.js';
import { artifactSize, buildFor, naivePackageSize, type BuiltArtifacts } from './artifact-sizes.js';
import { BENCH_USAGE, BenchUsageError, benchArgs, type BenchArgs } from './bench-args.js';
import { optionalBundle, readBundle, sampled, type BenchBundle, type Spelling } from './bench-data.js';
import { coldStartCurveChart, costChart, warmChart, type WarmBar } from './charts.js';
import { CURVE_SIZES, coldStartCurve, curveCases, curveChartPoints, curveJson, curveMarkdown, type CurvePoint } from './cold-start-curve.js';
import { coldInProcess, peakMemory } from './fresh-process.js';
import { costMarkdown, costRows, PRICING, type CostInput } from './lambda-cost.js';
import { observeSection, type ObserveSettings } from './observe.js';
import { observeCases, observeMarkdown } from './observe-report.js';
import { casesMarkdown, comparisonMarkdown, consoleRows, emulatorMarkdown, replaceSection, timingCase, valueCase, type BenchCase } from './report.js';
import type { WorkerConfig, WorkerResult } from './request-path-worker.js';
import { coldUnderEmulator, warmUnderEmulator, type ColdRie, type WarmRie } from './under-emulator.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let args: BenchArgs;
try {
  args = benchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof BenchUsageError)) throw error;
  process.stderr.write(`bench: ${error.message}\n${BENCH_USAGE}\n`);
  process.exit(1);
}
const { quick } = args;
const settings = quick
  ? { budgetMs: 2500, minRequests: 300, maxRequests: 2000, warmupCalls: 5000, warmupMs: 1500, coldRuns: 15, rieColdRuns: 7, rieWarmup: 100, rieSamples: 100, memoryRuns: 1, memoryRequests: 400, synthRuns: 1, curveRuns: 1 }
  : { budgetMs: 10_000, minRequests: 1000, maxRequests: 10_000, warmupCalls: 20_000, warmupMs: 5000, coldRuns: 21, rieColdRuns: 15, rieWarmup: 400, rieSamples: 600, memoryRuns: 3, memoryRequests: 3000, synthRuns: 3, curveRuns: 3 };
/** The observe section's (bench/observe.ts): workers per mode in process, emulator invocations, fresh processes. */
const observeSettings: ObserveSettings = quick
  ? { rounds: 1, budgetMs: 1000, minRequests: 300, maxRequests: 2000, warmupCalls: 3000, warmupMs: 1000, rieWarmup: 20, rieSamples: 100, firstRuns: 7 }
  : { rounds: 3, budgetMs: 3000, minRequests: 1000, maxRequests: 5000, warmupCalls: 10_000, warmupMs: 2000, rieWarmup: 50, rieSamples: 300, firstRuns: 15 };

/** Handler p50 against raw `session.run` p50, single rows, in process. */
const TARGET_RATIO_WARM_SINGLE = 1.3;
/** The function's REPORT Duration p50 against the naive function's, warm, under the emulator. */
const TARGET_RATIO_RIE = 1.1;
const TARGET_RATIO_COLD = 1.2;
const TARGET_LAYER_ARM64_MIB = 12;
const TARGET_RSS_IRIS_MB = 110;
const MIB = 2 ** 20;
/** The memory sizes docs/PERFORMANCE.md's cost table shows; the chart and latest.json have them all. */
const COST_TABLE_SIZES = [1024, ONE_VCPU_MEMORY_MB] as const;
/** The models of the emulator comparison, in the order the tables show them. */
const MODELS = ['iris', 'breast-cancer', 'digits-cnn', 'digits-cnn-int8'] as const;
type ModelName = (typeof MODELS)[number];

/** docs/PERFORMANCE.md's result tables, one per kind of case (the int8-vs-float cases have a section of their own). */
const GROUPS: readonly { readonly title: string; readonly match: (name: string) => boolean; readonly table?: (members: readonly BenchCase[]) => string }[] = [
  { title: 'Warm, under the emulator: the function against the naive function (REPORT Duration)', match: (name) => name.startsWith('rie/'), table: emulatorMarkdown },
  { title: 'Warm, in process: the handler against raw `session.run`', match: (name) => name.startsWith('warm/') },
  { title: 'Cold start', match: (name) => name.startsWith('cold/') },
  { title: 'Sizes, memory, synth', match: (name) => /^(size|rss)\/|^synth$/.test(name) },
];

function groupedMarkdown(all: readonly BenchCase[]): string {
  return GROUPS.map((group) => ({ group, members: all.filter((c) => group.match(c.case)) }))
    .filter(({ members }) => members.length > 0)
    .map(({ group, members }) => `**${group.title}**\n\n${(group.table ?? casesMarkdown)(members)}`)
    .join('\n\n');
}

const started = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const cases: BenchCase[] = [];
const skipped: string[] = [];
const failures: string[] = [];
const skip = (reason: string) => {
  skipped.push(reason);
  log(`SKIPPED ${reason}`);
};
const r1 = (value: number) => Math.round(value * 10) / 10;
const r2 = (value: number) => Math.round(value * 100) / 100;
const flags = [...(quick ? ['--quick'] : []), ...(args.only === undefined ? [] : ['--only', args.only])];
const command = flags.length === 0 ? 'npm run bench' : `npm run bench -- ${flags.join(' ')}`;

/** The run's machine, as latest.json records it and the first line of each table says it. */
function machine() {
  const runtime = lambdaRuntime();
  const emulatorNode = existsSync(runtime.node) ? spawnSync(runtime.node, ['--version'], { encoding: 'utf8' }).stdout.trim() : `${runtime.nodeMajor} (not installed)`;
  return {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    arch: process.arch,
    os: `${os.type()} ${os.release()}`,
    memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    emulator_node: emulatorNode,
    emulator_runtime: runtime.runtime,
    onnxruntime: ort.env.versions.node,
    load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function machineLine(m: ReturnType<typeof machine>, date: string, seconds: number): string {
  return `\`${command}\`, ${date.slice(0, 10)}, ${seconds} s: ${m.cpus} x ${m.cpu} (${m.os}), Node ${m.node} in process and ${m.emulator_node} under the emulator (${m.emulator_runtime}), onnxruntime-node ${m.onnxruntime}, load average at the end ${m.load_average.join(' / ')}.`;
}

if (args.only === 'observe') {
  // The observe section alone: its table in docs/PERFORMANCE.md and bench/results/observe.json; latest.json and the
  // other tables stay the full run's. The function bundle goes inside the project, as in the full run, so that it
  // resolves onnxruntime-node from node_modules.
  mkdirSync(path.join(root, 'node_modules', '.cache', 'bench'), { recursive: true });
  const functionDir = mkdtempSync(path.join(root, 'node_modules', '.cache', 'bench', 'observe-'));
  const buildDir = mkdtempSync(path.join(os.tmpdir(), 'bench-observe-'));
  try {
    for (const entry of await bundleFunction()) writeFileSync(path.join(functionDir, entry.path), entry.data);
    const bundle = readBundle(path.join(root, 'models', 'iris'));
    log(`build: iris for ${hostArch()}`);
    const staged = await stageArtifacts((await buildFor(hostArch(), path.join(buildDir, 'dist'), bundle.dir)).outDir);
    try {
      const observed = await observeSection(functionDir, staged, bundle, observeSettings, log);
      const observeCaseList = observeCases(observed);
      const date = new Date().toISOString();
      const seconds = Math.round((Date.now() - started) / 1000);
      const m = machine();
      mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
      writeFileSync(path.join(root, 'bench', 'results', 'observe.json'), `${JSON.stringify({ date, mode: quick ? 'quick' : 'full', command, seconds, machine: m, settings: observeSettings, cases: observeCaseList, observe: observed }, null, 2)}\n`);
      const line = machineLine(m, date, seconds);
      const doc = path.join(root, 'docs', 'PERFORMANCE.md');
      const updated = existsSync(doc) && replaceSection(doc, 'observe', `${line}\n\n${observeMarkdown(observed)}`);
      console.log(`\n${line}\n\n${observeMarkdown(observed)}\n`);
      console.table(consoleRows(observeCaseList));
      console.log(`wrote bench/results/observe.json${updated ? ' and the observe table in docs/PERFORMANCE.md' : '; docs/PERFORMANCE.md has no bench:observe markers, so no table was updated'}`);
    } finally {
      await staged.remove();
    }
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
    rmSync(functionDir, { recursive: true, force: true });
  }
  process.exit();
}

const models = new Map<ModelName, BenchBundle>();
for (const name of MODELS) {
  const found = optionalBundle(path.join(root, 'models', name));
  if (typeof found === 'string') skip(`every ${name} case: ${found}`);
  else models.set(name, found);
}
const iris = models.get('iris') ?? readBundle(path.join(root, 'models', 'iris'));
const rowsText = (rows: number) => (rows === 1 ? '1 row' : `${rows} rows`);
const sizeName = (rows: number) => (rows === 1 ? 'single' : `batch${rows}`);

// Scratch space inside the project: the warm workers' bundle must resolve onnxruntime-node from node_modules, the
// same copy the raw baseline in that process uses (the built artifacts below use the layer's copy instead).
const scratch = path.join(root, 'node_modules', '.cache', 'bench');
mkdirSync(scratch, { recursive: true });
const work = mkdtempSync(path.join(scratch, 'run-'));
const cleanups: (() => void | Promise<void>)[] = [() => rmSync(work, { recursive: true, force: true })];

try {
  // --- the function bundle, as build.ts bundles it ---------------------------------------------------------------
  const functionDir = path.join(work, 'function');
  mkdirSync(functionDir);
  for (const entry of await bundleFunction()) writeFileSync(path.join(functionDir, entry.path), entry.data);

  // --- warm request path, in process -------------------------------------------------------------------------------
  const warm = (bundle: BenchBundle, rows: number, spelling: Spelling): WorkerResult => {
    const config: WorkerConfig = { functionDir, bundleDir: bundle.dir, rows, spelling, runtimeTurn: true, ...settings };
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'request-path-worker.ts'), JSON.stringify(config)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1024 * 1024 * 1024,
      encoding: 'utf8',
    });
    const last = child.stderr.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0) throw new Error(`request-path worker for ${bundle.manifest.name} x${rows} failed (exit ${child.status}):\n${child.stderr.slice(-3000)}`);
    return JSON.parse(last) as WorkerResult;
  };
  const warmResults = new Map<string, WorkerResult>();
  for (const [model, bundle] of models) {
    const runs: [number, Spelling][] = [
      [1, 'float32'],
      [100, 'float32'],
      ...(model === 'iris' || model === 'digits-cnn' ? ([[100, 'oip-binary']] as [number, Spelling][]) : []),
    ];
    for (const [rows, spelling] of runs) {
      const name = `warm/${model}/${sizeName(rows)}${spelling === 'float32' ? '' : `/${spelling}`}`;
      log(`${name}: handler vs raw session.run, interleaved in one process`);
      const result = warm(bundle, rows, spelling);
      warmResults.set(name, result);
      const target = rows === 1 && spelling === 'float32' ? TARGET_RATIO_WARM_SINGLE : undefined;
      cases.push(timingCase(name, 'us', result.handler, 'raw session.run', result.raw, target, { body_bytes: result.bodyBytes, spelling }));
    }
  }

  // --- the built artifacts ---------------------------------------------------------------------------------------------
  const arch = hostArch();
  const built = new Map<ModelName, BuiltArtifacts>();
  const staged = new Map<ModelName, StagedArtifacts>();
  for (const [model, bundle] of models) {
    log(`build: ${model} for ${arch}`);
    const out = await buildFor(arch, path.join(work, `dist-${model}`), bundle.dir);
    built.set(model, out);
    const stage = await stageArtifacts(out.outDir);
    cleanups.push(() => stage.remove());
    staged.set(model, stage);
  }
  const irisStaged = staged.get('iris')!;

  log('size: the layer for the other architecture, and the naive package');
  const otherArch = ARCHES.find((a) => a !== arch)!;
  const layers = { [arch]: built.get('iris')!, [otherArch]: await buildFor(otherArch, path.join(work, `dist-iris-${otherArch}`), iris.dir) } as Record<Arch, BuiltArtifacts>;
  const naive = naivePackageSize(path.join(root, 'node_modules'));
  const naiveLabel = 'onnxruntime-node as installed, zipped';
  const naiveExtra = { baseline_unzipped_bytes: naive.unzippedBytes, baseline_cached: naive.cached };
  for (const layerArch of ARCHES) {
    const layer = artifactSize(layers[layerArch], ARTIFACT.runtimeLayer);
    const target = layerArch === 'arm64' ? { text: `<= ${TARGET_LAYER_ARM64_MIB} MiB zipped`, meets: layer.bytes <= TARGET_LAYER_ARM64_MIB * MIB } : undefined;
    cases.push(valueCase(`size/layer-${layerArch}`, 'bytes', layer.bytes, naiveLabel, naive.bytes, target, { unzipped_bytes: layer.unzippedBytes, ...naiveExtra }));
  }
  const fn = artifactSize(built.get('iris')!, ARTIFACT.function);
  cases.push(valueCase('size/function', 'bytes', fn.bytes, naiveLabel, naive.bytes, undefined, { unzipped_bytes: fn.unzippedBytes, model: 'iris, in the zip', ...naiveExtra }));

  // --- warm invocations under the emulator, against the naive function --------------------------------------------------
  const rieWarm = new Map<ModelName, WarmRie[]>();
  const rieCold = new Map<ModelName, ColdRie>();
  const emulator = existsSync(RIE_BIN);
  if (!emulator) skip(`every rie/* and cold/*/rie case: the Runtime Interface Emulator is not installed (${RIE_BIN}); run npx tsx tools/testbed/install.ts`);
  const runEmulated = async (what: string, measure: () => Promise<void>) => {
    try {
      await measure();
    } catch (error) {
      // A runtime that is not installed is a skip; a wrong answer or a broken function is a failure.
      const message = error instanceof Error ? error.message : String(error);
      if (/is not installed at/.test(message)) skip(`${what}: ${message.split('\n')[0]}`);
      else throw error;
    }
  };
  if (emulator) {
    for (const [model, bundle] of models) {
      log(`rie/${model}: warm invocations, the function vs the naive function (and the naive function writing as much log), one emulator each`);
      await runEmulated(`rie/${model}`, async () => {
        const results = await warmUnderEmulator(staged.get(model)!, bundle, [1, 100], settings.rieWarmup, settings.rieSamples);
        rieWarm.set(model, results);
        for (const result of results) {
          cases.push(
            timingCase(`rie/${model}/${sizeName(result.rows)}`, 'ms', result.function.duration, 'naive function: REPORT Duration', result.naive.duration, TARGET_RATIO_RIE, {
              measures: 'REPORT Duration of warm invocations (what Lambda bills, before rounding up to whole ms)',
              billed_p50: result.function.billed.p50,
              baseline_billed_p50: result.naive.billed.p50,
              wall_p50: r2(result.function.wall.p50),
              baseline_wall_p50: r2(result.naive.wall.p50),
              emf_bytes: result.emfBytes,
              naive_with_log_p50: r2(result.naiveLogged.duration.p50),
              ratio_to_naive_with_log: r2(result.function.duration.p50 / result.naiveLogged.duration.p50),
            }),
          );
        }
      });
    }
  }

  // --- cold start -------------------------------------------------------------------------------------------------------
  log('cold/iris/in-process: fresh processes, handler vs floor, alternating');
  const cold = await coldInProcess(irisStaged, iris, settings.coldRuns);
  cases.push(
    timingCase('cold/iris/in-process', 'ms', cold.handler, 'ESM entry: require onnxruntime-node, create session, run once', cold.floor, TARGET_RATIO_COLD, {
      from: 'process start',
      module_p50: r1(cold.handlerModule.p50),
      baseline_module_p50: r1(cold.floorModule.p50),
    }),
  );
  if (emulator) {
    for (const model of ['iris', 'digits-cnn', 'digits-cnn-int8'] as const) {
      const bundle = models.get(model);
      if (bundle === undefined) continue;
      log(`cold/${model}/rie: a new emulator per run, the function vs the naive function, alternating`);
      await runEmulated(`cold/${model}/rie`, async () => {
        const rie = await coldUnderEmulator(staged.get(model)!, bundle, settings.rieColdRuns);
        rieCold.set(model, rie);
        const target = model === 'iris' ? TARGET_RATIO_COLD : undefined;
        cases.push(
          timingCase(`cold/${model}/rie`, 'ms', rie.handlerFirst, 'naive function: first response', rie.floorFirst, target, { measures: 'first invocation as the caller sees it' }),
          timingCase(`cold/${model}/rie/init`, 'ms', rie.handlerInit, 'naive function: INIT REPORT', rie.floorInit, target, { measures: 'INIT REPORT duration (billed init)' }),
        );
      });
    }
  }

  // --- cold start against the model's size ------------------------------------------------------------------------------
  log(`cold-curve: models of ${CURVE_SIZES.join(', ')} MB made on the fly, zip and S3 beside the floor, ${settings.curveRuns} run(s) each`);
  const curve: CurvePoint[] = await coldStartCurve(irisStaged, { sizes: CURVE_SIZES, runs: settings.curveRuns, log });
  cases.push(...curveCases(curve));

  // --- the quantized CNN against the float CNN ----------------------------------------------------------------------------
  const float = models.get('digits-cnn');
  const int8 = models.get('digits-cnn-int8');
  if (float === undefined || int8 === undefined) {
    skip('every int8-vs-float case: it needs both models/digits-cnn and models/digits-cnn-int8');
  } else {
    const label = 'float CNN (digits-cnn)';
    const modelBytes = (bundle: BenchBundle) => statSync(path.join(bundle.dir, DEFAULT_MODEL_FILE)).size;
    cases.push(valueCase('int8-vs-float/size/model.onnx', 'bytes', modelBytes(int8), label, modelBytes(float)));
    cases.push(valueCase('int8-vs-float/size/function', 'bytes', artifactSize(built.get('digits-cnn-int8')!, ARTIFACT.function).bytes, label, artifactSize(built.get('digits-cnn')!, ARTIFACT.function).bytes));
    for (const rows of [1, 100]) {
      const a = warmResults.get(`warm/digits-cnn-int8/${sizeName(rows)}`)!;
      const b = warmResults.get(`warm/digits-cnn/${sizeName(rows)}`)!;
      cases.push(timingCase(`int8-vs-float/warm/${sizeName(rows)}`, 'us', a.handler, `${label}: handler in process`, b.handler, undefined, { measures: 'handler p50 in process, separate workers' }));
      const ra = rieWarm.get('digits-cnn-int8')?.find((w) => w.rows === rows);
      const rb = rieWarm.get('digits-cnn')?.find((w) => w.rows === rows);
      if (ra !== undefined && rb !== undefined) {
        cases.push(timingCase(`int8-vs-float/rie/${sizeName(rows)}`, 'ms', ra.function.duration, `${label}: REPORT Duration`, rb.function.duration, undefined, { measures: 'REPORT Duration p50 under the emulator, separate emulators' }));
      }
    }
    const ca = rieCold.get('digits-cnn-int8');
    const cb = rieCold.get('digits-cnn');
    if (ca !== undefined && cb !== undefined) {
      cases.push(
        timingCase('int8-vs-float/cold/rie', 'ms', ca.handlerFirst, `${label}: first response`, cb.handlerFirst, undefined, { measures: 'first invocation under the emulator' }),
        timingCase('int8-vs-float/cold/rie/init', 'ms', ca.handlerInit, `${label}: INIT REPORT`, cb.handlerInit, undefined, { measures: 'INIT REPORT duration' }),
      );
    }
  }

  // --- memory -------------------------------------------------------------------------------------------------------
  for (const model of ['iris', 'digits-cnn'] as const) {
    const bundle = models.get(model);
    if (bundle === undefined) continue;
    log(`rss/${model}: peak RSS serving ${settings.memoryRequests} requests, handler vs floor`);
    const memory = await peakMemory(staged.get(model)!, bundle, settings.memoryRequests, settings.memoryRuns);
    const target = model === 'iris' ? { text: `<= ${TARGET_RSS_IRIS_MB} MB`, meets: memory.handler.p50 <= TARGET_RSS_IRIS_MB } : undefined;
    cases.push(valueCase(`rss/${model}`, 'MB', memory.handler.p50, 'onnxruntime alone serving the same rows', memory.floor.p50, target, { runs: memory.handler.n, requests: settings.memoryRequests }));
  }

  // --- synth ---------------------------------------------------------------------------------------------------------
  log('synth: npm run synth');
  const synthSeconds: number[] = [];
  for (let i = 0; i < settings.synthRuns; i++) {
    const t0 = performance.now();
    const child = spawnSync('npm', ['run', 'synth'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const seconds = (performance.now() - t0) / 1000;
    if (child.status !== 0) {
      failures.push(`npm run synth failed (exit ${child.status}): ${(child.stderr || child.stdout).slice(-1500)}`);
      break;
    }
    synthSeconds.push(seconds);
  }
  if (synthSeconds.length > 0) {
    const s = sampled(synthSeconds);
    cases.push({ ...valueCase('synth', 's', s.p50, null, undefined), n: s.n });
  }

  // --- tracing and capture -------------------------------------------------------------------------------------------
  const observed = await observeSection(functionDir, irisStaged, iris, observeSettings, log);
  if (typeof observed.rie === 'string') skip(`observe/iris/rie/*: ${observed.rie}`);
  cases.push(...observeCases(observed));

  // --- cost estimate ------------------------------------------------------------------------------------------------
  const costInputs: CostInput[] = [];
  const bars: WarmBar[] = [];
  for (const [model, results] of rieWarm) {
    for (const result of results) {
      const name = `${model}, ${rowsText(result.rows)}`;
      costInputs.push({ name, durationMs: result.function.duration.p50, predictionsPerRequest: result.rows, logBytesPerRequest: result.emfBytes });
      bars.push({ workload: name, functionMs: result.function.duration.p50, naiveMs: result.naive.duration.p50, naiveLoggedMs: result.naiveLogged.duration.p50 });
    }
  }
  const rows = costRows(costInputs);
  const initMs = rieCold.get('iris')?.handlerInit.p50 ?? cold.handler.p50;

  // --- write -----------------------------------------------------------------------------------------------------------
  const results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command,
    seconds: Math.round((Date.now() - started) / 1000),
    machine: machine(),
    settings: { ...settings, observe: observeSettings },
    cases,
    cold_curve: curveJson(curve),
    observe: observed,
    cost: {
      estimate: true,
      prices: PRICING,
      model: `duration = warm REPORT Duration p50 under the emulator at ${ONE_VCPU_MEMORY_MB} MB x max(1, ${ONE_VCPU_MEMORY_MB} / MB), billed in whole ms (at least 1); INIT billed like duration`,
      init_ms_one_core: r1(initMs),
      rows: rows.map((r) => ({ ...r, durationMs: Math.round(r.durationMs * 1000) / 1000, lambdaPerMillion: Number(r.lambdaPerMillion.toPrecision(4)), logsPerMillion: Number(r.logsPerMillion.toPrecision(4)) })),
    },
    skipped,
    failures,
  };
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

  const machineName = `${results.machine.cpus} x ${results.machine.cpu}`;
  const written = ['bench/results/latest.json'];
  if (rows.length > 0) {
    writeFileSync(path.join(root, 'docs', 'cost-per-million.svg'), await costChart(rows, `us-east-1 prices as of ${PRICING.asOf}; durations from ${results.command} on ${machineName}`));
    writeFileSync(path.join(root, 'docs', 'warm-under-emulator.svg'), await warmChart(bars, `${results.command}, ${results.date.slice(0, 10)}, on ${machineName}`, TARGET_RATIO_RIE));
    written.push('docs/cost-per-million.svg', 'docs/warm-under-emulator.svg');
  }
  writeFileSync(path.join(root, 'docs', 'cold-start-curve.svg'), await coldStartCurveChart(curveChartPoints(curve), `${results.command}, ${results.date.slice(0, 10)}, on ${machineName}`));
  written.push('docs/cold-start-curve.svg');
  const doc = path.join(root, 'docs', 'PERFORMANCE.md');
  const runLine = machineLine(results.machine, results.date, results.seconds);
  const skippedText = skipped.length === 0 ? '' : `\n\nSkipped in this run:\n\n${skipped.map((s) => `- ${s}`).join('\n')}`;
  if (existsSync(doc)) {
    const int8 = cases.some((c) => c.case.startsWith('int8-vs-float/'))
      ? comparisonMarkdown(cases, 'int8-vs-float/', 'float CNN', 'int8 CNN')
      : 'Not measured in the last run: it needs both models/digits-cnn and models/digits-cnn-int8.';
    const updated =
      replaceSection(doc, 'results', `${runLine}\n\n${groupedMarkdown(cases)}${skippedText}`) &&
      replaceSection(doc, 'int8', int8) &&
      (rows.length === 0 || replaceSection(doc, 'cost', costMarkdown(rows, initMs, COST_TABLE_SIZES))) &&
      replaceSection(doc, 'cold-curve', `${runLine}\n\n${curveMarkdown(curve)}`) &&
      replaceSection(doc, 'observe', `${runLine}\n\n${observeMarkdown(observed)}`);
    if (updated) written.push('the tables in docs/PERFORMANCE.md');
    else log('docs/PERFORMANCE.md has no bench markers; its tables were not updated');
  }

  console.log(`\n${runLine}`);
  console.table(consoleRows(cases));
  const missed = cases.filter((c) => c.meets === false).map((c) => `${c.case} (${c.ratio ?? c.value} against ${c.target})`);
  console.log(missed.length === 0 ? 'every target met' : `targets missed: ${missed.join('; ')}`);
  for (const line of skipped) console.log(`SKIPPED ${line}`);
  for (const line of failures) console.log(`FAILED ${line}`);
  console.log(`wrote ${written.join(', ')}`);
  if (failures.length > 0) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
