// `npm run bundle -- --baseline-from` as a user runs it: the baseline of a bring-your-own model from sample inputs.
import { existsSync } from 'node:fs';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { argmaxRows, labelShares, parseBaseline, summarize } from '../../../commands/drift/baseline.js';
import { BASELINE_FILE, type TrainingBaseline } from '../../../functions/contract/capture.js';
import { FIXTURES, MODELS } from '../../helpers/function.js';
import { runNpm } from '../../helpers/npm.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** A copy of a trained bundle without its baseline, and its golden rows as a sample inputs file. */
async function bundleWithoutBaseline(t: ExecutionContext, name: string): Promise<{ dir: string; samples: string; golden: { inputs: unknown[]; outputs: number[][] } }> {
  const root = await tempDir(t, 'bundle-baseline-');
  const dir = path.join(root, name);
  await cp(path.join(MODELS, name), dir, { recursive: true });
  await rm(path.join(dir, BASELINE_FILE));
  const golden = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8')) as { inputs: unknown[]; outputs: number[][] };
  const samples = path.join(root, 'samples.json');
  await writeFile(samples, JSON.stringify(golden.inputs));
  return { dir, samples, golden };
}

async function written(dir: string): Promise<TrainingBaseline> {
  return parseBaseline(JSON.parse(await readFile(path.join(dir, BASELINE_FILE), 'utf8')), BASELINE_FILE);
}

test('writes a bundle folder\'s baseline from sample rows: features as the rows hold them, labels as the model answers', async (t) => {
  const { dir, samples, golden } = await bundleWithoutBaseline(t, 'iris');
  const run = await runNpm('bundle', [dir, '--baseline-from', samples]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /wrote .*iris\/baseline\.json: 45 sample rows, 4 input summaries; setosa 33\.3%, versicolor 35\.6%, virginica 31\.1%\n$/);
  const baseline = await written(dir);
  t.like(baseline, { rows: 45, writer: 'npm run bundle -- --baseline-from', model: { name: 'iris', version: '1', task: 'classification' } });
  const rows = golden.inputs as number[][];
  t.deepEqual(baseline.inputs[2]!.summary, summarize(rows.map((row) => Math.fround(row[2]!))));
  // The model's answers are the training framework's (golden.json's outputs), label by label.
  const expected = labelShares(['setosa', 'versicolor', 'virginica'], argmaxRows(golden.outputs.flat(), 3));
  t.like(baseline.prediction, { kind: 'labels', count: 45, shares: expected.shares });

  const again = await runNpm('bundle', [dir, '--baseline-from', samples]);
  t.is(again.code, 1);
  t.regex(again.stderr, /baseline\.json already exists; pass --force to replace it/);
  t.is((await runNpm('bundle', [dir, '--baseline-from', samples, '--force'])).code, 0);
});

test('a regressor\'s baseline holds its predicted values, and an image model\'s its pixels over all values', async (t) => {
  const diabetes = await bundleWithoutBaseline(t, 'diabetes');
  t.is((await runNpm('bundle', [diabetes.dir, '--baseline-from', diabetes.samples])).code, 0);
  const regression = await written(diabetes.dir);
  t.is(regression.prediction.kind, 'values');
  // Ridge's own predictions (golden.json's outputs) and onnxruntime's agree to 1e-4.
  const ridge = diabetes.golden.outputs as unknown as number[];
  if (regression.prediction.kind === 'values') t.true(Math.abs(regression.prediction.summary.mean - ridge.reduce((a, b) => a + b, 0) / ridge.length) < 1e-4);

  const digits = await bundleWithoutBaseline(t, 'digits-cnn');
  t.is((await runNpm('bundle', [digits.dir, '--baseline-from', digits.samples])).code, 0);
  const image = await written(digits.dir);
  t.like(image.inputs, [{ name: 'pixels', input: 'pixels', summary: { count: 64 * 64, min: 0, max: 1 } }]);
  t.is(image.inputs[0]!.column, undefined);
});

test('a new bundle from an ONNX file gets its baseline in the same run; a tensor model\'s answers are its outputs', async (t) => {
  const root = await tempDir(t, 'bundle-baseline-');
  const expected = JSON.parse(await readFile(path.join(FIXTURES, 'byom', 'lgbm-classifier.expected.json'), 'utf8')) as { inputs: { float_input: number[][] } };
  const samples = path.join(root, 'rows.json');
  await writeFile(samples, JSON.stringify({ instances: expected.inputs.float_input }));
  const out = path.join(root, 'cancer');
  const run = await runNpm('bundle', [path.join(FIXTURES, 'byom', 'lgbm-classifier', 'model.onnx'), '--out', out, '--task', 'classification', '--labels', 'malignant,benign', '--baseline-from', samples]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /wrote .*cancer\/baseline\.json: \d+ sample rows, 1 input summaries; malignant/);
  t.false(run.stdout.includes('for npm run drift (optional)'));
  t.like(await written(out), { inputs: [{ name: 'float_input', input: 'float_input' }], prediction: { kind: 'labels', labels: ['malignant', 'benign'] } });

  const tensor = path.join(root, 'digits');
  const digitsRows = path.join(root, 'digits.json');
  await writeFile(digitsRows, JSON.stringify((JSON.parse(await readFile(path.join(MODELS, 'digits-cnn', 'golden.json'), 'utf8')) as { inputs: unknown[] }).inputs));
  t.is((await runNpm('bundle', [path.join(MODELS, 'digits-cnn', 'model.onnx'), '--out', tensor, '--baseline-from', digitsRows])).code, 0);
  const prediction = (await written(tensor)).prediction;
  t.is(prediction.kind, 'tensors');
  if (prediction.kind === 'tensors') t.deepEqual(prediction.outputs.map((o) => o.name), ['probabilities']);
});

test('without --baseline-from a new bundle says how to write its baseline', async (t) => {
  const out = path.join(await tempDir(t, 'bundle-baseline-'), 'b');
  const run = await runNpm('bundle', [path.join(MODELS, 'iris', 'model.onnx'), '--out', out]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /for npm run drift \(optional\): baseline\.json, the training distribution captured traffic is compared with; write it with npm run bundle -- .*b --baseline-from <samples\.json>/);
});

test('sample inputs that are not rows of the model are refused with the row and the fix, and nothing is written', async (t) => {
  const { dir, samples } = await bundleWithoutBaseline(t, 'iris');
  const cases: [string, RegExp][] = [
    ['not json', /^bundle: --baseline-from .*bad\.json is not JSON \(.*\); expected a JSON array of rows in \/predict's instance form, or \{"instances": \[\.\.\.\]\}\n$/],
    ['{"rows": []}', /^bundle: --baseline-from .*bad\.json holds object, not rows; expected a JSON array/],
    ['[]', /^bundle: --baseline-from .*bad\.json holds no rows; expected .* with at least one row/],
    ['[[1, 2, 3, 4], [1, 2, 3]]', /^bundle: --baseline-from .*bad\.json: rows 0 to 1 do not fit model iris: row 1 has 3 values; model iris expects 4: sepal_length, sepal_width, petal_length, petal_width\n$/],
  ];
  const bad = path.join(path.dirname(samples), 'bad.json');
  for (const [text, message] of cases) {
    await writeFile(bad, text);
    const run = await runNpm('bundle', [dir, '--baseline-from', bad]);
    t.is(run.code, 1, text);
    t.regex(run.stderr, message, text);
    t.false(existsSync(path.join(dir, BASELINE_FILE)), text);
  }
  t.regex((await runNpm('bundle', [dir])).stderr, /is a folder; give an \.onnx file to bundle, or add --baseline-from <samples\.json> to write the folder's baseline\.json/);
  t.regex((await runNpm('bundle', [dir, '--baseline-from', samples, '--name', 'x'])).stderr, /--name does not apply to an existing bundle folder, whose model\.json stays as it is/);
  t.regex((await runNpm('bundle', [dir, '--baseline-from', 'missing.json'])).stderr, /--baseline-from missing\.json does not exist; give a JSON file of sample rows/);
});
