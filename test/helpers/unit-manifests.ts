import { parseManifest, type Manifest } from '../../functions/predict/manifest.js';

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
