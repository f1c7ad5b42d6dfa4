/**
 * The `POST /predict` 200 body (SPEC "HTTP contract"): a classifier's labels, confidences and probabilities, a
 * regressor's values, or a tensor model's outputs nested batch first.
 */
import { ModelBundleError } from './errors.js';
import { checkOutputWidth, type ServedModel } from './manifest.js';
import type { OutputTensor } from './model-session.js';
import { nestedJson, numbersOf } from './tensor-json.js';

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
  const servedOf = (outputs: ReadonlyMap<string, OutputTensor>, rows: number) => {
    const tensor = outputs.get(served.name);
    if (tensor === undefined) throw new ModelBundleError(`model ${manifest.name}: onnxruntime returned no output "${served.name}"`);
    if (tensor.dims[0] !== rows) throw new ModelBundleError(`model ${manifest.name}: output "${served.name}" has ${String(tensor.dims[0])} rows for ${rows} input rows`);
    checkOutputWidth(manifest, served.name, rows === 0 ? 0 : tensor.data.length / rows);
    return numbersOf(tensor);
  };
  if (manifest.task === 'regression') {
    return (outputs, rows) => {
      const values = servedOf(outputs, rows);
      const texts = new Array<string>(rows);
      for (let r = 0; r < rows; r++) texts[r] = numberText(values[r]!);
      return { body: `{"prediction":[${texts.join(',')}]${tail}`, confidences: undefined };
    };
  }
  const labels = (manifest.labels ?? []).map((label) => JSON.stringify(label));
  const width = labels.length;
  return (outputs, rows) => {
    const values = servedOf(outputs, rows);
    const prediction = new Array<string>(rows);
    const confidence = new Array<string>(rows);
    const probabilities = new Array<string>(rows);
    const confidences = new Array<number>(rows);
    const row = new Array<string>(width);
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      // The first highest probability; NaN never wins.
      let best = 0;
      let top = values[base]!;
      for (let c = 0; c < width; c++) {
        const p = values[base + c]!;
        row[c] = numberText(p);
        if (p > top) {
          best = c;
          top = p;
        }
      }
      prediction[r] = labels[best]!;
      confidence[r] = numberText(top);
      confidences[r] = top;
      probabilities[r] = `[${row.join(',')}]`;
    }
    return {
      body: `{"prediction":[${prediction.join(',')}],"confidence":[${confidence.join(',')}],"probabilities":[${probabilities.join(',')}]${tail}`,
      confidences,
    };
  };
}
