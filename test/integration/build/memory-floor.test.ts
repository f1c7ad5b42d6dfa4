import test from 'ava';
import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MEMORY_FLOOR_FILE } from '../../../functions/contract/build-record.js';
import { readBuildRecord, runBuildInTempDir } from '../../helpers/build.js';
import { MODELS } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

// A bundle's memory-floor.json (written by `npm run tune -- --floor`) reaches build.json only when it was measured
// for the model file being built.

async function irisWithFloor(t: Parameters<typeof tempDir>[0], floor: Record<string, unknown> | string): Promise<string> {
  const dir = path.join(await tempDir(t, 'iris-floor-'), 'iris');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  await writeFile(path.join(dir, MEMORY_FLOOR_FILE), typeof floor === 'string' ? floor : JSON.stringify(floor));
  return dir;
}

async function irisSha(): Promise<string> {
  return createHash('sha256').update(await readFile(path.join(MODELS, 'iris', 'model.onnx'))).digest('hex');
}

test("a floor measured for the bundle's model is recorded in build.json", async (t) => {
  const model = await irisWithFloor(t, { model: 'iris@1', modelSha256: await irisSha(), memoryFloorMb: 640 });
  const run = await runBuildInTempDir(t, ['--model', model]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /memory floor: 640 MB, the smallest size that answered 256 rows \(.*memory-floor\.json\)/);
  t.is((await readBuildRecord(run.outDir)).model.memoryFloorMb, 640);
});

test('a floor measured for another model file is left out, and the build says why', async (t) => {
  const model = await irisWithFloor(t, { modelSha256: 'ab'.repeat(32), memoryFloorMb: 640 });
  const run = await runBuildInTempDir(t, ['--model', model]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /WARNING memory floor not recorded: .*memory-floor\.json was measured for another model\.onnx \(sha256 abababababab…, this one is [0-9a-f]{12}…\); rerun npm run tune -- --floor --model /);
  t.is((await readBuildRecord(run.outDir)).model.memoryFloorMb, undefined);
});

test('a bundle without a floor builds as before, with none recorded', async (t) => {
  const model = await irisWithFloor(t, '{}');
  await rm(path.join(model, MEMORY_FLOOR_FILE));
  const run = await runBuildInTempDir(t, ['--model', model]);
  t.is(run.code, 0, run.stderr);
  t.false('memoryFloorMb' in (await readBuildRecord(run.outDir)).model);
});

const malformed = [
  { what: 'not JSON', floor: 'memoryFloorMb=640', message: /memory-floor\.json is not JSON .*; rerun npm run tune -- --floor --model .*, or delete the file/ },
  { what: 'without the model it was measured for', floor: { memoryFloorMb: 640 }, message: /memory-floor\.json has no "modelSha256"/ },
  { what: 'with a size Lambda does not have', floor: { modelSha256: 'x', memoryFloorMb: 64 }, message: /memory-floor\.json: "memoryFloorMb" is 64; expected a whole number of MB from 128 to 10240, or null/ },
];
for (const { what, floor, message } of malformed) {
  test(`a floor file ${what} fails the build with the file and the fix`, async (t) => {
    const run = await runBuildInTempDir(t, ['--model', await irisWithFloor(t, floor)]);
    t.is(run.code, 1);
    t.regex(run.stderr, message);
  });
}
