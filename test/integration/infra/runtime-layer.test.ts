import test from 'ava';
import { base64Sha256, zipBuild } from '../../../infra/build-record.js';
import { RuntimeLayer, type RuntimeLayerProps } from '../../../infra/constructs/runtime-layer.js';
import { SettingError } from '../../../infra/errors.js';
import { buildDist, constructStack, deployableBuild, one, synth, type Json } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

function synthLayer(props: Partial<RuntimeLayerProps> = {}): Json {
  const stack = constructStack();
  new RuntimeLayer(stack, 'layer', { build: zipBuild(deployableBuild(dist), 'test'), ...props });
  return synth(stack);
}

test('publishes the build\'s layer zip, its hash in Terraform\'s form', (t) => {
  const layer = one(synthLayer(), 'aws_lambda_layer_version');
  const zip = zipBuild(deployableBuild(dist), 'test').layerZip;
  t.regex(layer['filename'] as string, new RegExp(`^assets/layer_zip_[0-9A-F]{8}/${zip.sha256}/layer-arm64\\.zip$`));
  t.is(layer['source_code_hash'], base64Sha256(zip.sha256));
});

test('is compatible with the build\'s architecture only', (t) => {
  t.deepEqual(one(synthLayer(), 'aws_lambda_layer_version')['compatible_architectures'], ['arm64']);
});

test('is compatible with both Node runtimes by default', (t) => {
  t.deepEqual(one(synthLayer(), 'aws_lambda_layer_version')['compatible_runtimes'], ['nodejs24.x', 'nodejs22.x']);
});

test('is named for its architecture by default', (t) => {
  t.is(one(synthLayer(), 'aws_lambda_layer_version')['layer_name'], 'onnxruntime-node-arm64');
});

test('takes its name from its props', (t) => {
  t.is(one(synthLayer({ layerName: 'onnx-dev-onnxruntime' }), 'aws_lambda_layer_version')['layer_name'], 'onnx-dev-onnxruntime');
});

test('refuses compatible runtimes that leave out the runtime the function is built for', (t) => {
  const error = t.throws(() => synthLayer({ compatibleRuntimes: ['nodejs22.x'] }), { instanceOf: SettingError });
  t.is(error?.message, 'test/layer: compatibleRuntimes is ["nodejs22.x"]; allowed: a list that includes "nodejs24.x", the runtime the function is built for');
});

test('refuses a runtime Lambda does not offer for this layer', (t) => {
  const error = t.throws(() => synthLayer({ compatibleRuntimes: ['nodejs24.x', 'python3.12' as 'nodejs22.x'] }), { instanceOf: SettingError });
  t.is(error?.message, 'test/layer: compatibleRuntimes[1] is "python3.12"; allowed: one of "nodejs24.x", "nodejs22.x"');
});
