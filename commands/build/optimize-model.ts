/**
 * Build-time graph optimisation, so that the function's init skips it: the model saved in ORT format after
 * onnxruntime's "extended" optimisations, which the function can then hand to onnxruntime as bytes used in place
 * (session options `session.use_ort_model_bytes_directly` and `session.use_ort_model_bytes_for_initializers`): the
 * session points into the buffer instead of parsing protobuf and copying every initializer. docs/PERFORMANCE.md
 * ("Cold start against model size") has the figures: about 2.5 times faster session creation at 500 MB, and half
 * the peak RSS. "extended" rather than "all": the "all" level adds layout changes for the building machine's CPU,
 * wrong for a build on x86_64 of an arm64 function; the session still applies them at load.
 *
 * The optimized model must give the plain model's answers on the bundle's golden rows (which the build has already
 * checked the plain model against), within the bundle's tolerance; otherwise the build fails.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

/** The optimized model's file name beside model.onnx. */
export const ORT_MODEL_FILE = 'model.ort';

/** Session entries that let onnxruntime use an ORT-format model's bytes in place; the bytes must outlive the session. */
export const ORT_IN_PLACE_OPTIONS = Object.freeze({ use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' });

export class OptimizeModelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OptimizeModelError';
  }
}

interface Golden {
  readonly inputs: readonly unknown[];
  readonly tolerance?: number;
}

function dimsOf(row: unknown): number[] {
  const dims: number[] = [];
  for (let value = row; Array.isArray(value); value = (value as unknown[])[0]) dims.push(value.length);
  return dims;
}

async function answers(session: ort.InferenceSession, rows: readonly unknown[]): Promise<Map<string, number[]>> {
  const name = session.inputNames[0]!;
  const feeds = { [name]: new ort.Tensor('float32', Float32Array.from((rows as unknown[]).flat(Infinity) as number[]), [rows.length, ...dimsOf(rows[0])]) };
  const result = await session.run(feeds);
  const out = new Map<string, number[]>();
  for (const [key, tensor] of Object.entries(result)) {
    // Numeric tensors only: a ZipMap's sequence of maps carries the same numbers as the probability tensor beside it.
    if (ArrayBuffer.isView(tensor.data) && !(tensor.data instanceof BigInt64Array)) out.set(key, Array.from(tensor.data as Float32Array, Number));
  }
  return out;
}

/**
 * Writes `<bundle>/model.ort` from `<bundle>/model.onnx` and checks it against the plain model on golden.json's rows.
 * Returns the file and its size. Only models with one tensor input are optimized (the check feeds golden rows to it).
 */
export async function optimizeModel(bundleDir: string, outDir: string = bundleDir): Promise<{ readonly file: string; readonly bytes: number }> {
  const source = path.join(bundleDir, 'model.onnx');
  const file = path.join(outDir, ORT_MODEL_FILE);
  const golden = JSON.parse(await readFile(path.join(bundleDir, 'golden.json'), 'utf8')) as Golden;
  const tolerance = golden.tolerance ?? 1e-4;
  try {
    const plain = await ort.InferenceSession.create(source, { graphOptimizationLevel: 'all' });
    if (plain.inputNames.length !== 1) throw new OptimizeModelError(`model.onnx has ${plain.inputNames.length} inputs; build-time optimisation handles one-input models only: build without it`);
    await ort.InferenceSession.create(source, { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
    const bytes = await readFile(file);
    const optimized = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', extra: { session: { ...ORT_IN_PLACE_OPTIONS } } });
    const [want, got] = await Promise.all([answers(plain, golden.inputs), answers(optimized, golden.inputs)]);
    for (const [name, values] of want) {
      const other = got.get(name);
      const worst = other === undefined ? Infinity : Math.max(0, ...values.map((v, i) => Math.abs(v - (other[i] ?? Infinity))));
      if (!(worst <= tolerance)) {
        throw new OptimizeModelError(`${ORT_MODEL_FILE} answers golden.json's rows differently from model.onnx on output "${name}" (largest difference ${worst}, tolerance ${tolerance}); build without the optimisation`);
      }
    }
    return { file, bytes: bytes.length };
  } catch (error) {
    await rm(file, { force: true });
    if (error instanceof OptimizeModelError) throw error;
    throw new OptimizeModelError(`onnxruntime could not save or load the optimized model (${error instanceof Error ? error.message : String(error)}); build without the optimisation`, { cause: error });
  }
}
