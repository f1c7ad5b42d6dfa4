import type { LogLevel } from './config.js';

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * Structured JSON log lines (one object per line, like Powertools Logger) with the function's identity and, inside
 * an invocation, the request id. Lines go to stdout directly so Lambda's console prefix does not wrap them.
 */
export class Logger {
  readonly #threshold: number;
  readonly #base: string;
  readonly #write: (line: string) => void;

  constructor(level: LogLevel, fields: LogFields, write: (line: string) => void) {
    this.#threshold = RANK[level];
    this.#base = JSON.stringify(fields).slice(1, -1);
    this.#write = write;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#threshold;
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (RANK[level] < this.#threshold) return;
    const extra = JSON.stringify(fields).slice(1, -1);
    this.#write(
      `{"level":"${level.toUpperCase()}","timestamp":"${new Date().toISOString()}","message":${JSON.stringify(message)}` +
        `${this.#base === '' ? '' : `,${this.#base}`}${extra === '' ? '' : `,${extra}`}}`,
    );
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
