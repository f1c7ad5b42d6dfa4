/**
 * The `POST /predict` 200 body (SPEC "HTTP contract"): a classifier's labels, confidences and probabilities, a
 * regressor's values, or a tensor model's outputs nested batch first.
 */
import { ModelBundleError } from './errors.js';
import { checkOutputWidth, type ServedModel } from './manifest.js';
import type { OutputTensor } from './model-session.js';
import { float32ToNumber, nestedJson, numbersOf } from './tensor-json.js';

/** The body as JSON text, and the confidences the metrics record (classifiers only). */
export interface PredictionBody {
  readonly body: string;
  readonly confidences: readonly number[] | undefined;
}

function numberText(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** Writes `/predict` bodies for one model: its labels and version serialized once. */
export function predictionWriter(model: ServedModel, modelVersion: string): (outputs: ReadonlyMap<string, OutputTensor>, rows: number) => PredictionBody {
  const tail = `,"model_version":${JSON.stringify(modelVersion)}}`;
  const { manifest, served } = model;
  if (manifest.task === 'tensor' || served === undefined) {
    return (outputs) => {
      const parts: string[] = [];
      for (const [name, tensor] of outputs) parts.push(`${JSON.stringify(name)}:${nestedJson(tensor)}`);
      return { body: `{"outputs":{${parts.join(',')}}${tail}`, confidences: undefined };
    };
  }
  const servedOf = (outputs: ReadonlyMap<string, OutputTensor>, rows: number): ArrayLike<number> => {
    const tensor = outputs.get(served.name);
    if (tensor === undefined) throw new ModelBundleError(`model ${manifest.name}: onnxruntime returned no output "${served.name}"`);
    if (tensor.dims[0] !== rows) throw new ModelBundleError(`model ${manifest.name}: output "${served.name}" has ${String(tensor.dims[0])} rows for ${rows} input rows`);
    checkOutputWidth(manifest, served.name, rows === 0 ? 0 : tensor.data.length / rows);
    // float32 (nearly every model's) is read as it is and shortened value by value below.
    return tensor.type === 'float32' ? (tensor.data as Float32Array) : numbersOf(tensor);
  };
  const shorten = served.type === 'float32' ? float32ToNumber : (value: number) => value;
  if (manifest.task === 'regression') {
    return (outputs, rows) => {
      const values = servedOf(outputs, rows);
      let prediction = '';
      for (let r = 0; r < rows; r++) prediction += (r === 0 ? '' : ',') + numberText(shorten(values[r]!));
      return { body: `{"prediction":[${prediction}]${tail}`, confidences: undefined };
    };
  }
  const labels = (manifest.labels ?? []).map((label) => JSON.stringify(label));
  const width = labels.length;
  return (outputs, rows) => {
    const values = servedOf(outputs, rows);
    let prediction = '';
    let confidence = '';
    let probabilities = '';
    const confidences = new Array<number>(rows);
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      // The first highest probability; NaN never wins.
      let best = 0;
      let top = shorten(values[base]!);
      let row = numberText(top);
      for (let c = 1; c < width; c++) {
        const p = shorten(values[base + c]!);
        row += `,${numberText(p)}`;
        if (p > top) {
          best = c;
          top = p;
        }
      }
      const sep = r === 0 ? '' : ',';
      prediction += sep + labels[best]!;
      confidence += sep + numberText(top);
      confidences[r] = top;
      probabilities += `${sep}[${row}]`;
    }
    return {
      body: `{"prediction":[${prediction}],"confidence":[${confidence}],"probabilities":[${probabilities}]${tail}`,
      confidences,
    };
  };
}
