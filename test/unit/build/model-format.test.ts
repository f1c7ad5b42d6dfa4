import test from 'ava';
import { chooseModelFormat, ModelFormatError, size, type OptimizeChoice, type OrtAttempt } from '../../../commands/build/packaging.js';
import { DEFAULT_MODEL_FILE, ORT_MODEL_FILE } from '../../../functions/contract/env.js';
import { MODEL_FILE_OF_FORMAT, modelFormatOf, type ModelFormat } from '../../../functions/contract/model-format.js';

const made: OrtAttempt = { ok: true, bytes: 2384, maxDiff: 1.7e-7 };
const failed: OrtAttempt = { ok: false, reason: 'the bundle has no golden.json to check model.ort against (--allow-missing-golden)' };

test('--optimize decides which file ships from what the build could make', (t) => {
  const cases: [OptimizeChoice, OrtAttempt | undefined, ModelFormat][] = [
    ['auto', made, 'ort'],
    ['auto', failed, 'onnx'],
    ['ort', made, 'ort'],
    ['none', undefined, 'onnx'],
  ];
  for (const [choice, attempt, format] of cases) t.is(chooseModelFormat(choice, 512, attempt).format, format, `${choice}, ${attempt?.ok}`);
});

test('each decision is one line naming the format, the sizes and why', (t) => {
  t.is(
    chooseModelFormat('auto', 512, made).line,
    "model format: ORT, model.ort 2.3 KB against model.onnx's 0.5 KB (4.66x), golden rows within 1.7e-7; init uses its bytes in place, with no protobuf to parse and the graph already optimised",
  );
  t.is(
    chooseModelFormat('auto', 512, failed).line,
    'model format: ONNX, model.onnx 0.5 KB; model.ort not shipped: the bundle has no golden.json to check model.ort against (--allow-missing-golden)',
  );
  t.is(chooseModelFormat('none', 3 * 1024 * 1024, undefined).line, 'model format: ONNX, as asked (--optimize none); model.onnx 3.0 MB');
});

test('--optimize ort fails the build when model.ort cannot ship, with the reason and the way out', (t) => {
  const error = t.throws(() => chooseModelFormat('ort', 512, failed), { instanceOf: ModelFormatError });
  t.is(
    error.message,
    '--optimize ort: model.ort cannot ship: the bundle has no golden.json to check model.ort against (--allow-missing-golden); build with --optimize auto or none to ship model.onnx',
  );
});

test('a file ending in .ort is ORT format and anything else ONNX, whatever its path or case', (t) => {
  const cases: [string, ModelFormat][] = [
    ['model.ort', 'ort'],
    ['/var/task/model/model.ort', 'ort'],
    ['models/iris/1/MODEL.ORT', 'ort'],
    ['model.onnx', 'onnx'],
    ['/tmp/model-0123456789abcdef.onnx', 'onnx'],
    ['resnet', 'onnx'],
    ['model.ort.onnx', 'onnx'],
  ];
  for (const [file, format] of cases) t.is(modelFormatOf(file), format, file);
});

test('each format ships under its own file name, and that name reads back as the format', (t) => {
  t.deepEqual(MODEL_FILE_OF_FORMAT, { onnx: DEFAULT_MODEL_FILE, ort: ORT_MODEL_FILE });
  for (const format of ['onnx', 'ort'] as const) t.is(modelFormatOf(MODEL_FILE_OF_FORMAT[format]), format);
});

test('sizes read in KB below a megabyte and in MB above', (t) => {
  t.is(size(512), '0.5 KB');
  t.is(size(1024 * 1024 - 1), '1024.0 KB');
  t.is(size(1024 * 1024), '1.0 MB');
});
