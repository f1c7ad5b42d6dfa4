// The cold-start curve's floors and the ways under them, in a fresh process: load onnxruntime-node (require, as
// floor-entry.mjs), get the model, create the session with BENCH_SESSION_OPTIONS, run BENCH_INSTANCES once.
// BENCH_LOAD says how the model is got:
//   path          onnxruntime reads BENCH_MODEL itself, after onnxruntime is loaded (the function's order today)
//   bytes         the file read into memory after onnxruntime is loaded, the session created from the bytes
//   bytes-overlap the read started first, onnxruntime loaded while it runs (libuv's threads read), then the session
//   url           BENCH_MODEL fetched over HTTP after onnxruntime is loaded (a download to memory)
//   url-overlap   the fetch started first, onnxruntime loaded while it runs
// Writes one JSON line to stderr: totalMs from process start, and each step's ms.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
const started = performance.now();
const model = process.env.BENCH_MODEL;
const load = process.env.BENCH_LOAD ?? 'path';
const fetchBytes = async () => {
  const response = await fetch(model);
  if (!response.ok) throw new Error(`GET ${model} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
};
const getBytes = { bytes: () => readFile(model), 'bytes-overlap': () => readFile(model), url: fetchBytes, 'url-overlap': fetchBytes }[load];
const early = load.endsWith('-overlap') ? getBytes() : undefined;
// A turn of the event loop, so the read or the request is under way before require blocks the main thread.
if (early !== undefined) await new Promise((resolve) => setImmediate(resolve));
const t0 = performance.now();
const ort = createRequire(import.meta.url)('onnxruntime-node');
const ortMs = performance.now() - t0;
const t1 = performance.now();
const source = load === 'path' ? model : await (early ?? getBytes());
const waitMs = performance.now() - t1;
const t2 = performance.now();
const session = await ort.InferenceSession.create(source, JSON.parse(process.env.BENCH_SESSION_OPTIONS));
const sessionMs = performance.now() - t2;
const instances = JSON.parse(process.env.BENCH_INSTANCES);
const dims = [instances.length];
for (let value = instances[0]; Array.isArray(value); value = value[0]) dims.push(value.length);
const output = process.env.BENCH_OUTPUT;
const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(instances.flat(Infinity)), dims) }, [output]);
const done = performance.now();
// The peak RSS of this process image: VmHWM (getrusage's maxrss survives exec, so it starts at the parent's size).
const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
const peakRssMb = (hwm === null ? process.resourceUsage().maxRSS : Number(hwm[1])) / 1024;
process.stderr.write(JSON.stringify({ totalMs: done, moduleMs: done - started, ortMs, waitMs, sessionMs, peakRssMb, output: Array.from(result[output].data) }));
