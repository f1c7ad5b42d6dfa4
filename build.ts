/**
 * `npm run build`: the deployable artifacts in `dist/` (SPEC "Build artifacts").
 *
 *   npm run build -- [--arch arm64|x86_64] [--model <bundle dir>] [--runtime nodejs24.x|nodejs22.x]
 *                    [--package auto|zip|s3|image] [--optimize auto|ort|none] [--zip-model-limit-mb <n>]
 *                    [--ephemeral-storage-mb <n>] [--out <dir>] [--allow-missing-golden]
 *   (`--model-packaging` is the older name of `--package` and still works.)
 *
 * 1. The model bundle proves itself: manifest (or the one derived for a bare model.onnx) against the ONNX file,
 *    golden outputs within the bundle's tolerance; a bundle without golden.json builds only when told to.
 * 2. `--optimize auto` (the default) saves the model in ORT format after onnxruntime's "extended" optimisations, in
 *    a temp folder, and ships that model.ort when it passes golden.json through the function's own loader; else it
 *    ships model.onnx and says why in one line (commands/build/optimize-model.ts; `ort` fails the build instead,
 *    `none` ships model.onnx). The function uses model.ort's bytes in place, so its init skips protobuf parsing and
 *    the saved optimisations. build.json's model.format, shippedName and shippedSha256 say what shipped.
 * 3. esbuild bundles functions/predict as an ES module (top-level await loads the model during Lambda's init;
 *    onnxruntime-node comes from the runtime layer through createRequire, which honours NODE_PATH; minified;
 *    source maps; target the oldest Node in package.json's engines). The AWS SDK is bundled into its own file,
 *    loaded only for a model in S3 (docs/PERFORMANCE.md has the measurements).
 * 4. The runtime layer holds onnxruntime-node for linux/<arch> only.
 * 5. `--package auto` (the default) picks the packaging the shipped model file needs and prints why
 *    (commands/build/packaging.ts): the function zip up to --zip-model-limit-mb while function and layer fit 250 MB
 *    unzipped, else a separate artifact for S3 while it fits /tmp, else a container image (up to 10 GB): a build
 *    context in `<out>/image/` (Dockerfile and the image's file tree, commands/build/image-context.ts).
 * 6. Zips are byte-reproducible; Lambda's limits are checked; a size table is printed.
 * 7. golden.json is copied beside build.json (model.golden's file and sha256), so the rollout can send a new version
 *    the bundle's golden rows before any traffic moves.
 * A failed build removes dist/build.json, so nothing claims a success that did not happen.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions as EsbuildOptions, type Plugin } from 'esbuild';
import { verifyBundle } from './commands/build/golden-check.js';
import { readMemoryFloor } from './commands/build/memory-floor.js';
import { baseImageFor, dockerfile, IMAGE_COMMAND, IMAGE_ROOTFS } from './commands/build/dockerfile.js';
import { checkModelFitsImage, imageRuntimeEntries, writeImageContext } from './commands/build/image-context.js';
import { checkBudgets, formatBreach, sizeTable, type MeasuredArtifact } from './commands/build/limits.js';
import { OptimizeModelError, optimizeModel, type OptimizedModel } from './commands/build/optimize-model.js';
import {
  chooseModelFormat,
  choosePackaging,
  OPTIMIZE_CHOICES,
  PACKAGE_CHOICES,
  type OptimizeChoice,
  type OrtAttempt,
  type PackageChoice,
} from './commands/build/packaging.js';
import { runtimeLayerEntries } from './commands/build/runtime-layer.js';
import { deterministicZip, type ZipEntry, type ZipResult } from './commands/build/zip.js';
import {
  ARCHES,
  ARTIFACT,
  BUILD_RECORD_FILE,
  DEFAULT_ARCH,
  DEFAULT_RUNTIME,
  GOLDEN_FILE,
  HANDLER,
  IMAGE_PLATFORM,
  RUNTIMES,
  type Arch,
  type BuildRecord,
  type BuildRecordArtifact,
  type Runtime,
} from './functions/contract/build-record.js';
import { BASELINE_FILE } from './functions/contract/capture.js';
import { DEFAULT_MODEL_DIR, DEFAULT_MODEL_FILE, MODEL_MANIFEST_FILE } from './functions/contract/env.js';
import { IMAGE_MAX_BYTES, LAMBDA_LIMITS, MB } from './functions/contract/lambda-limits.js';
import { MODEL_FILE_OF_FORMAT, type ModelFormat } from './functions/contract/model-format.js';
import type { Manifest } from './functions/predict/manifest.js';
import { float16InputMessage } from './functions/predict/signature.js';

const root = path.dirname(fileURLToPath(import.meta.url));
/** The image's build context, inside the output folder. */
const IMAGE_CONTEXT_DIR = 'image';

class BuildError extends Error {}

interface BuildOptions {
  readonly arch: Arch;
  readonly runtime: Runtime;
  readonly modelDir: string;
  readonly packaging: PackageChoice;
  /** Which model file to ship: model.ort when it passes golden.json (`auto`), model.ort or fail (`ort`), model.onnx (`none`). */
  readonly optimize: OptimizeChoice;
  readonly zipModelLimitBytes: number;
  readonly ephemeralMb: number;
  readonly outDir: string;
  /** Build a bundle that has no golden.json (build.json then says so). */
  readonly allowMissingGolden: boolean;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new BuildError(`--${flag} ${value} is not supported; use ${allowed.join(' or ')}`);
}

function number(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) throw new BuildError(`--${flag} ${value} is not a number from ${min} to ${max}`);
  return n;
}

export function parseBuildArgs(argv: readonly string[]): BuildOptions {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        arch: { type: 'string', default: DEFAULT_ARCH },
        runtime: { type: 'string', default: DEFAULT_RUNTIME },
        model: { type: 'string', default: path.join(root, 'models', 'iris') },
        package: { type: 'string' },
        'model-packaging': { type: 'string' },
        optimize: { type: 'string', default: 'auto' },
        'zip-model-limit-mb': { type: 'string', default: '20' },
        'ephemeral-storage-mb': { type: 'string', default: String(LAMBDA_LIMITS.minEphemeralMb) },
        out: { type: 'string', default: path.join(root, 'dist') },
        'allow-missing-golden': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new BuildError(`${error instanceof Error ? error.message : String(error)}; see the usage at the top of build.ts`);
  }
  const [packageFlag, modelPackagingFlag] = [values.package, values['model-packaging']];
  if (packageFlag !== undefined && modelPackagingFlag !== undefined && packageFlag !== modelPackagingFlag) {
    throw new BuildError(`--package ${packageFlag} and --model-packaging ${modelPackagingFlag} disagree; --model-packaging is the older name of --package: give one of them`);
  }
  return {
    arch: oneOf('arch', values.arch, ARCHES),
    runtime: oneOf('runtime', values.runtime, RUNTIMES),
    modelDir: path.resolve(values.model),
    packaging: packageFlag === undefined && modelPackagingFlag !== undefined ? oneOf('model-packaging', modelPackagingFlag, PACKAGE_CHOICES) : oneOf('package', packageFlag ?? 'auto', PACKAGE_CHOICES),
    optimize: oneOf('optimize', values.optimize, OPTIMIZE_CHOICES),
    zipModelLimitBytes: number('zip-model-limit-mb', values['zip-model-limit-mb'], 0, 250) * MB,
    ephemeralMb: number('ephemeral-storage-mb', values['ephemeral-storage-mb'], LAMBDA_LIMITS.minEphemeralMb, LAMBDA_LIMITS.maxEphemeralMb),
    outDir: path.resolve(values.out),
    allowMissingGolden: values['allow-missing-golden'],
  };
}

/** The oldest Node the project runs on, from package.json's engines (">=20.19" gives "node20.19"). */
function esbuildTarget(): string {
  const engines = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } }).engines?.node;
  const match = /(\d+)(?:\.(\d+))?/.exec(engines ?? '');
  if (match === null) throw new BuildError('package.json has no engines.node; set it to the oldest Node the project supports');
  return `node${match[1]}${match[2] === undefined ? '' : `.${match[2]}`}`;
}

/**
 * The function is an ES module (`index.mjs`) so it can finish loading the model in Lambda's init phase (top-level
 * await). Node's ESM resolver ignores NODE_PATH, where Lambda puts layer packages, so onnxruntime-node is loaded
 * through `createRequire`, which honours it; the emulator tests prove the resolution.
 */
const esmForLambda: Plugin = {
  name: 'esm-for-lambda',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-node$/ }, () => ({ path: 'onnxruntime-node', namespace: 'layer-require' }));
    b.onLoad({ filter: /.*/, namespace: 'layer-require' }, () => ({
      contents:
        "import { createRequire } from 'node:module';\n" +
        "const ort = createRequire(import.meta.url)('onnxruntime-node');\n" +
        'export const InferenceSession = ort.InferenceSession;\nexport const Tensor = ort.Tensor;\nexport const env = ort.env;\n',
      loader: 'js',
    }));
    // The S3 and tracer chunks stay separate files, imported only when a model comes from S3 or an invocation is
    // traced.
    b.onResolve({ filter: /^\.\/s3-download\.js$/ }, () => ({ path: './s3-download.mjs', external: true }));
    b.onResolve({ filter: /^\.\/xray-tracer\.js$/ }, () => ({ path: './xray-tracer.mjs', external: true }));
  },
};

/** The function's code as it ships: `index.mjs`, the on-demand `s3-download.mjs` and `xray-tracer.mjs`, and their source maps. */
export async function bundleFunction(): Promise<ZipEntry[]> {
  const common: EsbuildOptions = {
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    // ES builds of dependencies first; CommonJS ones left inside get a real `require` for Node's built-ins.
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire as __lambdaRequire } from 'node:module'; const require = __lambdaRequire(import.meta.url);" },
    target: esbuildTarget(),
    sourcemap: 'external',
    sourcesContent: false,
    outdir: path.join(root, 'dist', 'function'),
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [esmForLambda],
  };
  const chunks = await Promise.all(
    [
      ['index', 'index.ts'],
      ['s3-download', 's3-download.ts'],
      ['xray-tracer', 'xray-tracer.ts'],
    ].map(([name, file]) => build({ ...common, write: false, entryPoints: { [name!]: path.join(root, 'functions', 'predict', file!) } })),
  );
  return chunks.flatMap((chunk) => chunk.outputFiles ?? []).map((file) => ({ path: path.basename(file.path), data: file.contents }));
}

/**
 * A bundle file copied beside build.json (golden.json for the rollout's traffic checks, baseline.json for npm run
 * drift), or an earlier build's copy removed when the bundle has none, so no stale copy is mistaken for this build's.
 */
function copyBeside(outDir: string, name: string, data: Buffer | undefined): void {
  const file = path.join(outDir, name);
  if (data === undefined) rmSync(file, { force: true });
  else {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(file, data);
  }
}

/** The manifest as model.json spells it (fields left out when unset). */
function manifestJson(manifest: Manifest): Record<string, unknown> {
  const { derived: _derived, ...fields } = manifest;
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A path as build.json and messages show it: relative to the project when inside it, absolute otherwise. */
function relative(file: string): string {
  const inside = path.relative(root, file);
  return inside.startsWith('..') || path.isAbsolute(inside) ? file : inside.split(path.sep).join('/');
}

export async function runBuild(options: BuildOptions, log: (line: string) => void): Promise<void> {
  const recordFile = path.join(options.outDir, BUILD_RECORD_FILE);
  rmSync(recordFile, { force: true });

  // Checked from the file's size before anything reads it: a model no image can hold, or an image for an architecture
  // onnxruntime-node has no binaries for, fails at once.
  const modelFile = path.join(options.modelDir, DEFAULT_MODEL_FILE);
  if ((options.packaging === 'image' || options.packaging === 'auto') && existsSync(modelFile)) checkModelFitsImage(statSync(modelFile).size);
  if (options.packaging === 'image') imageRuntimeEntries(path.join(root, 'node_modules'), options.arch);

  let verified;
  try {
    verified = await verifyBundle(options.modelDir, { allowMissingGolden: options.allowMissingGolden });
  } catch (error) {
    throw new BuildError(`model bundle ${options.modelDir} cannot be built: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { manifest, golden } = verified;
  // Node.js 24 has Float16Array, and onnxruntime-node 1.30 cannot take float16 inputs there.
  const float16 = options.runtime === 'nodejs24.x' ? float16InputMessage(manifest.name, verified.inputs) : undefined;
  if (float16 !== undefined) throw new BuildError(`model bundle ${options.modelDir} cannot be built for ${options.runtime}: ${float16}`);
  const source = manifest.derived ? `no model.json: served as a tensor model named ${manifest.name}, version ${manifest.version} (the file's sha256)` : 'manifest matches the ONNX file';
  if (golden === undefined) {
    log(`model ${manifest.name}@${manifest.version}: ${source}; NO golden.json: nothing checks onnxruntime's outputs against the training framework (--allow-missing-golden)`);
  } else {
    const agreement = golden.top1Agreement === undefined ? '' : `, top-1 agreement ${(golden.top1Agreement * 100).toFixed(1)}% (floor ${(golden.minTop1Agreement! * 100).toFixed(0)}%)`;
    log(`model ${manifest.name}@${manifest.version}: ${source}; ${golden.rows} golden rows within ${golden.maxDiff.toExponential(1)} (limit ${golden.tolerance})${agreement}`);
  }

  const model = readFileSync(modelFile);
  const modelSha = sha256(model);
  let floor;
  try {
    floor = readMemoryFloor(options.modelDir, modelSha);
  } catch (error) {
    throw new BuildError(error instanceof Error ? error.message : String(error));
  }
  if (floor.kind === 'measured') log(`memory floor: ${floor.floorMb} MB, the smallest size that answered ${manifest.maxBatch} rows (${relative(floor.file)})`);
  if (floor.kind === 'unusable') log(`WARNING memory floor not recorded: ${floor.reason}`);

  const functionEntries = await bundleFunction();
  // The manifest as the function will read it: a bare model.onnx's derived one is written out, since inside Lambda
  // the folder is always `model/` and its name is gone.
  const manifestFile = Buffer.from(`${JSON.stringify(manifestJson(manifest), null, 2)}\n`);
  functionEntries.push({ path: `${DEFAULT_MODEL_DIR}/${MODEL_MANIFEST_FILE}`, data: manifestFile });
  // The training baseline travels with the model: the function reads its ranges for the OutOfTrainingRange metric.
  const baseline = existsSync(path.join(options.modelDir, BASELINE_FILE)) ? readFileSync(path.join(options.modelDir, BASELINE_FILE)) : undefined;
  if (baseline !== undefined) functionEntries.push({ path: `${DEFAULT_MODEL_DIR}/${BASELINE_FILE}`, data: baseline });
  else log(`no ${BASELINE_FILE} in the bundle: the function writes no OutOfTrainingRange metric and npm run drift has nothing to compare with`);
  copyBeside(options.outDir, BASELINE_FILE, baseline);
  const shipped = await shippedModel(options, { file: modelFile, data: model, sha256: modelSha }, manifestFile, verified.goldenFile, log);
  if (options.packaging === 'zip' && shipped.data.length > options.zipModelLimitBytes) {
    throw new BuildError(
      `${shipped.name} is ${(shipped.data.length / MB).toFixed(1)} MB, over the ${(options.zipModelLimitBytes / MB).toFixed(1)} MB packaging threshold for the function zip; ` +
        'use --package s3 (or auto), or raise --zip-model-limit-mb',
    );
  }
  const layerEntries = runtimeLayerEntries(path.join(root, 'node_modules'), options.arch);
  const unzipped = (entries: readonly ZipEntry[]) => entries.reduce((sum, e) => sum + e.data.length, 0);
  let decision;
  try {
    decision = choosePackaging(options.packaging, {
      modelBytes: shipped.data.length,
      modelFile: shipped.name,
      codeUnzippedBytes: unzipped(functionEntries) + unzipped(layerEntries),
      zipModelLimitBytes: options.zipModelLimitBytes,
    });
  } catch (error) {
    throw new BuildError(error instanceof Error ? error.message : String(error));
  }
  const { packaging } = decision;
  log(`packaging: ${decision.reason}`);
  mkdirSync(options.outDir, { recursive: true });
  // An image build's context is large (it holds the model); no other build leaves one behind to be mistaken for its own.
  rmSync(path.join(options.outDir, IMAGE_CONTEXT_DIR), { recursive: true, force: true });
  const modelEntry: ZipEntry = { path: `${DEFAULT_MODEL_DIR}/${shipped.name}`, data: shipped.data };
  const common = { manifest, golden, verified, floor, model, modelSha, shipped, recordFile };
  if (packaging === 'image') {
    writeImageBuild(options, [...functionEntries, modelEntry], common, log);
    return;
  }

  if (packaging === 'zip') functionEntries.push(modelEntry);
  const functionZip = deterministicZip(functionEntries);
  const layerZip = deterministicZip(layerEntries);

  const files = {
    golden: path.join(options.outDir, GOLDEN_FILE),
    function: path.join(options.outDir, 'function.zip'),
    layer: path.join(options.outDir, `layer-${options.arch}.zip`),
    // Named by model.onnx's sha256 (the model's identity), with the shipped file's extension.
    model: path.join(options.outDir, `model-${modelSha.slice(0, 16)}.${shipped.format}`),
  };
  const measured: MeasuredArtifact[] = [
    { name: ARTIFACT.function, file: relative(files.function), bytes: functionZip.bytes.length, unzippedBytes: functionZip.unzippedBytes, kind: 'function' },
    { name: ARTIFACT.runtimeLayer, file: relative(files.layer), bytes: layerZip.bytes.length, unzippedBytes: layerZip.unzippedBytes, kind: 'layer' },
  ];
  if (packaging === 's3') measured.push({ name: 'model', file: relative(files.model), bytes: shipped.data.length, unzippedBytes: shipped.data.length, kind: 'model' });

  const table = sizeTable(measured, options.ephemeralMb);
  const breaches = checkBudgets(measured, { ephemeralMb: options.ephemeralMb });
  if (breaches.length > 0) {
    log(table);
    throw new BuildError(`Lambda would reject this build:\n${breaches.map((b) => `  - ${formatBreach(b)}`).join('\n')}`);
  }

  rmSync(path.join(options.outDir, 'function'), { recursive: true, force: true });
  writeFileSync(files.function, functionZip.bytes);
  writeFileSync(files.layer, layerZip.bytes);
  if (packaging === 's3') writeFileSync(files.model, shipped.data);
  // The golden rows travel with the build; a build without them leaves no stale copy from an earlier one.
  copyBeside(options.outDir, GOLDEN_FILE, verified.goldenFile);

  const artifact = (name: string, file: string, zip: ZipResult): BuildRecordArtifact => ({
    name,
    file: relative(file),
    bytes: zip.bytes.length,
    unzippedBytes: zip.unzippedBytes,
    sha256: zip.sha256,
  });
  const record: BuildRecord = {
    arch: options.arch,
    runtime: options.runtime,
    handler: HANDLER,
    artifacts: [artifact(ARTIFACT.function, files.function, functionZip), artifact(ARTIFACT.runtimeLayer, files.layer, layerZip)],
    model: modelRecord(common, packaging, packaging === 's3' ? relative(files.model) : undefined),
  };
  writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  log(table);
  log(`wrote ${relative(recordFile)} (${options.arch}, ${options.runtime}, handler ${HANDLER}, model packaged: ${packaging})`);
}

/** The model file that ships: model.onnx, or model.ort made from it and checked against golden.json. */
interface ShippedModel {
  readonly format: ModelFormat;
  /** MODEL_FILE_OF_FORMAT[format]. */
  readonly name: string;
  readonly data: Buffer;
  readonly sha256: string;
  /** model.ort's largest difference from golden.json, when it ships. */
  readonly ortMaxDiff: number | undefined;
}

/**
 * Decides, with `--optimize`, which model file ships: tries model.ort in a temp folder of its own (never the bundle
 * folder, which the build only reads) unless told not to, and prints the decision in one line.
 */
async function shippedModel(
  options: BuildOptions,
  onnx: { readonly file: string; readonly data: Buffer; readonly sha256: string },
  manifestFile: Buffer,
  goldenFile: Buffer | undefined,
  log: (line: string) => void,
): Promise<ShippedModel> {
  let attempt: OrtAttempt | undefined;
  let optimized: OptimizedModel | undefined;
  if (options.optimize !== 'none') {
    const workDir = mkdtempSync(path.join(tmpdir(), 'build-ort-'));
    try {
      optimized = await optimizeModel({ onnxFile: onnx.file, manifestJson: manifestFile, goldenJson: goldenFile, workDir });
      attempt = { ok: true, bytes: optimized.data.length, maxDiff: optimized.golden.maxDiff };
    } catch (error) {
      if (!(error instanceof OptimizeModelError)) throw error;
      attempt = { ok: false, reason: error.message };
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }
  let decision;
  try {
    decision = chooseModelFormat(options.optimize, onnx.data.length, attempt);
  } catch (error) {
    throw new BuildError(`model bundle ${options.modelDir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  log(decision.line);
  if (decision.format === 'ort' && optimized !== undefined) {
    return { format: 'ort', name: MODEL_FILE_OF_FORMAT.ort, data: optimized.data, sha256: sha256(optimized.data), ortMaxDiff: optimized.golden.maxDiff };
  }
  return { format: 'onnx', name: MODEL_FILE_OF_FORMAT.onnx, data: onnx.data, sha256: onnx.sha256, ortMaxDiff: undefined };
}

/** What both kinds of build record say about the model. */
interface BuiltModel {
  readonly manifest: Manifest;
  readonly golden: Awaited<ReturnType<typeof verifyBundle>>['golden'];
  readonly verified: Awaited<ReturnType<typeof verifyBundle>>;
  readonly floor: ReturnType<typeof readMemoryFloor>;
  readonly model: Buffer;
  readonly modelSha: string;
  readonly shipped: ShippedModel;
  readonly recordFile: string;
}

function modelRecord(built: BuiltModel, packaging: BuildRecord['model']['packaging'], file: string | undefined): BuildRecord['model'] {
  const { manifest, golden, verified, floor, model, modelSha, shipped } = built;
  return {
    name: manifest.name,
    version: manifest.version,
    sha256: modelSha,
    bytes: shipped.data.length,
    packaging,
    format: shipped.format,
    shippedName: shipped.name,
    shippedSha256: shipped.sha256,
    onnxBytes: model.length,
    task: manifest.task,
    maxBatch: manifest.maxBatch,
    ...(file === undefined ? {} : { file }),
    ...(floor.kind === 'measured' ? { memoryFloorMb: floor.floorMb } : {}),
    golden:
      golden === undefined || verified.goldenFile === undefined
        ? 'missing'
        : {
            ...golden,
            ...(shipped.ortMaxDiff === undefined ? {} : { ortMaxDiff: shipped.ortMaxDiff }),
            file: relative(path.join(path.dirname(built.recordFile), GOLDEN_FILE)),
            sha256: sha256(verified.goldenFile),
          },
  };
}

/**
 * A container-image build: the context (Dockerfile and `rootfs/`) in `<out>/image/`, no zips. `taskFiles` are the
 * function's files and the model, relative to the task root; onnxruntime-node for the architecture joins them.
 */
function writeImageBuild(options: BuildOptions, taskFiles: readonly ZipEntry[], built: BuiltModel, log: (line: string) => void): void {
  const baseImage = baseImageFor(options.runtime);
  const contextDir = path.join(options.outDir, IMAGE_CONTEXT_DIR);
  const context = writeImageContext(contextDir, dockerfile(baseImage), [...taskFiles, ...imageRuntimeEntries(path.join(root, 'node_modules'), options.arch)]);
  copyBeside(options.outDir, GOLDEN_FILE, built.verified.goldenFile);
  const record: BuildRecord = {
    arch: options.arch,
    runtime: options.runtime,
    handler: HANDLER,
    artifacts: [],
    model: modelRecord(built, 'image', undefined),
    image: {
      context: relative(contextDir),
      rootfs: relative(path.join(contextDir, IMAGE_ROOTFS)),
      baseImage,
      platform: IMAGE_PLATFORM[options.arch],
      command: [...IMAGE_COMMAND],
      bytes: context.bytes,
      sha256: context.sha256,
      files: context.files,
    },
  };
  writeFileSync(built.recordFile, `${JSON.stringify(record, null, 2)}\n`);
  const limit = IMAGE_MAX_BYTES;
  log(
    [
      `image context ${relative(contextDir)}: ${context.files.length} files, ${(context.bytes / MB).toFixed(1)} MB uncompressed on ${baseImage} (${IMAGE_PLATFORM[options.arch]}); ` +
        `Lambda's image limit ${(limit / MB).toFixed(1)} MB, base image included; headroom before the base image ${((limit - context.bytes) / MB).toFixed(1)} MB`,
      `image tag (content sha256): ${context.sha256}`,
    ].join('\n'),
  );
  log(`wrote ${relative(built.recordFile)} (${options.arch}, ${options.runtime}, handler ${HANDLER}, model packaged: image)`);
}

/** Runs builds one after another, each named by who deploys it; the first failure stops the rest. */
export async function runBuilds(builds: readonly { readonly args: readonly string[]; readonly deployedBy: readonly string[] }[], log: (line: string) => void): Promise<void> {
  for (const [i, build] of builds.entries()) {
    log(`== build ${i + 1} of ${builds.length}, for ${build.deployedBy.join(', ')}: npm run build -- ${build.args.join(' ')}`);
    await runBuild(parseBuildArgs(build.args), log);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const argv = process.argv.slice(2);
  try {
    // A configuration that lists models (infra/config.ts) is built whole: each listed bundle into its own folder.
    const { configuredBuilds } = await import('./infra/model-builds.js');
    const { loadAppConfig } = await import('./infra/config.js');
    const planned = configuredBuilds(argv, loadAppConfig());
    if (planned === undefined) await runBuild(parseBuildArgs(argv), log);
    else await runBuilds(planned, log);
  } catch (error) {
    process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
