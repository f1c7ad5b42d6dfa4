/**
 * A bundle must prove itself before it ships: the function's own loader checks the manifest against the ONNX file,
 * then every golden row runs through onnxruntime and must match the training framework within 1e-4.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../functions/predict/config.js';
import type { Manifest } from '../../functions/predict/manifest.js';
import { loadModel } from '../../functions/predict/model-session.js';

export const GOLDEN_TOLERANCE = 1e-4;

export interface VerifiedBundle {
  readonly manifest: Manifest;
  readonly goldenRows: number;
  readonly maxDiff: number;
}

function numbers(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`${where} must be an array of finite numbers`);
  }
  return value as number[];
}

export async function verifyBundle(dir: string): Promise<VerifiedBundle> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new Error(`${dir} is not a folder; pass --model <bundle dir> holding model.onnx, model.json and golden.json`);
  }
  const model = await loadModel(loadConfig({ MODEL_DIR: dir }));
  const goldenFile = path.join(dir, 'golden.json');
  let text: string;
  try {
    text = await readFile(goldenFile, 'utf8');
  } catch {
    throw new Error(`${goldenFile} is missing; every bundle ships golden.json with the training framework's own outputs for some rows (models/README.md)`);
  }
  let golden: { inputs?: unknown; outputs?: unknown };
  try {
    golden = JSON.parse(text) as typeof golden;
  } catch (error) {
    throw new Error(`${goldenFile} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  if (!Array.isArray(golden.inputs) || !Array.isArray(golden.outputs) || golden.inputs.length === 0 || golden.inputs.length !== golden.outputs.length) {
    throw new Error(`${goldenFile} must hold "inputs" and "outputs" arrays of the same non-zero length`);
  }
  const { manifest } = model;
  const width = manifest.features.length;
  const perRow = manifest.task === 'classification' ? (manifest.labels ?? []).length : 1;
  let maxDiff = 0;
  let worst = 0;
  for (let start = 0; start < golden.inputs.length; start += manifest.maxBatch) {
    const rows = golden.inputs.slice(start, start + manifest.maxBatch);
    const data = new Float32Array(rows.length * width);
    rows.forEach((row, r) => {
      const values = numbers(row, `golden.json inputs[${start + r}]`);
      if (values.length !== width) throw new Error(`golden.json inputs[${start + r}] has ${values.length} values; model ${manifest.name} expects ${width}`);
      data.set(values, r * width);
    });
    const output = model.predict({ rows: rows.length, data });
    rows.forEach((_, r) => {
      const raw: unknown = golden.outputs instanceof Array ? golden.outputs[start + r] : undefined;
      const expected = perRow === 1 && typeof raw === 'number' ? [raw] : numbers(raw, `golden.json outputs[${start + r}]`);
      if (expected.length !== perRow) throw new Error(`golden.json outputs[${start + r}] has ${expected.length} values; the model gives ${perRow} per row`);
      for (let c = 0; c < perRow; c++) {
        const diff = Math.abs(output[r * perRow + c]! - expected[c]!);
        if (Number.isNaN(diff)) throw new Error(`model ${manifest.name}: the ONNX output for golden row ${start + r} is NaN`);
        if (diff > maxDiff) {
          maxDiff = diff;
          worst = start + r;
        }
      }
    });
  }
  if (!(maxDiff <= GOLDEN_TOLERANCE)) {
    throw new Error(
      `model ${manifest.name}: the ONNX outputs differ from golden.json by ${maxDiff.toExponential(2)} (row ${worst}); the limit is ${GOLDEN_TOLERANCE}. ` +
        'Re-export the model, or regenerate golden.json from the same trained model on float32-cast inputs',
    );
  }
  return { manifest, goldenRows: golden.inputs.length, maxDiff };
}
