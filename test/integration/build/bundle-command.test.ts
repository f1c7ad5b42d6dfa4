// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test, { type ExecutionContext } from 'ava';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runBuildInTempDir } from '../../helpers/build.js';
import { FIXTURES, MODELS, functionFor, json } from '../../helpers/function.js';
import { runNpm } from '../../helpers/npm.js';
import { tempDir } from '../../helpers/temp-dir.js';

// `npm run bundle` as a user runs it, on ONNX files this repository has never bundled.
const LGBM = path.join(FIXTURES, 'byom', 'lgbm-classifier', 'model.onnx');

/** A bundle folder that does not exist yet, inside a temp folder removed when the test ends. */
async function out(t: ExecutionContext): Promise<string> {
  return path.join(await tempDir(t, 'bundle-'), 'bundle');
}

test('turns a classifier file into a bundle the function serves with labels, and lists golden.json as missing', async (t) => {
  const dir = await out(t);
  const run = await runNpm('bundle', [LGBM, '--out', dir, '--name', 'cancer', '--task', 'classification', '--labels', 'malignant,benign']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /input {2}float_input: FP32 \[\?, 30\]/);
  t.regex(run.stdout, /output probabilities: FP32 \[\?, 2\] \(answers labels and probabilities\)/);
  t.regex(run.stdout, /still missing before npm run build[^\n]*\n {2}- golden\.json: your training framework's own outputs/);
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  t.like(manifest, { name: 'cancer', task: 'classification', output: 'probabilities', labels: ['malignant', 'benign'], maxBatch: 256 });
  t.regex(manifest['version'] as string, /^[0-9a-f]{12}$/);
  t.deepEqual(manifest['inputs'], [{ name: 'float_input', datatype: 'FP32', shape: ['', 30] }]);
  t.deepEqual((manifest['outputs'] as { name: string }[]).map((o) => o.name), ['label', 'probabilities']);

  const expected = JSON.parse(await readFile(path.join(FIXTURES, 'byom', 'lgbm-classifier.expected.json'), 'utf8')) as { inputs: { float_input: number[][] }; outputs: { probabilities: number[][] } };
  const fn = functionFor({ MODEL_DIR: dir });
  const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: expected.inputs.float_input }));
  t.is(response.statusCode, 200, response.body);
  const labels = expected.outputs.probabilities.map((row) => (row[0]! > row[1]! ? 'malignant' : 'benign'));
  t.deepEqual(json(response)['prediction'], labels);

  const build = await runBuildInTempDir(t, ['--model', dir]);
  t.is(build.code, 1);
  t.regex(build.stderr, /golden\.json is missing/);
});

test('names the fix when the labels do not match the output, and writes nothing', async (t) => {
  const dir = await out(t);
  const run = await runNpm('bundle', [LGBM, '--out', dir, '--task', 'classification', '--labels', 'a,b,c']);
  t.is(run.code, 1);
  t.regex(run.stderr, /output "probabilities" has 2 probability columns but model\.json lists 3 labels \(a, b, c\)/);
  t.false(existsSync(dir));
});

test('a tensor model by default, with a hint to name labels for a probabilities output', async (t) => {
  const dir = await out(t);
  const run = await runNpm('bundle', [path.join(MODELS, 'digits-cnn', 'model.onnx'), '--out', dir]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /task tensor/);
  t.regex(run.stdout, /labels: the model has a probabilities output; to answer with class names, rerun with --task classification/);
  const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
  t.is(manifest['name'], 'digits-cnn');
  t.deepEqual(manifest['inputs'], [{ name: 'pixels', datatype: 'FP32', shape: ['batch', 1, 8, 8] }]);
});

test('refuses to overwrite a bundle without --force, and an unknown task or a bad name', async (t) => {
  const dir = await out(t);
  t.is((await runNpm('bundle', [LGBM, '--out', dir])).code, 0);
  const again = await runNpm('bundle', [LGBM, '--out', dir]);
  t.is(again.code, 1);
  t.regex(again.stderr, /already holds a model\.onnx or model\.json; choose another --out, or pass --force/);
  t.is((await runNpm('bundle', [LGBM, '--out', dir, '--force'])).code, 0);
  t.regex((await runNpm('bundle', [LGBM, '--task', 'clustering'])).stderr, /--task clustering is not one of classification, regression, tensor/);
  t.regex((await runNpm('bundle', [LGBM, '--name', 'my model'])).stderr, /--name my model must use only letters/);
  t.regex((await runNpm('bundle', ['missing.onnx'])).stderr, /missing\.onnx does not exist/);
});
