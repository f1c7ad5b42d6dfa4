import type { LogLevel } from '../contract/env.js';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The most UTF-8 bytes one log line may take, newline excluded. A CloudWatch Logs event holds at most 256 KiB,
 * 26 bytes of overhead included, and Lambda adds its own framing; a quarter of that leaves ample room, still
 * holds any stack trace whole, and keeps one runaway value (a request body in an error) from costing 256 KiB of
 * ingestion per line.
 */
export const MAX_LOG_LINE_BYTES = 64 * 1024;

/** What a cut value ends with; `n` counts the UTF-16 code units left out. */
export function cutMarker(n: number): string {
  return `…[cut ${n} chars]`;
}

/** The longest marker: a string cannot hold more than 2^53 code units. */
const MARKER_BYTES = Buffer.byteLength(JSON.stringify(cutMarker(Number.MAX_SAFE_INTEGER)));

/** Bytes of `value` as JSON in UTF-8: quotes and escapes included. */
function jsonBytes(value: string): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * The longest prefix of `value` whose JSON, with the cut marker, takes at most `budget` bytes. Each code unit takes
 * at least one byte, so the search never looks past `budget` code units of a long value. It never stops between
 * the halves of a surrogate pair: JSON escapes a lone half as `\udXXX`, 6 bytes, and the whole pair takes 4.
 */
function cut(value: string, budget: number): string {
  let low = 0;
  let high = Math.min(value.length, budget);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes(value.slice(0, mid) + cutMarker(value.length - mid)) <= budget) low = mid;
    else high = mid - 1;
  }
  return value.slice(0, low) + cutMarker(value.length - low);
}

/**
 * The byte ceiling each string may keep so that all of them together fit `budget`: strings under it are kept whole,
 * the longer ones are cut to it (water-filling, longest first).
 */
function ceilingFor(sizes: readonly number[], budget: number): number {
  const ascending = [...sizes].sort((a, b) => a - b);
  let left = budget;
  for (let i = 0; i < ascending.length; i += 1) {
    const share = Math.floor(left / (ascending.length - i));
    if (ascending[i]! > share) return share;
    left -= ascending[i]!;
  }
  return Number.POSITIVE_INFINITY;
}

type Entry = readonly [key: string, value: string | number | boolean];

function entriesOf(fields: LogFields): Entry[] {
  return Object.entries(fields).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined);
}

function render(entries: readonly Entry[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`;
}

/**
 * Structured JSON log lines (one object per line, like Powertools Logger) with the function's identity and, inside
 * an invocation, the request id. Lines go to stdout directly so Lambda's console prefix does not wrap them. No line
 * is longer than MAX_LOG_LINE_BYTES: a longer one has its longest strings cut, each ending with a cut marker.
 */
export class Logger {
  readonly #threshold: number;
  readonly #base: string;
  readonly #baseEntries: readonly Entry[];
  readonly #write: (line: string) => void;

  constructor(level: LogLevel, fields: LogFields, write: (line: string) => void) {
    this.#threshold = RANK[level];
    this.#base = JSON.stringify(fields).slice(1, -1);
    this.#baseEntries = entriesOf(fields);
    this.#write = write;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#threshold;
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (RANK[level] < this.#threshold) return;
    const extra = JSON.stringify(fields).slice(1, -1);
    const timestamp = new Date().toISOString();
    const line =
      `{"level":"${level.toUpperCase()}","timestamp":"${timestamp}","message":${JSON.stringify(message)}` +
      `${this.#base === '' ? '' : `,${this.#base}`}${extra === '' ? '' : `,${extra}`}}`;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8, so most lines need no byte count.
    const fits = line.length * 3 <= MAX_LOG_LINE_BYTES || Buffer.byteLength(line) <= MAX_LOG_LINE_BYTES;
    this.#write(fits ? line : this.#shortened([['level', level.toUpperCase()], ['timestamp', timestamp], ['message', message], ...this.#baseEntries, ...entriesOf(fields)]));
  }

  /** The line with its longest strings cut so that it fits MAX_LOG_LINE_BYTES. */
  #shortened(entries: readonly Entry[]): string {
    const strings = entries.filter(([, value]) => typeof value === 'string').map(([, value]) => jsonBytes(value as string));
    const fixed = Buffer.byteLength(render(entries)) - strings.reduce((sum, bytes) => sum + bytes, 0);
    const ceiling = ceilingFor(strings, MAX_LOG_LINE_BYTES - fixed);
    if (ceiling >= MARKER_BYTES) {
      return render(entries.map(([key, value]) => [key, typeof value === 'string' && jsonBytes(value) > ceiling ? cut(value, ceiling) : value]));
    }
    // So many fields, or such long names, that even cut values do not fit: keep the head and say what was left out.
    const [level, timestamp, [, message]] = entries as [Entry, Entry, Entry];
    const half = MAX_LOG_LINE_BYTES / 2;
    const kept = typeof message === 'string' && jsonBytes(message) > half ? cut(message, half) : message;
    return render([level, timestamp, ['message', kept], ['logFieldsLeftOut', entries.length - 3]]);
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
}
