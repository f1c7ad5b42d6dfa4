/**
 * The cold start against the model's size (issue 16): for models of 1 to 500 MB made on the fly
 * (cold-start-curve-model.ts), fresh processes to the first checked answer of
 *
 * - zip: the built function with the model packaged beside it (only where function, layer and model unzip to
 *   Lambda's 250 MB), and s3: the same function downloading the model to /tmp from a file-backed stand-in for S3 on
 *   loopback (cold-start-curve-s3-stub.ts says why not moto, which the tests use);
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
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { DEFAULT_INTRA_OP_THREADS, ENV, LAMBDA_ENV } from '../functions/contract/env.js';
import { LAMBDA_LIMITS } from '../functions/contract/lambda-limits.js';
import { sessionOptions } from '../functions/predict/model-session.js';
import type { StagedArtifacts } from '../tools/stage-artifacts.js';
import { ENTRIES, scratch } from './baselines.js';
import { checkPrediction, predictEvent, readBundle, sampled, type BenchBundle, type Sampled } from './bench-data.js';
import type { CurveChartPoint } from './charts.js';
import { writeCurveModel } from './cold-start-curve-model.js';
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

/**
 * The ORT-format model's bytes used in place: the session keeps pointers into the buffer instead of copying the
 * initializers (onnxruntime's session options `session.use_ort_model_bytes_directly` and
 * `session.use_ort_model_bytes_for_initializers`; the buffer must live as long as the session).
 */
const ORT_IN_PLACE = { use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' };

export interface CurvePoint {
  readonly megabytes: number;
  readonly modelBytes: number;
  /** Function, layer and model unzip within Lambda's 250 MB: the zip is an option. */
  readonly fitsZip: boolean;
  /** ms from process start to the first answer. */
  readonly zip: Sampled | undefined;
  readonly s3: Sampled;
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

/** Writes the optimized ONNX and ORT-format copies of `file`, with onnxruntime's "extended" level (portable). */
async function optimizedCopies(file: string, dir: string): Promise<{ onnx: string; ort: string }> {
  const out = { onnx: path.join(dir, 'model.optimized.onnx'), ort: path.join(dir, 'model.ort') };
  // "all" adds layout changes for this machine's CPU (onnxruntime warns so): a build for another architecture
  // cannot use them, so the saved model stops at "extended" and the session applies the rest at load.
  for (const target of [out.onnx, out.ort]) await ort.InferenceSession.create(file, { graphOptimizationLevel: 'extended', optimizedModelFilePath: target });
  return out;
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
      const copies = await optimizedCopies(model.file, model.dir);
      const key = `curve/${megabytes}mb/model.onnx`;
      stub.put(BUCKET, key, model.file);
      const fitsZip = codeUnzipped + model.modelBytes <= LAMBDA_LIMITS.unzippedBytes;
      points.push(await measureSize(staged, work, stub.endpoint, key, bundle, model.modelBytes, megabytes, fitsZip, copies, settings));
      rmSync(model.dir, { recursive: true, force: true });
    }
  } finally {
    await stub.close();
    rmSync(work, { recursive: true, force: true });
  }
  return points;
}

async function measureSize(
  staged: StagedArtifacts,
  work: string,
  endpoint: string,
  key: string,
  bundle: BenchBundle,
  modelBytes: number,
  megabytes: number,
  fitsZip: boolean,
  copies: { onnx: string; ort: string },
  settings: CurveSettings,
): Promise<CurvePoint> {
  const event = JSON.stringify(predictEvent(bundle, 1));
  const instances = JSON.stringify(bundle.rows(1));
  const handler = (s3: boolean) => async () => {
    const downloadDir = mkdtempSync(path.join(work, 'tmp-'));
    try {
      const env = lambdaEnv(staged, {
        BENCH_EVENT: event,
        [LAMBDA_ENV.TASK_ROOT]: staged.taskRoot,
        [ENV.MODEL_DIR]: bundle.dir,
        ...(s3 ? { ...AWS_ENV, AWS_ENDPOINT_URL: endpoint, [ENV.MODEL_BUCKET]: BUCKET, [ENV.MODEL_KEY]: key, [ENV.MODEL_DOWNLOAD_DIR]: downloadDir } : {}),
      });
      const out = await run([path.join(work, 'handler-entry.mjs'), path.join(staged.taskRoot, 'index.mjs')], staged.taskRoot, env, `cold-curve ${megabytes} MB handler (${s3 ? 's3' : 'zip'})`);
      if (out['statusCode'] !== 200) throw new Error(`cold-curve ${megabytes} MB handler answered ${String(out['statusCode'])}: ${String(out['body'])}`);
      checkPrediction(bundle, 1, `the function (${s3 ? 'model from S3' : 'model packaged'}) after a cold start`, JSON.parse(String(out['body'])) as Record<string, unknown>);
      return out as { totalMs: number };
    } finally {
      rmSync(downloadDir, { recursive: true, force: true });
    }
  };
  const floor = (load: Load, file: string, options: string, label: string) => async () => {
    const model = load.startsWith('url') ? `${endpoint}/${BUCKET}/${key}` : file;
    const env = lambdaEnv(staged, { BENCH_MODEL: model, BENCH_LOAD: load, BENCH_SESSION_OPTIONS: options, BENCH_INSTANCES: instances, BENCH_OUTPUT: bundle.output });
    const out = await run([path.join(work, 'floor.mjs')], work, env, `cold-curve ${megabytes} MB ${label}`);
    checkPrediction(bundle, 1, `${label} after a cold start`, out['output'] as number[]);
    return out as { totalMs: number; sessionMs: number; peakRssMb: number };
  };
  const all = optionsJson('all');
  const variants = {
    floor: floor('path', bundle.dir + '/model.onnx', all, 'floor'),
    optimizedOnnx: floor('path', copies.onnx, all, 'optimized ONNX'),
    ortFormat: floor('bytes', copies.ort, optionsJson('all', ORT_IN_PLACE), 'ORT format in place'),
    bytes: floor('bytes', bundle.dir + '/model.onnx', all, 'read, then session from bytes'),
    bytesOverlap: floor('bytes-overlap', bundle.dir + '/model.onnx', all, 'read while onnxruntime loads'),
    url: floor('url', '', all, 'download to memory, then session'),
    urlOverlap: floor('url-overlap', '', all, 'download while onnxruntime loads'),
    s3: handler(true),
    ...(fitsZip ? { zip: handler(false) } : {}),
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
  const download = (partBytes: number) => downloadAlone(endpoint, key, partBytes, settings.runs);
  const single = await download(Number.MAX_SAFE_INTEGER);
  const ranged = await download(0);
  return {
    megabytes,
    modelBytes,
    fitsZip,
    zip: fitsZip ? of('zip') : undefined,
    s3: of('s3'),
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
    return [
      ...(p.zip === undefined ? [] : [timingCase(`${name}/zip`, 'ms', p.zip, floorLabel, p.floor, undefined, extra)]),
      timingCase(`${name}/s3`, 'ms', p.s3, floorLabel, p.floor, undefined, { ...extra, fits_zip: p.fitsZip }),
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

/** docs/PERFORMANCE.md's curve table: p50 ms from process start to the first answer, one row per size. */
export function curveMarkdown(points: readonly CurvePoint[]): string {
  const header =
    '| model | zip | S3 (loopback stand-in) | floor | optimized ONNX | ORT format in place | read, then session / read while onnxruntime loads | download, then session / download while onnxruntime loads | S3 download alone: one GET / ranged (parts), peak RSS | peak RSS: floor / ORT format |\n' +
    '|---|---|---|---|---|---|---|---|---|---|';
  const rows = points.map(
    (p) =>
      `| ${p.megabytes} MB | ${p.zip === undefined ? 'does not fit' : ms(p.zip)} | ${ms(p.s3)} | ${ms(p.floor)} | ${ms(p.optimizedOnnx)} | ${ms(p.ortFormat)} | ${ms(p.bytes)} / ${ms(p.bytesOverlap)} | ${ms(p.url)} / ${ms(p.urlOverlap)} | ${ms(p.download.single.ms)} / ${ms(p.download.ranged.ms)} (${p.download.ranged.parts}), ${p.download.single.peakRssMb} / ${p.download.ranged.peakRssMb} MB | ${Math.round(p.floorRssMb)} / ${Math.round(p.ortFormatRssMb)} MB |`,
  );
  return `${header}\n${rows.join('\n')}`;
}

/** The curve's figures for bench/results/latest.json. */
export function curveJson(points: readonly CurvePoint[]): unknown[] {
  const r = (s: Sampled | undefined) => (s === undefined ? null : { p50: round(s.p50, 'ms'), p99: round(s.p99, 'ms'), n: s.n });
  return points.map((p) => ({
    megabytes: p.megabytes,
    model_bytes: p.modelBytes,
    fits_zip: p.fitsZip,
    zip: r(p.zip),
    s3: r(p.s3),
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

/** The chart's points: p50s of the function's two packagings, the floor, and the ORT-format model in place. */
export function curveChartPoints(points: readonly CurvePoint[]): CurveChartPoint[] {
  return points.map((p) => ({ megabytes: p.megabytes, zipMs: p.zip?.p50, s3Ms: p.s3.p50, floorMs: p.floor.p50, ortFormatMs: p.ortFormat.p50 }));
}
