/**
 * Prediction capture (SPEC "Function configuration", CAPTURE_SAMPLE_RATE): a sampled share of answered requests is
 * written as a capture record (contract/capture.ts), one JSON log line, after the response, like the metrics line:
 * it costs no network call, and the infrastructure's subscription filter routes the lines to S3.
 */
import { buildCaptureRecord } from '../contract/capture.js';
import type { OutputTensor } from './model-session.js';
import type { InputTensors } from './predict-request.js';

export interface CapturedRequest {
  readonly requestId: string;
  readonly model: string;
  readonly functionVersion: string;
  readonly inputs: InputTensors;
  readonly outputs: ReadonlyMap<string, OutputTensor>;
}

/** Chooses and writes capture records at `rate` (0 to 1); `random` is the sampling draw, Math.random in the function. */
export class CaptureSampler {
  constructor(
    private readonly rate: number,
    private readonly write: (line: string) => void,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether this request is captured: decided on the request path, cheaply. */
  sampled(): boolean {
    return this.rate > 0 && this.random() < this.rate;
  }

  /** Writes the request's record (capped per contract/capture.ts's CAPTURE_LIMITS). */
  capture(request: CapturedRequest): void {
    const record = buildCaptureRecord({
      requestId: request.requestId,
      time: new Date(),
      model: request.model,
      functionVersion: request.functionVersion,
      rows: request.inputs.rows,
      inputs: request.inputs.tensors,
      outputs: request.outputs,
    });
    this.write(JSON.stringify(record));
  }
}
