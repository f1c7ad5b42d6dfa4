/**
 * `npm run bench [-- --quick]`: the figures that matter for serving a model on Lambda, each beside its floor,
 * measured in the same run (docs/PERFORMANCE.md explains the method):
 *
 * - warm/<model>/<single|batch100>: handler time per request against raw `session.run` on the same input,
 *   interleaved in one process (bench/request-path-worker.ts), with a hand-written minimal handler beside them;
 * - emf/iris/*: the after-response work with the EMF line written, against the same with the line dropped;
 * - cold/iris/in-process and cold/iris/rie*: fresh processes, and the Lambda runtime under AWS's emulator, against
 *   a floor that only loads onnxruntime-node, creates the session and runs one row (bench/cold-start.ts);
 * - size/*: the built artifacts against zipping the installed onnxruntime-node as it is;
 * - rss/*: peak resident memory of a process serving the model, against onnxruntime's own share;
 * - synth: seconds for `npm run synth`.
 *
 * Every answer the bench times is checked against golden.json first; a wrong one fails the run. Timings never
 * fail it: targets are reported (met: yes / NO), since this machine's noise is not the code's.
 * Writes bench/results/latest.json, docs/cost-per-million.svg and the tables in docs/PERFORMANCE.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { bundleFunction } from '../build.js';
import { stageArtifacts } from '../scripts/stage-artifacts.js';
import { RIC_ENTRY, RIE_BIN } from '../scripts/testbed.js';
import { artifactSize, buildFor, naivePackageSize } from './artifact-sizes.js';
import { readBundle, type Spelling } from './bench-data.js';
import { coldInProcess, coldUnderEmulator, peakMemory, sampled } from './cold-start.js';
import { costMarkdown, costRows, costSvg, PRICING, type CostInput } from './lambda-cost.js';
import { casesMarkdown, consoleRows, replaceSection, timingCase, valueCase, type BenchCase } from './report.js';
import type { WorkerConfig, WorkerResult } from './request-path-worker.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const settings = quick
  ? { budgetMs: 3500, minRequests: 300, maxRequests: 2000, warmupCalls: 5000, warmupMs: 1500, coldRuns: 21, rieRuns: 9, rieWarm: 5, memoryRuns: 1, memoryRequests: 400, synthRuns: 1 }
  : { budgetMs: 15_000, minRequests: 1000, maxRequests: 10_000, warmupCalls: 20_000, warmupMs: 5000, coldRuns: 21, rieRuns: 11, rieWarm: 20, memoryRuns: 3, memoryRequests: 3000, synthRuns: 3 };

const TARGET_RATIO_WARM = 1.3;
const TARGET_RATIO_COLD = 1.2;
const TARGET_LAYER_ARM64_MIB = 12;
const TARGET_RSS_IRIS_MB = 110;
const MIB = 2 ** 20;

const started = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
const cases: BenchCase[] = [];
const skipped: string[] = [];
const failures: string[] = [];

const models = {
  iris: readBundle(path.join(root, 'models', 'iris')),
  'breast-cancer': readBundle(path.join(root, 'models', 'breast-cancer')),
  'digits-mlp': readBundle(path.join(root, 'bench', 'models', 'digits-mlp')),
};
type ModelName = keyof typeof models;

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

  // --- warm request path --------------------------------------------------------------------------------------
  const warm = (model: ModelName, rows: number, spelling: Spelling, emf: boolean): WorkerResult => {
    const config: WorkerConfig = { functionDir, bundleDir: models[model].dir, rows, spelling, emf, runtimeTurn: true, ...settings };
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'request-path-worker.ts'), JSON.stringify(config)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1024 * 1024 * 1024,
      encoding: 'utf8',
    });
    const last = child.stderr.trim().split('\n').at(-1) ?? '';
    if (child.status !== 0) throw new Error(`request-path worker for ${model} x${rows} failed (exit ${child.status}):\n${child.stderr.slice(-3000)}`);
    return JSON.parse(last) as WorkerResult;
  };
  const warmCases: [ModelName, number, Spelling, string][] = [
    ['iris', 1, 'float32', 'warm/iris/single'],
    ['iris', 100, 'float32', 'warm/iris/batch100'],
    ['breast-cancer', 1, 'float32', 'warm/breast-cancer/single'],
    ['breast-cancer', 100, 'float32', 'warm/breast-cancer/batch100'],
    ['breast-cancer', 100, 'golden', 'warm/breast-cancer/batch100/17-digit'],
    ['iris', 100, 'oip-binary', 'warm/iris/batch100/oip-binary'],
    ['breast-cancer', 100, 'oip-binary', 'warm/breast-cancer/batch100/oip-binary'],
    ['digits-mlp', 1, 'float32', 'warm/digits-mlp/single'],
    ['digits-mlp', 100, 'float32', 'warm/digits-mlp/batch100'],
  ];
  const warmResults = new Map<string, WorkerResult>();
  for (const [model, rows, spelling, name] of warmCases) {
    log(`${name}: handler vs raw session.run, interleaved`);
    const emf = model === 'iris' && spelling === 'float32';
    const result = warm(model, rows, spelling, emf);
    warmResults.set(name, result);
    cases.push(
      timingCase(name, 'us', result.handler, 'raw session.run', result.raw, TARGET_RATIO_WARM, {
        body_bytes: result.bodyBytes,
        spelling,
        ...(result.naive === undefined
          ? {}
          : { naive_p50: Math.round(result.naive.p50 * 10) / 10, naive_ratio: Math.round((result.naive.p50 / result.naiveRaw.p50) * 100) / 100 }),
        native_p50: Math.round(result.native.p50 * 10) / 10,
        native_ratio: Math.round((result.native.p50 / result.naiveRaw.p50) * 100) / 100,
      }),
    );
    if (result.emf !== undefined) {
      cases.push(
        timingCase(`emf/iris/${rows === 1 ? 'single' : 'batch100'}`, 'us', result.emf.written, 'EMF line dropped at stdout', result.emf.dropped, undefined, {
          cost_us: Math.round((result.emf.written.p50 - result.emf.dropped.p50) * 10) / 10,
          line_bytes: result.emf.lineBytes,
        }),
      );
    }
  }

  // --- the built artifacts: sizes --------------------------------------------------------------------------------
  log('size: npm run build for arm64 and x86_64, and the naive package');
  const hostArch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  const built = { arm64: await buildFor('arm64', path.join(work, 'dist-arm64')), x86_64: await buildFor('x86_64', path.join(work, 'dist-x86_64')) };
  const naive = naivePackageSize(path.join(root, 'node_modules'));
  const naiveLabel = 'onnxruntime-node as installed, zipped';
  const naiveExtra = { baseline_unzipped_bytes: naive.unzippedBytes, baseline_cached: naive.cached };
  for (const arch of ['arm64', 'x86_64'] as const) {
    const layer = artifactSize(built[arch], 'runtime-layer');
    const target = arch === 'arm64' ? { text: `<= ${TARGET_LAYER_ARM64_MIB} MiB zipped`, meets: layer.bytes <= TARGET_LAYER_ARM64_MIB * MIB } : undefined;
    cases.push(valueCase(`size/layer-${arch}`, 'bytes', layer.bytes, naiveLabel, naive.bytes, target, { unzipped_bytes: layer.unzippedBytes, ...naiveExtra }));
  }
  const fn = artifactSize(built[hostArch], 'function');
  cases.push(valueCase('size/function', 'bytes', fn.bytes, naiveLabel, naive.bytes, undefined, { unzipped_bytes: fn.unzippedBytes, model: 'iris, in the zip', ...naiveExtra }));

  const staged = await stageArtifacts(built[hostArch].outDir);
  cleanups.push(() => staged.remove());

  // --- cold start ---------------------------------------------------------------------------------------------------
  log('cold/iris/in-process: fresh processes, handler vs floor, alternating');
  const cold = await coldInProcess(staged, models.iris, settings.coldRuns);
  cases.push(
    timingCase('cold/iris/in-process', 'ms', cold.handler, 'ESM entry: require onnxruntime-node, create session, run once', cold.floor, TARGET_RATIO_COLD, {
      from: 'process start',
      module_p50: Math.round(cold.handlerModule.p50 * 10) / 10,
      baseline_module_p50: Math.round(cold.floorModule.p50 * 10) / 10,
    }),
  );

  let rieInitMs: number | undefined;
  let rieWarmMs: number | undefined;
  if (existsSync(RIE_BIN) && existsSync(RIC_ENTRY)) {
    log('cold/iris/rie: the Runtime Interface Emulator, function vs floor function, alternating');
    const rie = await coldUnderEmulator(staged, models.iris, settings.rieRuns, settings.rieWarm);
    rieInitMs = rie.handlerInit.p50;
    rieWarmMs = rie.handlerWarm.p50;
    cases.push(
      timingCase('cold/iris/rie', 'ms', rie.handlerFirst, 'floor function: first response', rie.floorFirst, TARGET_RATIO_COLD, { measures: 'first invocation as the caller sees it' }),
      timingCase('cold/iris/rie/init', 'ms', rie.handlerInit, 'floor function: Init Duration', rie.floorInit, TARGET_RATIO_COLD, { measures: 'INIT REPORT duration (billed init)' }),
      timingCase('warm/iris/rie', 'ms', rie.handlerWarm, 'floor function: REPORT Duration', rie.floorWarm, undefined, { measures: 'REPORT Duration of warm invocations' }),
    );
  } else {
    const reason = `cold/iris/rie skipped: the Runtime Interface Emulator or runtime client is not installed (${RIE_BIN}); run npx tsx scripts/testbed.ts`;
    skipped.push(reason);
    log(reason);
  }

  // --- memory -------------------------------------------------------------------------------------------------------
  for (const model of ['iris', 'digits-mlp'] as const) {
    log(`rss/${model}: peak RSS serving ${settings.memoryRequests} requests, handler vs floor`);
    const memory = await peakMemory(staged, models[model], settings.memoryRequests, settings.memoryRuns);
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

  // --- cost estimate ------------------------------------------------------------------------------------------------
  const emfBytes = warmResults.get('warm/iris/single')?.emf?.lineBytes ?? 0;
  const emfBatchBytes = warmResults.get('warm/iris/batch100')?.emf?.lineBytes ?? emfBytes;
  const ms = (name: string) => (warmResults.get(name)?.handler.p50 ?? Number.NaN) / 1000;
  const costInputs: CostInput[] = [
    { name: 'iris, 1 row', durationMs: ms('warm/iris/single'), predictionsPerRequest: 1, logBytesPerRequest: emfBytes },
    { name: 'digits-mlp, 1 row', durationMs: ms('warm/digits-mlp/single'), predictionsPerRequest: 1, logBytesPerRequest: emfBytes },
    { name: 'breast-cancer, 100 rows', durationMs: ms('warm/breast-cancer/batch100'), predictionsPerRequest: 100, logBytesPerRequest: emfBatchBytes },
    { name: 'digits-mlp, 100 rows', durationMs: ms('warm/digits-mlp/batch100'), predictionsPerRequest: 100, logBytesPerRequest: emfBatchBytes },
  ];
  const rows = costRows(costInputs);
  const initMs = rieInitMs ?? cold.handler.p50;

  // --- write -----------------------------------------------------------------------------------------------------------
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  const results = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    command: quick ? 'npm run bench -- --quick' : 'npm run bench',
    machine: {
      cpus: os.cpus().length,
      cpu: cpuModel,
      arch: process.arch,
      os: `${os.type()} ${os.release()}`,
      memory_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      onnxruntime: ort.env.versions.node,
      load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    settings,
    cases,
    cost: {
      estimate: true,
      prices: PRICING,
      model: 'duration = one-core handler p50 x max(1, 1769 / MB), billed in whole ms (at least 1); INIT billed like duration',
      init_ms_one_core: Math.round(initMs * 10) / 10,
      rie_warm_duration_ms: rieWarmMs === undefined ? null : Math.round(rieWarmMs * 100) / 100,
      rows: rows.map((r) => ({ ...r, durationMs: Math.round(r.durationMs * 1000) / 1000, lambdaPerMillion: Number(r.lambdaPerMillion.toPrecision(4)), logsPerMillion: Number(r.logsPerMillion.toPrecision(4)) })),
    },
    skipped,
    failures,
  };
  mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);

  const caption = `us-east-1 prices as of ${PRICING.asOf}; durations from ${results.command} on ${results.machine.cpus} x ${cpuModel}`;
  writeFileSync(path.join(root, 'docs', 'cost-per-million.svg'), costSvg(rows, caption));
  const doc = path.join(root, 'docs', 'PERFORMANCE.md');
  const machineLine = `\`${results.command}\`, ${results.date.slice(0, 10)}: ${results.machine.cpus} x ${cpuModel} (${results.machine.os}), Node ${process.version}, onnxruntime-node ${results.machine.onnxruntime}, load average at the end ${results.machine.load_average.join(' / ')}.`;
  if (existsSync(doc)) {
    const updated = replaceSection(doc, 'results', `${machineLine}\n\n${casesMarkdown(cases)}`) && replaceSection(doc, 'cost', costMarkdown(rows, initMs));
    if (!updated) log('docs/PERFORMANCE.md has no bench markers; its tables were not updated');
  }

  console.log(`\n${machineLine}`);
  console.table(consoleRows(cases));
  const missed = cases.filter((c) => c.meets === false).map((c) => `${c.case} (${c.ratio ?? c.value} against ${c.target})`);
  console.log(missed.length === 0 ? 'every target met' : `targets missed: ${missed.join('; ')}`);
  for (const line of [...skipped, ...failures]) console.log(line);
  console.log('wrote bench/results/latest.json, docs/cost-per-million.svg and the tables in docs/PERFORMANCE.md');
  if (failures.length > 0) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
