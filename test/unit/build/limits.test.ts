import test from 'ava';
import { checkBudgets, formatBreach, sizeTable, type MeasuredArtifact } from '../../../commands/build/limits.js';
import { MB } from '../../../functions/contract/lambda-limits.js';

const fn = (bytes: number, unzippedBytes: number): MeasuredArtifact => ({ name: 'function', file: 'dist/function.zip', bytes, unzippedBytes, kind: 'function' });
const layer = (bytes: number, unzippedBytes: number, name = 'runtime-layer'): MeasuredArtifact => ({ name, file: `dist/${name}.zip`, bytes, unzippedBytes, kind: 'layer' });
const model = (bytes: number): MeasuredArtifact => ({ name: 'model', file: 'dist/model-abc.onnx', bytes, unzippedBytes: bytes, kind: 'model' });

test('passes a build well inside every limit', (t) => {
  t.deepEqual(checkBudgets([fn(1 * MB, 2 * MB), layer(10 * MB, 25 * MB)], { ephemeralMb: 512 }), []);
});

test('refuses a layer over the 50 MB direct-upload limit, naming the layer, its size and the limit', (t) => {
  const [breach] = checkBudgets([fn(1 * MB, 2 * MB), layer(51 * MB, 120 * MB)], { ephemeralMb: 512 });
  t.truthy(breach);
  t.is(formatBreach(breach!), 'runtime-layer (dist/runtime-layer.zip) is 51.0 MB zipped; the limit is 50.0 MB. Fix: build for one architecture only (it is) and drop unneeded files; a layer over 50 MB must be uploaded through S3.');
});

test('refuses function plus layers over 250 MB unzipped, listing each part', (t) => {
  const breaches = checkBudgets([fn(40 * MB, 200 * MB), layer(20 * MB, 60 * MB)], { ephemeralMb: 512 });
  t.is(breaches.length, 1);
  t.regex(formatBreach(breaches[0]!), /function plus layers unzip to 260\.0 MB \(function 200\.0 MB, runtime-layer 60\.0 MB\); the limit is 250\.0 MB\. Fix: package the model for S3/);
});

test('counts layers attached beyond the build against the limit of five', (t) => {
  const breaches = checkBudgets([fn(1 * MB, 1 * MB), layer(1 * MB, 1 * MB)], { ephemeralMb: 512, extraLayers: 5 });
  t.is(formatBreach(breaches[0]!), '6 layers; the limit is 5. Fix: merge layers; Lambda attaches at most 5.');
});

test('does not count an S3 model against the code limits', (t) => {
  t.deepEqual(checkBudgets([fn(1 * MB, 1 * MB), layer(10 * MB, 25 * MB), model(300 * MB)], { ephemeralMb: 1024 }), []);
});

test('refuses an S3 model over 80% of /tmp and says how far to raise it', (t) => {
  const [breach] = checkBudgets([fn(1 * MB, 1 * MB), model(420 * MB)], { ephemeralMb: 512 });
  t.regex(formatBreach(breach!), /is 420\.0 MB, downloaded to \/tmp at init; the limit is 409\.6 MB\. Fix: raise --ephemeral-storage-mb \(now 512; up to 10240\)/);
});

test('prints zipped, unzipped, limit and headroom for every artifact and the total', (t) => {
  const table = sizeTable([fn(1 * MB, 2 * MB), layer(10 * MB, 25 * MB), model(100 * MB)], 512).split('\n');
  t.deepEqual(table[0]!.split(/\s{2,}/), ['artifact', 'file', 'zipped', 'unzipped', 'limit', 'headroom']);
  t.deepEqual(table[1]!.trim().split(/\s{2,}/), ['function', 'dist/function.zip', '1.0 MB', '2.0 MB', '50.0 MB zipped', '49.0 MB']);
  t.deepEqual(table[3]!.trim().split(/\s{2,}/), ['model', 'dist/model-abc.onnx', '100.0 MB', '100.0 MB', '409.6 MB of /tmp', '309.6 MB']);
  t.deepEqual(table[4]!.trim().split(/\s{2,}/), ['function + layers', '27.0 MB', '250.0 MB unzipped', '223.0 MB']);
});
