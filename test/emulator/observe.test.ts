import test from 'ava';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CAPTURE_RECORD_TYPE } from '../../functions/contract/capture.js';
import type { StagedArtifacts } from '../../tools/stage-artifacts.js';
import { newTraceHeader } from '../../tools/trace-header.js';
import { buildAndStage } from '../helpers/build.js';
import { startFunction } from '../helpers/emulator.js';
import { simulatedHttpApiEvent } from '../helpers/function.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';
import { startXRayDaemon, traceIds } from '../helpers/xray-daemon.js';

// The built function under AWS's Runtime Interface Emulator, the invoke's X-Amzn-Trace-Id handed to the runtime
// client as Lambda does (through tools/trace-header-proxy.ts: the emulator itself sends the runtime no trace header),
// and the spans reach a UDP listener at AWS_XRAY_DAEMON_ADDRESS, from the shipped tracer chunk.
const cleanup = new SuiteCleanup();
let staged: StagedArtifacts | undefined;

test.before(async () => {
  ({ staged } = await buildAndStage(cleanup));
});

test.after.always(() => cleanup.run());

const IRIS = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]] });

test('the built function sends its stage spans under the invocation\'s trace to the daemon, and captures the request', async (t) => {
  const daemon = await startXRayDaemon();
  const fn = await startFunction({ taskRoot: staged!.taskRoot, optDir: staged!.optDir, handler: staged!.build.handler, env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address, CAPTURE_SAMPLE_RATE: '1' }, traceHeaders: true });
  t.teardown(async () => {
    await fn.stop();
    daemon.close();
  });
  const header = newTraceHeader();
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', IRIS), { traceHeader: header });
  t.is((invocation.payload as { statusCode: number }).statusCode, 200);
  const { traceId, parentId } = traceIds(header);
  const documents = await daemon.wait(3);
  t.deepEqual(documents.map((d) => d['name']), ['parse', 'inference', 'serialize'], invocation.logs);
  t.true(documents.every((d) => d['trace_id'] === traceId && d['parent_id'] === parentId));
  t.like(documents[1], { annotations: { model: 'iris', model_version: 'iris@1', batch_size: 3 } });
  t.regex(invocation.logs, new RegExp(`"_type":"${CAPTURE_RECORD_TYPE}".*"rows":3`));
});

test('an invocation without a trace header sends nothing, and runs without the tracer chunk at all', async (t) => {
  // A copy of the function without xray-tracer.mjs: an untraced invocation never imports it.
  const taskRoot = await mkdtemp(path.join(tmpdir(), 'task-untraced-'));
  t.teardown(() => rm(taskRoot, { recursive: true, force: true }));
  await cp(staged!.taskRoot, taskRoot, { recursive: true });
  await rm(path.join(taskRoot, 'xray-tracer.mjs'));
  const daemon = await startXRayDaemon();
  const fn = await startFunction({ taskRoot, optDir: staged!.optDir, handler: staged!.build.handler, env: { AWS_XRAY_DAEMON_ADDRESS: daemon.address }, traceHeaders: true });
  t.teardown(async () => {
    await fn.stop();
    daemon.close();
  });
  const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', IRIS));
  t.is((invocation.payload as { statusCode: number }).statusCode, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.deepEqual(daemon.documents(), []);
  t.notRegex(invocation.logs, /tracing is off|"level":"(WARN|ERROR)"/);
});

test('an unreachable daemon leaves the traced invocation\'s answer as it is', async (t) => {
  const daemon = await startXRayDaemon();
  const address = daemon.address;
  daemon.close();
  const fn = await startFunction({ taskRoot: staged!.taskRoot, optDir: staged!.optDir, handler: staged!.build.handler, env: { AWS_XRAY_DAEMON_ADDRESS: address }, traceHeaders: true });
  t.teardown(() => fn.stop());
  for (let i = 0; i < 3; i++) {
    const invocation = await fn.invoke(simulatedHttpApiEvent('POST', '/predict', IRIS), { traceHeader: newTraceHeader() });
    t.is((invocation.payload as { statusCode: number }).statusCode, 200);
  }
});
