/**
 * The AWS mode of `npm run tune`: the same report as the local mode, from a deployed function, measured by
 * commands/tune/lambda-tuner.ts (a published version per memory size, never the live alias), with the function's
 * configuration put back at the end, on failure and on interruption, and what the run cost.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { architectureOf, LambdaTuner, type LambdaTunerOptions, type RunCost } from './lambda-tuner.js';
import type { RawSizeMeasurement, SizeProgress } from './measurement.js';
import type { Payload } from './payload.js';
import { buildDocument, type TuneDocument } from './report.js';

export interface AwsTuneOptions {
  readonly functionName: string;
  readonly region: string;
  readonly memorySizes: readonly number[];
  /** Warm invocations per size, after the first. */
  readonly invocations: number;
  readonly payload: Payload;
  readonly keepVersions: boolean;
  readonly maxLatencyMs: number | null;
  /** @default a LambdaClient for `region` (honouring AWS_ENDPOINT_URL) */
  readonly lambda?: LambdaClient;
  readonly log: (line: string) => void;
  readonly progress: (progress: SizeProgress & { readonly index: number; readonly sizes: number }) => void;
  readonly signal?: AbortSignal;
}

export interface AwsTuneResult {
  readonly document: TuneDocument;
  readonly cost: RunCost;
}

/** Measures every size on the deployed function; the function's memory is put back whatever happens. */
export async function runAwsTune(options: AwsTuneOptions): Promise<AwsTuneResult> {
  const lambda = options.lambda ?? new LambdaClient({ region: options.region });
  const tunerOptions: LambdaTunerOptions = {
    lambda,
    functionName: options.functionName,
    invocations: options.invocations,
    payload: () => options.payload.event(),
    keepVersions: options.keepVersions,
    log: options.log,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  };
  const tuner = new LambdaTuner(tunerOptions);
  try {
    const config = await tuner.open();
    const arch = architectureOf(config);
    options.log(`measuring ${options.functionName} in ${options.region} (${arch}, now ${config.MemorySize} MB, code ${config.CodeSha256 ?? 'unknown'}): ${options.payload.description}`);
    const sizes: RawSizeMeasurement[] = [];
    for (const [index, memoryMb] of options.memorySizes.entries()) {
      sizes.push(await tuner.measure(memoryMb, (p) => options.progress({ ...p, index: index + 1, sizes: options.memorySizes.length })));
    }
    const document = buildDocument({
      model: options.payload.model ?? options.functionName,
      arch,
      machine: `AWS Lambda, ${options.functionName} in ${options.region}`,
      throttling: { mode: 'aws' },
      payload: options.payload.description,
      sizes,
      maxLatencyMs: options.maxLatencyMs,
      measuredAt: new Date(),
    });
    return { document, cost: tuner.cost() };
  } finally {
    await tuner.restore();
    if (options.lambda === undefined) lambda.destroy();
  }
}
