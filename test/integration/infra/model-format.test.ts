import test from 'ava';
import { readBuildRecord } from '../../../infra/build-record.js';
import { InferenceFunction } from '../../../infra/constructs/inference-function.js';
import { ModelStore } from '../../../infra/constructs/model-store.js';
import { BuildRecordError, SettingError } from '../../../infra/errors.js';
import { buildDist, constructStack, deployableBuild, editedDist, one, synth, type Json } from '../../helpers/infra-synth.js';

// Builds that ship the model in ORT format (npm run build's default) and in ONNX (--optimize none), read and
// deployed as the service stack does.
const EXPECT = { arch: 'arm64', runtime: 'nodejs24.x', where: 'test' } as const;
let ortZip = '';
let ortS3 = '';
let onnxZip = '';
test.before(async () => {
  [ortZip, ortS3, onnxZip] = await Promise.all([buildDist(), buildDist(['--model-packaging', 's3']), buildDist(['--optimize', 'none'])]);
});

function synthFunction(dist: string, s3 = false): Json {
  const stack = constructStack();
  const build = deployableBuild(dist);
  const model = s3 ? new ModelStore(stack, 'store').addModel(build.model) : undefined;
  new InferenceFunction(stack, 'fn', { build, functionName: 'onnx-test-predict', model });
  return synth(stack);
}

test('reads the shipped model.ort beside model.onnx\'s identity', (t) => {
  const { model } = readBuildRecord(ortZip, EXPECT);
  t.is(model.format, 'ort');
  t.is(model.shippedName, 'model.ort');
  t.regex(model.shippedSha256, /^[0-9a-f]{64}$/);
  t.not(model.shippedSha256, model.sha256);
});

test('a build record from before the ORT format reads as shipping model.onnx', async (t) => {
  const old = await editedDist(onnxZip, (json) => {
    for (const field of ['format', 'shippedName', 'shippedSha256', 'onnxBytes']) delete json['model'][field];
  });
  const { model } = readBuildRecord(old, EXPECT);
  t.like(model, { format: 'onnx', shippedName: 'model.onnx', shippedSha256: model.sha256 });
});

test('refuses a record whose shipped file, format or checksum disagree', async (t) => {
  const cases: [string, (model: Json) => void, string][] = [
    ['model.format', (m) => (m['format'] = 'tflite'), 'one of "onnx", "ort"'],
    ['model.shippedName', (m) => (m['shippedName'] = 'model.onnx'), '"model.ort", the file of model.format "ort"'],
    ['model.shippedSha256', (m) => (m['shippedSha256'] = 'abc'), '64 lowercase hex digits'],
  ];
  for (const [setting, edit, allowed] of cases) {
    const edited = await editedDist(ortZip, (json) => edit(json['model'] as Json));
    const error = t.throws(() => readBuildRecord(edited, EXPECT), { instanceOf: BuildRecordError });
    t.is(error.setting, setting);
    t.true(error.message.includes(`allowed: ${allowed}`), error.message);
  }
  const onnx = await editedDist(onnxZip, (json) => {
    json['model']['shippedSha256'] = 'f'.repeat(64);
  });
  const error = t.throws(() => readBuildRecord(onnx, EXPECT), { instanceOf: BuildRecordError });
  t.is(error.setting, 'model.shippedSha256');
});

test('a zipped model.ort is named in MODEL_FILE; a zipped model.onnx needs no variable', (t) => {
  t.is(one(synthFunction(ortZip), 'aws_lambda_function')['environment']['variables']['MODEL_FILE'], 'model.ort');
  t.false('MODEL_FILE' in one(synthFunction(onnxZip), 'aws_lambda_function')['environment']['variables']);
});

test('an S3 model.ort is uploaded under its own name and checked by its own sha256', (t) => {
  const out = synthFunction(ortS3, true);
  const { model } = deployableBuild(ortS3);
  const object = one(out, 'aws_s3_object');
  t.is(object['key'], 'models/iris/1/model.ort');
  t.is(object['source_hash'], model.shippedSha256);
  t.regex(object['source'] as string, new RegExp(`/${model.shippedSha256}/model-${model.sha256.slice(0, 16)}\\.ort$`));
  t.deepEqual(object['metadata'], { sha256: model.shippedSha256, model: 'iris@1', 'onnx-sha256': model.sha256 });
  const variables = one(out, 'aws_lambda_function')['environment']['variables'] as Json;
  t.is(variables['MODEL_KEY'], 'models/iris/1/model.ort');
  t.is(variables['MODEL_SHA256'], model.shippedSha256);
  t.false('MODEL_FILE' in variables, 'the key names the file');
});

test('MODEL_FILE is the construct\'s own: an environment that sets it is refused', (t) => {
  const stack = constructStack();
  const error = t.throws(() => new InferenceFunction(stack, 'fn', { build: deployableBuild(ortZip), functionName: 'onnx-test-predict', environment: { MODEL_FILE: 'other.onnx' } }), { instanceOf: SettingError });
  t.regex(error.message, /environment\.MODEL_FILE/);
});
