/**
 * What building one EMF record costs for a 100-row classification, with the confidences formatted from numbers
 * (`String()` of each) against reused from the response body's texts (`confidenceText`), interleaved in one
 * process. The line is measured as the write sees it (`Buffer.byteLength` flattens it). Prints the two p50s.
 *
 *   tsx bench/emf-record.ts
 */
import { MetricsLogger, type RequestMetrics } from '../functions/predict/metrics.js';
import { float32ToNumber } from '../functions/predict/postprocess.js';

let bytes = 0;
const logger = new MetricsLogger({
  namespace: 'Bench',
  functionName: 'predict',
  functionVersion: '1',
  modelVersion: 'iris@1',
  write: (line) => {
    bytes += Buffer.byteLength(line);
  },
});
// Confidences as the writer returns them: short doubles of float32 probabilities.
const confidences = Array.from({ length: 100 }, (_, i) => float32ToNumber(Math.fround(0.5 + ((i * 0.37) % 0.5))));
const base: RequestMetrics = { requestId: 'bench-request', route: 'POST /predict', status: 200, requestMs: 0.0512, inferenceMs: 0.0231, batchSize: 100, confidences };
const withText: RequestMetrics = { ...base, confidenceText: confidences.map(String).join(',') };

const samples: [number[], number[]] = [[], []];
for (let round = 0; round < 20_000; round++) {
  for (const [k, metrics] of [base, withText].entries()) {
    const t = performance.now();
    logger.record(metrics);
    if (round >= 2000) samples[k]!.push((performance.now() - t) * 1000);
  }
}
const p50 = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`EMF record, 100 confidences: ${p50(samples[0]).toFixed(2)} µs formatted from numbers, ${p50(samples[1]).toFixed(2)} µs from the body's texts (${bytes} bytes written)`);
