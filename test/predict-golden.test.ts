import test from 'ava';
import path from 'node:path';
import { BUNDLES, MODELS, functionFor, json, maxAbsDiff, readGolden, readManifestJson } from './helpers/function.js';

const TOLERANCE = 1e-4;

for (const bundle of BUNDLES) {
  test(`${bundle}: a batch of every golden row matches the training framework within 1e-4 through the handler`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: golden.inputs }));
    t.is(response.statusCode, 200, response.body);
    const body = json(response);
    t.is(body['model_version'], `${manifest['name']}@${manifest['version']}`);
    const prediction = body['prediction'] as (string | number)[];
    t.is(prediction.length, golden.inputs.length);
    if (manifest['task'] === 'classification') {
      const labels = manifest['labels'] as string[];
      const probabilities = body['probabilities'] as number[][];
      const expected = golden.outputs as number[][];
      t.true(maxAbsDiff(probabilities.flat(), expected.flat()) <= TOLERANCE, `max diff ${maxAbsDiff(probabilities.flat(), expected.flat())}`);
      const confidence = body['confidence'] as number[];
      expected.forEach((row, i) => {
        const best = row.indexOf(Math.max(...row));
        t.is(prediction[i], labels[best], `row ${i}`);
        t.true(Math.abs(confidence[i]! - row[best]!) <= TOLERANCE, `row ${i} confidence`);
      });
    } else {
      t.is(body['probabilities'], undefined);
      t.true(maxAbsDiff(prediction as number[], golden.outputs as number[]) <= TOLERANCE, `max diff ${maxAbsDiff(prediction as number[], golden.outputs as number[])}`);
    }
  });

  test(`${bundle}: batches of different sizes one after another through one handler each give their rows' golden outputs`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const n = golden.inputs.length;
    // Long, short, long again: the scanner's memory is reused from one request to the next.
    for (const [from, to] of [[0, n], [1, 3], [2, n], [0, 2]] as const) {
      const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: golden.inputs.slice(from, to) }));
      t.is(response.statusCode, 200, response.body);
      const body = json(response);
      const got = (manifest['task'] === 'classification' ? (body['probabilities'] as number[][]).flat() : (body['prediction'] as number[]));
      const want = golden.outputs.slice(from, to).flat() as number[];
      t.is(got.length, want.length, `rows ${from} to ${to}`);
      t.true(maxAbsDiff(got, want) <= TOLERANCE, `rows ${from} to ${to}`);
    }
  });

  test(`${bundle}: each golden row sent alone, by feature name, gives the golden output`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const features = manifest['features'] as string[];
    const fn = functionFor({ MODEL_DIR: dir });
    for (const [i, row] of golden.inputs.entries()) {
      // Reverse the key order: names, not positions, must decide where each value goes.
      const named = Object.fromEntries(features.map((name, j) => [name, row[j]]).reverse());
      const response = await fn.invoke('POST', '/predict', JSON.stringify({ features: named }));
      t.is(response.statusCode, 200, response.body);
      const body = json(response);
      const got = manifest['task'] === 'classification' ? (body['probabilities'] as number[][])[0]! : (body['prediction'] as number[]);
      const want = manifest['task'] === 'classification' ? (golden.outputs[i] as number[]) : [golden.outputs[i] as number];
      t.true(maxAbsDiff(got, want) <= TOLERANCE, `row ${i}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    }
  });

  test(`${bundle}: the Open Inference Protocol infer route gives the golden outputs`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const width = (manifest['features'] as string[]).length;
    const request = {
      id: 'golden',
      inputs: [{ name: manifest['input'], shape: [golden.inputs.length, width], datatype: 'FP32', data: golden.inputs.flat() }],
      outputs: [{ name: manifest['output'] }],
    };
    const response = await fn.invoke('POST', `/v2/models/${String(manifest['name'])}/infer`, JSON.stringify(request));
    t.is(response.statusCode, 200, response.body);
    const body = json(response);
    t.is(body['id'], 'golden');
    const outputs = body['outputs'] as { name: string; datatype: string; shape: number[]; data: number[] }[];
    t.is(outputs.length, 1);
    t.is(outputs[0]!.name, manifest['output'] as string);
    t.is(outputs[0]!.datatype, 'FP32');
    t.is(outputs[0]!.shape[0], golden.inputs.length);
    const expected = golden.outputs.flat() as number[];
    t.true(maxAbsDiff(outputs[0]!.data, expected) <= TOLERANCE, `max diff ${maxAbsDiff(outputs[0]!.data, expected)}`);
  });
}

test('a base64-encoded body is decoded before it is parsed', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const response = await fn.invoke('POST', '/predict', Buffer.from('{"features":[5.1,3.5,1.4,0.2]}'), { 'content-type': 'application/octet-stream' });
  t.is(response.statusCode, 200, response.body);
  t.deepEqual(json(response)['prediction'], ['setosa']);
});

test('the first invocation records ColdStart and ModelLoadTime once, with both dimension sets', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris'), AWS_LAMBDA_FUNCTION_NAME: 'predict', AWS_LAMBDA_FUNCTION_VERSION: '7', METRICS_NAMESPACE: 'Test/Ns' });
  await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
  await fn.invoke('POST', '/predict', '{"instances":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}');
  const emf = fn.records().filter((r) => '_aws' in r);
  t.is(emf.length, 2);
  const [first, second] = emf as [Record<string, unknown>, Record<string, unknown>];
  t.is(first['ColdStart'], 1);
  t.true(typeof first['ModelLoadTime'] === 'number' && first['ModelLoadTime'] > 0);
  t.false('ColdStart' in second);
  t.false('ModelLoadTime' in second);
  t.is(second['BatchSize'], 2);
  t.is((second['PredictionConfidence'] as number[]).length, 2);
  t.is(second['FunctionVersion'], '7');
  t.is(second['ModelVersion'], 'iris@1');
  const directive = (second['_aws'] as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0]!;
  t.is(directive.Namespace, 'Test/Ns');
  t.deepEqual(directive.Dimensions, [['FunctionName', 'FunctionVersion'], ['FunctionName', 'ModelVersion']]);
});

test('a batch of maxBatch classified rows writes every confidence, at most 100 per EMF record', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  const rows = Array.from({ length: 256 }, (_, i) => [4 + (i % 40) / 10, 3, 1 + (i % 50) / 10, (i % 25) / 10]);
  const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: rows }));
  t.is(response.statusCode, 200);
  const confidences = fn.records().filter((r) => 'PredictionConfidence' in r).map((r) => r['PredictionConfidence'] as number[]);
  t.deepEqual(confidences.map((c) => c.length), [100, 100, 56]);
  t.deepEqual(confidences.flat(), json(response)['confidence']);
});
