// A tiny case of the bench's cold-start curve (bench/cold-start-curve.ts): one 1 MB model, one run of each way of
// loading it, on the built function staged as Lambda unpacks it. Every answer is checked against golden.json inside
// the measurement, which throws on a wrong one.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFor } from '../../bench/artifact-sizes.js';
import { coldStartCurve, curveCases, curveMarkdown } from '../../bench/cold-start-curve.js';
import { hostArch } from '../../tools/emulator.js';
import { stageArtifacts, type StagedArtifacts } from '../../tools/stage-artifacts.js';
import { MODELS } from '../helpers/function.js';

let staged: StagedArtifacts;
let work: string;

test.before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cold-start-curve-'));
  staged = await stageArtifacts((await buildFor(hostArch(), path.join(work, 'dist'), path.join(MODELS, 'iris'))).outDir);
});

test.after.always(async () => {
  await staged?.remove();
  await rm(work, { recursive: true, force: true });
});

test.serial('a 1 MB model is measured in the zip and from S3 as model.ort and as model.onnx, at its floor and under it, each answer checked', async (t) => {
  const lines: string[] = [];
  const [point, ...more] = await coldStartCurve(staged, { sizes: [1], runs: 1, log: (line) => lines.push(line) });
  t.is(more.length, 0);
  t.true(point!.fitsZip);
  t.true(point!.ortBytes > 0);
  for (const sample of [point!.zip, point!.s3, point!.zipOnnx, point!.s3Onnx, point!.floor, point!.optimizedOnnx, point!.ortFormat, point!.bytes, point!.bytesOverlap, point!.url, point!.urlOverlap]) {
    t.is(sample?.n, 1);
    t.true(sample!.p50 > 0);
  }
  t.is(point!.download.ranged.parts, 1);
  t.is(point!.download.ranged.bytes, point!.modelBytes);
  t.deepEqual(
    curveCases([point!]).map((c) => c.case),
    ['zip', 'zip-onnx', 's3', 's3-onnx', 'optimized-onnx', 'ort-format', 'read-overlap', 'download-overlap', 'download/ranged'].map((v) => `cold-curve/1mb/${v}`),
  );
  t.regex(curveMarkdown([point!]), /^\| 1 MB \| \d+ \/ \d+ \| \d+ \/ \d+ \| \d+ \|/m);
  t.true(lines.some((l) => l.startsWith('cold-curve/1mb:')));
});
