import { createRequire } from 'node:module';
import type * as ort from 'onnxruntime-node';
import { ModelBundleError } from './errors.js';
import type { ValueInfo } from './manifest.js';

/**
 * onnxruntime-node's native session, called without the public `InferenceSession` wrapper.
 *
 * Why: the wrapper's `run` defers every call to the next event-loop turn (`setImmediate`) and wraps it in two
 * promises, then runs the same synchronous native call. For the small models this kit serves that turn is a third
 * of the call: on iris, one row, the native call measured 11.5 µs against 17.8 µs through `session.run`
 * (docs/PERFORMANCE.md). Lambda serves one request at a time, and the native call blocks the thread either way, so
 * the deferral buys nothing here.
 *
 * The binding is `onnxruntime-node/dist/binding.js`, an internal module of the pinned onnxruntime-node; the layer
 * ships it with the rest of `dist/`. `test/native-session.test.ts` checks this path against the public API on
 * every bundled model, so an upgrade that changes the binding fails there, not in production.
 */

interface RawValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  /** ONNX TensorProto data type number. */
  readonly type: number;
  /** -1 for a symbolic dimension, named in `symbolicDimensions`. */
  readonly shape: readonly number[];
  readonly symbolicDimensions: readonly string[];
}

interface BindingSession {
  loadModel(file: string, options: ort.InferenceSession.SessionOptions): void;
  readonly inputMetadata: readonly RawValueMetadata[];
  readonly outputMetadata: readonly RawValueMetadata[];
  run(feeds: Readonly<Record<string, ort.Tensor>>, fetches: Readonly<Record<string, null>>, options: object): Record<string, ort.Tensor>;
}

interface BindingModule {
  readonly binding: { readonly InferenceSession: new () => BindingSession };
  /** Sets the log level and the Tensor class outputs are made of; onnxruntime-node calls it before any session. */
  readonly initOrt: () => void;
}

/** A loaded model in onnxruntime, with its inputs and outputs as `InferenceSession` would describe them. */
export interface NativeSession {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Runs synchronously; throws what onnxruntime throws. `fetches` maps each wanted output name to null. */
  run(feeds: Readonly<Record<string, ort.Tensor>>, fetches: Readonly<Record<string, null>>): Record<string, ort.Tensor>;
}

/** onnxruntime's data type numbers, as onnxruntime-node's backend names them. */
const DATA_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  21: 'uint4',
  22: 'int4',
};

let bindingModule: BindingModule | undefined;

function loadBinding(): BindingModule {
  if (bindingModule !== undefined) return bindingModule;
  const loaded = createRequire(import.meta.url)('onnxruntime-node/dist/binding.js') as Partial<BindingModule>;
  if (typeof loaded.initOrt !== 'function' || typeof loaded.binding?.InferenceSession !== 'function') {
    throw new ModelBundleError('onnxruntime-node/dist/binding.js has no initOrt or binding.InferenceSession; this kit is built for onnxruntime-node 1.30.0, install that version');
  }
  loaded.initOrt();
  bindingModule = loaded as BindingModule;
  return bindingModule;
}

function valueInfo(raw: RawValueMetadata, file: string): ValueInfo {
  if (!raw.isTensor) return { name: raw.name, isTensor: false };
  const type = DATA_TYPES[raw.type];
  if (type === undefined) throw new ModelBundleError(`${file}: value ${raw.name} has ONNX data type ${raw.type}, which onnxruntime-node does not support`);
  const shape = raw.shape.map((dim, i) => (dim === -1 ? (raw.symbolicDimensions[i] ?? '') : dim));
  return { name: raw.name, isTensor: true, type, shape };
}

/** Loads `file` into a new native session; throws onnxruntime's own error when it cannot. */
export function openNativeSession(file: string, options: ort.InferenceSession.SessionOptions): NativeSession {
  const { binding } = loadBinding();
  const session = new binding.InferenceSession();
  session.loadModel(file, options);
  const runOptions = {};
  return {
    inputs: session.inputMetadata.map((m) => valueInfo(m, file)),
    outputs: session.outputMetadata.map((m) => valueInfo(m, file)),
    run: (feeds, fetches) => session.run(feeds, fetches, runOptions),
  };
}
