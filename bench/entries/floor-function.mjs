// The floor of a cold start under the Lambda runtime: the least a function can do with onnxruntime-node. It loads
// the library and creates the session during init (top-level await, like the real function), and each invocation
// runs one row. `npm run bench` ships it as index.mjs with the same runtime layer, model and session options (JSON
// in BENCH_SESSION_OPTIONS) as the real function.
import { createRequire } from 'node:module';

const ort = createRequire(import.meta.url)('onnxruntime-node');
const session = await ort.InferenceSession.create(`${process.env.LAMBDA_TASK_ROOT}/model/model.onnx`, JSON.parse(process.env.BENCH_SESSION_OPTIONS));
const input = process.env.BENCH_INPUT;
const output = process.env.BENCH_OUTPUT;

export async function handler(event) {
  const { features } = JSON.parse(event.body);
  const result = await session.run({ [input]: new ort.Tensor('float32', Float32Array.from(features), [1, features.length]) }, [output]);
  return { statusCode: 200, body: JSON.stringify({ probabilities: [Array.from(result[output].data)] }) };
}
