// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test from 'ava';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { ALL_BUNDLES, BUNDLES, MODELS, functionFor, json, maxAbsDiff, readGolden, readManifestJson, type Golden } from '../../helpers/function.js';

const DEFAULT_TOLERANCE = 1e-4;

/** Every value of a nested array, in order. */
function flat(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap(flat) : [value as number];
}

function argmax(row: readonly number[]): number {
  return row.indexOf(Math.max(...row));
}

/**
 * Checks served probabilities or values against golden outputs: within the bundle's tolerance, and for a bundle
 * judged by top-1 agreement (a quantized one, against its float model), with at least that share of best labels.
 */
function matchesGolden(t: ExecutionContext, golden: Golden, got: number[][], want: number[][], what: string): void {
  const tolerance = golden.tolerance ?? DEFAULT_TOLERANCE;
  const diff = maxAbsDiff(got.flat(), want.flat());
  t.true(diff <= tolerance, `${what}: max diff ${diff}, limit ${tolerance}`);
  if (golden.minTop1Agreement !== undefined) {
    const agreeing = got.filter((row, i) => argmax(row) === argmax(want[i]!)).length;
    t.true(agreeing / got.length >= golden.minTop1Agreement, `${what}: top-1 agrees on ${agreeing} of ${got.length}`);
  }
}

for (const bundle of ALL_BUNDLES) {
  test(`${bundle}: a batch of every golden row matches the training framework through the handler`, async (t) => {
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
      matchesGolden(t, golden, probabilities, expected, 'probabilities');
      const confidence = body['confidence'] as number[];
      probabilities.forEach((row, i) => {
        t.is(prediction[i], labels[argmax(row)], `row ${i}`);
        t.is(confidence[i], Math.max(...row), `row ${i} confidence`);
      });
    } else {
      t.is(body['probabilities'], undefined);
      matchesGolden(t, golden, (prediction as number[]).map((v) => [v]), golden.outputs.map((v) => flat(v)), 'prediction');
    }
  });

  test(`${bundle}: batches of different sizes one after another through one handler each give their rows' golden outputs`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const n = golden.inputs.length;
    for (const [from, to] of [[0, n], [1, 3], [2, n], [0, 2]] as const) {
      const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: golden.inputs.slice(from, to) }));
      t.is(response.statusCode, 200, response.body);
      const body = json(response);
      const got = manifest['task'] === 'classification' ? (body['probabilities'] as number[][]) : (body['prediction'] as number[]).map((v) => [v]);
      const want = golden.outputs.slice(from, to).map((v) => flat(v));
      t.is(got.length, want.length, `rows ${from} to ${to}`);
      matchesGolden(t, golden, got, want, `rows ${from} to ${to}`);
    }
  });

  test(`${bundle}: the Open Inference Protocol infer route, shaped from the model's own metadata, gives the golden outputs`, async (t) => {
    const dir = path.join(MODELS, bundle);
    const golden = await readGolden(bundle);
    const manifest = await readManifestJson(dir);
    const fn = functionFor({ MODEL_DIR: dir });
    const name = String(manifest['name']);
    const metadata = json(await fn.invoke('GET', `/v2/models/${name}`));
    const [input] = metadata['inputs'] as { name: string; datatype: string; shape: number[] }[];
    const rowShape = input!.shape.slice(1);
    t.true(rowShape.every((d) => d > 0), 'a committed bundle has fixed inner dimensions');
    const request = {
      id: 'golden',
      inputs: [{ name: input!.name, shape: [golden.inputs.length, ...rowShape], datatype: input!.datatype, data: flat(golden.inputs) }],
      outputs: [{ name: manifest['output'] }],
    };
    const response = await fn.invoke('POST', `/v2/models/${name}/infer`, JSON.stringify(request));
    t.is(response.statusCode, 200, response.body);
    const body = json(response);
    t.is(body['id'], 'golden');
    const outputs = body['outputs'] as { name: string; datatype: string; shape: number[]; data: number[] }[];
    t.is(outputs.length, 1);
    t.is(outputs[0]!.name, manifest['output'] as string);
    t.is(outputs[0]!.datatype, 'FP32');
    t.is(outputs[0]!.shape[0], golden.inputs.length);
    const width = outputs[0]!.data.length / golden.inputs.length;
    const got = Array.from({ length: golden.inputs.length }, (_, r) => outputs[0]!.data.slice(r * width, (r + 1) * width));
    matchesGolden(t, golden, got, golden.outputs.map((v) => flat(v)), 'infer');
  });
}

for (const bundle of BUNDLES) {
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
      matchesGolden(t, golden, [got], [flat(golden.outputs[i])], `row ${i}`);
    }
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
