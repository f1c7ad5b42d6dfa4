import test from 'ava';
import { Logger } from '../../../functions/predict/logger.js';
import { sampledHeader, Tracing, UNTRACED } from '../../../functions/predict/tracing.js';
import { createInvocationTracer, daemonEndpoint } from '../../../functions/predict/xray-tracer.js';
import { startXRayDaemon as daemon } from '../../helpers/xray-daemon.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';
const HEADER = `Root=${ROOT};Parent=${PARENT};Sampled=1`;

function logger(lines: string[]): Logger {
  return new Logger('debug', { function: 'test' }, (line) => lines.push(line));
}

test('each stage arrives at the daemon as a subsegment of Lambda\'s function segment, with its times and annotations', async (t) => {
  const listener = await daemon();
  t.teardown(listener.close);
  const tracer = createInvocationTracer(listener.address, { function_version: '7' }, () => {});
  const invocation = tracer.start(HEADER)!;
  invocation.annotate({ model: 'iris', model_version: 'iris@1' });
  const before = Date.now() / 1000;
  t.is(invocation.stageSync('parse', () => 'parsed'), 'parsed');
  invocation.annotate({ batch_size: 3 });
  await invocation.stage('inference', async () => new Promise((resolve) => setTimeout(resolve, 5)));
  const [parse, inference] = await listener.wait(2);
  t.like(parse, { name: 'parse', type: 'subsegment', trace_id: ROOT, parent_id: PARENT, annotations: { function_version: '7', model: 'iris', model_version: 'iris@1' } });
  t.like(inference, { name: 'inference', annotations: { batch_size: 3 } });
  t.regex(String(parse!['id']), /^[0-9a-f]{16}$/);
  t.true(Number(parse!['start_time']) >= before - 1 && Number(inference!['end_time']) - Number(inference!['start_time']) >= 0.004);
});

test('a failed stage is marked: a client error as error with its message, a server error as fault with its class only', async (t) => {
  const listener = await daemon();
  t.teardown(listener.close);
  const invocation = createInvocationTracer(listener.address, {}, () => {}).start(HEADER)!;
  t.throws(() => invocation.stageSync('parse', () => { throw new TypeError('instances[0] has 5 values'); }, () => 'client'));
  class ModelCrash extends Error { override name = 'ModelCrash'; }
  await t.throwsAsync(invocation.stage('inference', async () => { throw new ModelCrash('/var/task/model/model.ort: bad'); }));
  const [parse, inference] = await listener.wait(2);
  t.like(parse, { error: true, cause: { exceptions: [{ message: 'instances[0] has 5 values' }] } });
  t.is(parse!['fault'], undefined);
  t.like(inference, { fault: true, cause: { exceptions: [{ message: 'ModelCrash' }] } });
  t.false(JSON.stringify(inference).includes('/var/task'));
});

test('a stage that already happened is sent with its own times', async (t) => {
  const listener = await daemon();
  t.teardown(listener.close);
  const invocation = createInvocationTracer(listener.address, {}, () => {}).start(HEADER)!;
  const start = performance.now() - 50;
  invocation.past('s3-download', start, start + 30, { bytes: 1024 });
  const [download] = await listener.wait(1);
  t.like(download, { name: 's3-download', annotations: { bytes: 1024 } });
  t.true(Math.abs(Number(download!['end_time']) - Number(download!['start_time']) - 0.03) < 0.002);
});

const headers: readonly [string, string | undefined, boolean][] = [
  ['a sampled header', HEADER, true],
  ['a header with Lineage', `${HEADER};Lineage=a87bd80c:1|68fd508a:5`, true],
  ['an unsampled header', `Root=${ROOT};Parent=${PARENT};Sampled=0`, false],
  ['no header', undefined, false],
  ['a malformed root', `Root=1-xyz;Parent=${PARENT};Sampled=1`, false],
  ['garbage', 'not a header at all', false],
];
for (const [what, header, sampled] of headers) {
  test(`reads ${what} as ${sampled ? 'traced' : 'not traced'}`, async (t) => {
    t.is(sampledHeader(header), sampled);
    const lines: string[] = [];
    const listener = await daemon();
    t.teardown(listener.close);
    const trace = await new Tracing(listener.address, {}, logger(lines)).forInvocation(header);
    t.is(trace.recording, sampled);
    t.deepEqual(lines, []);
  });
}

test('without a daemon address nothing is traced and the tracer is never loaded', async (t) => {
  let loads = 0;
  const tracing = new Tracing(undefined, {}, logger([]), async () => {
    loads += 1;
    throw new Error('not expected');
  });
  t.is(await tracing.forInvocation(HEADER), UNTRACED);
  t.is(loads, 0);
});

test('a malformed daemon address turns tracing off with one warning, and requests go on untraced', async (t) => {
  const lines: string[] = [];
  const tracing = new Tracing('no-port-here', {}, logger(lines));
  t.is((await tracing.forInvocation(HEADER)).recording, false);
  t.is((await tracing.forInvocation(HEADER)).recording, false);
  t.is(lines.length, 1);
  t.regex(lines[0]!, /tracing is off: the tracer could not be loaded.*AWS_XRAY_DAEMON_ADDRESS \\"no-port-here\\" is not host:port/);
});

test('an unreachable daemon leaves the stages\' work and results unaffected', async (t) => {
  const listener = await daemon();
  const address = listener.address;
  listener.close();
  const invocation = createInvocationTracer(address, {}, () => {}).start(HEADER)!;
  for (let i = 0; i < 5; i++) {
    t.is(invocation.stageSync('parse', () => i * 2), i * 2);
    t.is(await invocation.stage('inference', async () => i * 3), i * 3);
  }
});

test('reads the daemon address in both of Lambda\'s forms', (t) => {
  t.deepEqual(daemonEndpoint('169.254.79.129:2000'), { host: '169.254.79.129', port: 2000 });
  t.deepEqual(daemonEndpoint('tcp:127.0.0.1:2000 udp:127.0.0.2:2001'), { host: '127.0.0.2', port: 2001 });
  t.deepEqual(daemonEndpoint('[::1]:2000'), { host: '::1', port: 2000 });
  t.throws(() => daemonEndpoint('127.0.0.1:99999'), { message: /is not host:port/ });
});

test('only the first sampled invocation waits for the tracer; the later ones, and every untraced one, start without a promise', async (t) => {
  const listener = await daemon();
  t.teardown(listener.close);
  const tracing = new Tracing(listener.address, {}, logger([]));
  t.false(tracing.forInvocation(undefined) instanceof Promise);
  const first = tracing.forInvocation(HEADER);
  t.true(first instanceof Promise);
  t.true((await first).recording);
  const later = tracing.forInvocation(HEADER);
  t.false(later instanceof Promise);
  t.true((later as Awaited<typeof first>).recording);
});
