/**
 * The tracing packages, measured against each other (issue 17: "choose the packages by their measured cold-start and
 * per-request cost"). Run by hand; it needs the npm registry, which `npm run bench` never does:
 *
 *   npx tsx bench/tracing-candidates.ts [--runs 21] [--warm-calls 2000] [--json <file>]
 *
 * Candidates, each bundled as build.ts bundles the function (esbuild, minified, ES module, node):
 * - A: AWS's OpenTelemetry distribution's X-Ray UDP exporter (`@aws/aws-distro-opentelemetry-exporter-xray-udp`,
 *   OTLP protobuf over UDP) with the OpenTelemetry 1.x SDK it requires, installed by npm into a temporary folder,
 *   driving the same stages (bench/entries/tracing-candidate-adot.mjs);
 * - B: what ships, functions/predict/xray-tracer.ts as build.ts bundles it (`xray-tracer.mjs`): the OpenTelemetry
 *   2.x SDK and AWS's X-Ray propagator with the project's own exporter of X-Ray subsegment documents;
 * - none: a module of the same shape with nothing behind it (bench/entries/tracing-candidate-none.mjs).
 * For each: the bundle's bytes (and zipped, and the packages behind them), and in fresh processes, alternating
 * (bench/entries/tracing-candidate-entry.mjs): the import, the first traced invocation (import, tracer, three
 * stages), and the warm cost of one traced invocation's three stages. A UDP listener stands where the daemon would
 * and checks that A and B sent what they should. Prints a table and the JSON.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundleFunction } from '../build.js';
import { usageMessage } from '../commands/cli/usage.js';
import { lambdaRuntime } from '../tools/emulator.js';
import { newTraceHeader } from '../tools/trace-header.js';
import { percentile } from './bench-data.js';
import { ENTRIES } from './baselines.js';
import { bytesByPackage, type BundleMetafile, type PackageBytes } from './bundle-packages.js';
import { daemonPayload, startDaemonListener } from './daemon-listener.js';

const USAGE = `usage: npx tsx bench/tracing-candidates.ts [--runs 21] [--warm-calls 2000] [--json <file>]
  --runs <n>         fresh processes per candidate, alternating (default 21)
  --warm-calls <n>   traced invocations timed in each process after the first (default 2000)
  --json <file>      also write the JSON there`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function refuse(message: string): never {
  process.stderr.write(`tracing-candidates: ${message}\n${USAGE}\n`);
  process.exit(1);
}

let values;
try {
  values = parseArgs({ options: { runs: { type: 'string', default: '21' }, 'warm-calls': { type: 'string', default: '2000' }, json: { type: 'string' }, help: { type: 'boolean', default: false } } }).values;
} catch (error) {
  refuse(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > 500) refuse(usageMessage('runs', values.runs, 'a whole number from 1 to 500'));
const warmCalls = Number(values['warm-calls']);
if (!Number.isInteger(warmCalls) || warmCalls < 0 || warmCalls > 100_000) refuse(usageMessage('warm-calls', values['warm-calls'], 'a whole number from 0 to 100000'));
if (values.json !== undefined && !values.json.endsWith('.json')) refuse(usageMessage('json', values.json, 'a file name ending in .json'));

const started = Date.now();
const log = (line: string) => process.stderr.write(`[candidates ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

/** The installed version of one of the project's dependencies. */
function projectVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Candidate A's packages: the exporter's one release, the 1.x SDK it requires, and the API and propagator at the
 * versions the function ships, so that the exporter and the SDK's major are what differ.
 */
const ADOT_PACKAGES = [
  '@aws/aws-distro-opentelemetry-exporter-xray-udp@0.0.2',
  '@opentelemetry/sdk-trace-base@^1.30.1',
  `@opentelemetry/api@${projectVersion('@opentelemetry/api')}`,
  `@opentelemetry/propagator-aws-xray@${projectVersion('@opentelemetry/propagator-aws-xray')}`,
];

/** The oldest Node the project runs on, as build.ts targets it (package.json's engines, ">=20.19" gives node20.19). */
function esbuildTarget(): string {
  const engines = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node ?? '';
  const match = /(\d+)(?:\.(\d+))?/.exec(engines);
  if (match === null) throw new Error('package.json has no engines.node');
  return `node${match[1]}${match[2] === undefined ? '' : `.${match[2]}`}`;
}

interface Bundle {
  readonly file: string;
  readonly bytes: number;
  readonly zippedBytes: number;
  readonly packages: readonly PackageBytes[];
}

/** Bundles `entry` with build.ts's options for the function's chunks, into `outFile`, with the packages behind it. */
async function bundle(entry: string, outFile: string, workingDir: string): Promise<Bundle> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: workingDir,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __lambdaRequire } from 'node:module'; const require = __lambdaRequire(import.meta.url);" },
    target: esbuildTarget(),
    legalComments: 'none',
    logLevel: 'silent',
    metafile: true,
    outfile: outFile,
  });
  const data = readFileSync(outFile);
  return { file: outFile, bytes: data.length, zippedBytes: deflateRawSync(data, { level: 9 }).length, packages: bytesByPackage(result.metafile as BundleMetafile) };
}

type Name = 'none' | 'A' | 'B';
const LABEL: Record<Name, string> = {
  none: 'none: a module of the same shape, empty',
  A: "A: ADOT's X-Ray UDP exporter (OTLP protobuf) + OpenTelemetry 1.x SDK",
  B: 'B: OpenTelemetry 2.x SDK + our X-Ray JSON exporter (xray-tracer.mjs, as shipped)',
};

interface Run {
  readonly processMs: number;
  readonly importMs: number;
  readonly firstMs: number;
  readonly warmUs: readonly number[];
}

/**
 * Throws unless what candidate `name` sent is right: nothing (none); OTLP protobuf after the daemon's header (A);
 * X-Ray subsegment documents, the first the parse stage (B). How many arrive is reported, not judged: UDP drops what
 * a busy listener cannot take, and the sender's cost is the same either way.
 */
function checkDatagrams(name: Name, sent: { readonly count: number; readonly first: readonly string[] }): void {
  if (name === 'none') {
    if (sent.count !== 0) throw new Error(`the empty candidate sent ${sent.count} datagrams`);
    return;
  }
  const first = sent.first[0];
  if (first === undefined) throw new Error(`candidate ${name} sent nothing to the daemon address`);
  const body = daemonPayload(first);
  if (name === 'A' && !body.startsWith('T1S')) throw new Error(`candidate A sent no OTLP datagram (T1S): ${body.slice(0, 80)}`);
  if (name === 'B' && (JSON.parse(body) as { name?: string }).name !== 'parse') throw new Error(`candidate B's first document is not the parse stage: ${body.slice(0, 200)}`);
}

function runOnce(node: string, file: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [path.join(ENTRIES, 'tracing-candidate-entry.mjs'), file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(stderr.trim().split('\n').at(-1) ?? '') as Run);
      } catch (error) {
        reject(new Error(`the candidate process for ${file} failed (${error instanceof Error ? error.message : String(error)}): ${stderr.slice(-2000)}`));
      }
    });
  });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'tracing-candidates-'));
const daemon = await startDaemonListener();
try {
  log(`npm install into ${work}: ${ADOT_PACKAGES.join(' ')}`);
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'tracing-candidates', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', ...ADOT_PACKAGES], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (install.status !== 0) throw new Error(`npm install failed (exit ${install.status}); this script needs the npm registry:\n${install.stderr.slice(-2000)}`);
  const installed = (name: string) => (JSON.parse(readFileSync(path.join(work, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

  log('bundle: each candidate as build.ts bundles the function');
  copyFileSync(path.join(ENTRIES, 'tracing-candidate-adot.mjs'), path.join(work, 'adot.mjs'));
  const bundles: Record<Name, Bundle> = {
    none: await bundle(path.join(ENTRIES, 'tracing-candidate-none.mjs'), path.join(work, 'none.mjs'), root),
    A: await bundle(path.join(work, 'adot.mjs'), path.join(work, 'a.mjs'), work),
    B: await bundle(path.join(root, 'functions', 'predict', 'xray-tracer.ts'), path.join(work, 'b.mjs'), root),
  };
  // B must be the chunk the function ships: the run times build.ts's own output, the metafile only names its parts.
  const shipped = (await bundleFunction()).find((entry) => entry.path === 'xray-tracer.mjs');
  if (shipped === undefined) throw new Error('build.ts bundled no xray-tracer.mjs');
  writeFileSync(bundles.B.file, shipped.data);
  const metafileBytes = bundles.B.bytes;
  bundles.B = { ...bundles.B, bytes: shipped.data.length, zippedBytes: deflateRawSync(shipped.data, { level: 9 }).length };

  const runtime = lambdaRuntime();
  const node = existsSync(runtime.node) ? runtime.node : process.execPath;
  const nodeVersion = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const env = (warm: number): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', BENCH_DAEMON: daemon.address, BENCH_TRACE_HEADER: newTraceHeader(), BENCH_WARM_CALLS: String(warm) });
  const names: Name[] = ['none', 'A', 'B'];
  const measured: Record<Name, Run[]> = { none: [], A: [], B: [] };
  const datagrams: Record<Name, { received: number; sent: number }> = { none: { received: 0, sent: 0 }, A: { received: 0, sent: 0 }, B: { received: 0, sent: 0 } };
  const measure = async (name: Name, warm: number) => {
    daemon.take();
    const run = await runOnce(node, bundles[name].file, env(warm));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = daemon.take();
    checkDatagrams(name, sent);
    if (name !== 'none') {
      datagrams[name].received += sent.count;
      datagrams[name].sent += 3 * (1 + warm);
    }
    return run;
  };
  log(`one unmeasured process each (the file cache), then ${runs} rounds of ${names.length} fresh processes on Node ${nodeVersion}, ${warmCalls} warm invocations each`);
  for (const name of names) await measure(name, 0);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length]!;
      measured[name].push(await measure(name, warmCalls));
    }
  }

  const p50 = (list: readonly number[]) => percentile(list, 50);
  const summary = names.map((name) => {
    const list = measured[name];
    const warm = list.flatMap((r) => r.warmUs);
    return {
      candidate: name,
      label: LABEL[name],
      bundle_bytes: bundles[name].bytes,
      bundle_zipped_bytes: bundles[name].zippedBytes,
      packages: bundles[name].packages.map((p) => ({ name: p.name, bytes: p.bytes })),
      import_ms_p50: round2(p50(list.map((r) => r.importMs))),
      first_traced_invocation_ms_p50: round2(p50(list.map((r) => r.firstMs))),
      process_to_first_traced_invocation_ms_p50: round2(p50(list.map((r) => r.processMs))),
      warm_invocation_us_p50: round2(p50(warm)),
      warm_invocation_us_p90: round2(percentile(warm, 90)),
      runs: list.length,
      warm_samples: warm.length,
      datagrams_received: datagrams[name].received,
      datagrams_sent: datagrams[name].sent,
    };
  });
  const none = summary.find((s) => s.candidate === 'none')!;
  const json = {
    date: new Date().toISOString(),
    command: `npx tsx bench/tracing-candidates.ts${process.argv.slice(2).length === 0 ? '' : ` ${process.argv.slice(2).join(' ')}`}`,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: nodeVersion, load_average: os.loadavg().map(round2) },
    versions: Object.fromEntries(['@aws/aws-distro-opentelemetry-exporter-xray-udp', '@opentelemetry/sdk-trace-base', '@opentelemetry/core', '@opentelemetry/otlp-transformer', '@opentelemetry/api', '@opentelemetry/propagator-aws-xray'].map((name) => [`A ${name}`, installed(name)])),
    shipped_versions: Object.fromEntries(['@opentelemetry/sdk-trace-base', '@opentelemetry/core', '@opentelemetry/api', '@opentelemetry/propagator-aws-xray'].map((name) => [`B ${name}`, projectVersion(name)])),
    candidates: summary.map((s) => ({ ...s, first_traced_invocation_over_none_ms: round2(s.first_traced_invocation_ms_p50 - none.first_traced_invocation_ms_p50) })),
  };

  const kb = (bytes: number) => (bytes < 1000 ? `${bytes} B` : `${Math.round(bytes / 1000)} KB`);
  const lines = [
    '| candidate | bundle (zipped) | largest parts | import p50 | first traced invocation p50 (over none) | warm traced invocation p50 / p90 |',
    '|---|---|---|---|---|---|',
    ...json.candidates.map(
      (c) =>
        `| ${c.label} | ${kb(c.bundle_bytes)} (${kb(c.bundle_zipped_bytes)}) | ${c.packages
          .slice(0, 4)
          .map((p) => `${p.name} ${kb(p.bytes)}`)
          .join(', ')} | ${c.import_ms_p50} ms | ${c.first_traced_invocation_ms_p50} ms (+${c.first_traced_invocation_over_none_ms.toFixed(2)}) | ${c.warm_invocation_us_p50} / ${c.warm_invocation_us_p90} µs |`,
    ),
  ];
  const caption = `\`${json.command}\`, ${json.date.slice(0, 10)}: ${json.machine.cpus} x ${json.machine.cpu}, Node ${nodeVersion}, ${runs} fresh processes per candidate, ${warmCalls} warm invocations (three stages each) per process; load average at the end ${json.machine.load_average.join(' / ')}.`;
  console.log(`\n${caption}\n\n${lines.join('\n')}\n`);
  if (metafileBytes !== bundles.B.bytes) log(`note: B's parts come from a build of ${metafileBytes} bytes; the shipped chunk, timed here, has ${bundles.B.bytes}`);
  console.log(JSON.stringify(json, null, 2));
  if (values.json !== undefined) writeFileSync(path.resolve(values.json), `${JSON.stringify(json, null, 2)}\n`);
} finally {
  daemon.close();
  rmSync(work, { recursive: true, force: true });
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
