// Peak resident memory of a process serving a model: `handler` imports the function (index.mjs) and answers
// BENCH_REQUESTS requests through it, alternating the events in BENCH_EVENTS; `floor` does only what serving
// needs of onnxruntime-node (load it, create the session, run the same rows). Run with the runtime layer on
// NODE_PATH, as Lambda runs a function. Prints the last answer to each event and the peak RSS to stderr.
//   node serve-entry.mjs handler <index.mjs>     node serve-entry.mjs floor
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const requests = Number(process.env.BENCH_REQUESTS);
const events = JSON.parse(process.env.BENCH_EVENTS);
const answers = new Array(events.length);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

if (process.argv[2] === 'handler') {
  const { handler } = await import(`file://${process.argv[3]}`);
  for (let i = 0; i < requests; i++) {
    const response = await handler(events[i % events.length], { awsRequestId: `memory-${i}` });
    answers[i % events.length] = response;
    await nextTurn();
  }
} else {
  const ort = createRequire(import.meta.url)('onnxruntime-node');
  const session = await ort.InferenceSession.create(process.env.BENCH_MODEL, JSON.parse(process.env.BENCH_SESSION_OPTIONS));
  const output = process.env.BENCH_OUTPUT;
  for (let i = 0; i < requests; i++) {
    const { instances } = JSON.parse(events[i % events.length].body);
    const dims = [instances.length];
    for (let value = instances[0]; Array.isArray(value); value = value[0]) dims.push(value.length);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(instances.flat(Infinity)), dims) };
    const result = await session.run(feeds, [output]);
    answers[i % events.length] = Array.from(result[output].data);
  }
}
// The peak RSS of this process image: VmHWM. (getrusage's maxrss survives exec, so a child of a large parent
// reports at least the parent's size.) Both in kibibytes; Lambda's "Max Memory Used" is in MB of 2^20 bytes.
const status = existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '';
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
const peakKib = hwm === null ? process.resourceUsage().maxRSS : Number(hwm[1]);
process.stderr.write(JSON.stringify({ peakRssMb: peakKib / 1024, answers }));
