/**
 * What each invocation sends: an event file given by flag, sent as it is, or the build's golden rows in one
 * `POST /predict` request as API Gateway HTTP API delivers it, built by the rollout's traffic check code (the same
 * rows, read and verified the same way, in the same event).
 */
import { readFileSync } from 'node:fs';
import { goldenBatches, predictEvent } from '../rollout/traffic-check.js';
import { loadGoldenSet, type GoldenSet } from '../rollout/traffic-check-golden.js';
import { TunePayloadError } from './errors.js';

export interface Payload {
  /** What is sent, in words, for the report. */
  readonly description: string;
  /** `<name>@<version>` when the payload comes from a build's golden rows. */
  readonly model: string | undefined;
  /** A fresh event for one invocation (a new request id each time, as API Gateway gives). */
  event(): unknown;
}

/** Reads `file` as one JSON event; throws TunePayloadError naming the file when it cannot be read or is not JSON. */
export function eventFilePayload(file: string): Payload {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TunePayloadError(`--event ${file} cannot be read (${error instanceof Error ? error.message : String(error)}); give a file holding one event as JSON`);
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new TunePayloadError(`--event ${file} is not JSON (${error instanceof Error ? error.message : String(error)}); give a file holding one event as JSON, e.g. test/fixtures/events/predict-iris.json`);
  }
  return { description: `the event in ${file}`, model: undefined, event: () => structuredClone(event) };
}

/** `count` rows taken from `inputs` in order, starting over at the end as often as needed. */
export function repeatRows(inputs: readonly unknown[], count: number): unknown[] {
  return Array.from({ length: count }, (_, i) => inputs[i % inputs.length]);
}

/**
 * The golden rows of the build in `buildDir` as one `/predict` request: as many as fit one request (rows
 * undefined), `rows` rows (the golden rows repeated), or the bundle's maxBatch ('max', the largest request it
 * allows). Throws TunePayloadError when the build has no golden rows or `rows` is over maxBatch.
 */
export function goldenPayload(buildDir: string, rows: number | 'max' | undefined): Payload & { readonly golden: GoldenSet } {
  let set: GoldenSet;
  try {
    const load = loadGoldenSet(buildDir, { howToSkip: 'give the event to send with --event <file>' });
    if (load.kind !== 'rows') throw new TunePayloadError(load.reason);
    set = load.set;
  } catch (error) {
    if (error instanceof TunePayloadError) throw error;
    throw new TunePayloadError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const count = rows === 'max' ? set.maxBatch : rows;
  if (count !== undefined && count > set.maxBatch) {
    throw new TunePayloadError(`--rows ${count} is more than ${set.model}'s maxBatch of ${set.maxBatch}; the function would refuse it (413); give at most ${set.maxBatch}, or max`);
  }
  let body: string;
  let sent: number;
  if (count === undefined) {
    const first = goldenBatches(set.golden.inputs, set.maxBatch)[0]!;
    body = first.body;
    sent = first.count;
  } else {
    body = JSON.stringify({ instances: repeatRows(set.golden.inputs, count) });
    sent = count;
  }
  const origin = count !== undefined && count > set.golden.inputs.length ? `rows (its ${set.golden.inputs.length} golden rows repeated)` : 'golden rows';
  return {
    description: `${sent} ${origin} of ${set.model} in one POST /predict request (API Gateway HTTP API event)`,
    model: set.model,
    golden: set,
    event: () => predictEvent(body),
  };
}
