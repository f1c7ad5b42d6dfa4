// The floor of a cold start: an ES module entry (as Lambda's Node.js runtime is) that loads onnxruntime-node the
// cheapest way (require, no ES module facade), creates the session with the function's session options (JSON in
// BENCH_SESSION_OPTIONS) and runs the rows of BENCH_INSTANCES (the request's {"instances": [...]}).
// `npm run bench` copies it outside the project so that onnxruntime-node comes from the layer on NODE_PATH.
import { createRequire } from 'node:module';
const started = performance.now();
const ort = createRequire(import.meta.url)('onnxruntime-node');
const session = await ort.InferenceSession.create(process.env.BENCH_MODEL, JSON.parse(process.env.BENCH_SESSION_OPTIONS));
const instances = JSON.parse(process.env.BENCH_INSTANCES);
const dims = [instances.length];
for (let value = instances[0]; Array.isArray(value); value = value[0]) dims.push(value.length);
const output = process.env.BENCH_OUTPUT;
const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(instances.flat(Infinity)), dims) }, [output]);
const done = performance.now();
process.stderr.write(JSON.stringify({ totalMs: done, moduleMs: done - started, output: Array.from(result[output].data) }));
