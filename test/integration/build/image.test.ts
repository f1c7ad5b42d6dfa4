import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { cp, mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { imageRuntimeEntries, writeImageContext } from '../../../commands/build/image-context.js';
import { IMAGE_MAX_BYTES } from '../../../functions/contract/lambda-limits.js';
import { readBuildRecord, runBuildInTempDir } from '../../helpers/build.js';
import { MODELS } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

// Every case that builds runs `npm run build` itself, into its own output folder, removed when the case ends.

test('two image builds from the same inputs give the same files, sha256s and image tag', async (t) => {
  const [first, second] = await Promise.all([runBuildInTempDir(t, ['--package', 'image']), runBuildInTempDir(t, ['--package', 'image'])]);
  t.is(first.code, 0, first.stderr);
  t.is(second.code, 0, second.stderr);
  const [a, b] = await Promise.all([readBuildRecord(first.outDir), readBuildRecord(second.outDir)]);
  t.is(a.model.packaging, 'image');
  t.truthy(a.image);
  t.deepEqual(a.image?.files, b.image?.files);
  t.is(a.image?.sha256, b.image?.sha256);
  t.regex(a.image?.sha256 ?? '', /^[0-9a-f]{64}$/);
  t.is(a.image?.baseImage, 'public.ecr.aws/lambda/nodejs:24');
  t.is(a.image?.platform, 'linux/arm64');
  t.deepEqual(a.image?.command, ['index.handler']);
  t.true(first.stdout.includes('packaging: image, as asked (--package image)'), first.stdout);
  t.is(a.model.format, 'ort');
  t.true(a.image?.files.some((f) => f.path === 'rootfs/var/task/model/model.ort' && f.sha256 === a.model.shippedSha256));
  t.false(a.image?.files.some((f) => f.path === 'rootfs/var/task/model/model.onnx'));
  t.true(first.stdout.includes(`image tag (content sha256): ${a.image?.sha256 ?? ''}`), first.stdout);
});

test('an image for x86_64 starts from the same base image for linux/amd64 and holds the x64 binaries', async (t) => {
  const run = await runBuildInTempDir(t, ['--package', 'image', '--arch', 'x86_64', '--runtime', 'nodejs22.x']);
  t.is(run.code, 0, run.stderr);
  const record = await readBuildRecord(run.outDir);
  t.is(record.image?.platform, 'linux/amd64');
  t.is(record.image?.baseImage, 'public.ecr.aws/lambda/nodejs:22');
  const binaries = (record.image?.files ?? []).filter((f) => f.path.includes('/bin/napi-v6/linux/'));
  t.true(binaries.length > 0);
  t.true(binaries.every((f) => f.path.includes('/linux/x64/') && f.mode === 0o755));
});

test('auto packaging keeps a small model in the zip and says why', async (t) => {
  const run = await runBuildInTempDir(t);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /packaging: zip: model\.ort is 0\.0 MB, within the 20\.0 MB zip threshold, and function, model and layer unzip to [\d.]+ MB of Lambda's 250\.0 MB/);
  t.false(existsSync(path.join(run.outDir, 'image')));
});

test('auto packaging sends a model over the zip threshold to S3, saying why and what /tmp it needs', async (t) => {
  const run = await runBuildInTempDir(t, ['--package', 'auto', '--zip-model-limit-mb', '0.0001']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /packaging: s3: model\.ort is 0\.0 MB, over the 0\.0 MB zip threshold \(--zip-model-limit-mb\); it fits \/tmp, downloaded at init from the model store \(it needs --ephemeral-storage-mb 512 or more\)/);
  t.is((await readBuildRecord(run.outDir)).model.packaging, 's3');
});

test('--package and its older name --model-packaging must agree when both are given', async (t) => {
  const run = await runBuildInTempDir(t, ['--package', 'image', '--model-packaging', 's3']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^build failed: --package image and --model-packaging s3 disagree; --model-packaging is the older name of --package: give one of them\n$/);
});

test('an unknown --package value is refused with the values allowed', async (t) => {
  const run = await runBuildInTempDir(t, ['--package', 'docker']);
  t.is(run.code, 1);
  t.regex(run.stderr, /--package docker is not supported; use auto or zip or s3 or image/);
});

/** A copy of the iris bundle whose model.onnx is a sparse file of `bytes`: its size without its disk space. */
async function sparseBundle(t: ExecutionContext, bytes: number): Promise<string> {
  const dir = await tempDir(t, 'huge-bundle-');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  const file = await open(path.join(dir, 'model.onnx'), 'r+');
  await file.truncate(bytes);
  await file.close();
  return dir;
}

for (const packaging of ['image', 'auto']) {
  test(`a model over 10 GB fails the build (--package ${packaging}) with its size and the image limit, before it is read`, async (t) => {
    const bundle = await sparseBundle(t, IMAGE_MAX_BYTES + 1024 * 1024 * 1024);
    const run = await runBuildInTempDir(t, ['--model', bundle, '--package', packaging]);
    t.is(run.code, 1);
    t.regex(run.stderr, /model\.onnx is 11264\.0 MB, over the 10240\.0 MB a Lambda container image may hold uncompressed \(base image included\); no Lambda packaging can carry it: quantize or shrink the model/);
    t.false(existsSync(path.join(run.outDir, 'build.json')));
  });
}

test('an image for an architecture the runtime layer has no onnxruntime binaries for is refused, naming the folder', async (t) => {
  const nodeModules = await tempDir(t, 'node-modules-');
  await mkdir(path.join(nodeModules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'), { recursive: true });
  await writeFile(path.join(nodeModules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'), 'x');
  const error = t.throws(() => imageRuntimeEntries(nodeModules, 'arm64'));
  t.is(
    error?.message,
    `--arch arm64: the runtime layer has no onnxruntime-node binaries for linux/arm64 (${path.join(nodeModules, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'arm64')} is missing or empty), so an image for arm64 could not load onnxruntime; ` +
      'build the image for an architecture onnxruntime-node ships (see node_modules/onnxruntime-node/bin/napi-v6/linux/), or install an onnxruntime-node version that ships this one',
  );
});

test('image files over the limit fail with their size and the limit, and nothing is written', async (t) => {
  const dir = path.join(await tempDir(t, 'context-'), 'image');
  const error = t.throws(() => writeImageContext(dir, 'FROM x\n', [{ path: 'model/model.onnx', data: Buffer.alloc(2 * 1024 * 1024) }], 1024 * 1024));
  t.is(error?.message, "the image's files are 2.0 MB, over the 1.0 MB a Lambda container image may hold uncompressed (base image included); quantize or shrink the model");
  t.false(existsSync(dir));
});
