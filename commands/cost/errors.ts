/**
 * Why `npm run cost` cannot answer: each message names the flag or field, the value it got and what is expected; the
 * CLI prints it as `cost: <message>` and exits 1.
 */
import { usageMessage } from '../cli/usage.js';

export class CostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A flag is missing, malformed or contradicts another. */
export class CostUsageError extends CostError {
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(usageMessage(flag, value, expected));
  }
}

/** The file given to --tune is unreadable, not JSON, or not what `npm run tune --json` writes. */
export class TuneFileError extends CostError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`--tune ${file}: ${field} is ${value === undefined ? 'missing' : JSON.stringify(value)}; expected ${expected}`);
  }
}
