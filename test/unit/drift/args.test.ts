import path from 'node:path';
import test from 'ava';
import { DEFAULT_MODEL_DIR, DEFAULT_THRESHOLD, parseDriftArgs, parseTime } from '../../../commands/drift/args.js';
import { DriftError } from '../../../commands/drift/errors.js';

const NOW = new Date('2026-05-10T12:00:00.000Z');

test('a window bound is an ISO 8601 time with its zone, or a duration before now', (t) => {
  const cases: [string, string][] = [
    ['2026-05-01', '2026-05-01T00:00:00.000Z'],
    ['2026-05-01T06:00Z', '2026-05-01T06:00:00.000Z'],
    ['2026-05-01T08:00:30.5+02:00', '2026-05-01T06:00:30.500Z'],
    ['30m', '2026-05-10T11:30:00.000Z'],
    ['24h', '2026-05-09T12:00:00.000Z'],
    ['7d', '2026-05-03T12:00:00.000Z'],
    ['2w', '2026-04-26T12:00:00.000Z'],
    ['1.5h', '2026-05-10T10:30:00.000Z'],
  ];
  for (const [raw, time] of cases) t.is(parseTime('since', raw, NOW).toISOString(), time, raw);
});

test('a bound without a zone, in words, or impossible is refused with the flag and the forms expected', (t) => {
  for (const raw of ['2026-05-01T06:00', 'yesterday', '2026-13-45', '-3h', '5s']) {
    const error = t.throws(() => parseTime('since', raw, NOW), { instanceOf: DriftError });
    t.true(error.message.startsWith(`--since is ${JSON.stringify(raw)}; expected an ISO 8601 time with its zone`), raw);
  }
});

test('the defaults: the iris bundle, threshold 0.2, a window from the first record to now', (t) => {
  const parsed = parseDriftArgs(['captures/'], NOW);
  t.like(parsed, { help: false, location: 'captures/', modelDir: DEFAULT_MODEL_DIR, since: undefined, until: NOW, threshold: DEFAULT_THRESHOLD, json: undefined, svg: undefined });
  t.is(path.basename(DEFAULT_MODEL_DIR), 'iris');
});

test('bad flags exit as usage errors that name the flag, the value and what is expected', (t) => {
  const cases: [string[], string][] = [
    [['c', '--threshold', 'abc'], '--threshold is "abc"; expected a number from 0.001 to 100'],
    [['c', '--threshold', '0'], '--threshold is "0"; expected a number from 0.001 to 100'],
    [['c', '--since', '1d', '--until', '2d'], '--since is "1d"; expected a time before --until (2026-05-08T12:00:00.000Z)'],
    [['c', '--json', ''], '--json is ""; expected a file path, or - for stdout'],
    [[], 'give exactly one capture location (a folder, a file or s3://bucket/prefix), not none; see npm run drift -- --help'],
    [['a', 'b'], 'give exactly one capture location (a folder, a file or s3://bucket/prefix), not "a" and "b"; see npm run drift -- --help'],
    [['s3://Bad_Bucket/x'], 'capture location "s3://Bad_Bucket/x" is not an S3 location; expected s3://<bucket>/<prefix> with a valid bucket name'],
  ];
  for (const [argv, message] of cases) t.is(t.throws(() => parseDriftArgs(argv, NOW), { instanceOf: DriftError })!.message, message, argv.join(' '));
  t.regex(t.throws(() => parseDriftArgs(['c', '--colour'], NOW))!.message, /Unknown option '--colour'.*see npm run drift -- --help/);
});
