import test from 'ava';
import { createHash } from 'node:crypto';
import { copyFile, readFile, truncate } from 'node:fs/promises';
import path from 'node:path';
import { base64Sha256, readBuildRecord } from '../../../infra/build-record.js';
import { BuildRecordError } from '../../../infra/errors.js';
import { buildDist, editedDist, emptyDist, environment, runTempDir, serviceStack, synth } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

const EXPECT = { arch: 'arm64', runtime: 'nodejs24.x', where: 'environments[dev]' } as const;

test('reads the arch, runtime, handler and both zips of a real build', (t) => {
  const build = readBuildRecord(dist, EXPECT);
  t.is(build.arch, 'arm64');
  t.is(build.runtime, 'nodejs24.x');
  t.is(build.handler, 'index.handler');
  t.is(build.functionZip!.path, path.join(dist, 'function.zip'));
  t.is(build.layerZip!.path, path.join(dist, 'layer-arm64.zip'));
  t.regex(build.functionZip!.sha256, /^[0-9a-f]{64}$/);
});

test('reads the model of a zip-packaged build without a file to upload', (t) => {
  const { model } = readBuildRecord(dist, EXPECT);
  t.is(model.name, 'iris');
  t.is(model.version, '1');
  t.is(model.packaging, 'zip');
  t.is(model.path, undefined);
});

test('gives the base64 of the raw digest, as Terraform filebase64sha256 does', async (t) => {
  const { functionZip } = readBuildRecord(dist, EXPECT);
  const bytes = await readFile(functionZip!.path);
  t.is(base64Sha256(functionZip!.sha256), createHash('sha256').update(bytes).digest('base64'));
});

test('fails synth when build.json is missing, naming distDir and the build command', async (t) => {
  const empty = await emptyDist();
  const error = t.throws(() => synth(serviceStack(environment(empty))), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'distDir');
  t.is(error?.value, empty);
  t.true(error?.message.startsWith(`environments[dev]: distDir is "${empty}"; allowed: a folder holding the build.json that npm run build writes;`));
  t.true(error?.message.endsWith(`Run npm run build -- --arch arm64 --out ${empty}`));
});

test('fails synth when the build is for another arch, naming both and the rebuild', (t) => {
  const error = t.throws(() => synth(serviceStack(environment(dist, { arch: 'x86_64' }))), { instanceOf: BuildRecordError });
  t.is(
    error?.message,
    `environments[dev]: arch is "x86_64"; allowed: "arm64", the architecture ${path.join(dist, 'build.json')} was built for. ` +
      `Rerun npm run build -- --arch x86_64 --out ${dist} to build for x86_64, or set arch to "arm64"`,
  );
});

test('fails synth when the build is for another runtime, naming both', (t) => {
  const error = t.throws(() => synth(serviceStack(environment(dist, { runtime: 'nodejs22.x' }))), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'runtime');
  t.regex(error?.message ?? '', /runtime is "nodejs22\.x"; allowed: "nodejs24\.x", the runtime .* was built for\. Rerun npm run build -- --arch arm64 --runtime nodejs22\.x/);
});

test('fails synth for a build without golden outputs unless the environment allows it', async (t) => {
  const edited = await editedDist(dist, (json) => {
    json['model']['golden'] = 'missing';
  });
  const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'allowMissingGolden');
  t.regex(error?.message ?? '', /model\.golden is "missing" \(built with --allow-missing-golden\).*Add golden\.json to the bundle and rerun npm run build .*or set allowMissingGolden: true/);
  t.is(readBuildRecord(edited, { ...EXPECT, allowMissingGolden: true }).model.name, 'iris');
  t.is(readBuildRecord(dist, EXPECT).model.name, 'iris', 'a build with golden outputs needs no setting');
});

test('refuses a build.json whose zip is missing', async (t) => {
  const edited = await editedDist(dist, (json) => {
    json['artifacts'][0]['file'] = path.join(dist, 'gone.zip');
  });
  const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'artifacts[name=function].file');
  t.regex(error?.message ?? '', /gone\.zip does not exist/);
});

test('refuses a build.json whose zip no longer has the recorded size', async (t) => {
  const zip = path.join(await runTempDir('truncated-'), 'function.zip');
  const edited = await editedDist(dist, (json) => {
    json['artifacts'][0]['file'] = zip;
  });
  await copyFile(path.join(dist, 'function.zip'), zip);
  await truncate(zip, 10);
  const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
  t.regex(error?.message ?? '', /it has 10 bytes, so build\.json is stale/);
});

test('refuses a build.json without a handler', async (t) => {
  const edited = await editedDist(dist, (json) => {
    delete json['handler'];
  });
  const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
  t.is(error?.message, `${path.join(edited, 'build.json')}: handler is unset; allowed: a Lambda handler such as "index.handler". Rerun npm run build -- --arch arm64 --out ${edited}`);
});

test('refuses an S3-packaged model without the file to upload', async (t) => {
  const edited = await editedDist(dist, (json) => {
    json['model']['packaging'] = 's3';
  });
  const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'model.file');
});

test('reads the memory floor a build recorded, and refuses one Lambda has no size for', async (t) => {
  const recorded = await editedDist(dist, (json) => {
    json['model']['memoryFloorMb'] = 640;
  });
  t.is(readBuildRecord(recorded, EXPECT).model.memoryFloorMb, 640);
  const none = await editedDist(dist, (json) => {
    delete json['model']['memoryFloorMb'];
  });
  t.is(readBuildRecord(none, EXPECT).model.memoryFloorMb, undefined, 'a build without a floor has none');
  const bad = await editedDist(dist, (json) => {
    json['model']['memoryFloorMb'] = 100.5;
  });
  const error = t.throws(() => readBuildRecord(bad, EXPECT), { instanceOf: BuildRecordError });
  t.is(error?.setting, 'model.memoryFloorMb');
  t.regex(error?.message ?? '', /model\.memoryFloorMb is 100\.5; allowed: a whole number of MB from 128 to 10240/);
});
