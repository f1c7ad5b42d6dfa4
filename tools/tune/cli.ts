/**
 * `npm run tune -- [options]`: memory power tuning. The local mode runs the built function under AWS's Runtime
 * Interface Emulator inside a control group per memory size with Lambda's CPU share and memory limit, sends each
 * size a cold and then warm invocations, and prints the table; it writes the JSON report and the chart, and
 * recommends the cheapest, fastest and balanced sizes. `--floor` finds the smallest size that answers the largest
 * allowed request instead. `--aws --environment <env> [--model <name>]`, or `--function` and `--region`, choose the AWS
 * mode (commands/tune/aws.ts). With --environment, the model's configured memory size is said beside the
 * recommendations. docs/TUNING.md describes the method and the flags.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_RECORD_FILE, MEMORY_FLOOR_FILE, type BuildRecord } from '../../functions/contract/build-record.js';
import { DEFAULT_RESULTS_DIR, parseTuneArgs, STDOUT, USAGE, type TuneOptions } from '../../commands/tune/args.js';
import { runAwsTune } from '../../commands/tune/aws.js';
import { tuneChart } from '../../commands/tune/chart.js';
import { localCpuShare } from '../../commands/tune/cpu-share.js';
import { TuneError } from '../../commands/tune/errors.js';
import { findFloor, floorCandidates } from '../../commands/tune/floor.js';
import type { RawSizeMeasurement, Throttling } from '../../commands/tune/measurement.js';
import { eventFilePayload, goldenPayload, type Payload } from '../../commands/tune/payload.js';
import { buildDocument, figuresNote, tableText, type TuneDocument } from '../../commands/tune/report.js';
import { hostArch } from '../emulator.js';
import { stageArtifacts, type StagedArtifacts } from '../stage-artifacts.js';
import { ensureBuildPackages, ensureRic, ensureRie } from '../testbed/install.js';
import { openControlGroups } from './control-group.js';
import { ensureLocalBuild, LocalBuildError } from '../local-build.js';
import { LocalMeasurer } from './local-measurer.js';
import { progressSink, RunClock } from './progress.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Warm invocations per probe of the floor search: enough to see a request complete again after the cold one. */
const FLOOR_WARM_INVOCATIONS = 2;
/** Set by Ctrl-C: what fails after it (an invocation of the emulator being stopped) is the interruption, not an error. */
const interruption = { signalled: false };

function fail(message: string): never {
  process.stderr.write(`tune: ${message}\n`);
  process.exit(1);
}

function log(line: string): void {
  process.stderr.write(`tune: ${line}\n`);
}

function machine(): string {
  const list = cpus();
  return `${list.length} x ${list[0]?.model.trim() ?? 'unknown CPU'} (Linux ${release()})`;
}

/** The bundle measured: --model, or the default model; undefined when --build names a build instead. */
function bundleDir(options: TuneOptions): string | undefined {
  return options.build === undefined ? path.resolve(options.model ?? path.join(root, 'models', 'iris')) : undefined;
}

/** The build to measure: --build as given (for this machine's architecture), or --model built into dist/local-<arch>/. */
function buildDir(options: TuneOptions): string {
  const arch = hostArch();
  const modelDir = bundleDir(options);
  if (modelDir !== undefined) {
    if (statSync(modelDir, { throwIfNoEntry: false })?.isDirectory() !== true) {
      if (options.deployment !== undefined) fail(`the bundle of ${options.deployment.label}, ${path.relative(root, modelDir)} (infra/config.ts), is not a folder; fix the model's bundle setting, or give --build <dir>`);
      fail(`--model ${options.model} is not a bundle folder; give a folder such as models/iris, or with --environment <env> the name of one of its models`);
    }
    try {
      return ensureLocalBuild(root, modelDir, arch, log);
    } catch (error) {
      if (error instanceof LocalBuildError) fail(`${error.message}; fix the bundle, or measure an existing build with --build <dir>`);
      throw error;
    }
  }
  const dir = path.resolve(options.build ?? '');
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(path.join(dir, BUILD_RECORD_FILE), 'utf8')) as BuildRecord;
  } catch (error) {
    fail(`--build ${options.build} holds no readable ${BUILD_RECORD_FILE} (${error instanceof Error ? error.message : String(error)}); give a folder npm run build wrote`);
  }
  if (record.arch !== arch) fail(`--build ${options.build} is built for ${record.arch}; this machine runs only ${arch} builds (npm run build -- --arch ${arch} --out <dir>), or leave --build out to build one`);
  return dir;
}

function modelLabel(payload: Payload, staged: StagedArtifacts): string {
  return payload.model ?? `${staged.build.model.name}@${staged.build.model.version}`;
}

function writeOut(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Prints the table and writes the JSON and the chart, where the flags say. */
async function writeReport(document: TuneDocument, options: TuneOptions, fileBase: string): Promise<void> {
  const table = `${tableText(document)}\n`;
  const jsonFile = options.json ?? `${fileBase}.json`;
  if (jsonFile === STDOUT) {
    process.stderr.write(table);
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    process.stdout.write(table);
    writeOut(path.resolve(jsonFile), `${JSON.stringify(document, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), path.resolve(jsonFile))}`);
  }
  const svgFile = path.resolve(options.svg ?? `${fileBase}.svg`);
  writeOut(svgFile, await tuneChart(document));
  log(`wrote ${path.relative(process.cwd(), svgFile)}`);
}

/** With --environment: the model's configured memory size beside what the run recommends. */
function configuredNote(options: TuneOptions, document: TuneDocument): void {
  if (options.deployment === undefined) return;
  const { label, memorySizeMb } = options.deployment;
  const measured = document.sizes.find((s) => s.memoryMb === memorySizeMb);
  const r = document.recommendations;
  const size = (memory: number | null) => (memory === null ? 'none' : `${memory} MB`);
  log(
    `${label} is configured with ${memorySizeMb} MB (infra/config.ts${measured === undefined ? ', a size this run did not measure' : ''}); ` +
      `recommended: cheapest ${size(r.cheapest)}, fastest ${size(r.fastest)}, balanced ${size(r.balanced)}`,
  );
}

/** The AWS mode: commands/tune/aws.ts measures, this prints; Ctrl-C puts the function back before it exits. */
async function tuneOnAws(options: TuneOptions, aws: NonNullable<TuneOptions['aws']>, payload: Payload): Promise<void> {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) fail(`${signal} again: stopped without putting ${aws.functionName} back; check its memory size and delete the versions described "npm run tune: <size> MB"`);
      interruption.signalled = true;
      process.stderr.write(`\ntune: ${signal}: putting ${aws.functionName}'s memory back and deleting the versions this run published (${signal} again to stop at once)\n`);
      controller.abort();
    });
  }
  const sink = progressSink(process.stderr, options.progressS);
  let result;
  try {
    result = await runAwsTune({
      functionName: aws.functionName,
      region: aws.region,
      memorySizes: options.memorySizes,
      invocations: options.invocations,
      payload,
      keepVersions: aws.keepVersions,
      maxLatencyMs: options.maxLatencyMs,
      log,
      progress: (p) => sink.update({ ...p, endsAt: undefined }),
      signal: controller.signal,
    });
  } catch (error) {
    sink.done();
    if (controller.signal.aborted) {
      process.stderr.write(`tune: interrupted; ${aws.functionName} is as it was\n`);
      process.exit(130);
    }
    throw error;
  }
  sink.done();
  const { document, cost } = result;
  await writeReport(document, options, path.join(root, DEFAULT_RESULTS_DIR, `${aws.functionName}-aws`.replace(/[^A-Za-z0-9._-]+/g, '-')));
  configuredNote(options, document);
  log(`the run made ${cost.invocations} invocations, ${cost.gbSeconds.toFixed(3)} GB-s: about $${cost.usd.toFixed(6)} at ${document.arch} prices as of ${document.prices.asOf}`);
}

async function main(): Promise<void> {
  let options: TuneOptions;
  try {
    options = parseTuneArgs(process.argv.slice(2));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // Read the event before anything slow, so a bad file fails at once.
  const eventPayload = options.event === undefined ? undefined : eventFilePayload(options.event);
  if (options.aws !== undefined) {
    await tuneOnAws(options, options.aws, eventPayload ?? goldenPayload(path.resolve(options.build ?? path.join(root, 'dist')), options.rows));
    return;
  }

  const dir = buildDir(options);
  ensureBuildPackages();
  ensureRie();
  ensureRic();
  const payload = eventPayload ?? goldenPayload(dir, options.rows ?? (options.floor ? 'max' : undefined));
  const staged = await stageArtifacts(dir);
  const groups = openControlGroups();
  const cores = availableParallelism();
  if (groups.mode === 'none') log(`running UNTHROTTLED, every figure at this machine's full speed: ${groups.reason}`);
  const measurer = new LocalMeasurer({
    staged: { taskRoot: staged.taskRoot, optDir: staged.optDir, handler: staged.build.handler, runtime: staged.build.runtime },
    event: () => payload.event(),
    invocations: options.floor ? FLOOR_WARM_INVOCATIONS : options.invocations,
    timeoutSeconds: options.timeoutSeconds,
    groups,
    cores,
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interruption.signalled = true;
      process.stderr.write(`\ntune: ${signal}: ending the emulator and removing the control groups\n`);
      void (async () => {
        await measurer.stop().catch(() => undefined);
        await staged.remove().catch(() => undefined);
        process.exit(130);
      })();
    });
  }

  const model = modelLabel(payload, staged);
  const fileBase = path.join(root, DEFAULT_RESULTS_DIR, model.replace(/[^A-Za-z0-9._-]+/g, '-'));
  const sink = progressSink(process.stderr, options.progressS);
  const clock = new RunClock();
  const sizes = options.floor && !options.memoryGiven ? floorCandidates() : [...options.memorySizes];
  const throttling: Throttling = {
    mode: groups.mode,
    ...(groups.reason === undefined ? {} : { reason: groups.reason }),
    ...(groups.mode === 'none' ? {} : { periodUs: Math.max(...sizes.map((mb) => measurer.periodUs(mb) ?? 0)) }),
  };
  log(`measuring ${model}: ${payload.description}; ${groups.mode === 'none' ? 'no control group' : `${groups.mode}, CPU quota per period of at most ${(throttling.periodUs ?? 0) / 1000} ms`}`);

  const measureSize = async (memoryMb: number, index: number, remaining: readonly number[]): Promise<RawSizeMeasurement> => {
    const started = Date.now();
    const share = localCpuShare(memoryMb, cores).share;
    const raw = await measurer.measure(memoryMb, (p) => {
      const seconds = clock.estimate([{ invocations: p.total - p.done, share }, ...remaining.map((mb) => ({ invocations: p.total, share: localCpuShare(mb, cores).share }))]);
      sink.update({ ...p, index, sizes: index + remaining.length, endsAt: seconds === undefined ? undefined : Date.now() + seconds * 1000 });
    });
    clock.record(raw.invocations, share, (Date.now() - started) / 1000);
    return raw;
  };

  try {
    if (options.floor) {
      if (groups.mode === 'none') fail(`--floor needs a memory limit, and there is no control group: ${groups.reason}`);
      let probes = 0;
      const result = await findFloor(sizes, async (memoryMb) => {
        probes++;
        const raw = await measureSize(memoryMb, probes, []);
        const reason = raw.failures.map((f) => `${f.count} x ${f.kind}: ${f.message}`).join('; ');
        return { memoryMb, completes: raw.failures.length === 0 && raw.invocations > 0, ...(reason === '' ? {} : { reason }) };
      });
      sink.done();
      if (interruption.signalled) return;
      const record = {
        model,
        arch: staged.build.arch,
        modelSha256: staged.build.model.sha256,
        memoryFloorMb: result.floorMb,
        request: payload.description,
        throttling,
        probes: result.probes,
        measuredAt: new Date().toISOString(),
      };
      for (const probe of result.probes) process.stdout.write(`${probe.memoryMb} MB: ${probe.completes ? 'completes' : `fails (${probe.reason ?? 'no answer'})`}\n`);
      process.stdout.write(
        result.floorMb === null
          ? `no size up to ${sizes.at(-1)} MB answers ${payload.description}\n`
          : `memory floor of ${model}: ${result.floorMb} MB (the smallest size tried that answers ${payload.description})\n`,
      );
      // Measured from a bundle: recorded in it, where npm run build reads it (commands/build/memory-floor.ts).
      const bundle = bundleDir(options);
      const file = options.json ?? (bundle === undefined ? `${fileBase}.floor.json` : path.join(bundle, MEMORY_FLOOR_FILE));
      if (file === STDOUT) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
      else {
        writeOut(path.resolve(file), `${JSON.stringify(record, null, 2)}\n`);
        log(`wrote ${path.relative(process.cwd(), path.resolve(file))}`);
      }
      return;
    }

    const raws: RawSizeMeasurement[] = [];
    for (const [index, memoryMb] of sizes.entries()) {
      raws.push(await measureSize(memoryMb, index + 1, sizes.slice(index + 1)));
      if (interruption.signalled) return;
    }
    sink.done();
    const document = buildDocument({ model, arch: staged.build.arch, machine: machine(), throttling, payload: payload.description, sizes: raws, maxLatencyMs: options.maxLatencyMs, measuredAt: new Date() });
    await writeReport(document, options, fileBase);
    configuredNote(options, document);
    if (document.sizes.every((s) => s.durationMs === null)) {
      fail(`no size answered a warm invocation (${figuresNote(document)}); see the failures above`);
    }
  } finally {
    if (!interruption.signalled) await staged.remove();
  }
}

main().catch((error: unknown) => {
  // The signal handler ends the run with 130 once the emulator and the groups are gone.
  if (interruption.signalled) return;
  if (error instanceof TuneError) fail(error.message);
  process.stderr.write(`tune: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
