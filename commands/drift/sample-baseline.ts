/**
 * A bundle's baseline from a file of sample inputs (`npm run bundle -- --baseline-from`): the rows are read as
 * `/predict` reads them, run through the bundle's model with the function's own loader, and summarised as
 * models/train/baseline.py summarises the training rows: per feature of a tabular model (or per input tensor), and
 * the model's answers (label shares, predicted values, or each output's values).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BASELINE_TYPE, BASELINE_VERSION, type BaselineInput, type BaselinePrediction, type TrainingBaseline, type ValueSummary } from '../../functions/contract/capture.js';
import { DEFAULT_MODEL_FILE, ENV } from '../../functions/contract/env.js';
import { loadConfig } from '../../functions/predict/config.js';
import { loadModel, type OutputTensor } from '../../functions/predict/model-session.js';
import { readPredictRequest } from '../../functions/predict/predict-request.js';
import { argmaxRows, labelShares, summarize } from './baseline.js';
import { SampleInputsError } from './errors.js';

/** What writes a baseline from sample inputs, as baseline.json's `writer` records it. */
export const SAMPLE_WRITER = 'npm run bundle -- --baseline-from';

const FORMS = 'a JSON array of rows in /predict\'s instance form, or {"instances": [...]}';

/** The rows of a sample inputs file: a JSON array of instances, or `{"instances": [...]}`. */
export async function readSampleRows(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SampleInputsError(`--baseline-from ${file} cannot be read (${(error as Error).message}); expected ${FORMS}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SampleInputsError(`--baseline-from ${file} is not JSON (${(error as Error).message.slice(0, 100)}); expected ${FORMS}`);
  }
  const rows = Array.isArray(json) ? json : json !== null && typeof json === 'object' && Array.isArray((json as Record<string, unknown>)['instances']) ? ((json as Record<string, unknown>)['instances'] as unknown[]) : undefined;
  if (rows === undefined) throw new SampleInputsError(`--baseline-from ${file} holds ${Array.isArray(json) ? 'an array' : typeof json}, not rows; expected ${FORMS}`);
  if (rows.length === 0) throw new SampleInputsError(`--baseline-from ${file} holds no rows; expected ${FORMS} with at least one row (ideally the training rows)`);
  return rows;
}

/** A tensor's elements as numbers (float32 as the exact double, as numpy widens it; bool as 0/1); undefined for strings. */
function numbers(tensor: { readonly type: string; readonly data: ArrayLike<unknown> }): number[] | undefined {
  if (tensor.type === 'string') return undefined;
  return Array.from(tensor.data, (v) => (typeof v === 'boolean' ? Number(v) : Number(v as number | bigint)));
}

/** Appends without spreading (a spread of a large batch overflows the call stack). */
function append<T>(target: T[], values: ArrayLike<T>): void {
  for (let i = 0; i < values.length; i++) target.push(values[i]!);
}

function summary(values: readonly number[], what: string): ValueSummary {
  const result = summarize(values);
  if (result === undefined) throw new SampleInputsError(`${what} has no numeric value in the sample rows (all NaN); give rows with values`);
  return result;
}

/** Computes baseline.json for the bundle in `dir` from the rows of `samplesFile`. */
export async function baselineFromSamples(dir: string, samplesFile: string): Promise<TrainingBaseline> {
  const rows = await readSampleRows(samplesFile);
  const model = await loadModel(loadConfig({ [ENV.MODEL_DIR]: dir }));
  const { manifest, served } = model;
  const limits = { model: manifest.name, maxBatch: manifest.maxBatch, maxElements: Number.MAX_SAFE_INTEGER };
  const inputValues = new Map<string, unknown[]>(served.inputs.map((spec) => [spec.name, []]));
  const inputTypes = new Map(served.inputs.map((spec) => [spec.name, spec.type]));
  const outputs = served.served === undefined ? served.outputs.map((o) => o.name) : [served.served.name];
  const outputValues = new Map<string, number[]>(outputs.map((name) => [name, []]));
  for (let start = 0; start < rows.length; start += manifest.maxBatch) {
    const batch = rows.slice(start, start + manifest.maxBatch);
    let request;
    try {
      request = readPredictRequest({ instances: batch }, served, limits);
    } catch (error) {
      const message = (error as Error).message.replace(/instances\[(\d+)\]/g, (_, i: string) => `row ${start + Number(i)}`);
      throw new SampleInputsError(`--baseline-from ${samplesFile}: rows ${start} to ${start + batch.length - 1} do not fit model ${manifest.name}: ${message}`);
    }
    for (const [name, tensor] of request.tensors) append(inputValues.get(name)!, tensor.data as ArrayLike<unknown>);
    const answered: Map<string, OutputTensor> = await model.run(request, outputs);
    for (const [name, tensor] of answered) {
      const values = numbers(tensor);
      if (values !== undefined) append(outputValues.get(name)!, values);
    }
  }

  const inputs: BaselineInput[] = [];
  const skipped: { input: string; reason: string }[] = [];
  if (served.tabular !== undefined) {
    const { spec, features } = served.tabular;
    const all = numbers({ type: spec.type, data: inputValues.get(spec.name)! })!;
    features.forEach((feature, column) => {
      const values = all.filter((_, i) => i % features.length === column);
      inputs.push({ name: feature, input: spec.name, column, summary: summary(values, `feature ${feature}`) });
    });
  } else {
    for (const spec of served.inputs) {
      const values = numbers({ type: inputTypes.get(spec.name)!, data: inputValues.get(spec.name)! });
      if (values === undefined) skipped.push({ input: spec.name, reason: 'a string tensor: no numeric distribution' });
      else inputs.push({ name: spec.name, input: spec.name, summary: summary(values, `input ${spec.name}`) });
    }
  }

  let prediction: BaselinePrediction;
  if (manifest.task === 'classification') {
    const labels = manifest.labels ?? [];
    const { shares, count } = labelShares(labels, argmaxRows(outputValues.get(served.served!.name)!, labels.length));
    prediction = { kind: 'labels', output: served.served!.name, count, labels, shares };
  } else if (manifest.task === 'regression') {
    prediction = { kind: 'values', output: served.served!.name, summary: summary(outputValues.get(served.served!.name)!, `output ${served.served!.name}`) };
  } else {
    prediction = {
      kind: 'tensors',
      outputs: outputs.filter((name) => outputValues.get(name)!.length > 0).map((name) => ({ name, summary: summary(outputValues.get(name)!, `output ${name}`) })),
    };
  }
  const sha256 = createHash('sha256').update(await readFile(path.join(dir, DEFAULT_MODEL_FILE))).digest('hex');
  return {
    _type: BASELINE_TYPE,
    version: BASELINE_VERSION,
    model: { name: manifest.name, version: manifest.version, task: manifest.task, sha256 },
    rows: rows.length,
    source: `${path.basename(samplesFile)}: ${rows.length} sample rows`,
    writer: SAMPLE_WRITER,
    inputs,
    skipped,
    prediction,
  };
}
