import test, { type ExecutionContext } from 'ava';
import type { LogLevel } from '../../../functions/contract/env.js';
import { Logger, MAX_LOG_LINE_BYTES, type LogFields } from '../../../functions/predict/logger.js';

function collect(level: LogLevel, fields: LogFields = {}) {
  const lines: string[] = [];
  return { lines, logger: new Logger(level, fields, (line) => lines.push(line)) };
}

test('writes nothing below the configured level', (t) => {
  const { lines, logger } = collect('warn');
  logger.debug('d');
  logger.info('i');
  t.deepEqual(lines, []);
});

test('writes the configured level and above', (t) => {
  const { lines, logger } = collect('warn');
  logger.warn('w');
  logger.error('e');
  t.deepEqual(
    lines.map((l) => (JSON.parse(l) as { level: string }).level),
    ['WARN', 'ERROR'],
  );
});

test('writes debug lines at debug level', (t) => {
  const { lines, logger } = collect('debug');
  logger.debug('d');
  t.is(lines.length, 1);
});

test('reports which levels are enabled', (t) => {
  const { logger } = collect('info');
  t.deepEqual(
    (['debug', 'info', 'warn', 'error'] as const).map((l) => logger.enabled(l)),
    [false, true, true, true],
  );
});

test('writes one valid JSON object per line with level, timestamp and message', (t) => {
  const { lines, logger } = collect('info');
  logger.info('model loaded');
  t.is(lines.length, 1);
  t.false(lines[0]!.includes('\n'));
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.is(entry['level'], 'INFO');
  t.is(entry['message'], 'model loaded');
  const timestamp = entry['timestamp'];
  t.is(typeof timestamp, 'string');
  t.is(timestamp, new Date(timestamp as string).toISOString());
});

test('escapes quotes and newlines in the message', (t) => {
  const { lines, logger } = collect('info');
  logger.info('a "quoted"\nmessage');
  t.is((JSON.parse(lines[0]!) as { message: string }).message, 'a "quoted"\nmessage');
});

test('merges the base fields and the call fields into the line', (t) => {
  const { lines, logger } = collect('info', { functionName: 'predict', coldStart: true });
  logger.info('hello', { requestId: 'r-1', rows: 3 });
  t.like(JSON.parse(lines[0]!), { functionName: 'predict', coldStart: true, requestId: 'r-1', rows: 3, message: 'hello' });
});

test('leaves out fields whose value is undefined and stays valid JSON', (t) => {
  const { lines, logger } = collect('info', { only: undefined });
  logger.info('x', { gone: undefined });
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.false('only' in entry);
  t.false('gone' in entry);
});

test('writes valid JSON with no fields at all', (t) => {
  const { lines, logger } = collect('info');
  logger.error('boom');
  t.deepEqual(Object.keys(JSON.parse(lines[0]!) as object), ['level', 'timestamp', 'message']);
});

/** Asserts that `kept` is a prefix of `original` followed by a marker that counts exactly the code units left out. */
function assertCut(t: ExecutionContext, original: string, kept: unknown): void {
  const match = /^(.*)…\[cut (\d+) chars\]$/s.exec(String(kept));
  t.truthy(match, `no cut marker at the end of ${String(kept).slice(-40)}`);
  const [, prefix, count] = match!;
  t.true(original.startsWith(prefix!));
  t.is(prefix!.length + Number(count), original.length);
}

function assertFits(t: ExecutionContext, line: string): Record<string, unknown> {
  t.true(Buffer.byteLength(line) <= MAX_LOG_LINE_BYTES, `${Buffer.byteLength(line)} bytes`);
  t.false(line.includes('\n'));
  return JSON.parse(line) as Record<string, unknown>;
}

test('cuts a 5 MB field value to fit the line, with a marker saying how much was cut', (t) => {
  const { lines, logger } = collect('info', { function: 'predict' });
  const body = 'x'.repeat(5 * 1024 * 1024);
  logger.error('request failed', { requestId: 'r-1', body, status: 500 });
  const entry = assertFits(t, lines[0]!);
  assertCut(t, body, entry['body']);
  t.like(entry, { level: 'ERROR', message: 'request failed', function: 'predict', requestId: 'r-1', status: 500 });
  t.true(Buffer.byteLength(lines[0]!) > MAX_LOG_LINE_BYTES - 64, 'keeps as much as fits');
});

test('cuts by escaped size: a million quotes and backslashes, which double in JSON, still fit', (t) => {
  const { lines, logger } = collect('info');
  const value = '"\\'.repeat(500_000);
  logger.info('x', { value });
  assertCut(t, value, assertFits(t, lines[0]!)['value']);
});

test('cuts a 5 MB message the same way', (t) => {
  const { lines, logger } = collect('info');
  const message = 'm'.repeat(5 * 1024 * 1024);
  logger.info(message, { requestId: 'r-1' });
  const entry = assertFits(t, lines[0]!);
  assertCut(t, message, entry['message']);
  t.is(entry['requestId'], 'r-1');
});

test('shares the line among several long values and keeps the short ones whole', (t) => {
  const { lines, logger } = collect('info');
  const long = 'a'.repeat(200_000);
  const longer = 'b'.repeat(400_000);
  const medium = 'c'.repeat(10_000);
  logger.info('x', { long, longer, medium, requestId: 'r-1' });
  const entry = assertFits(t, lines[0]!);
  assertCut(t, long, entry['long']);
  assertCut(t, longer, entry['longer']);
  t.is(entry['medium'], medium);
  t.is(entry['requestId'], 'r-1');
});

test('never splits a surrogate pair and counts multi-byte characters by their UTF-8 size', (t) => {
  // Shifting the string by up to 7 bytes moves the cut across every position within the characters.
  for (let shift = 0; shift < 8; shift += 1) {
    const { lines, logger } = collect('info');
    const value = 'a'.repeat(shift) + 'é😀'.repeat(100_000);
    logger.info('x', { value });
    const kept = String(assertFits(t, lines[0]!)['value']);
    assertCut(t, value, kept);
    t.false(/[\ud800-\udbff](?![\udc00-\udfff])/.test(kept), `no lone high surrogate with shift ${shift}`);
  }
});

test('leaves a line that fits untouched', (t) => {
  const { lines, logger } = collect('info');
  const value = 'x'.repeat(MAX_LOG_LINE_BYTES - 200);
  logger.info('x', { value });
  t.is((JSON.parse(lines[0]!) as Record<string, unknown>)['value'], value);
});

test('with more field names than fit, keeps level, timestamp and message and counts the fields left out', (t) => {
  const { lines, logger } = collect('info');
  const fields = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`field-${String(i).padStart(100, '0')}`, i]));
  logger.warn('many fields', fields);
  const entry = assertFits(t, lines[0]!);
  t.deepEqual(Object.keys(entry), ['level', 'timestamp', 'message', 'logFieldsLeftOut']);
  t.like(entry, { level: 'WARN', message: 'many fields', logFieldsLeftOut: 2000 });
});
