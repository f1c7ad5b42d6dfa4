/**
 * How every command refuses a flag: `--<flag> is <value>; expected <what>` (each command's usage error carries it,
 * and its CLI prints it as `<command>: <message>`, exit 1), and the number flags they share.
 */

/** The message of a refused flag: the flag, the value it got (or "missing"), and what it expects. */
export function usageMessage(flag: string, value: unknown, expected: string): string {
  return `--${flag} is ${value === undefined ? 'missing' : JSON.stringify(value)}; expected ${expected}`;
}

export interface NumberRange {
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
}

/**
 * A number flag: `fallback` when it is not given, else its value within the range; otherwise the error `refuse`
 * makes from the flag, the value and what was expected (each command's own usage error).
 */
export function numberFlag(flag: string, raw: string | undefined, fallback: number, range: NumberRange, refuse: (flag: string, value: string, expected: string) => Error): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
    throw refuse(flag, raw, `${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}`);
  }
  return value;
}
