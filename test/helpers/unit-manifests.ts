import { derivedManifest, parseManifest, serveModel, type Manifest, type ServedModel } from '../../functions/predict/manifest.js';
import type { OutputTensor } from '../../functions/predict/model-session.js';
import type { RequestLimits, ValueInfo } from '../../functions/predict/signature.js';

/** The iris bundle's manifest as SPEC "Model bundle" shows it, parsed the way the function parses it. */
export const IRIS_JSON = Object.freeze({
  name: 'iris',
  version: '1',
  task: 'classification',
  input: 'float_input',
  features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  output: 'probabilities',
  labels: ['setosa', 'versicolor', 'virginica'],
  maxBatch: 256,
});

export function irisManifest(overrides: Record<string, unknown> = {}): Manifest {
  return parseManifest({ ...IRIS_JSON, ...overrides }, 'iris/model.json');
}

/** A regression bundle with two features, for the task-dependent branches. */
export function regressionManifest(overrides: Record<string, unknown> = {}): Manifest {
  return parseManifest(
    { name: 'price', version: '3', task: 'regression', input: 'X', features: ['rooms', 'area'], output: 'variable', ...overrides },
    'price/model.json',
  );
}

export function tensor(name: string, type: string, shape: readonly (number | string)[]): ValueInfo {
  return { name, isTensor: true, type, shape };
}

export const IRIS_INPUTS: readonly ValueInfo[] = [tensor('float_input', 'float32', ['batch', 4])];
export const IRIS_OUTPUTS: readonly ValueInfo[] = [tensor('label', 'int64', ['batch']), tensor('probabilities', 'float32', ['batch', 3])];

/** The iris model as the request path serves it, without a session. */
export function servedIris(overrides: Record<string, unknown> = {}): ServedModel {
  return serveModel(irisManifest(overrides), IRIS_INPUTS, IRIS_OUTPUTS);
}

export function servedRegression(): ServedModel {
  return serveModel(regressionManifest(), [tensor('X', 'float32', ['N', 2])], [tensor('variable', 'float32', ['N', 1])]);
}

/** A tensor model (no model.json) with the given inputs and outputs. */
export function servedTensorModel(name: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[] = [tensor('y', 'float32', ['batch'])]): ServedModel {
  return serveModel(derivedManifest(name, '3f9a0c2b1d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef'), inputs, outputs);
}

export function limitsFor(model: ServedModel, overrides: Partial<RequestLimits> = {}): RequestLimits {
  return { model: model.manifest.name, maxBatch: model.manifest.maxBatch, maxElements: 1_000_000, ...overrides };
}

/** Output tensors by name, as the model's `run` returns them. */
export function outputs(...tensors: OutputTensor[]): Map<string, OutputTensor> {
  return new Map(tensors.map((t) => [t.name, t]));
}
