import test from 'ava';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { CAPTURE_RECORD_TYPE } from '../../../functions/contract/capture.js';
import { createHandler } from '../../../functions/predict/app.js';
import { loadConfig } from '../../../functions/predict/config.js';
import { FIXTURES, MODELS, functionFor, simulatedHttpApiEvent } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

// Capture records and the OutOfTrainingRange metric through the real handler, on real sessions.

const IRIS_ROWS = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });

function emf(records: Record<string, unknown>[]): Record<string, unknown> | undefined {
  return records.find((r) => '_aws' in r);
}

test('a request with every value inside the training range writes OutOfTrainingRange 0', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  await fn.handler.ready;
  t.is((await fn.invoke('POST', '/predict', IRIS_ROWS)).statusCode, 200);
  t.is(emf(fn.records())?.['OutOfTrainingRange'], 0);
});

test('values beyond the training range are counted per feature: one of eight is 12.5 percent', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris') });
  await fn.handler.ready;
  await fn.invoke('POST', '/predict', JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 9.9]] }));
  t.is(emf(fn.records())?.['OutOfTrainingRange'], 12.5);
});

test('a tensor model\'s range covers every value of its input tensor', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'digits-cnn') });
  await fn.handler.ready;
  const image = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => 0.5));
  image[0]![0] = 2; // pixels were scaled to 0..1 in training
  t.is((await fn.invoke('POST', '/predict', JSON.stringify({ instances: [[image]] }))).statusCode, 200);
  // One of 64 values, 1.5625 percent, written to three decimals as every EMF value.
  t.is(emf(fn.records())?.['OutOfTrainingRange'], 1.563);
});

test('a bundle without baseline.json writes no OutOfTrainingRange, and says so once in the log', async (t) => {
  const dir = await tempDir(t, 'iris-no-baseline-');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  await rm(path.join(dir, 'baseline.json'));
  const fn = functionFor({ MODEL_DIR: dir });
  await fn.handler.ready;
  await fn.invoke('POST', '/predict', IRIS_ROWS);
  await fn.invoke('POST', '/predict', IRIS_ROWS);
  const records = fn.records();
  t.false(records.some((r) => 'OutOfTrainingRange' in r));
  const notes = records.filter((r) => r['message'] === 'drift metric off: OutOfTrainingRange is not written');
  t.is(notes.length, 1);
  t.like(notes[0], { reason: 'the bundle has no baseline.json' });
});

test('a baseline of another model version turns the metric off with the reason', async (t) => {
  const dir = await tempDir(t, 'iris-other-baseline-');
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  await cp(path.join(MODELS, 'diabetes', 'baseline.json'), path.join(dir, 'baseline.json'));
  const fn = functionFor({ MODEL_DIR: dir });
  await fn.handler.ready;
  await fn.invoke('POST', '/predict', IRIS_ROWS);
  t.regex(JSON.stringify(fn.records()), /baseline\.json describes diabetes@1, not iris@1/);
  t.false(fn.records().some((r) => 'OutOfTrainingRange' in r));
});

test('at sampling 1 each answered request, /predict and the Open Inference Protocol alike, is captured once', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris'), CAPTURE_SAMPLE_RATE: '1' });
  await fn.handler.ready;
  await fn.invoke('POST', '/predict', IRIS_ROWS);
  await fn.invoke('POST', '/v2/models/iris/infer', JSON.stringify({ inputs: [{ name: 'float_input', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }] }));
  await fn.invoke('POST', '/predict', JSON.stringify({ features: [1, 2] }));
  const captures = fn.records().filter((r) => r['_type'] === CAPTURE_RECORD_TYPE);
  t.deepEqual(captures.map((c) => c['rows']), [2, 1], 'the 400 is not captured');
});

test('at sampling 0 nothing is captured', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris'), CAPTURE_SAMPLE_RATE: '0' });
  await fn.handler.ready;
  for (let i = 0; i < 20; i++) await fn.invoke('POST', '/predict', IRIS_ROWS);
  t.false(fn.lines.some((line) => line.includes(CAPTURE_RECORD_TYPE)));
});

test('captured string inputs come back exactly, whatever they need escaped', async (t) => {
  const fn = functionFor({ MODEL_DIR: path.join(FIXTURES, 'tensor', 'string-encoder'), CAPTURE_SAMPLE_RATE: '1' });
  await fn.handler.ready;
  const text = 'quote " backslash \\ newline \n tab \t emoji 🙂 nul \u0000 end';
  const response = await fn.invoke('POST', '/predict', JSON.stringify({ instances: [text] }));
  t.is(response.statusCode, 200, response.body);
  const record = fn.records().find((r) => r['_type'] === CAPTURE_RECORD_TYPE) as { inputs: Record<string, { data: unknown[] }> };
  t.deepEqual(Object.values(record.inputs)[0]!.data, [text]);
});

test('a capture record that cannot be written is logged and dropped, after an answer the client already has', async (t) => {
  const lines: string[] = [];
  const write = (line: string) => {
    if (line.includes(CAPTURE_RECORD_TYPE)) throw new Error('stdout is gone');
    lines.push(line);
  };
  const handler = createHandler(() => loadConfig({ MODEL_DIR: path.join(MODELS, 'iris'), CAPTURE_SAMPLE_RATE: '1' }), { write });
  await handler.ready;
  const response = await handler(simulatedHttpApiEvent('POST', '/predict', IRIS_ROWS), { awsRequestId: 'r-1' });
  await new Promise((resolve) => setImmediate(resolve));
  t.is(response.statusCode, 200);
  t.regex(lines.join('\n'), /"message":"capture record not written",.*"requestId":"r-1","error":"[^"]*stdout is gone/);
  t.true(lines.some((line) => line.includes('"RequestLatency"')), 'the metrics line is still written');
});
