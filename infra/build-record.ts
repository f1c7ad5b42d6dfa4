/**
 * Reads `build.json`, the build record `npm run build` hands to the infrastructure (SPEC "Build artifacts"; its JSON
 * shape is functions/contract/build-record.ts). The constructs reference only what it lists; synth reads files and
 * never writes or builds anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARCHES,
  ARTIFACT,
  BUILD_RECORD_FILE,
  DEFAULT_DIST_DIR,
  DEFAULT_RUNTIME,
  HANDLER,
  IMAGE_PLATFORM,
  MODEL_PACKAGINGS,
  RUNTIMES,
  imageContentLines,
  type Arch,
  type BuildRecordImageFile,
  type ModelPackaging,
  type Runtime,
} from '../functions/contract/build-record.js';
import { DEFAULT_MODEL_FILE } from '../functions/contract/env.js';
import { LAMBDA_LIMITS } from '../functions/contract/lambda-limits.js';
import { MODEL_FILE_OF_FORMAT, MODEL_FORMATS, type ModelFormat } from '../functions/contract/model-format.js';
import { BuildRecordError } from './errors.js';

/** The project root: build.json's relative paths and a relative `distDir` are resolved against it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One zip the build wrote. `path` is absolute; `file` is as build.json shows it. */
export interface BuildArtifact {
  readonly name: string;
  readonly file: string;
  readonly path: string;
  readonly bytes: number;
  readonly unzippedBytes: number;
  /** Hex sha256 of the zip. */
  readonly sha256: string;
}

/**
 * The model the build packaged, from build.json's `model`: the model's identity (`sha256`, model.onnx's) and the file
 * that ships (model.onnx or model.ort: `format`, `shippedName`, `shippedSha256`, `bytes`). A record written before the
 * build could ship ORT format reads as shipping model.onnx.
 */
export interface ModelArtifact {
  readonly name: string;
  readonly version: string;
  /** Hex sha256 of model.onnx, the model's identity. */
  readonly sha256: string;
  /** Bytes of the shipped file: what the model store holds and /tmp must take. */
  readonly bytes: number;
  readonly packaging: ModelPackaging;
  /** The shipped file's format. */
  readonly format: ModelFormat;
  /** The shipped file's name in the function's model folder (MODEL_FILE) and the S3 key's last segment. */
  readonly shippedName: string;
  /** Hex sha256 of the shipped file: what MODEL_SHA256 checks for a model from S3. */
  readonly shippedSha256: string;
  /** The shipped file to upload (absolute), only for packaging "s3". */
  readonly path: string | undefined;
  /** As build.json shows it. */
  readonly file: string | undefined;
  /** The smallest memory size at which the model's largest request completed, when measured (npm run tune -- --floor). */
  readonly memoryFloorMb: number | undefined;
}

/** The container image a build's context makes, from build.json's `image` (packaging "image"). */
export interface ImageArtifact {
  /** The build context folder (absolute); `file` is as build.json shows it. */
  readonly context: string;
  readonly file: string;
  readonly baseImage: string;
  /** `linux/arm64` or `linux/amd64`. */
  readonly platform: string;
  readonly command: readonly string[];
  /** The files' bytes, uncompressed, base image not included. */
  readonly bytes: number;
  /** The content sha256: the image's tag. */
  readonly sha256: string;
}

interface DeployableCommon {
  /** Absolute path of the build.json that was read. */
  readonly source: string;
  readonly arch: Arch;
  readonly runtime: Runtime;
  readonly handler: string;
  readonly model: ModelArtifact;
}

/** A zip build: function zip and runtime layer zip. */
export interface DeployableZipBuild extends DeployableCommon {
  readonly functionZip: BuildArtifact;
  readonly layerZip: BuildArtifact;
  readonly image?: undefined;
}

/** A container-image build (packaging "image"): no zips; the deploy workflow pushes the image before the apply. */
export interface DeployableImageBuild extends DeployableCommon {
  readonly image: ImageArtifact;
  readonly functionZip?: undefined;
  readonly layerZip?: undefined;
}

/** A build record checked against the configuration, with the files it lists found on disk: what the constructs deploy. */
export type DeployableBuild = DeployableZipBuild | DeployableImageBuild;

/** What the configuration expects the build to be; the config's names for the settings appear in messages. */
export interface BuildExpectation {
  readonly arch: Arch;
  readonly runtime: Runtime;
  /** Where the expectation comes from, for messages (`environments[dev]`). */
  readonly where: string;
  /** Deploy a build made with --allow-missing-golden (build.json's model.golden is "missing"). @default false */
  readonly allowMissingGolden?: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;

function resolveFromRoot(file: string): string {
  return path.isAbsolute(file) ? file : path.resolve(PROJECT_ROOT, file);
}

function buildCommand(expect: BuildExpectation, distDir: string): string {
  const out = path.resolve(PROJECT_ROOT, distDir) === path.join(PROJECT_ROOT, DEFAULT_DIST_DIR) ? '' : ` --out ${distDir}`;
  const runtime = expect.runtime === DEFAULT_RUNTIME ? '' : ` --runtime ${expect.runtime}`;
  return `npm run build -- --arch ${expect.arch}${runtime}${out}`;
}

class Fields {
  constructor(
    private readonly source: string,
    private readonly fix: string,
  ) {}

  fail(field: string, value: unknown, allowed: string): never {
    throw new BuildRecordError(this.source, field, value, allowed, `Rerun ${this.fix}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, value, 'an object');
    return value as Record<string, unknown>;
  }

  string(value: unknown, field: string, pattern?: RegExp, description = 'a non-empty string'): string {
    if (typeof value !== 'string' || value === '' || (pattern !== undefined && !pattern.test(value))) this.fail(field, value, description);
    return value;
  }

  count(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) this.fail(field, value, 'a whole number of bytes');
    return value;
  }

  memoryMb(value: unknown, field: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < LAMBDA_LIMITS.minMemoryMb || value > LAMBDA_LIMITS.maxMemoryMb) {
      this.fail(field, value, `a whole number of MB from ${LAMBDA_LIMITS.minMemoryMb} to ${LAMBDA_LIMITS.maxMemoryMb}`);
    }
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
    if (!(allowed as readonly unknown[]).includes(value)) this.fail(field, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return value as T;
  }

  /** A file the build wrote: it must exist with the size build.json recorded, or build.json is stale. */
  existing(file: string, field: string, bytes: number): string {
    const absolute = resolveFromRoot(file);
    if (!existsSync(absolute)) this.fail(field, file, `a file npm run build wrote; ${absolute} does not exist`);
    const size = statSync(absolute).size;
    if (size !== bytes) this.fail(field, file, `the file build.json describes (${bytes} bytes); it has ${size} bytes, so build.json is stale`);
    return absolute;
  }
}

function artifact(fields: Fields, artifacts: unknown[], name: string): BuildArtifact {
  const found = artifacts.find((a) => typeof a === 'object' && a !== null && (a as { name?: unknown }).name === name);
  if (found === undefined) fields.fail(`artifacts[name=${name}]`, undefined, `an artifact named "${name}"`);
  const entry = fields.object(found, `artifacts[name=${name}]`);
  const field = (key: string) => `artifacts[name=${name}].${key}`;
  const file = fields.string(entry['file'], field('file'));
  const bytes = fields.count(entry['bytes'], field('bytes'));
  return {
    name,
    file,
    path: fields.existing(file, field('file'), bytes),
    bytes,
    unzippedBytes: fields.count(entry['unzippedBytes'], field('unzippedBytes')),
    sha256: fields.string(entry['sha256'], field('sha256'), SHA256, '64 lowercase hex digits'),
  };
}

/**
 * Reads `<distDir>/build.json` and checks it against what the configuration expects (architecture, runtime), and
 * that the files it lists are there. Throws a BuildRecordError that says which command fixes the problem.
 */
export function readBuildRecord(distDir: string, expect: BuildExpectation): DeployableBuild {
  const source = path.join(resolveFromRoot(distDir), BUILD_RECORD_FILE);
  const fix = buildCommand(expect, distDir);
  if (!existsSync(source)) {
    throw new BuildRecordError(expect.where, 'distDir', distDir, `a folder holding the build.json that npm run build writes; ${source} does not exist`, `Run ${fix}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new BuildRecordError(source, 'contents', error instanceof Error ? error.message : String(error), 'JSON as npm run build writes it', `Rerun ${fix}`);
  }
  const fields = new Fields(source, fix);
  const json = fields.object(raw, '(root)');

  /** A setting the build must match: the configuration's value against the one build.json was built for. */
  const builtFor = <T extends string>(setting: 'arch' | 'runtime', what: string, built: T, expected: T): T => {
    if (built !== expected) {
      throw new BuildRecordError(expect.where, setting, expected, `"${built}", the ${what} ${source} was built for`, `Rerun ${fix} to build for ${expected}, or set ${setting} to "${built}"`);
    }
    return built;
  };
  const arch = builtFor('arch', 'architecture', fields.oneOf(json['arch'], 'arch', ARCHES), expect.arch);
  const runtime = builtFor('runtime', 'runtime', fields.oneOf(json['runtime'], 'runtime', RUNTIMES), expect.runtime);
  if (!Array.isArray(json['artifacts'])) fields.fail('artifacts', json['artifacts'], 'a list of artifacts');
  const artifacts = json['artifacts'] as unknown[];

  const model = fields.object(json['model'], 'model');
  const packaging = fields.oneOf(model['packaging'], 'model.packaging', MODEL_PACKAGINGS);
  const modelBytes = fields.count(model['bytes'], 'model.bytes');
  const modelFile = packaging === 's3' ? fields.string(model['file'], 'model.file', undefined, 'the model file to upload (packaging "s3")') : undefined;
  const sha256 = fields.string(model['sha256'], 'model.sha256', SHA256, '64 lowercase hex digits');
  const format = model['format'] === undefined ? 'onnx' : fields.oneOf(model['format'], 'model.format', MODEL_FORMATS);
  const shippedName = model['shippedName'] === undefined ? DEFAULT_MODEL_FILE : fields.string(model['shippedName'], 'model.shippedName');
  if (shippedName !== MODEL_FILE_OF_FORMAT[format]) fields.fail('model.shippedName', shippedName, `"${MODEL_FILE_OF_FORMAT[format]}", the file of model.format "${format}"`);
  const shippedSha256 = model['shippedSha256'] === undefined ? sha256 : fields.string(model['shippedSha256'], 'model.shippedSha256', SHA256, '64 lowercase hex digits');
  if (format === 'onnx' && shippedSha256 !== sha256) fields.fail('model.shippedSha256', shippedSha256, `"${sha256}", model.sha256, since model.onnx itself ships (model.format "onnx")`);
  if (model['golden'] === 'missing' && expect.allowMissingGolden !== true) {
    throw new BuildRecordError(
      expect.where,
      'allowMissingGolden',
      false,
      `a build whose model was checked against golden outputs; ${source} says model.golden is "missing" (built with --allow-missing-golden), so nothing showed that onnxruntime reproduces the training framework`,
      `Add golden.json to the bundle and rerun ${fix}, or set allowMissingGolden: true for this environment`,
    );
  }

  const common = {
    source,
    arch,
    runtime,
    handler: fields.string(json['handler'], 'handler', /^[\w.-]+\.[\w$]+$/, `a Lambda handler such as "${HANDLER}"`),
    model: Object.freeze({
      name: fields.string(model['name'], 'model.name'),
      version: fields.string(model['version'], 'model.version'),
      sha256,
      bytes: modelBytes,
      packaging,
      format,
      shippedName,
      shippedSha256,
      file: modelFile,
      path: modelFile === undefined ? undefined : fields.existing(modelFile, 'model.file', modelBytes),
      memoryFloorMb: model['memoryFloorMb'] === undefined ? undefined : fields.memoryMb(model['memoryFloorMb'], 'model.memoryFloorMb'),
    }),
  };
  if (packaging === 'image') return Object.freeze({ ...common, image: imageArtifact(fields, json['image'], arch) });
  return Object.freeze({ ...common, functionZip: artifact(fields, artifacts, ARTIFACT.function), layerZip: artifact(fields, artifacts, ARTIFACT.runtimeLayer) });
}

/**
 * build.json's `image`: every file of the context on disk with its recorded size, and the content sha256 (the tag)
 * recomputed from the files' list, so a stale or edited record cannot deploy under a tag that names other files.
 */
function imageArtifact(fields: Fields, value: unknown, arch: Arch): ImageArtifact {
  const image = fields.object(value, 'image');
  const file = fields.string(image['context'], 'image.context');
  const context = resolveFromRoot(file);
  if (!existsSync(context) || !statSync(context).isDirectory()) fields.fail('image.context', file, `the build context folder npm run build wrote; ${context} does not exist`);
  if (!Array.isArray(image['files'])) fields.fail('image.files', image['files'], 'a list of the context\'s files');
  const files: BuildRecordImageFile[] = (image['files'] as unknown[]).map((entry, i) => {
    const f = fields.object(entry, `image.files[${i}]`);
    const relative = fields.string(f['path'], `image.files[${i}].path`, /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$)).+$/, 'a path inside the context');
    const bytes = fields.count(f['bytes'], `image.files[${i}].bytes`);
    fields.existing(path.join(context, relative), `image.files[${i}].path`, bytes);
    return { path: relative, bytes, sha256: fields.string(f['sha256'], `image.files[${i}].sha256`, SHA256, '64 lowercase hex digits'), mode: fields.count(f['mode'], `image.files[${i}].mode`) };
  });
  if (!files.some((f) => f.path === 'Dockerfile')) fields.fail('image.files', files.map((f) => f.path).slice(0, 3), 'a list that includes the Dockerfile');
  const sha256 = fields.string(image['sha256'], 'image.sha256', SHA256, '64 lowercase hex digits');
  const computed = createHash('sha256').update(imageContentLines(files)).digest('hex');
  if (computed !== sha256) fields.fail('image.sha256', sha256, `"${computed}", the sha256 of the files build.json lists; build.json was edited or is stale`);
  const platform = fields.string(image['platform'], 'image.platform');
  if (platform !== IMAGE_PLATFORM[arch]) fields.fail('image.platform', platform, `"${IMAGE_PLATFORM[arch]}", the platform of arch "${arch}"`);
  const command = image['command'];
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' && c !== '')) fields.fail('image.command', command, 'the image\'s CMD, a list of strings');
  return Object.freeze({
    context,
    file,
    baseImage: fields.string(image['baseImage'], 'image.baseImage'),
    platform,
    command: Object.freeze([...(command as string[])]),
    bytes: fields.count(image['bytes'], 'image.bytes'),
    sha256,
  });
}


/** The zip build of a record, for what only zips have (the runtime layer); an image build fails naming `where`. */
export function zipBuild(build: DeployableBuild, where: string): DeployableZipBuild {
  if (build.image !== undefined) {
    throw new BuildRecordError(where, 'build', build.source, 'a zip build (model.packaging "zip" or "s3"); this one packages a container image, which carries onnxruntime itself', 'Rebuild with --package zip or s3, or deploy the image without a runtime layer');
  }
  return build;
}

/** Terraform's `filebase64sha256`: the base64 of the raw digest, from build.json's hex sha256. */
export function base64Sha256(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
