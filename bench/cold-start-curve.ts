/**
 * The cold start against the model's size (issue 16): for models of 1 to 500 MB made on the fly
 * (cold-start-curve-model.ts), fresh processes to the first checked answer of
 *
 * - zip: the built function with the model packaged beside it (only where function, layer and model unzip to
 *   Lambda's 250 MB), and s3: the same function downloading the model to /tmp from a file-backed stand-in for S3 on
 *   loopback (cold-start-curve-s3-stub.ts says why not moto, which the tests use); each with the model.ort the build
 *   ships (made and checked by the build's own optimizeModel) and, beside it, with model.onnx (`--optimize none`);
 * - floor: onnxruntime alone reading the file and creating the session (bench/entries/cold-start-curve-floor.mjs);
 * - the ways under the floor, each beside it: the model saved after onnxruntime's graph optimisations (optimized ONNX;
 *   ORT format, whose bytes the session uses in place), and reading or downloading the model while onnxruntime loads;
 * - download: the S3 download alone (one GET against ranged parallel GETs) with its peak RSS, in a fresh process
 *   (cold-start-curve-download.ts).
 *
 * Every answer is checked against the model's golden.json. Run from `npm run bench` (its "cold-curve" section), or
 * alone: `npx tsx bench/cold-start-curve-cli.ts [--quick] [--sizes 1,10]`.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { optimizeModel } from '../commands/build/optimize-model.js';
import { DEFAULT_INTRA_OP_THREADS, ENV, LAMBDA_ENV, ORT_MODEL_FILE } from '../functions/contract/env.js';
import { LAMBDA_LIMITS } from '../functions/contract/lambda-limits.js';
import { ORT_IN_PLACE_SESSION_ENTRIES } from '../functions/contract/model-format.js';
import { sessionOptions } from '../functions/predict/model-session.js';
import type { StagedArtifacts } from '../tools/stage-artifacts.js';
import { ENTRIES, scratch } from './baselines.js';
import { checkPrediction, predictEvent, readBundle, sampled, type BenchBundle, type Sampled } from './bench-data.js';
import type { CurveChartPoint } from './charts.js';
import { writeCurveModel, type CurveModel } from './cold-start-curve-model.js';
import { startS3Stub } from './cold-start-curve-s3-stub.js';
import type { DownloadResult } from './cold-start-curve-download.js';
import { round, timingCase, type BenchCase } from './report.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const BUCKET = 'curve';

/** The sizes of the curve, MB. */
export const CURVE_SIZES = [1, 10, 50, 100, 250, 500] as const;

/** The floor entry's ways to get the model (see bench/entries/cold-start-curve-floor.mjs). */
type Load = 'path' | 'bytes' | 'bytes-overlap' | 'url' | 'url-overlap';

/** The function's session options, as JSON for the floor entry, with `extra` session entries merged in. */
function optionsJson(level: 'all' | 'disabled', extra: Record<string, string> = {}): string {
  const base = sessionOptions(DEFAULT_INTRA_OP_THREADS);
  return JSON.stringify({ ...base, graphOptimizationLevel: level, extra: { session: { ...(base.extra as { session: Record<string, unknown> }).session, ...extra } } });
}

export interface CurvePoint {
  readonly megabytes: number;
  /** model.onnx's bytes. */
  readonly modelBytes: number;
  /** The bytes of the model.ort the build ships. */
  readonly ortBytes: number;
  /** Function, layer and model.ort unzip within Lambda's 250 MB: the zip is an option. */
  readonly fitsZip: boolean;
  /** ms from process start to the first answer: the function with the model.ort the build ships. */
  readonly zip: Sampled | undefined;
  readonly s3: Sampled;
  /** The same with model.onnx (`--optimize none`), where it fits the zip. */
  readonly zipOnnx: Sampled | undefined;
  readonly s3Onnx: Sampled;
  readonly floor: Sampled;
  /** The floor's session creation alone. */
  readonly floorSession: Sampled;
  readonly optimizedOnnx: Sampled;
  readonly ortFormat: Sampled;
  readonly ortFormatSession: Sampled;
  readonly bytes: Sampled;
  readonly bytesOverlap: Sampled;
  readonly url: Sampled;
  readonly urlOverlap: Sampled;
  readonly floorRssMb: number;
  readonly ortFormatRssMb: number;
  readonly download: { readonly single: DownloadResult; readonly ranged: DownloadResult };
}

export interface CurveSettings {
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly log: (line: string) => void;
}

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

/** An environment like Lambda's: nothing of the bench's own, the staged layer on NODE_PATH. */
function lambdaEnv(staged: StagedArtifacts, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC', NODE_PATH: path.join(staged.optDir, 'nodejs', 'node_modules'), ...extra };
}

/**
 * Runs node with `args` and parses its last stderr line. Asynchronous: the S3 stand-in answers from this process's
 * event loop while the child downloads.
 */
async function run(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-64 * 1024)));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const last = stderr.trim().split('\n').at(-1) ?? '';
  try {
    if (status !== 0) throw new Error(`exit ${status}`);
    return JSON.parse(last) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${what} failed (${error instanceof Error ? error.message : String(error)}): ${stderr.slice(-2000)}`, { cause: error });
  }
}

/**
 * The model's two optimized forms: the optimized ONNX copy (onnxruntime's "extended" level, portable: "all" adds
 * layout changes for this machine's CPU), and the model.ort the build ships, made by the build's own optimizeModel
 * (canonical, checked against golden.json) in a folder laid out as the function's model folder.
 */
async function optimizedCopies(model: CurveModel, work: string): Promise<{ onnx: string; ortDir: string; ort: string }> {
  const onnx = path.join(model.dir, 'model.optimized.onnx');
  await ort.InferenceSession.create(model.file, { graphOptimizationLevel: 'extended', optimizedModelFilePath: onnx });
  const ortDir = mkdtempSync(path.join(work, `${model.megabytes}mb-ort-`));
  const read = (name: string) => readFileSync(path.join(model.dir, name));
  const shipped = await optimizeModel({ onnxFile: model.file, manifestJson: read('model.json'), goldenJson: read('golden.json'), workDir: ortDir });
  return { onnx, ortDir, ort: shipped.file };
}

/**
 * Measures the curve. `staged` is the built function (any model: each run points MODEL_DIR at the curve model), on
 * this machine's architecture.
 */
export async function coldStartCurve(staged: StagedArtifacts, settings: CurveSettings): Promise<CurvePoint[]> {
  const work = await scratch('bench-curve-');
  const stub = await startS3Stub();
  const points: CurvePoint[] = [];
  try {
    copyFileSync(path.join(ENTRIES, 'handler-entry.mjs'), path.join(work, 'handler-entry.mjs'));
    copyFileSync(path.join(ENTRIES, 'cold-start-curve-floor.mjs'), path.join(work, 'floor.mjs'));
    const codeUnzipped = staged.build.artifacts.filter((a) => a.name !== 'model').reduce((sum, a) => sum + a.unzippedBytes, 0);
    for (const megabytes of settings.sizes) {
      settings.log(`cold-curve/${megabytes}mb: making the model, its optimized copies, and its S3 object`);
      const model = writeCurveModel(path.join(work, `${megabytes}mb`), megabytes);
      const bundle = readBundle(model.dir);
      const copies = await optimizedCopies(model, work);
      // The keys the model store gives each file: models/<name>/<version>/<shipped file>.
      const keys = { onnx: `curve/${megabytes}mb/model.onnx`, ort: `curve/${megabytes}mb/${ORT_MODEL_FILE}` };
      stub.put(BUCKET, keys.onnx, model.file);
      stub.put(BUCKET, keys.ort, copies.ort);
      const ortBytes = readFileSync(copies.ort).length;
      const fits = { ort: codeUnzipped + ortBytes <= LAMBDA_LIMITS.unzippedBytes, onnx: codeUnzipped + model.modelBytes <= LAMBDA_LIMITS.unzippedBytes };
      points.push(await measureSize(staged, work, stub.endpoint, keys, bundle, { onnx: model.modelBytes, ort: ortBytes }, megabytes, fits, copies, settings));
      rmSync(model.dir, { recursive: true, force: true });
      rmSync(copies.ortDir, { recursive: true, force: true });
    }
  } finally {
    await stub.close();
    rmSync(work, { recursive: true, force: true });
  }
  return points;
}

type Shipped = 'ort' | 'onnx';

async function measureSize(
  staged: StagedArtifacts,
  work: string,
  endpoint: string,
  keys: Readonly<Record<Shipped, string>>,
  bundle: BenchBundle,
  bytes: Readonly<Record<Shipped, number>>,
  megabytes: number,
  fits: Readonly<Record<Shipped, boolean>>,
  copies: { onnx: string; ortDir: string; ort: string },
  settings: CurveSettings,
): Promise<CurvePoint> {
  const event = JSON.stringify(predictEvent(bundle, 1));
  const instances = JSON.stringify(bundle.rows(1));
  // The function as deployed: a packaged model.ort named by MODEL_FILE (as infra sets it), from the folder the build
  // would ship (model.ort and model.json); a packaged model.onnx from the bundle; an S3 model by its key.
  const handler = (s3: boolean, shipped: Shipped) => async () => {
    const downloadDir = mkdtempSync(path.join(work, 'tmp-'));
    const what = `${s3 ? 's3' : 'zip'}, ${shipped === 'ort' ? ORT_MODEL_FILE : 'model.onnx'}`;
    try {
      const packaged = shipped === 'ort' ? { [ENV.MODEL_DIR]: copies.ortDir, [ENV.MODEL_FILE]: ORT_MODEL_FILE } : { [ENV.MODEL_DIR]: bundle.dir };
      const env = lambdaEnv(staged, {
        BENCH_EVENT: event,
        [LAMBDA_ENV.TASK_ROOT]: staged.taskRoot,
        ...(s3
          ? { [ENV.MODEL_DIR]: bundle.dir, ...AWS_ENV, AWS_ENDPOINT_URL: endpoint, [ENV.MODEL_BUCKET]: BUCKET, [ENV.MODEL_KEY]: keys[shipped], [ENV.MODEL_DOWNLOAD_DIR]: downloadDir }
          : packaged),
      });
      const out = await run([path.join(work, 'handler-entry.mjs'), path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, env, `cold-curve ${megabytes} MB handler (${what})`);
      if (out['statusCode'] !== 200) throw new Error(`cold-curve ${megabytes} MB handler (${what}) answered ${String(out['statusCode'])}: ${String(out['body'])}`);
      checkPrediction(bundle, 1, `the function (${what}) after a cold start`, JSON.parse(String(out['body'])) as Record<string, unknown>);
      return out as { totalMs: number };
    } finally {
      rmSync(downloadDir, { recursive: true, force: true });
    }
  };
  const floor = (load: Load, file: string, options: string, label: string) => async () => {
    const model = load.startsWith('url') ? `${endpoint}/${BUCKET}/${keys.onnx}` : file;
    const env = lambdaEnv(staged, { BENCH_MODEL: model, BENCH_LOAD: load, BENCH_SESSION_OPTIONS: options, BENCH_INSTANCES: instances, BENCH_OUTPUT: bundle.output });
    const out = await run([path.join(work, 'floor.mjs')], work, env, `cold-curve ${megabytes} MB ${label}`);
    checkPrediction(bundle, 1, `${label} after a cold start`, out['output'] as number[]);
    return out as { totalMs: number; sessionMs: number; peakRssMb: number };
  };
  const all = optionsJson('all');
  const variants = {
    floor: floor('path', bundle.dir + '/model.onnx', all, 'floor'),
    optimizedOnnx: floor('path', copies.onnx, all, 'optimized ONNX'),
    ortFormat: floor('bytes', copies.ort, optionsJson('all', ORT_IN_PLACE_SESSION_ENTRIES), 'ORT format in place'),
    bytes: floor('bytes', bundle.dir + '/model.onnx', all, 'read, then session from bytes'),
    bytesOverlap: floor('bytes-overlap', bundle.dir + '/model.onnx', all, 'read while onnxruntime loads'),
    url: floor('url', '', all, 'download to memory, then session'),
    urlOverlap: floor('url-overlap', '', all, 'download while onnxruntime loads'),
    s3: handler(true, 'ort'),
    s3Onnx: handler(true, 'onnx'),
    ...(fits.ort ? { zip: handler(false, 'ort') } : {}),
    ...(fits.onnx ? { zipOnnx: handler(false, 'onnx') } : {}),
  } as const;
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const samples = new Map<string, Record<string, number>[]>(names.map((n) => [n, []]));
  settings.log(`cold-curve/${megabytes}mb: ${names.join(', ')}; ${settings.runs} runs each, rotating the order`);
  // One unmeasured run of each first, for the file cache, then rounds in a rotating order so load hits all alike.
  for (const name of names) await variants[name]!();
  for (let r = 0; r < settings.runs; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      samples.get(name)!.push((await variants[name]!()) as unknown as Record<string, number>);
    }
  }
  const of = (name: string, field = 'totalMs') => sampled(samples.get(name)!.map((s) => s[field]!));
  settings.log(`cold-curve/${megabytes}mb: the S3 download alone, one GET against ranged GETs, in fresh processes`);
  const download = (partBytes: number) => downloadAlone(endpoint, keys.onnx, partBytes, settings.runs);
  const single = await download(Number.MAX_SAFE_INTEGER);
  const ranged = await download(0);
  return {
    megabytes,
    modelBytes: bytes.onnx,
    ortBytes: bytes.ort,
    fitsZip: fits.ort,
    zip: fits.ort ? of('zip') : undefined,
    s3: of('s3'),
    zipOnnx: fits.onnx ? of('zipOnnx') : undefined,
    s3Onnx: of('s3Onnx'),
    floor: of('floor'),
    floorSession: of('floor', 'sessionMs'),
    optimizedOnnx: of('optimizedOnnx'),
    ortFormat: of('ortFormat'),
    ortFormatSession: of('ortFormat', 'sessionMs'),
    bytes: of('bytes'),
    bytesOverlap: of('bytesOverlap'),
    url: of('url'),
    urlOverlap: of('urlOverlap'),
    floorRssMb: of('floor', 'peakRssMb').p50,
    ortFormatRssMb: of('ortFormat', 'peakRssMb').p50,
    download: { single, ranged },
  };
}

/** The S3 download alone in a fresh process (`partBytes` 0: the default part size). */
async function downloadAlone(endpoint: string, key: string, partBytes: number, runs: number): Promise<DownloadResult> {
  const env = { ...process.env, ...AWS_ENV, AWS_ENDPOINT_URL: endpoint };
  const args = ['--import', 'tsx', path.join(BENCH, 'cold-start-curve-download.ts'), JSON.stringify({ bucket: BUCKET, key, partBytes, runs })];
  return (await run(args, ROOT, env, `cold-curve download of ${key}`)) as unknown as DownloadResult;
}

/** The curve as bench cases: each way beside the floor of the same size. */
export function curveCases(points: readonly CurvePoint[]): BenchCase[] {
  const floorLabel = 'floor: onnxruntime reads the file and creates the session';
  return points.flatMap((p) => {
    const name = `cold-curve/${p.megabytes}mb`;
    const extra = { model_bytes: p.modelBytes, from: 'process start, to the first checked answer' };
    const shipped = { ...extra, shipped: ORT_MODEL_FILE, ort_bytes: p.ortBytes };
    return [
      ...(p.zip === undefined ? [] : [timingCase(`${name}/zip`, 'ms', p.zip, floorLabel, p.floor, undefined, shipped)]),
      ...(p.zipOnnx === undefined ? [] : [timingCase(`${name}/zip-onnx`, 'ms', p.zipOnnx, floorLabel, p.floor, undefined, { ...extra, shipped: 'model.onnx' })]),
      timingCase(`${name}/s3`, 'ms', p.s3, floorLabel, p.floor, undefined, { ...shipped, fits_zip: p.fitsZip }),
      timingCase(`${name}/s3-onnx`, 'ms', p.s3Onnx, floorLabel, p.floor, undefined, { ...extra, shipped: 'model.onnx' }),
      timingCase(`${name}/optimized-onnx`, 'ms', p.optimizedOnnx, floorLabel, p.floor, undefined, extra),
      timingCase(`${name}/ort-format`, 'ms', p.ortFormat, floorLabel, p.floor, undefined, { ...extra, session_p50: round(p.ortFormatSession.p50, 'ms'), baseline_session_p50: round(p.floorSession.p50, 'ms'), rss_mb: p.ortFormatRssMb, baseline_rss_mb: p.floorRssMb }),
      timingCase(`${name}/read-overlap`, 'ms', p.bytesOverlap, 'read, then session from the bytes', p.bytes, undefined, extra),
      timingCase(`${name}/download-overlap`, 'ms', p.urlOverlap, 'download to memory, then session', p.url, undefined, extra),
      timingCase(`${name}/download/ranged`, 'ms', p.download.ranged.ms, 'one GET', p.download.single.ms, undefined, {
        measures: 'the S3 download alone from the file-backed S3 stand-in on loopback, fresh process',
        parts: p.download.ranged.parts,
        rss_mb: p.download.ranged.peakRssMb,
        baseline_rss_mb: p.download.single.peakRssMb,
      }),
    ];
  });
}

const ms = (s: Sampled | undefined) => (s === undefined ? '–' : `${Math.round(s.p50)}`);

/**
 * docs/PERFORMANCE.md's curve table: p50 ms from process start to the first answer, one row per size. The zip and
 * S3 columns give the function with the model.ort the build ships, then with model.onnx.
 */
export function curveMarkdown(points: readonly CurvePoint[]): string {
  const header =
    '| model | zip: model.ort / model.onnx | S3 (loopback stand-in): model.ort / model.onnx | floor | optimized ONNX | ORT format in place | read, then session / read while onnxruntime loads | download, then session / download while onnxruntime loads | S3 download alone: one GET / ranged (parts), peak RSS | peak RSS: floor / ORT format |\n' +
    '|---|---|---|---|---|---|---|---|---|---|';
  const fit = (s: Sampled | undefined) => (s === undefined ? 'does not fit' : ms(s));
  const rows = points.map(
    (p) =>
      `| ${p.megabytes} MB | ${fit(p.zip)} / ${fit(p.zipOnnx)} | ${ms(p.s3)} / ${ms(p.s3Onnx)} | ${ms(p.floor)} | ${ms(p.optimizedOnnx)} | ${ms(p.ortFormat)} | ${ms(p.bytes)} / ${ms(p.bytesOverlap)} | ${ms(p.url)} / ${ms(p.urlOverlap)} | ${ms(p.download.single.ms)} / ${ms(p.download.ranged.ms)} (${p.download.ranged.parts}), ${p.download.single.peakRssMb} / ${p.download.ranged.peakRssMb} MB | ${Math.round(p.floorRssMb)} / ${Math.round(p.ortFormatRssMb)} MB |`,
  );
  return `${header}\n${rows.join('\n')}`;
}

/** The curve's figures for bench/results/latest.json. */
export function curveJson(points: readonly CurvePoint[]): unknown[] {
  const r = (s: Sampled | undefined) => (s === undefined ? null : { p50: round(s.p50, 'ms'), p99: round(s.p99, 'ms'), n: s.n });
  return points.map((p) => ({
    megabytes: p.megabytes,
    model_bytes: p.modelBytes,
    ort_bytes: p.ortBytes,
    fits_zip: p.fitsZip,
    zip: r(p.zip),
    s3: r(p.s3),
    zip_onnx: r(p.zipOnnx),
    s3_onnx: r(p.s3Onnx),
    floor: r(p.floor),
    floor_session: r(p.floorSession),
    optimized_onnx: r(p.optimizedOnnx),
    ort_format: r(p.ortFormat),
    ort_format_session: r(p.ortFormatSession),
    read_then_session: r(p.bytes),
    read_overlap: r(p.bytesOverlap),
    download_then_session: r(p.url),
    download_overlap: r(p.urlOverlap),
    rss_mb: { floor: p.floorRssMb, ort_format: p.ortFormatRssMb },
    download: { single: { ...p.download.single, ms: r(p.download.single.ms) }, ranged: { ...p.download.ranged, ms: r(p.download.ranged.ms) } },
  }));
}

/** The chart's points: p50s of the function's two packagings (with the model.ort it ships), the floor, and the ORT-format model in place. */
export function curveChartPoints(points: readonly CurvePoint[]): CurveChartPoint[] {
  return points.map((p) => ({ megabytes: p.megabytes, zipMs: p.zip?.p50, s3Ms: p.s3.p50, floorMs: p.floor.p50, ortFormatMs: p.ortFormat.p50 }));
}
