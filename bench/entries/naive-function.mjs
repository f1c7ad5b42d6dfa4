// The naive function: what one writes to serve an ONNX model on Lambda without the kit, and the floor the bench
// holds the function to, warm and cold, under the same emulator with the same runtime layer, model and session
// options (JSON in BENCH_SESSION_OPTIONS). Init loads onnxruntime-node and creates the session (top-level await,
// like the real function); each invocation does JSON.parse of the body's {"instances": [...]}, one session.run of
// the output named in BENCH_OUTPUT, and JSON.stringify of its values. No validation, no metrics, no logs.
// With BENCH_LOG_BYTES (JSON: row count -> bytes), and only then, it also writes one line of that many bytes to
// stdout in the event-loop turn after each response, as the function writes its EMF line: the bench's measure of
// what that write costs on the billed clock.
// `npm run bench` ships it as index.mjs beside model/model.onnx.
import { createRequire } from 'node:module';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const session = await ort.InferenceSession.create(`${process.env.LAMBDA_TASK_ROOT}/model/model.onnx`, JSON.parse(process.env.BENCH_SESSION_OPTIONS));
const input = session.inputNames[0];
const output = process.env.BENCH_OUTPUT;
const logLines = new Map(Object.entries(JSON.parse(process.env.BENCH_LOG_BYTES ?? '{}')).map(([rows, bytes]) => [Number(rows), `{"_bench":"${'x'.repeat(Math.max(0, bytes - 14))}"}\n`]));

export async function handler(event) {
  const { instances } = JSON.parse(event.body);
  const dims = [instances.length];
  for (let value = instances[0]; Array.isArray(value); value = value[0]) dims.push(value.length);
  const result = await session.run({ [input]: new ort.Tensor('float32', Float32Array.from(instances.flat(Infinity)), dims) }, [output]);
  const line = logLines.get(instances.length);
  if (line !== undefined) setImmediate(() => process.stdout.write(line));
  return { statusCode: 200, body: JSON.stringify({ [output]: Array.from(result[output].data) }) };
}
