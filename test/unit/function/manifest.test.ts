import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ModelBundleError } from '../../../functions/predict/errors.js';
import { DEFAULT_MAX_BATCH, checkOutputWidth, derivedManifest, parseManifest, serveModel } from '../../../functions/predict/manifest.js';
import type { ValueInfo } from '../../../functions/predict/signature.js';
import { IRIS_JSON, irisManifest, regressionManifest } from '../../helpers/unit-manifests.js';

function invalid(t: ExecutionContext, json: unknown, ...parts: string[]): void {
  const error = t.throws(() => parseManifest(json, 'models/x/model.json'), { instanceOf: ModelBundleError });
  t.true(error.message.startsWith('models/x/model.json is not a valid manifest: '), error.message);
  for (const part of parts) t.true(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
}

function tensor(name: string, type: string, shape: readonly (number | string)[]): ValueInfo {
  return { name, isTensor: true, type, shape };
}

const irisInputs: ValueInfo[] = [tensor('float_input', 'float32', ['batch', 4])];
const irisOutputs: ValueInfo[] = [tensor('label', 'int64', ['batch']), tensor('probabilities', 'float32', ['batch', 3])];
const iris = irisManifest();
const price = regressionManifest();
const priceInputs: ValueInfo[] = [tensor('X', 'float32', ['N', 2])];

function bundleError(t: ExecutionContext, run: () => void, ...parts: string[]): void {
  const error = t.throws(run, { instanceOf: ModelBundleError });
  for (const part of parts) t.true(error.message.toLowerCase().includes(part.toLowerCase()), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
}

test('parses the iris manifest from SPEC', (t) => {
  t.deepEqual({ ...irisManifest() }, { ...IRIS_JSON, inputs: undefined, outputs: undefined, derived: false });
});

test('returns a frozen manifest with frozen lists', (t) => {
  t.true(Object.isFrozen(iris));
  t.true(Object.isFrozen(iris.features));
  t.true(Object.isFrozen(iris.labels));
});

test('defaults maxBatch to 256', (t) => {
  const { maxBatch: _omitted, ...rest } = IRIS_JSON;
  t.is(parseManifest(rest, 'model.json').maxBatch, 256);
  t.is(DEFAULT_MAX_BATCH, 256);
});

test('parses a regression manifest without labels', (t) => {
  t.is(price.task, 'regression');
  t.is(price.labels, undefined);
});

test('does not share the features array with the parsed JSON', (t) => {
  const json = { ...IRIS_JSON, features: [...IRIS_JSON.features] };
  const manifest = parseManifest(json, 'model.json');
  json.features.push('extra');
  t.is(manifest.features?.length, 4);
});

test('names the source file and the root for a manifest that is not an object', (t) => {
  invalid(t, null, 'the manifest must be an object, not null');
});

test('names every missing field', (t) => {
  invalid(t, {}, 'name is missing', 'version is missing', 'task is missing');
});

test('names an empty name', (t) => {
  invalid(t, { ...IRIS_JSON, name: '' }, 'name must be a non-empty string');
});

test('names a name with characters unfit for URLs and metric dimensions', (t) => {
  invalid(t, { ...IRIS_JSON, name: 'iris model' }, 'name must use only letters, digits');
});

test('rejects a name with a slash', (t) => {
  invalid(t, { ...IRIS_JSON, name: 'iris/1' }, 'name must use only letters');
});

test('names a version that is not a string', (t) => {
  invalid(t, { ...IRIS_JSON, version: 1 }, 'version');
});

test('names an unknown task', (t) => {
  invalid(t, { ...IRIS_JSON, task: 'clustering' }, 'task must be "classification", "regression" or "tensor"');
});

test('names a blank input', (t) => {
  invalid(t, { ...IRIS_JSON, input: '   ' }, 'input must be a non-empty string');
});

test('names an empty output', (t) => {
  invalid(t, { ...IRIS_JSON, output: '' }, 'output must be a non-empty string');
});

test('names an empty features list', (t) => {
  invalid(t, { ...IRIS_JSON, features: [] }, 'features must list at least one feature name');
});

test('names the position of an empty feature name', (t) => {
  invalid(t, { ...IRIS_JSON, features: ['a', ''] }, 'features.1 must be a non-empty string');
});

test('names a fractional maxBatch', (t) => {
  invalid(t, { ...IRIS_JSON, maxBatch: 2.5 }, 'maxBatch must be a whole number');
});

test('names a maxBatch of zero', (t) => {
  invalid(t, { ...IRIS_JSON, maxBatch: 0 }, 'maxBatch must be at least 1');
});

test('names a maxBatch over 100000', (t) => {
  invalid(t, { ...IRIS_JSON, maxBatch: 100_001 }, 'maxBatch must be at most 100000');
});

test('names a maxBatch given as a string', (t) => {
  invalid(t, { ...IRIS_JSON, maxBatch: '256' }, 'maxBatch');
});

test('rejects a classification manifest without labels', (t) => {
  const { labels: _omitted, ...rest } = IRIS_JSON;
  invalid(t, rest, 'labels must list at least two class names');
});

test('rejects a classification manifest with a single label', (t) => {
  invalid(t, { ...IRIS_JSON, labels: ['setosa'] }, 'labels must list at least two class names');
});

test('rejects a regression manifest with labels', (t) => {
  invalid(t, { ...IRIS_JSON, task: 'regression' }, 'labels is set but task is "regression"');
});

test('names repeated features', (t) => {
  invalid(t, { ...IRIS_JSON, features: ['a', 'b', 'a', 'c', 'b'] }, 'features repeats "a", "b"');
});

test('names repeated labels', (t) => {
  invalid(t, { ...IRIS_JSON, labels: ['x', 'y', 'x'] }, 'labels repeats "x"');
});

test('reports several problems in one message', (t) => {
  invalid(t, { ...IRIS_JSON, name: '', maxBatch: 0 }, 'name must be a non-empty string', 'maxBatch must be at least 1');
});

test('accepts the iris manifest against matching model metadata', (t) => {
  t.notThrows(() => serveModel(iris, irisInputs, irisOutputs));
});

test('accepts fixed numeric dimensions that match', (t) => {
  t.notThrows(() => serveModel(iris, [tensor('float_input', 'float32', [1, 4])], [tensor('probabilities', 'float32', [1, 3])]));
});

test('accepts symbolic feature and label dimensions', (t) => {
  t.notThrows(() => serveModel(iris, [tensor('float_input', 'float32', ['N', 'F'])], [tensor('probabilities', 'float32', ['N', 'C'])]));
});

test('rejects a wrong input name and names the actual one', (t) => {
  bundleError(t, () => serveModel(iris, [tensor('input', 'float32', ['N', 4])], irisOutputs), 'manifest input "float_input" is not in the ONNX file, whose inputs are "input"', 'set "input" in model.json');
});

test('accepts a float64 or integer tabular input', (t) => {
  t.is(serveModel(iris, [tensor('float_input', 'float64', ['N', 4])], irisOutputs).tabular?.spec.type, 'float64');
  t.is(serveModel(iris, [tensor('float_input', 'int64', ['N', 4])], irisOutputs).tabular?.spec.type, 'int64');
});

test('rejects features for a string input', (t) => {
  bundleError(t, () => serveModel(iris, [tensor('float_input', 'string', ['N', 4])], irisOutputs), 'is a string tensor; features need a numeric input');
});

test('rejects an input that is not a tensor', (t) => {
  bundleError(t, () => serveModel(iris, [{ name: 'float_input', isTensor: false }], irisOutputs), 'is not a tensor');
});

test('rejects an input whose feature count differs from the manifest', (t) => {
  bundleError(t, () => serveModel(iris, [tensor('float_input', 'float32', ['N', 5])], irisOutputs), 'takes 5 features but model.json lists 4');
});

test('rejects an input that is not two-dimensional', (t) => {
  bundleError(t, () => serveModel(iris, [tensor('float_input', 'float32', ['N', 2, 2])], irisOutputs), 'shape [N, 2, 2]');
});

test('rejects a model with two inputs', (t) => {
  const inputs = [tensor('float_input', 'float32', ['N', 4]), tensor('extra', 'float32', ['N', 1])];
  bundleError(t, () => serveModel(iris, inputs, irisOutputs), 'has 2 inputs ("float_input", "extra")');
});

test('rejects a model with no inputs', (t) => {
  bundleError(t, () => serveModel(iris, [], irisOutputs), 'has no inputs');
});

test('rejects a manifest output missing from the model and lists the outputs', (t) => {
  bundleError(t, () => serveModel(iris, irisInputs, [tensor('label', 'int64', ['N'])]), 'manifest output "probabilities" is not in the ONNX file', '"label"');
});

test('rejects a ZipMap output and says to export without ZipMap', (t) => {
  const outputs: ValueInfo[] = [tensor('label', 'int64', ['N']), { name: 'probabilities', isTensor: false }];
  bundleError(t, () => serveModel(iris, irisInputs, outputs), 'not a tensor', 'zipmap');
});

test('rejects a served output that is not numeric', (t) => {
  bundleError(t, () => serveModel(iris, irisInputs, [tensor('probabilities', 'string', ['N', 3])]), 'is a string tensor; a classification model answers from a numeric output');
});

test('rejects a classification output whose column count differs from the labels', (t) => {
  bundleError(t, () => serveModel(iris, irisInputs, [tensor('probabilities', 'float32', ['N', 2])]), 'has 2 probability columns but model.json lists 3 labels');
});

test('rejects a one-dimensional classification output', (t) => {
  bundleError(t, () => serveModel(iris, irisInputs, [tensor('probabilities', 'float32', ['N'])]), 'must be [batch, n_labels]');
});

test('accepts a regression output of shape [batch]', (t) => {
  t.notThrows(() => serveModel(price, priceInputs, [tensor('variable', 'float32', ['N'])]));
});

test('accepts a regression output of shape [batch, 1]', (t) => {
  t.notThrows(() => serveModel(price, priceInputs, [tensor('variable', 'float32', ['N', 1])]));
});

test('rejects a regression output of shape [batch, 3]', (t) => {
  bundleError(t, () => serveModel(price, priceInputs, [tensor('variable', 'float32', ['N', 3])]), 'has shape [N, 3]; a regression model serves one value per row');
});

test('rejects a three-dimensional regression output', (t) => {
  bundleError(t, () => serveModel(price, priceInputs, [tensor('variable', 'float32', ['N', 1, 1])]), 'one value per row ([batch] or [batch, 1])');
});

test('names the model in every check message', (t) => {
  bundleError(t, () => serveModel(iris, [], irisOutputs), 'model iris:');
});

test('checkOutputWidth accepts one column per label', (t) => {
  t.notThrows(() => checkOutputWidth(iris, 'probabilities', 3));
});

test('checkOutputWidth rejects a column count that differs from the labels', (t) => {
  bundleError(t, () => checkOutputWidth(iris, 'probabilities', 4), 'has 4 probability columns but model.json lists 3 labels (setosa, versicolor, virginica)');
});

test('checkOutputWidth accepts one value per row for a regressor', (t) => {
  t.notThrows(() => checkOutputWidth(price, 'variable', 1));
});

test('checkOutputWidth rejects several values per row for a regressor', (t) => {
  bundleError(t, () => checkOutputWidth(price, 'variable', 2), 'gives 2 values per row');
});

test('names the expected type and the value got for a field of the wrong type', (t) => {
  invalid(t, { ...IRIS_JSON, version: 1 }, 'version must be a string, not number 1');
});

test('says a required field is missing', (t) => {
  const { name: _name, ...rest } = IRIS_JSON;
  invalid(t, rest, 'name is missing; it must be a string');
});

test('parses a tensor manifest, which names no output and no labels', (t) => {
  const manifest = parseManifest({ name: 'cnn', version: '2', task: 'tensor' }, 'cnn/model.json');
  t.is(manifest.task, 'tensor');
  invalid(t, { name: 'cnn', version: '2', task: 'tensor', output: 'y' }, 'output is set but task is "tensor"');
  invalid(t, { name: 'cnn', version: '2', task: 'tensor', labels: ['a', 'b'] }, 'labels is set but task is "tensor"');
});

test('rejects an input named without features', (t) => {
  const { features: _features, ...rest } = IRIS_JSON;
  invalid(t, rest, 'input is set without features');
});

test('a classifier of any input signature names its labels for the output\'s last dimension', (t) => {
  const cnn = parseManifest({ name: 'cnn', version: '1', task: 'classification', output: 'probabilities', labels: ['0', '1', '2'] }, 'cnn/model.json');
  const served = serveModel(cnn, [tensor('pixels', 'float32', ['batch', 1, 8, 8])], [tensor('probabilities', 'float32', ['batch', 3])]);
  t.is(served.tabular, undefined);
  t.is(served.served?.name, 'probabilities');
  t.deepEqual(served.inputs.map((i) => i.shape), [['batch', 1, 8, 8]]);
});

test('a classifier or regressor without "output" answers from the only tensor output, and asks for one among several', (t) => {
  const cnn = parseManifest({ name: 'cnn', version: '1', task: 'classification', labels: ['a', 'b', 'c'] }, 'cnn/model.json');
  t.is(serveModel(cnn, irisInputs, [tensor('p', 'float32', ['N', 3])]).served?.name, 'p');
  bundleError(t, () => serveModel(cnn, irisInputs, irisOutputs), 'has 2 outputs ("label", "probabilities"); set "output" in model.json');
});

test('features need a single rank-2 input', (t) => {
  bundleError(t, () => serveModel(iris, [tensor('float_input', 'float32', ['N', 4]), tensor('mask', 'int64', ['N', 4])], irisOutputs), 'features name the columns of a single rank-2 input');
});

test('a tensor model serves every tensor output and leaves out the ones that are not tensors', (t) => {
  const manifest = derivedManifest('zipmap', 'ab'.repeat(32));
  const served = serveModel(manifest, irisInputs, [tensor('label', 'int64', ['N']), { name: 'probabilities', isTensor: false }]);
  t.deepEqual(served.outputs.map((o) => o.name), ['label']);
  bundleError(t, () => serveModel(manifest, irisInputs, [{ name: 'probabilities', isTensor: false }]), 'none of the ONNX file\'s outputs ("probabilities") is a tensor');
});

test('refuses a tensor type onnxruntime-node cannot exchange with JavaScript', (t) => {
  bundleError(t, () => serveModel(derivedManifest('q', 'ab'.repeat(32)), [tensor('x', 'uint4', ['N', 2])], irisOutputs), 'input "x" is a uint4 tensor');
});

test('derives a tensor manifest from a folder or file name and the sha256', (t) => {
  const sha = '3f9a0c2b1d4e'.padEnd(64, '0');
  t.deepEqual({ ...derivedManifest('t-multi', sha) }, { name: 't-multi', version: '3f9a0c2b1d4e', task: 'tensor', input: undefined, features: undefined, output: undefined, labels: undefined, maxBatch: 256, inputs: undefined, outputs: undefined, derived: true });
  t.is(derivedManifest('My Model v2.onnx', sha).name, 'My-Model-v2');
  t.is(derivedManifest('__.onnx', sha).name, 'model');
  t.regex(derivedManifest('résumé_net', sha).name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
});

test('a declared signature is checked against the file: names, datatypes, ranks and fixed sizes', (t) => {
  const declared = irisManifest({ inputs: [{ name: 'float_input', datatype: 'FP32', shape: ['batch', 4] }], outputs: [{ name: 'label', datatype: 'INT64', shape: ['N'] }, { name: 'probabilities', datatype: 'FP32', shape: ['N', 3] }] });
  t.notThrows(() => serveModel(declared, irisInputs, irisOutputs));
  bundleError(t, () => serveModel(declared, [tensor('float_input', 'float64', ['N', 4])], irisOutputs), 'declares input "float_input" as FP32 [batch, 4], but the ONNX file has FP64 [N, 4]', 'rebuild model.json with npm run bundle');
  bundleError(t, () => serveModel(declared, [tensor('float_input', 'float32', [1, 4])], irisOutputs), 'declares input "float_input" as FP32 [batch, 4], but the ONNX file has FP32 [1, 4]');
  bundleError(t, () => serveModel(declared, irisInputs, [...irisOutputs, tensor('extra', 'float32', ['N'])]), 'has outputs model.json does not declare ("extra")');
  bundleError(t, () => serveModel(declared, irisInputs, [tensor('probabilities', 'float32', ['N', 3])]), 'declares output "label", which the ONNX file lacks');
  invalid(t, { ...IRIS_JSON, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }] }, 'inputs.0.shape.0');
});
