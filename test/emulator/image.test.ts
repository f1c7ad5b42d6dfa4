// The container-image build (`npm run build -- --package image`): its staged file tree runs under AWS's Runtime
// Interface Emulator as the image would run it, and its Dockerfile passes hadolint.
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BuildRecord } from '../../functions/contract/build-record.js';
import { HADOLINT_BIN } from '../../tools/testbed/paths.js';
import { buildAndStage, readBuildRecord } from '../helpers/build.js';
import { startFunction } from '../helpers/emulator.js';
import { MODELS, maxAbsDiff, readGolden, simulatedHttpApiEvent } from '../helpers/function.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';
import type { StagedArtifacts } from '../../tools/stage-artifacts.js';

const cleanup = new SuiteCleanup();
let built: { readonly outDir: string; readonly staged: StagedArtifacts; readonly record: BuildRecord } | undefined;

test.before(async () => {
  const { outDir, staged } = await buildAndStage(cleanup, ['--package', 'image']);
  built = { outDir, staged, record: await readBuildRecord(outDir) };
});
test.after.always(() => cleanup.run());

function image(): NonNullable<typeof built> {
  if (built === undefined) throw new Error('the image build in test.before did not finish');
  return built;
}

test('the staged image tree answers every golden row within tolerance under the Lambda runtime', async (t) => {
  const { staged } = image();
  t.false(existsSync(staged.optDir), 'the image adds nothing under /opt: onnxruntime-node must come from the task root');
  const fn = await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, handler: staged.build.handler, env: { METRICS_NAMESPACE: 'ImageTest' } });
  t.teardown(() => fn.stop());
  const golden = await readGolden('iris');
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
  t.false(invocation.initError, invocation.logs);
  const payload = invocation.payload as { statusCode: number; body: string };
  t.is(payload.statusCode, 200, payload.body);
  const body = JSON.parse(payload.body) as { probabilities: number[][]; model_version: string };
  t.is(body.model_version, 'iris@1');
  t.regex(fn.logs(), /"message":"model loaded".*"format":"ort"/);
  t.true(maxAbsDiff(body.probabilities.flat(), golden.outputs.flat(2) as number[]) <= (golden.tolerance ?? 1e-4));
});

test('the image tree of a regression bundle answers its golden rows within tolerance too', async (t) => {
  const { staged } = await buildAndStage(cleanup, ['--package', 'image', '--model', path.join(MODELS, 'diabetes')]);
  const fn = await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, handler: staged.build.handler, env: { METRICS_NAMESPACE: 'ImageTest' } });
  t.teardown(() => fn.stop());
  const golden = await readGolden('diabetes');
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.inputs })));
  t.false(invocation.initError, invocation.logs);
  const payload = invocation.payload as { statusCode: number; body: string };
  t.is(payload.statusCode, 200, payload.body);
  const body = JSON.parse(payload.body) as { prediction: number[] };
  t.true(maxAbsDiff(body.prediction, golden.outputs.flat(2) as number[]) <= (golden.tolerance ?? 1e-4));
});

test('the image tree holds onnxruntime-node for the build architecture in the task root, and nothing for another', (t) => {
  const { staged, record } = image();
  const linux = path.join(staged.taskRoot, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux');
  const nodeArch = record.arch === 'arm64' ? 'arm64' : 'x64';
  t.deepEqual(readdirSync(linux), [nodeArch]);
  t.deepEqual(readdirSync(path.join(staged.taskRoot, 'model')).sort(), ['baseline.json', 'model.json', 'model.ort'], 'the model in ORT format, as the build ships it by default, with its training baseline');
});

test('the Dockerfile passes hadolint with no findings', async (t) => {
  const dockerfile = path.join(image().outDir, 'image', 'Dockerfile');
  // hadolint exits 1 with its findings as JSON; anything else (it is missing, it crashed) fails here too.
  const run = await promisify(execFile)(HADOLINT_BIN, ['--no-color', '--format', 'json', dockerfile]).then(
    ({ stdout }) => ({ stdout, code: 0 as number | string | undefined }),
    (error: { stdout?: string; code?: number | string }) => ({ stdout: error.stdout ?? '', code: error.code }),
  );
  t.deepEqual(JSON.parse(run.stdout) as unknown, [], run.stdout);
  t.is(run.code, 0);
});

test('build.json lists every file of the image context with its size, mode and sha256, and nothing else', (t) => {
  const { outDir, record } = image();
  const context = path.join(outDir, 'image');
  const onDisk = (readdirSync(context, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => statSync(path.join(context, file)).isFile())
    .map((file) => {
      const data = readFileSync(path.join(context, file));
      return { path: file.split(path.sep).join('/'), bytes: data.length, sha256: createHash('sha256').update(data).digest('hex'), mode: statSync(path.join(context, file)).mode & 0o777 };
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  t.deepEqual(record.image?.files, onDisk);
  t.is(record.image?.bytes, onDisk.reduce((sum, f) => sum + f.bytes, 0));
  t.deepEqual(record.artifacts, []);
});
