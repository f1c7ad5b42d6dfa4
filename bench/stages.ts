/**
 * Where a `/predict` request's time goes, stage by stage: the same module calls the handler makes (event and route,
 * reading the body, the model, writing the response, the response object), each timed, in the bench's loop shape
 * (runs of 10 calls, the first of each not kept; the runtime client's JSON work before each call, untimed; one turn
 * of the event loop after). The handler's wrapper and its EMF line are not in it. Prints the p50 of each stage, and
 * of raw `session.run` and the native call on a prepared tensor, each in runs of its own in the same loop shape, so
 * the stages can be set against the bench's baseline. onnxruntime's run takes longer right after the handler's
 * JavaScript than right after another run (compare `predict` with `native`).
 *
 *   tsx bench/stages.ts <model: iris | breast-cancer | diabetes> <rows>
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../functions/predict/config.js';
import * as ort from 'onnxruntime-node';
import { loadModel, sessionOptions } from '../functions/predict/model-session.js';
import { openNativeSession } from '../functions/predict/native-session.js';
import { readHttpEvent, jsonTextResponse } from '../functions/predict/http-event.js';
import { resolveRoute } from '../functions/predict/router.js';
import { readPredictBody } from '../functions/predict/validate-request.js';
import { predictBodyScanner } from '../functions/predict/scan-predict-body.js';
import { predictionWriter } from '../functions/predict/postprocess.js';
import { httpEvent } from '../scripts/lambda-event.js';
import { readBundle, requestBody } from './bench-data.js';
const name = process.argv[2] ?? 'iris';
const rows = Number(process.argv[3] ?? 1);
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'models', name);
const bundle = readBundle(dir);
const body = requestBody(bundle, rows, 'float32');
const event = httpEvent({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json', host: 'bench' } }, Buffer.from(body), 'bench', true);
const eventText = JSON.stringify(event);
const model = await loadModel(loadConfig({ MODEL_DIR: dir }));
const scan = predictBodyScanner(model.spec);
const write = predictionWriter(model.manifest, model.version);
let last: unknown = { statusCode: 200, body: write(model.predict(readPredictBody(body, model.spec, scan)), rows).body };
const stages = ['turn', 'event', 'read', 'predict', 'write', 'response'];
const acc: number[][] = stages.map(() => []);
const now = () => performance.now();
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
    const ev = JSON.parse(eventText);
    const t1 = now();
    const request = readHttpEvent(ev);
    resolveRoute(request.method, request.path);
    const t2 = now();
    const batch = readPredictBody(request.body(), model.spec, scan);
    const t3 = now();
    const output = model.predict(batch);
    const t4 = now();
    const written = write(output, batch.rows);
    const t5 = now();
    last = jsonTextResponse(200, written.body);
    const t6 = now();
    await new Promise((r) => setImmediate(r));
    if (i > 0 && round > 300) [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5].forEach((d, k) => acc[k]!.push(d * 1000));
  }
}
const p50 = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
const sum = stages.slice(1).reduce((total, _, k) => total + p50(acc[k + 1]!), 0);
console.log(name, rows, stages.map((s, k) => `${s} ${p50(acc[k]!).toFixed(2)}`).join('  '));
console.log(`stages after the turn ${sum.toFixed(2)}  ${floors.map(([s], k) => `${s} ${p50(floorAcc[k]!).toFixed(2)}`).join('  ')}  (stages / raw ${(sum / p50(floorAcc[0]!)).toFixed(2)})`);
