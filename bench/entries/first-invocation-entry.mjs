// The first invocation of a fresh process, the module already loaded:  node first-invocation-entry.mjs <index.mjs>
// (event JSON in BENCH_EVENT). `npm run bench`'s observe section runs it with the daemon address set, with and
// without a sampled trace header in the environment, to time what the first traced invocation adds (the tracer
// chunk's import and the tracer's start). Runs from the function's task root, the runtime layer on NODE_PATH.
import { setTimeout as sleep } from 'node:timers/promises';

const { handler } = await import(`file://${process.argv[2]}`);
const event = JSON.parse(process.env.BENCH_EVENT);
const started = performance.now();
const response = await handler(event, { awsRequestId: 'first-invocation' });
const firstMs = performance.now() - started;
// The metrics line is written in the next turn; the spans' datagrams leave before the process does.
await new Promise((resolve) => setImmediate(resolve));
await sleep(50);
process.stderr.write(JSON.stringify({ firstMs, statusCode: response.statusCode, body: response.body }));
