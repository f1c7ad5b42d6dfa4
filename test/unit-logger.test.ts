import test from 'ava';
import type { LogLevel } from '../functions/predict/config.js';
import { Logger, type LogFields } from '../functions/predict/logger.js';

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
