import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readZip } from '../../../commands/build/zip.js';
import { paddedBundle, readBuildRecord, runBuild, runBuildInTempDir } from '../../helpers/build.js';
import { MODELS, ROOT, alteredBundle } from '../../helpers/function.js';
import { multiIoBundle } from '../../helpers/ort-bundles.js';
import { tempDir } from '../../helpers/temp-dir.js';

// Every case runs `npm run build` itself, into its own output folder, which is removed when the case ends.

test('two builds from the same inputs give byte-identical zips and the SPEC build.json', async (t) => {
  const [first, second] = await Promise.all([runBuildInTempDir(t), runBuildInTempDir(t)]);
  t.is(first.code, 0, first.stderr);
  t.is(second.code, 0, second.stderr);
  const a = await readBuildRecord(first.outDir);
  const b = await readBuildRecord(second.outDir);
  t.deepEqual(
    a.artifacts.map((x) => x.sha256),
    b.artifacts.map((x) => x.sha256),
  );
  t.is(a.arch, 'arm64');
  t.is(a.runtime, 'nodejs24.x');
  t.is(a.handler, 'index.handler');
  t.deepEqual(
    a.artifacts.map((x) => x.name),
    ['function', 'runtime-layer'],
  );
  for (const artifact of a.artifacts) {
    const bytes = await readFile(path.join(first.outDir, path.basename(artifact.file)));
    t.is(bytes.length, artifact.bytes);
    t.is(createHash('sha256').update(bytes).digest('hex'), artifact.sha256);
    const unzipped = Object.values(readZip(bytes)).reduce((sum, data) => sum + data.length, 0);
    t.is(unzipped, artifact.unzippedBytes);
  }
  const iris = await readFile(path.join(MODELS, 'iris', 'model.onnx'));
  const golden = await readFile(path.join(MODELS, 'iris', 'golden.json'));
  const ort = Buffer.from(readZip(await readFile(path.join(first.outDir, 'function.zip')))['model/model.ort']!);
  t.deepEqual(a.model, {
    name: 'iris',
    version: '1',
    // model.onnx's: the model's identity, whatever ships.
    sha256: createHash('sha256').update(iris).digest('hex'),
    bytes: ort.length,
    packaging: 'zip',
    format: 'ort',
    shippedName: 'model.ort',
    shippedSha256: createHash('sha256').update(ort).digest('hex'),
    onnxBytes: iris.length,
    task: 'classification',
    maxBatch: 256,
    golden: {
      rows: 45,
      tolerance: 1e-4,
      maxDiff: a.model.golden === 'missing' ? -1 : a.model.golden.maxDiff,
      ortMaxDiff: a.model.golden === 'missing' ? -1 : a.model.golden.ortMaxDiff!,
      file: path.join(first.outDir, 'golden.json'),
      sha256: createHash('sha256').update(golden).digest('hex'),
    },
    // models/iris/memory-floor.json, measured for this model file (test/integration/build/memory-floor.test.ts).
    memoryFloorMb: 128,
  });
  t.true(a.model.golden !== 'missing' && a.model.golden.maxDiff < 1e-6 && a.model.golden.ortMaxDiff! < 1e-6);
  t.regex(first.stdout, /^model format: ORT, model\.ort 2\.\d KB against model\.onnx's 0\.5 KB \(\d\.\d\dx\), golden rows within \d\.\de-\d+; init uses its bytes in place/m);
  t.deepEqual(await readFile(path.join(first.outDir, 'golden.json')), golden, 'the golden rows travel with the build, byte for byte');
  t.regex(first.stdout, /function \+ layers\s+[\d.]+ MB\s+250\.0 MB unzipped\s+[\d.]+ MB/);
});

test('the function zip holds the ES module bundle, its source map, the S3 and tracer chunks, and the model in ORT format with its baseline at the handler path', async (t) => {
  const run = await runBuildInTempDir(t);
  t.is(run.code, 0, run.stderr);
  const files = readZip(await readFile(path.join(run.outDir, 'function.zip')));
  t.deepEqual(Object.keys(files).sort(), [
    'index.mjs',
    'index.mjs.map',
    'model/baseline.json',
    'model/model.json',
    'model/model.ort',
    's3-download.mjs',
    's3-download.mjs.map',
    'xray-tracer.mjs',
    'xray-tracer.mjs.map',
  ]);
  t.deepEqual(Buffer.from(files['model/baseline.json']!), await readFile(path.join(MODELS, 'iris', 'baseline.json')), 'the bundle\'s baseline, as it is');
  t.true(existsSync(path.join(run.outDir, 'baseline.json')), 'a copy beside build.json, for npm run drift');
  t.true(indexText(files).includes('import("./xray-tracer.mjs")'), 'the tracer chunk is loaded on demand');
  t.false(indexText(files).includes('BasicTracerProvider'), 'the OpenTelemetry SDK is not in the main bundle');
  t.is(Buffer.from(files['model/model.ort']!).toString('latin1', 4, 8), 'ORTM', 'the ORT format\'s file identifier');
  const index = Buffer.from(files['index.mjs']!).toString();
  t.regex(index, /\(import\.meta\.url\)\("onnxruntime-node"\)/, 'onnxruntime-node comes from the layer through createRequire');
  t.notRegex(index, /from\s*"onnxruntime-node"/, 'no ESM import of onnxruntime-node, which NODE_PATH cannot satisfy');
  t.true(index.includes('import("./s3-download.mjs")'), 'the SDK chunk is loaded on demand');
  t.false(index.includes('S3Client'), 'the SDK is not in the main bundle');
  t.true(Buffer.from(files['s3-download.mjs']!).toString().includes('GetObjectCommand'));
});

function indexText(files: Record<string, Uint8Array>): string {
  return Buffer.from(files['index.mjs']!).toString();
}

test('the arm64 layer holds onnxruntime for linux/arm64 only, under nodejs/node_modules', async (t) => {
  const run = await runBuildInTempDir(t, ['--arch', 'arm64']);
  t.is(run.code, 0, run.stderr);
  const paths = Object.keys(readZip(await readFile(path.join(run.outDir, 'layer-arm64.zip'))));
  t.true(paths.every((p) => p.startsWith('nodejs/node_modules/onnxruntime-node/') || p.startsWith('nodejs/node_modules/onnxruntime-common/')));
  const binaries = paths.filter((p) => p.includes('/bin/'));
  t.true(binaries.length >= 2);
  t.true(binaries.every((p) => p.startsWith('nodejs/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/')), binaries.join(', '));
  t.true(paths.includes('nodejs/node_modules/onnxruntime-common/dist/cjs/index.js'));
});

test('--arch x86_64 builds the x64 layer and says so in build.json', async (t) => {
  const run = await runBuildInTempDir(t, ['--arch', 'x86_64']);
  t.is(run.code, 0, run.stderr);
  const json = await readBuildRecord(run.outDir);
  t.is(json.arch, 'x86_64');
  t.is(json.artifacts[1]!.file.endsWith('layer-x86_64.zip'), true);
  const binaries = Object.keys(readZip(await readFile(path.join(run.outDir, 'layer-x86_64.zip')))).filter((p) => p.includes('/bin/'));
  t.true(binaries.every((p) => p.includes('/linux/x64/')), binaries.join(', '));
});

test('--runtime nodejs22.x is recorded; an unknown runtime is refused', async (t) => {
  const ok = await runBuildInTempDir(t, ['--runtime', 'nodejs22.x']);
  t.is(ok.code, 0, ok.stderr);
  t.is((await readBuildRecord(ok.outDir)).runtime, 'nodejs22.x');
  const bad = await runBuildInTempDir(t, ['--runtime', 'nodejs20.x']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--runtime nodejs20\.x is not supported; use nodejs24\.x or nodejs22\.x/);
});

test('an unknown --arch fails with the choices and writes no build.json', async (t) => {
  const run = await runBuildInTempDir(t, ['--arch', 'mips']);
  t.is(run.code, 1);
  t.regex(run.stderr, /build failed: --arch mips is not supported; use arm64 or x86_64/);
  t.false(existsSync(path.join(run.outDir, 'build.json')));
});

test('a missing bundle fails with its path', async (t) => {
  const run = await runBuildInTempDir(t, ['--model', path.join(ROOT, 'models', 'no-such-model')]);
  t.is(run.code, 1);
  t.regex(run.stderr, /models\/no-such-model is not a folder; pass --model <bundle dir>/);
});

test('a bundle whose manifest disagrees with its model fails and leaves no build.json behind', async (t) => {
  const out = await runBuildInTempDir(t);
  t.is(out.code, 0, out.stderr);
  const bad = await alteredBundle(t, path.join(MODELS, 'iris'), (m) => {
    m['labels'] = ['a', 'b'];
  });
  const run = await runBuild(['--model', bad], out.outDir);
  t.is(run.code, 1);
  t.regex(run.stderr, /has 3 probability columns but model\.json lists 2 labels/);
  t.false(existsSync(path.join(out.outDir, 'build.json')), 'the earlier success no longer stands');
});

test('a bundle whose golden outputs differ from the model by more than 1e-4 does not build', async (t) => {
  const dir = await alteredBundle(t, path.join(MODELS, 'diabetes'), () => undefined);
  const golden = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8')) as { outputs: number[] };
  golden.outputs[3]! += 0.001;
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify(golden));
  const run = await runBuildInTempDir(t, ['--model', dir]);
  t.is(run.code, 1);
  t.regex(run.stderr, /differ from golden\.json by (9\.\d\de-4|1\.\d\de-3) \(row 3\); the limit is 0\.0001/);
});

test('a model over the packaging threshold fails when zip packaging is forced', async (t) => {
  const run = await runBuildInTempDir(t, ['--model-packaging', 'zip', '--zip-model-limit-mb', '0.0001']);
  t.is(run.code, 1);
  t.regex(run.stderr, /model\.ort is 0\.0 MB, over the 0\.0 MB packaging threshold.*use --package s3 \(or auto\)/);
});

test('a model over the packaging threshold becomes a separate artifact for S3, in ORT format, with its sha256', async (t) => {
  const run = await runBuildInTempDir(t, ['--zip-model-limit-mb', '0.0001']);
  t.is(run.code, 0, run.stderr);
  const json = await readBuildRecord(run.outDir);
  t.is(json.model.packaging, 's3');
  t.is(json.model.format, 'ort');
  t.is(path.basename(json.model.file!), `model-${json.model.sha256.slice(0, 16)}.ort`);
  const file = await readFile(path.join(run.outDir, path.basename(json.model.file!)));
  t.is(file.length, json.model.bytes);
  t.is(createHash('sha256').update(file).digest('hex'), json.model.shippedSha256!);
  const files = Object.keys(readZip(await readFile(path.join(run.outDir, 'function.zip'))));
  t.true(files.includes('model/model.json'));
  t.false(files.includes('model/model.onnx') || files.includes('model/model.ort'));
  t.regex(run.stdout, /model\s+\S*model-[0-9a-f]{16}\.ort/);
});

test('--optimize none ships model.onnx itself, as builds did before the ORT format', async (t) => {
  const run = await runBuildInTempDir(t, ['--optimize', 'none']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^model format: ONNX, as asked \(--optimize none\); model\.onnx 0\.5 KB$/m);
  const files = readZip(await readFile(path.join(run.outDir, 'function.zip')));
  t.deepEqual(Buffer.from(files['model/model.onnx']!), await readFile(path.join(MODELS, 'iris', 'model.onnx')));
  t.false('model/model.ort' in files);
  const { model } = await readBuildRecord(run.outDir);
  t.like(model, { format: 'onnx', shippedName: 'model.onnx', shippedSha256: model.sha256, bytes: model.onnxBytes! });
  t.false(model.golden !== 'missing' && 'ortMaxDiff' in model.golden);
});

test('--optimize ort fails the build when model.ort cannot ship, and an unknown value is refused', async (t) => {
  const dir = path.join(await tempDir(t, 'bare-'), 'flowers');
  await mkdir(dir);
  await copyFile(path.join(MODELS, 'iris', 'model.onnx'), path.join(dir, 'model.onnx'));
  const run = await runBuildInTempDir(t, ['--model', dir, '--allow-missing-golden', '--optimize', 'ort']);
  t.is(run.code, 1);
  t.regex(run.stderr, /--optimize ort: model\.ort cannot ship: the bundle has no golden\.json to check model\.ort against \(--allow-missing-golden\); build with --optimize auto or none to ship model\.onnx/);
  t.false(existsSync(path.join(run.outDir, 'build.json')));
  const unknown = await runBuildInTempDir(t, ['--optimize', 'fast']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /--optimize fast is not supported; use auto or ort or none/);
});

test('a function zip over the 50 MB direct-upload limit fails with the size, the limit and the fix', async (t) => {
  const big = await paddedBundle(t, path.join(MODELS, 'diabetes'), 52 * 1024 * 1024);
  // The padding is an unknown protobuf field, which model.ort would leave out: this build ships model.onnx.
  const run = await runBuildInTempDir(t, ['--model', big, '--model-packaging', 'zip', '--zip-model-limit-mb', '100', '--optimize', 'none']);
  t.is(run.code, 1);
  t.regex(run.stderr, /function \(.*function\.zip\) is 52\.\d MB zipped; the limit is 50\.0 MB\. Fix: package the model for S3/);
  t.false(existsSync(path.join(run.outDir, 'build.json')));
  t.false(existsSync(path.join(run.outDir, 'function.zip')), 'nothing is written when a budget fails');
});

test('an S3 model larger than its share of /tmp fails and names --ephemeral-storage-mb', async (t) => {
  const big = await paddedBundle(t, path.join(MODELS, 'diabetes'), 420 * 1024 * 1024);
  // As above, model.onnx ships: model.ort would leave the padding out.
  const run = await runBuildInTempDir(t, ['--model', big, '--optimize', 'none']);
  t.is(run.code, 1);
  t.regex(run.stderr, /the model \(.*\) is 420\.0 MB, downloaded to \/tmp at init; the limit is 409\.6 MB\. Fix: raise --ephemeral-storage-mb \(now 512/);
  const roomy = await runBuildInTempDir(t, ['--model', big, '--ephemeral-storage-mb', '1024', '--optimize', 'none']);
  t.is(roomy.code, 0, roomy.stderr);
});

test('a folder holding only model.onnx builds only when told to go on without golden outputs, and says so', async (t) => {
  const dir = path.join(await tempDir(t, 'bare-'), 'flowers');
  await mkdir(dir);
  await copyFile(path.join(MODELS, 'iris', 'model.onnx'), path.join(dir, 'model.onnx'));
  const refused = await runBuildInTempDir(t, ['--model', dir]);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /golden\.json is missing, so nothing shows that onnxruntime reproduces your training framework's outputs/);
  t.regex(refused.stderr, /--allow-missing-golden/);
  t.false(existsSync(path.join(refused.outDir, 'build.json')));

  // A golden.json left by an earlier build in the same folder must not pass for this build's.
  const out = await tempDir(t, 'dist-');
  await writeFile(path.join(out, 'golden.json'), '{"inputs":[[1]],"outputs":[1]}');
  const run = await runBuild(['--model', dir, '--allow-missing-golden'], out);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /NO golden\.json/);
  t.regex(run.stdout, /^model format: ONNX, model\.onnx 0\.5 KB; model\.ort not shipped: the bundle has no golden\.json to check model\.ort against \(--allow-missing-golden\)$/m);
  t.false(existsSync(path.join(out, 'golden.json')));
  const built = await readBuildRecord(run.outDir);
  t.is(built.model.name, 'flowers');
  t.is(built.model.version, built.model.sha256.slice(0, 12));
  t.is(built.model.task, 'tensor');
  t.is(built.model.golden, 'missing');
  // Inside Lambda the folder is model/, so the derived manifest ships as model.json.
  const files = readZip(await readFile(path.join(run.outDir, 'function.zip')));
  t.deepEqual(JSON.parse(Buffer.from(files['model/model.json']!).toString()), { name: 'flowers', version: built.model.version, task: 'tensor', maxBatch: 256 });
});

test('a quantized bundle is judged by top-1 agreement and its stated largest error', async (t) => {
  const dir = await tempDir(t, 'agreement-');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  const golden = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8')) as { inputs: number[][]; outputs: number[][] };
  // Shift every golden probability by 0.01, as a quantized model's outputs would differ from its float model's.
  const shifted = { ...golden, outputs: golden.outputs.map((row) => row.map((p) => p + 0.01)), tolerance: 0.02, minTop1Agreement: 0.99 };
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify(shifted));
  const run = await runBuildInTempDir(t, ['--model', dir]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /top-1 agreement 100\.0% \(floor 99%\)/);
  t.is((await readBuildRecord(run.outDir)).model.golden !== 'missing', true);

  await writeFile(path.join(dir, 'golden.json'), JSON.stringify({ ...shifted, tolerance: 0.005 }));
  const tooFar = await runBuildInTempDir(t, ['--model', dir]);
  t.is(tooFar.code, 1);
  t.regex(tooFar.stderr, /differ from golden\.json by 1\.00e-2 .* the limit is 0\.005/);

  // Swap two rows' expected outputs: the best label then disagrees on those rows.
  const swapped = [...shifted.outputs];
  for (let r = 0; r < 10; r++) swapped[r] = [...swapped[r]!].reverse();
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify({ ...shifted, outputs: swapped, tolerance: 0.99 }));
  const disagreeing = await runBuildInTempDir(t, ['--model', dir]);
  t.is(disagreeing.code, 1);
  t.regex(disagreeing.stderr, /the top-1 label agrees with golden\.json on \d+ of 45 rows/);
});

test('a tensor model with several inputs ships as model.ort once it passes its golden rows', async (t) => {
  const run = await runBuildInTempDir(t, ['--model', await multiIoBundle(t)]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^model format: ORT, model\.ort [\d.]+ KB against model\.onnx's [\d.]+ KB \([\d.]+x\), golden rows within /m);
  const { model } = await readBuildRecord(run.outDir);
  t.like(model, { name: 'multi-io', task: 'tensor', format: 'ort', golden: { rows: 3 } });
  const files = readZip(await readFile(path.join(run.outDir, 'function.zip')));
  t.truthy(files['model/model.ort']);
  t.is(JSON.parse(Buffer.from(files['model/model.json']!).toString()).name, 'multi-io');
});
