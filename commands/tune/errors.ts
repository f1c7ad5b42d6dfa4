/**
 * What stops a tuning run before or while it measures. Each message names the flag, file or size, the value it got
 * and what to do; the CLI prints it as `tune: <message>` and exits 1. A size that fails (out of memory, a timeout)
 * is not an error: it is a measurement, recorded with its failures, and the run goes on.
 */
import { usageMessage } from '../cli/usage.js';

/** Base of the tuner's own errors: the run could not start or finish, exit 1. */
export class TuneError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A flag is missing, malformed or contradicts another. */
export class TuneUsageError extends TuneError {
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(usageMessage(flag, value, expected));
  }
}

/** The payload (an event file, the build's golden rows) cannot be read or sent. */
export class TunePayloadError extends TuneError {}
