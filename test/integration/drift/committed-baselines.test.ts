// The baseline.json files models/train/baseline.py wrote (numpy) read with the TypeScript reader, and match their bundles.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { parseBaseline } from '../../../commands/drift/baseline.js';
import { BASELINE_FILE } from '../../../functions/contract/capture.js';
import { MODELS } from '../../helpers/function.js';

/** Every bundle in models/ (train/ holds the scripts). */
const BUNDLES = readdirSync(MODELS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'train')
  .map((e) => e.name)
  .sort();

test('the bundles are found', (t) => {
  t.true(BUNDLES.includes('iris') && BUNDLES.includes('digits-cnn') && BUNDLES.length >= 7);
});

for (const name of BUNDLES) {
  test(`${name}: baseline.json reads back and matches the bundle's model, features, labels and model file`, async (t) => {
    const dir = path.join(MODELS, name);
    const baseline = parseBaseline(JSON.parse(await readFile(path.join(dir, BASELINE_FILE), 'utf8')), `${name}/${BASELINE_FILE}`);
    const manifest = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { name: string; version: string; task: string; features?: string[]; input?: string; labels?: string[]; output: string };
    t.like(baseline.model, { name: manifest.name, version: manifest.version, task: manifest.task });
    t.is(baseline.model.sha256, createHash('sha256').update(await readFile(path.join(dir, 'model.onnx'))).digest('hex'), 'computed with this model.onnx');
    t.is(baseline.writer, 'models/train/baseline.py');
    if (manifest.features !== undefined) {
      t.deepEqual(baseline.inputs.map((i) => i.name), manifest.features);
      t.deepEqual(baseline.inputs.map((i) => i.column), manifest.features.map((_, j) => j));
      t.true(baseline.inputs.every((i) => i.input === manifest.input && i.summary.count === baseline.rows));
    } else {
      t.deepEqual(baseline.inputs.map((i) => i.name), ['pixels']);
      t.is(baseline.inputs[0]!.summary.count, baseline.rows * 64, 'every pixel of every training image');
    }
    for (const input of baseline.inputs) {
      const { min, max, mean, edges } = input.summary;
      t.true(min <= edges[0]! && edges.at(-1)! <= max && min <= mean && mean <= max, input.name);
    }
    if (manifest.task === 'classification') {
      t.like(baseline.prediction, { kind: 'labels', output: manifest.output, labels: manifest.labels, count: baseline.rows });
    } else {
      t.like(baseline.prediction, { kind: 'values', output: manifest.output });
    }
  });
}

test('the training rows are the training scripts\' splits: 70% of iris, 75% of the others', async (t) => {
  const rows = async (name: string) => (JSON.parse(await readFile(path.join(MODELS, name, BASELINE_FILE), 'utf8')) as { rows: number }).rows;
  t.is(await rows('iris'), 105);
  t.is(await rows('breast-cancer'), 426);
  t.is(await rows('diabetes'), 331);
  t.is(await rows('wine-xgb'), 133);
  t.is(await rows('digits-cnn'), 1347);
});
