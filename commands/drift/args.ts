/**
 * `npm run drift -- ...` flags, parsed with node:util parseArgs into frozen DriftOptions. Every error names the flag,
 * the value and what is expected (exit 1).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { numberFlag } from '../cli/usage.js';
import { DriftError, DriftUsageError } from './errors.js';
import { PSI_LEVELS } from './psi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The PSI above which the command reports drift (exit 3) when --threshold is not given. */
export const DEFAULT_THRESHOLD = 0.2;

/** The bundle whose baseline is used when --model is not given, as the other commands default to it. */
export const DEFAULT_MODEL_DIR = path.join(root, 'models', 'iris');

/**
 * The fewest rows a window needs before its PSI is judged (--min-rows): ten a decile bin. Sampling noise alone adds
 * about (bins - 1) / rows to a PSI, and a bin left empty by chance adds about 0.7 on its own (docs/DRIFT.md).
 */
export const DEFAULT_MIN_ROWS = 100;

/** `--json -` writes the report to stdout instead of the table. */
export const STDOUT = '-';

export const EXIT = Object.freeze({ stable: 0, badInput: 1, drift: 3, tooLittle: 4 });

export const USAGE = `usage: npm run drift -- <capture location> [options]

  <capture location>       a folder of capture files (any depth; plain or gzip; JSON lines, CloudWatch exports or
                           Firehose's subscription messages), one such file, or s3://bucket/prefix
  --model <dir>            the bundle (models/<name>) or build folder (dist/...) whose baseline.json to compare
                           with (default: models/iris); only records of that model's name and version count
  --since <time>           the window's start: an ISO 8601 time (2026-05-01, 2026-05-01T06:00Z) or a duration
                           before now (30m, 24h, 7d, 2w) (default: the earliest record)
  --until <time>           the window's end, the same way (default: now)
  --threshold <psi>        report drift (exit ${EXIT.drift}) when a feature's or the prediction's PSI is above this
                           (default: ${DEFAULT_THRESHOLD}; the usual reading: under ${PSI_LEVELS.moderate} stable, above ${PSI_LEVELS.significant} significant)
  --min-rows <n>           judge only a window of at least this many rows; fewer is too little to tell drift from
                           chance (exit ${EXIT.tooLittle}, the report still printed) (default: ${DEFAULT_MIN_ROWS})
  --json <file>            write the report as JSON there; - for stdout instead of the table
  --svg <file>             draw the PSI per feature and the prediction's distribution
  --region <region>        the bucket's region for s3:// (default: AWS_REGION, else us-east-1)
  -h, --help               this text

exit: ${EXIT.stable} no PSI above the threshold, ${EXIT.drift} drift (a PSI above it), ${EXIT.badInput} bad input or an unreadable location or
baseline, ${EXIT.tooLittle} no record of the model in the window, or fewer rows than --min-rows`;

export interface DriftOptions {
  readonly location: string;
  readonly modelDir: string;
  readonly since: Date | undefined;
  readonly until: Date;
  readonly threshold: number;
  readonly minRows: number;
  /** Undefined: none; STDOUT: stdout. */
  readonly json: string | undefined;
  readonly svg: string | undefined;
  readonly region: string | undefined;
}

export type ParsedDriftArgs = { readonly help: true } | ({ readonly help: false } & DriftOptions);

const DURATION = /^(\d+(?:\.\d+)?)(m|h|d|w)$/;
const MINUTES: Readonly<Record<string, number>> = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 };
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A window bound: an ISO 8601 date (midnight UTC) or time with its zone, or a duration before `now`. A time without
 * a zone is refused rather than read in this machine's zone.
 */
export function parseTime(flag: string, raw: string, now: Date): Date {
  const expected = 'an ISO 8601 time with its zone (2026-05-01, 2026-05-01T06:00Z, 2026-05-01T08:00+02:00) or a duration before now (30m, 24h, 7d, 2w)';
  const duration = DURATION.exec(raw);
  if (duration !== null) return new Date(now.getTime() - Number(duration[1]) * MINUTES[duration[2]!]! * 60_000);
  if (!DATE_ONLY.test(raw) && !DATE_TIME.test(raw)) throw new DriftUsageError(flag, raw, expected);
  const time = Date.parse(raw);
  if (Number.isNaN(time)) throw new DriftUsageError(flag, raw, expected);
  return new Date(time);
}

export function parseDriftArgs(argv: readonly string[], now: Date = new Date()): ParsedDriftArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        model: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        threshold: { type: 'string' },
        'min-rows': { type: 'string' },
        json: { type: 'string' },
        svg: { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new DriftError(`${(error as Error).message}; see npm run drift -- --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new DriftError(`give exactly one capture location (a folder, a file or s3://bucket/prefix), not ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' and ')}; see npm run drift -- --help`);
  }
  const location = positionals[0]!;
  if (location.startsWith('s3://') && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(location)) {
    throw new DriftError(`capture location ${JSON.stringify(location)} is not an S3 location; expected s3://<bucket>/<prefix> with a valid bucket name`);
  }
  const since = values.since === undefined ? undefined : parseTime('since', values.since, now);
  const until = values.until === undefined ? now : parseTime('until', values.until, now);
  if (since !== undefined && since >= until) {
    throw new DriftUsageError('since', values.since, `a time before --until (${until.toISOString()})`);
  }
  const threshold = numberFlag('threshold', values.threshold, DEFAULT_THRESHOLD, { min: 0.001, max: 100, integer: false }, (flag, value, expected) => new DriftUsageError(flag, value, expected));
  const minRows = numberFlag('min-rows', values['min-rows'], DEFAULT_MIN_ROWS, { min: 1, max: 1_000_000_000, integer: true }, (flag, value, expected) => new DriftUsageError(flag, value, expected));
  if (values.json === '') throw new DriftUsageError('json', values.json, `a file path, or ${STDOUT} for stdout`);
  if (values.svg === '') throw new DriftUsageError('svg', values.svg, 'a file path');
  return Object.freeze({
    help: false as const,
    location,
    modelDir: values.model === undefined ? DEFAULT_MODEL_DIR : path.resolve(values.model),
    since,
    until,
    threshold,
    minRows,
    json: values.json,
    svg: values.svg,
    region: values.region,
  });
}
