import test from 'ava';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readBundle } from '../../../bench/bench-data.js';
import { coldStartCurveChart } from '../../../bench/charts.js';
import { writeCurveModel } from '../../../bench/cold-start-curve-model.js';
import { tempDir } from '../../helpers/temp-dir.js';

test("a curve model has the size asked for and onnxruntime's answers match its golden.json, computed without onnxruntime", async (t) => {
  const dir = await tempDir(t, 'curve-model-');
  const model = writeCurveModel(path.join(dir, 'm'), 3);
  const bytes = (await stat(model.file)).size;
  t.is(bytes, model.modelBytes);
  t.true(Math.abs(bytes - 3 * 2 ** 20) < 4096, `${bytes} bytes`);
  const bundle = readBundle(model.dir);
  const golden = JSON.parse(await readFile(path.join(model.dir, 'golden.json'), 'utf8')) as { inputs: number[][]; outputs: number[][] };
  const session = await ort.InferenceSession.create(model.file);
  const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(golden.inputs.flat()), [golden.inputs.length, 4]) });
  t.deepEqual(result['y']!.dims, [golden.inputs.length, 1]);
  const got = Array.from(result['y']!.data as Float32Array);
  got.forEach((value, i) => t.true(Math.abs(value - golden.outputs[i]![0]!) <= bundle.tolerance, `row ${i}: ${value} against ${golden.outputs[i]![0]}`));
  // Rows differ, so a model that ignored its input or its weights would fail the check above.
  t.is(new Set(golden.outputs.map((o) => o[0])).size, golden.outputs.length);
});

test('a curve model too large for float32 indices is refused with the reason', (t) => {
  t.throws(() => writeCurveModel('/nonexistent', 2000), { message: /needs \d+ rows, over the 16777216 a float32 index reaches/ });
});

test('the curve chart draws a line per way of loading, the zip line only where it fits', async (t) => {
  const svg = await coldStartCurveChart(
    [
      { megabytes: 1, zipMs: 70, s3Ms: 150, floorMs: 80, ortFormatMs: 60 },
      { megabytes: 500, zipMs: undefined, s3Ms: 4000, floorMs: 1000, ortFormatMs: 400 },
    ],
    'caption & more',
  );
  t.true(svg.trimStart().startsWith('<svg'));
  t.true(svg.includes('caption &amp; more'));
  t.is(svg.match(/aria-roledescription="line mark"/g)?.length, 4);
  t.is(svg.match(/aria-roledescription="point"/g)?.length, 7, 'two points on three lines, one on the zip line');
  for (const label of ['function, model.ort in the zip', 'function, model.ort from S3 (loopback stand-in)', 'floor: read + session', 'ORT format in place']) t.true(svg.includes(label), label);
  t.false(/NaN|undefined|Infinity/.test(svg));
});
