/**
 * Why `npm run drift` (or `npm run bundle -- --baseline-from`) cannot answer. Each message names the flag, file or
 * field, the value it got and what is expected; the CLI prints it as `drift: <message>`. Exit 1, except
 * NoRecordsError (exit 4: the location was read, the window holds nothing to judge).
 */
import { usageMessage } from '../cli/usage.js';

export class DriftError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A flag is missing, malformed or contradicts another. */
export class DriftUsageError extends DriftError {
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(usageMessage(flag, value, expected));
  }
}

/** baseline.json is missing, unreadable, or not what the training scripts and `npm run bundle` write. */
export class BaselineError extends DriftError {}

/** The capture location cannot be listed or read (a missing folder, a bucket that does not answer). */
export class CaptureSourceError extends DriftError {}

/** The sample inputs given to `--baseline-from` are unreadable or do not fit the model. */
export class SampleInputsError extends DriftError {}

/** No capture record of the model falls in the window: nothing to compare (exit 4). */
export class NoRecordsError extends DriftError {}
