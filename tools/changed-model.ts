/**
 * A model that answers differently under the same name and version: what the traffic checks exist to catch.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODELS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'models');

/**
 * Copies models/iris into `dir` with one of its model's intercepts raised by 0.5 in place (the LinearClassifier's
 * "intercepts" attribute, stored as protobuf field 7 of type fixed32, tag 0x3d), and without golden.json (so it
 * builds only with --allow-missing-golden): the same name, version and signature, different answers.
 */
export async function irisWithChangedIntercept(dir: string): Promise<string> {
  await cp(path.join(MODELS, 'iris'), dir, { recursive: true });
  await rm(path.join(dir, 'golden.json'));
  const model = await readFile(path.join(dir, 'model.onnx'));
  const at = model.indexOf('intercepts') + 'intercepts'.length;
  if (model[at] !== 0x3d) throw new Error(`models/iris/model.onnx no longer stores its intercepts as this helper expects (byte ${model[at]} after "intercepts")`);
  model.writeFloatLE(model.readFloatLE(at + 1) + 0.5, at + 1);
  await writeFile(path.join(dir, 'model.onnx'), model);
  return dir;
}
