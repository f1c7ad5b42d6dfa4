import test, { type ExecutionContext } from 'ava';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAMBDA_NODE, LAMBDA_NODE_VERSION } from '../../tools/testbed/paths.js';
import { stageFunction, startFunction, type FunctionOptions, type LambdaUnderTest, type StagedFunction } from '../helpers/emulator.js';

// The test bed itself: AWS's Runtime Interface Emulator with AWS's Node.js runtime interface client on the Node 24 of
// Lambda's nodejs24.x runtime, on fixtures that each prove one part of the wiring the function tests rely on.
const EMULATOR_FIXTURES = fileURLToPath(new URL('../fixtures/emulator/', import.meta.url));
const LAYER_LIB = path.join(EMULATOR_FIXTURES, 'layer-packages', 'fixture-layer-lib');

interface Running {
  readonly lambda: LambdaUnderTest;
  readonly staged: StagedFunction;
}

/** Stages a fixture with the layer package in its opt folder and starts it; both are undone when the test ends. */
async function run(t: ExecutionContext, fixture: string, options: Omit<FunctionOptions, 'taskRoot' | 'optDir'> = {}): Promise<Running> {
  const staged = await stageFunction(path.join(EMULATOR_FIXTURES, fixture), [LAYER_LIB]);
  t.teardown(() => staged.remove());
  const lambda = await startFunction({ taskRoot: staged.taskRoot, optDir: staged.optDir, ...options });
  t.teardown(() => lambda.stop());
  return { lambda, staged };
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

test('invokes the function with the event and returns its result, with the request id in its context', async (t) => {
  const { lambda, staged } = await run(t, 'echo', { functionName: 'echo-fn' });
  const result = await lambda.invoke({ hello: 'world' }, { requestId: 'req-echo-1' });
  t.is(result.status, 200);
  t.false(result.initError);
  t.is(record(result.payload)['statusCode'], 200);
  const body = record(JSON.parse(String(record(result.payload)['body'])));
  t.deepEqual(body['event'], { hello: 'world' });
  t.is(body['requestId'], 'req-echo-1');
  t.is(body['functionName'], 'echo-fn');
  t.is(body['taskRoot'], staged.taskRoot);
  t.is(body['cwd'], staged.taskRoot);
  t.is(result.report?.requestId, 'req-echo-1');
  t.true(String(body['nodePath']).split(':').includes(path.join(staged.optDir, 'nodejs', 'node_modules')));
});

test('the REPORT line has an Init Duration on the first invocation only', async (t) => {
  const { lambda } = await run(t, 'echo', { memoryMB: 512 });
  const cold = await lambda.invoke({ n: 1 });
  const warm = await lambda.invoke({ n: 2 });
  t.not(cold.report, undefined, cold.logs);
  t.not(warm.report, undefined, warm.logs);
  t.is(typeof cold.report?.initDurationMs, 'number');
  t.is(warm.report?.initDurationMs, undefined);
  t.true((cold.runtimeInitMs ?? 0) > 0, 'RIE logs the runtime init time on a cold start');
  t.is(warm.runtimeInitMs, undefined);
  t.is(cold.report?.memoryMB, 512);
  t.true((warm.report?.billedMs ?? -1) >= (warm.report?.durationMs ?? 0));
  t.regex(lambda.logs(), /END RequestId: .*\nREPORT RequestId: /);
});

test('a CommonJS handler resolves a package from the opt folder through NODE_PATH, like a layer', async (t) => {
  const { lambda, staged } = await run(t, 'layer-lib');
  const result = await lambda.invoke({});
  t.false(result.initError, result.logs);
  t.is(record(result.payload)['greeting'], 'hello from the layer, layer');
  t.is(record(result.payload)['resolvedFrom'], path.join(staged.optDir, 'nodejs', 'node_modules', 'fixture-layer-lib', 'index.js'));
});

test('an ES module handler cannot import a layer package, since the ESM resolver ignores NODE_PATH', async (t) => {
  const { lambda } = await run(t, 'layer-lib-esm');
  const result = await lambda.invoke({});
  t.true(result.initError);
  t.regex(String(record(result.payload)['errorMessage']), /Cannot find package 'fixture-layer-lib'/);
});

test('a module that throws while loading comes back as an init error', async (t) => {
  const { lambda } = await run(t, 'init-throws');
  const result = await lambda.invoke({});
  t.true(result.initError);
  t.is(result.status, 502);
  t.is(record(result.payload)['errorMessage'], 'init-throws fixture: failing at module load');
  t.is(result.report, undefined);
});

test('an error thrown by the handler comes back as its error object, not as an init error', async (t) => {
  const { lambda } = await run(t, 'handler-throws');
  const result = await lambda.invoke({});
  t.is(result.status, 200);
  t.false(result.initError);
  t.is(record(result.payload)['errorType'], 'TypeError');
  t.is(record(result.payload)['errorMessage'], 'handler-throws fixture: failing in the handler');
  t.not(result.report, undefined);
});

test('an invocation that outlasts the function timeout is cut off and reported as timed out', async (t) => {
  const { lambda } = await run(t, 'slow', { timeoutSeconds: 1 });
  const result = await lambda.invoke({ waitMs: 5000 });
  t.true(result.timedOut, result.raw);
  t.is(result.report?.durationMs, 1000);
});

test('two functions run at the same time, each with its own emulator and runtime', async (t) => {
  const [first, second] = await Promise.all([run(t, 'slow'), run(t, 'slow')]);
  t.not(first.lambda.invokeUrl, second.lambda.invokeUrl);
  // Warm both first, so that neither runtime's start-up falls inside the invocations compared.
  await Promise.all([first.lambda.invoke({ waitMs: 0 }), second.lambda.invoke({ waitMs: 0 })]);
  const results = await Promise.all([first.lambda.invoke({ waitMs: 1500 }), second.lambda.invoke({ waitMs: 1500 })]);
  const [a, b] = [record(results[0].payload), record(results[1].payload)];
  t.not(a['pid'], b['pid']);
  // Each handler started before the other ended: run one after the other, one would start only after the other's end.
  t.true((a['startedAt'] as number) < (b['endedAt'] as number), JSON.stringify({ a, b }));
  t.true((b['startedAt'] as number) < (a['endedAt'] as number), JSON.stringify({ a, b }));
});

test("the function runs on the Node 24 of Lambda's nodejs24.x runtime, not on the Node running the tests", async (t) => {
  const { lambda, staged } = await run(t, 'node-version');
  const result = await lambda.invoke({});
  t.is(result.status, 200, result.logs);
  const reported = record(result.payload);
  t.true(String(reported['version']).startsWith('v24.'), `the function ran on Node ${String(reported['version'])}`);
  t.is(reported['version'], `v${LAMBDA_NODE_VERSION}`);
  t.is(reported['execPath'], LAMBDA_NODE);
  t.is(reported['executionEnv'], 'AWS_Lambda_nodejs24.x');
  t.deepEqual(String(reported['nodePath']).split(':'), [path.join(staged.optDir, 'nodejs', 'node24', 'node_modules'), path.join(staged.optDir, 'nodejs', 'node_modules'), staged.taskRoot]);
});

test('a runtime the test bed does not install is refused with a message that says which ones it runs', async (t) => {
  const staged = await stageFunction(path.join(EMULATOR_FIXTURES, 'echo'));
  t.teardown(() => staged.remove());
  await t.throwsAsync(startFunction({ taskRoot: staged.taskRoot, runtime: 'nodejs22.x' }), { message: /runs only the Lambda runtime\(s\) nodejs24\.x .*got "nodejs22\.x"/ });
});
