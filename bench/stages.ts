/**
 * Where a request's time goes, stage by stage: the same module calls the handler makes (event and route, reading
 * the request, the model, writing the response, the response object), each timed, in the bench's loop shape (runs
 * of 10 calls, the first of each not kept; the runtime client's JSON work before each call, untimed; one turn of the
 * event loop after). The handler's wrapper and its EMF line are not in it. Prints the p50 of each stage, and of raw
 * `session.run` and the native call on a prepared tensor, each in runs of its own in the same loop shape, so the
 * stages can be set against the bench's baseline. onnxruntime's run takes longer right after the handler's
 * JavaScript than right after another run (compare `run` with `native`).
 *
 *   tsx bench/stages.ts <model: iris | breast-cancer | diabetes> <rows> [json | oip-binary]
 *
 * `json` (the default) is a `/predict` body; `oip-binary` the Open Inference Protocol's infer route with the rows
 * and the output as binary tensors, as the bench's `oip-binary` cases send them. Run through tsx, the event stage
 * includes tsx's wrapper around each closure the event reader makes, which the bundle does not have.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../functions/predict/config.js';
import { binaryResponse, jsonTextResponse, readHttpEvent, type HttpRequest, type HttpResponse } from '../functions/predict/http-event.js';
import { loadModel, sessionOptions, type OutputTensor } from '../functions/predict/model-session.js';
import { openNativeSession } from '../functions/predict/native-session.js';
import { binaryInferWriter, inferRequestReader, type InferRequest } from '../functions/predict/oip.js';
import { predictionWriter } from '../functions/predict/postprocess.js';
import { resolveRoute } from '../functions/predict/router.js';
import { predictBodyScanner } from '../functions/predict/scan-predict-body.js';
import { readPredictBody, type Batch } from '../functions/predict/validate-request.js';
import { httpEvent } from '../scripts/lambda-event.js';
import { binaryInferRequest, readBundle, requestBody } from './bench-data.js';

const name = process.argv[2] ?? 'iris';
const rows = Number(process.argv[3] ?? 1);
const binary = process.argv[4] === 'oip-binary';
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'models', name);
const bundle = readBundle(dir);
const model = await loadModel(loadConfig({ MODEL_DIR: dir }));

/** One request path, split where the handler's stages meet: what one stage gives, the next takes. */
interface RequestPath<Read, Output, Written> {
  readonly event: unknown;
  read(request: HttpRequest): Read;
  run(read: Read): Output;
  write(output: Output, read: Read): Written;
  respond(written: Written): HttpResponse;
}

function jsonPath(): RequestPath<Batch, Float32Array, string> {
  const body = requestBody(bundle, rows, 'float32');
  const scan = predictBodyScanner(model.spec);
  const write = predictionWriter(model.manifest, model.version);
  return {
    event: httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(body), 'bench', true),
    read: (request) => readPredictBody(request.body(), model.spec, scan),
    run: (batch) => model.predict(batch),
    write: (output, batch) => write(output, batch.rows).body,
    respond: (written) => jsonTextResponse(200, written),
  };
}

type InferWriter = ReturnType<typeof binaryInferWriter>;

function binaryPath(): RequestPath<InferRequest, OutputTensor[], ReturnType<InferWriter>> {
  const infer = binaryInferRequest(bundle, rows);
  const headers = { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(infer.headerLength), host: 'bench' };
  const readInfer = inferRequestReader(model.manifest, model.outputs);
  const writeInfer = binaryInferWriter(model.manifest);
  return {
    event: httpEvent({ method: 'POST', url: `/v2/models/${model.manifest.name}/infer`, headers }, infer.body, 'bench', false),
    read: (request) => readInfer(request),
    run: (request) => model.run(request.batch, request.outputs),
    write: (tensors, request) => writeInfer(request.id, tensors, request.binaryOutputs),
    respond: ({ bytes, headerBytes }) => binaryResponse(200, bytes, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerBytes) }),
  };
}

const p50 = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
const now = () => performance.now();

/** Times the stages of `requestPath`, and the floors beside them, and prints the p50s. */
async function measure<Read, Output, Written>(requestPath: RequestPath<Read, Output, Written>): Promise<void> {
  const eventText = JSON.stringify(requestPath.event);
  const first = requestPath.read(readHttpEvent(JSON.parse(eventText)));
  let last: unknown = requestPath.respond(requestPath.write(requestPath.run(first), first));
  const stages = ['turn', 'event', 'read', 'run', 'write', 'response'];
  const acc: number[][] = stages.map(() => []);
  const file = path.join(dir, 'model.onnx');
  const feeds = { [model.manifest.input]: new ort.Tensor('float32', Float32Array.from(bundle.rows(rows).flat()), [rows, model.manifest.features.length]) };
  const session = await ort.InferenceSession.create(file, sessionOptions(1));
  const native = openNativeSession(file, sessionOptions(1));
  const nativeFetches = { [model.manifest.output]: null };
  const floors: [string, () => unknown][] = [
    ['raw', () => session.run(feeds)],
    ['native', () => native.run(feeds, nativeFetches)],
  ];
  const floorAcc: number[][] = floors.map(() => []);
  for (let round = 0; round < 4000; round++) {
    for (const [k, [, call]] of floors.entries()) {
      for (let i = 0; i < 10; i++) {
        JSON.stringify(last);
        JSON.parse(eventText);
        const t0 = now();
        await call();
        const t1 = now();
        await new Promise((r) => setImmediate(r));
        if (i > 0 && round > 300) floorAcc[k]!.push((t1 - t0) * 1000);
      }
    }
    for (let i = 0; i < 10; i++) {
      const t0 = now();
      JSON.stringify(last);
      const ev = JSON.parse(eventText) as unknown;
      const t1 = now();
      const request = readHttpEvent(ev);
      resolveRoute(request.method, request.path);
      const t2 = now();
      const read = requestPath.read(request);
      const t3 = now();
      const output = requestPath.run(read);
      const t4 = now();
      const written = requestPath.write(output, read);
      const t5 = now();
      last = requestPath.respond(written);
      const t6 = now();
      await new Promise((r) => setImmediate(r));
      if (i > 0 && round > 300) [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5].forEach((d, k) => acc[k]!.push(d * 1000));
    }
  }
  const sum = stages.slice(1).reduce((total, _, k) => total + p50(acc[k + 1]!), 0);
  console.log(name, rows, binary ? 'oip-binary' : 'json', stages.map((s, k) => `${s} ${p50(acc[k]!).toFixed(2)}`).join('  '));
  console.log(`stages after the turn ${sum.toFixed(2)}  ${floors.map(([s], k) => `${s} ${p50(floorAcc[k]!).toFixed(2)}`).join('  ')}  (stages / raw ${(sum / p50(floorAcc[0]!)).toFixed(2)})`);
}

await (binary ? measure(binaryPath()) : measure(jsonPath()));
