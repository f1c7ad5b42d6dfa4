// A fresh process to the first response, the way Lambda's Node.js runtime starts a function: an ES module entry
// that imports the handler module, then one invocation. `npm run bench` runs it from the function's task root,
// with the runtime layer on NODE_PATH:  node handler-entry.mjs <index.mjs>   (event JSON in BENCH_EVENT)
const started = performance.now();
const { handler } = await import(`file://${process.argv[2]}`);
const response = await handler(JSON.parse(process.env.BENCH_EVENT), { awsRequestId: 'cold-start' });
const done = performance.now();
// performance.now() counts from the process's start: node's own startup is in both this and the floor.
process.stderr.write(JSON.stringify({ totalMs: done, moduleMs: done - started, statusCode: response.statusCode, body: response.body }));
