/**
 * Bundles for the tests of the ORT format: a tensor model with several inputs and golden outputs, and a model saved
 * in ORT format as the build saves it, in a folder laid out as the function's model folder.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { optimizeModel, type OptimizedModel } from '../../commands/build/optimize-model.js';
import { FIXTURES } from './function.js';
import { tempDir } from './temp-dir.js';

/** multi-io's rows: `pixels` float32 [2, 2] (values float32 holds exactly) and `meta` int64 [3]. */
const MULTI_IO_ROWS = [
  { pixels: [[0.5, -1.25], [2, 0]], meta: [1, 2, 3] },
  { pixels: [[3.75, 0.25], [-0.5, 1]], meta: [-4, 0, 9] },
  { pixels: [[0, 0], [0, 0]], meta: [0, 0, 0] },
];

/**
 * A copy of test/fixtures/tensor/multi-io with a golden.json computed from its formula (the fixture's README), not by
 * onnxruntime: `score = flatten(pixels) * 2 + sum(meta)`, `embedding = [...flatten(pixels) - 1, max(meta)]`.
 */
export async function multiIoBundle(t: ExecutionContext): Promise<string> {
  const dir = path.join(await tempDir(t, 'multi-io-'), 'multi-io');
  await cp(path.join(FIXTURES, 'tensor', 'multi-io'), dir, { recursive: true });
  const outputs = MULTI_IO_ROWS.map(({ pixels, meta }) => {
    const flat = pixels.flat();
    const sum = meta.reduce((a, b) => a + b, 0);
    return { score: flat.map((p) => p * 2 + sum), embedding: [...flat.map((p) => p - 1), Math.max(...meta)] };
  });
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify({ inputs: MULTI_IO_ROWS, outputs }));
  return dir;
}

/**
 * The bundle's model saved in ORT format by the build's optimizeModel, in a fresh folder holding model.ort,
 * model.json (the bundle's, or `manifest` for a bare one) and golden.json. Removed when the test ends.
 */
export async function ortFolder(t: ExecutionContext, bundleDir: string, manifest?: Record<string, unknown>): Promise<{ readonly dir: string; readonly optimized: OptimizedModel }> {
  const dir = await tempDir(t, 'ort-');
  const manifestJson = manifest === undefined ? await readFile(path.join(bundleDir, 'model.json')) : Buffer.from(JSON.stringify(manifest));
  const optimized = await optimizeModel({ onnxFile: path.join(bundleDir, 'model.onnx'), manifestJson, goldenJson: await readFile(path.join(bundleDir, 'golden.json')), workDir: dir });
  return { dir, optimized };
}
