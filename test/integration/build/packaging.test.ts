import test from 'ava';
import { choosePackaging, ephemeralMbFor, MAX_TMP_MODEL_BYTES } from '../../../commands/build/packaging.js';
import type { ModelPackaging } from '../../../functions/contract/build-record.js';
import { IMAGE_MAX_BYTES } from '../../../functions/contract/lambda-limits.js';
import { MB } from '../../../functions/contract/lambda-limits.js';

const zipLimit = 20 * MB;
const code = 45 * MB;

test('auto picks zip, zip + S3 or image by the model size, first that fits', (t) => {
  const cases: [number, number, ModelPackaging][] = [
    [1 * MB, code, 'zip'],
    [zipLimit, code, 'zip'],
    [zipLimit + 1, code, 's3'],
    // Under the zip threshold, but function, model and layer would unzip over 250 MB.
    [19 * MB, 240 * MB, 's3'],
    [MAX_TMP_MODEL_BYTES, code, 's3'],
    [MAX_TMP_MODEL_BYTES + 1, code, 'image'],
    [IMAGE_MAX_BYTES, code, 'image'],
  ];
  for (const [modelBytes, codeUnzippedBytes, expected] of cases) {
    t.is(choosePackaging('auto', { modelBytes, codeUnzippedBytes, zipModelLimitBytes: zipLimit }).packaging, expected, `${modelBytes} bytes`);
  }
});

test('each choice says why in one sentence', (t) => {
  const s3 = choosePackaging('auto', { modelBytes: 500 * MB, codeUnzippedBytes: code, zipModelLimitBytes: zipLimit });
  t.is(s3.reason, 's3: model.onnx is 500.0 MB, over the 20.0 MB zip threshold (--zip-model-limit-mb); it fits /tmp, downloaded at init from the model store (it needs --ephemeral-storage-mb 625 or more)');
  const tooBigForZip = choosePackaging('auto', { modelBytes: 19 * MB, codeUnzippedBytes: 240 * MB, zipModelLimitBytes: zipLimit });
  t.is(tooBigForZip.reason, "s3: model.onnx is 19.0 MB, and function, model and layer would unzip to 259.0 MB, over Lambda's 250.0 MB; it fits /tmp, downloaded at init from the model store (it needs --ephemeral-storage-mb 512 or more)");
  const image = choosePackaging('auto', { modelBytes: 9000 * MB, codeUnzippedBytes: code, zipModelLimitBytes: zipLimit });
  t.is(image.reason, 'image: model.onnx is 9000.0 MB, over the 20.0 MB zip threshold (--zip-model-limit-mb), and over the 8192.0 MB it may take of the largest /tmp (80% of 10240 MB); a container image holds up to 10240.0 MB');
  t.is(choosePackaging('image', { modelBytes: MB, codeUnzippedBytes: code, zipModelLimitBytes: zipLimit }).reason, 'image, as asked (--package image); model.onnx is 1.0 MB');
  t.is(choosePackaging('s3', { modelBytes: MB, modelFile: 'model.ort', codeUnzippedBytes: code, zipModelLimitBytes: zipLimit }).reason, 's3, as asked (--package s3); model.ort is 1.0 MB', 'the shipped file is named');
});

test('a model over the image limit fits no packaging', (t) => {
  const error = t.throws(() => choosePackaging('auto', { modelBytes: IMAGE_MAX_BYTES + 1, codeUnzippedBytes: code, zipModelLimitBytes: zipLimit }));
  t.is(error?.message, 'model.onnx is 10240.0 MB, over the 10240.0 MB a Lambda container image may hold (the largest packaging there is); quantize or shrink the model');
});

test('the ephemeral storage a downloaded model needs keeps it within its share of /tmp', (t) => {
  t.is(ephemeralMbFor(1 * MB), 512);
  t.is(ephemeralMbFor(800 * MB), 1000);
  t.is(ephemeralMbFor(MAX_TMP_MODEL_BYTES), 10_240);
});
