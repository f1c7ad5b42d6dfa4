import test from 'ava';
import { CAPTURE_RECORD_TYPE } from '../../../functions/contract/capture.js';
import { startServer } from '../../helpers/serve.js';
import { startXRayDaemon, traceIds } from '../../helpers/xray-daemon.js';

// What npm start shows of the model in production: stage spans to a local UDP listener standing for X-Ray's daemon,
// capture records in the log, and the OutOfTrainingRange metric in the EMF line.

async function predict(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

test('a local UDP listener receives the stage spans of a /predict request through npm start', async (t) => {
  const daemon = await startXRayDaemon();
  const server = await startServer([], { AWS_XRAY_DAEMON_ADDRESS: daemon.address });
  t.teardown(async () => {
    await server.stop();
    daemon.close();
  });
  const response = await predict(server.url, { instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] });
  t.is(response.status, 200);
  const header = response.headers.get('x-amzn-trace-id');
  t.truthy(header, 'npm start gives the request a trace header and says which');
  const { traceId, parentId } = traceIds(header!);
  const documents = await daemon.wait(3);
  t.deepEqual(documents.map((d) => d['name']), ['parse', 'inference', 'serialize']);
  for (const document of documents) {
    t.like(document, { type: 'subsegment', trace_id: traceId, parent_id: parentId, annotations: { model: 'iris', model_version: 'iris@1', function_name: 'predict-local' } });
    t.true(Number(document['end_time']) >= Number(document['start_time']));
  }
  t.like(documents[1], { annotations: { batch_size: 2 } });
});

test('a request the model cannot take sends a parse span marked as the client\'s error, and no inference span', async (t) => {
  const daemon = await startXRayDaemon();
  const server = await startServer([], { AWS_XRAY_DAEMON_ADDRESS: daemon.address });
  t.teardown(async () => {
    await server.stop();
    daemon.close();
  });
  const response = await predict(server.url, { features: [1, 2, 3] });
  t.is(response.status, 400);
  const documents = await daemon.wait(1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.deepEqual(daemon.documents().map((d) => d['name']), ['parse']);
  t.like(documents[0], { error: true, cause: { exceptions: [{ message: (await response.json() as { error: string }).error }] } });
});

test('without AWS_XRAY_DAEMON_ADDRESS npm start gives no trace header', async (t) => {
  const server = await startServer([], { AWS_XRAY_DAEMON_ADDRESS: '' });
  t.teardown(() => server.stop());
  const response = await predict(server.url, { features: [5.1, 3.5, 1.4, 0.2] });
  t.is(response.status, 200);
  t.is(response.headers.get('x-amzn-trace-id'), null);
});

test('at a sampling rate of 1 every answered request is written as a capture record of its inputs and the model\'s outputs', async (t) => {
  const server = await startServer([], { CAPTURE_SAMPLE_RATE: '1' });
  t.teardown(() => server.stop());
  const response = await predict(server.url, { instances: [[5.1, 3.5, 1.4, 0.2]] });
  t.is(response.status, 200);
  const requestId = response.headers.get('x-amzn-requestid')!;
  const line = await server.stdoutLine((l) => l.includes(`"_type":"${CAPTURE_RECORD_TYPE}"`));
  t.truthy(line);
  const record = JSON.parse(line!) as Record<string, unknown>;
  t.like(record, { requestId, model: 'iris@1', rows: 1, inputs: { float_input: { type: 'float32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] } } });
  t.like(record, { outputs: { probabilities: { type: 'float32', shape: [1, 3] } } });
});

test('at a sampling rate of 0 nothing is captured', async (t) => {
  const server = await startServer([], { CAPTURE_SAMPLE_RATE: '0' });
  t.teardown(() => server.stop());
  t.is((await predict(server.url, { features: [5.1, 3.5, 1.4, 0.2] })).status, 200);
  t.truthy(await server.stdoutLine((l) => l.includes('"RequestLatency"')));
  t.false(server.stdout().includes(CAPTURE_RECORD_TYPE));
});

test('the EMF line says what share of the request lies outside the training range', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  t.is((await predict(server.url, { instances: [[5.1, 3.5, 1.4, 0.2], [50, 3.5, 1.4, 0.2]] })).status, 200);
  const line = await server.stdoutLine((l) => l.includes('"OutOfTrainingRange"') && l.includes('"status":200'));
  t.truthy(line, server.stdout());
  t.is((JSON.parse(line!) as { OutOfTrainingRange: number }).OutOfTrainingRange, 12.5);
});
