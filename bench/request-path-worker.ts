/**
 * One request-path case of `npm run bench`, in its own process: the shipped function bundle (dist-style
 * `index.mjs`, imported as Lambda imports it) against raw `session.run` on the same input, interleaved. The
 * parent points stdout at /dev/null, so the handler's EMF lines take the same synchronous write they take in
 * Lambda; the result goes to stderr as one JSON line.
 *
 *   tsx bench/request-path-worker.ts <function dir> <bundle dir> <rows> <requests> <warmup>
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from '../functions/predict/model-session.js';
import { httpEvent } from '../scripts/lambda-event.js';

const [functionDir, bundleDir, rowsArg, requestsArg, warmupArg] = process.argv.slice(2);
if (functionDir === undefined || bundleDir === undefined) throw new Error('usage: request-path-worker <function dir> <bundle dir> <rows> <requests> <warmup>');
const batch = Number(rowsArg);
const requests = Number(requestsArg);
const warmup = Number(warmupArg);

const manifest = JSON.parse(readFileSync(path.join(bundleDir, 'model.json'), 'utf8')) as { input: string; output: string; features: string[] };
const golden = (JSON.parse(readFileSync(path.join(bundleDir, 'golden.json'), 'utf8')) as { inputs: number[][] }).inputs;
const input = Array.from({ length: batch }, (_, i) => golden[i % golden.length]!);
const body = JSON.stringify(batch === 1 ? { features: input[0] } : { instances: input });
const event = httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(body), 'bench', true);

process.env['MODEL_DIR'] = bundleDir;
type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<{ statusCode: number; body: string }>;
const { handler } = (await import(pathToFileURL(path.join(functionDir, 'index.mjs')).href)) as { handler: Handler };
const session = await ort.InferenceSession.create(path.join(bundleDir, 'model.onnx'), sessionOptions(1));
const data = Float32Array.from(input.flat());
const raw = () => session.run({ [manifest.input]: new ort.Tensor('float32', data, [batch, manifest.features.length]) }, [manifest.output]);
const context = { awsRequestId: randomUUID() };
const now = () => Number(process.hrtime.bigint()) / 1e6;
// The handler writes its EMF line in the next event-loop turn, after Lambda has the response (see app.ts): billed,
// not waited for. It runs outside the timed window rather than inside the next measurement.
const afterResponse = () => new Promise((resolve) => setImmediate(resolve));

const first = await handler(event, context);
if (first.statusCode !== 200) throw new Error(`handler answered ${first.statusCode}: ${first.body}`);
for (let i = 0; i < warmup; i++) {
  await raw();
  await handler(event, context);
  await afterResponse();
}
const rawMs: number[] = [];
const handlerMs: number[] = [];
for (let i = 0; i < requests; i++) {
  // Alternate which goes first so neither always runs on a warmer cache.
  if (i % 2 === 0) {
    let t = now();
    await raw();
    rawMs.push(now() - t);
    t = now();
    await handler(event, context);
    handlerMs.push(now() - t);
    await afterResponse();
  } else {
    let t = now();
    await handler(event, context);
    handlerMs.push(now() - t);
    await afterResponse();
    t = now();
    await raw();
    rawMs.push(now() - t);
  }
}
process.stderr.write(`${JSON.stringify({ rawMs, handlerMs })}\n`);
