// One fresh process of bench/tracing-candidates.ts:  node tracing-candidate-entry.mjs <bundle.mjs>
// Imports a candidate tracer bundle, makes its tracer and runs one invocation's three stages (the first traced
// invocation), then BENCH_WARM_CALLS more, each timed. The daemon address and a sampled trace header come in
// BENCH_DAEMON and BENCH_TRACE_HEADER. The figures go to stderr as one JSON line.
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const STAGES = ['parse', 'inference', 'serialize'];
const attributes = { function_name: 'bench', function_version: '$LATEST', model: 'iris', model_version: 'iris@1', batch_size: 1 };
const invocation = async (tracer) => {
  const trace = tracer.start(process.env.BENCH_TRACE_HEADER);
  for (const stage of STAGES) await trace.stage(stage, () => stage.length);
};

const started = performance.now();
const { createInvocationTracer } = await import(pathToFileURL(process.argv[2]).href);
const imported = performance.now();
const tracer = createInvocationTracer(process.env.BENCH_DAEMON, attributes, (message) => process.stderr.write(`${message}\n`));
await invocation(tracer);
const first = performance.now();
const warm = [];
for (let i = 0; i < Number(process.env.BENCH_WARM_CALLS); i++) {
  const t = performance.now();
  await invocation(tracer);
  warm.push((performance.now() - t) * 1000);
  // One invocation at a time, as a Lambda container serves them: the UDP sends finish between two.
  await new Promise((resolve) => setImmediate(resolve));
}
// The last datagrams leave before the process does.
await sleep(50);
process.stderr.write(JSON.stringify({ processMs: first, importMs: imported - started, firstMs: first - started, warmUs: warm }) + '\n');
