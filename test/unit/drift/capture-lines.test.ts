import { gzipSync } from 'node:zlib';
import test from 'ava';
import { jsonObjects, parseCaptureText } from '../../../commands/drift/capture-lines.js';
import { fileText } from '../../../commands/drift/capture-source.js';
import { buildCaptureRecord, type CaptureRecord } from '../../../functions/contract/capture.js';

function record(id: string, text = 'plain'): CaptureRecord {
  return buildCaptureRecord({
    requestId: id,
    time: new Date('2026-05-01T06:00:00.000Z'),
    model: 'm@1',
    functionVersion: '1',
    rows: 1,
    inputs: new Map([['text', { type: 'string', dims: [1], data: [text] }]]),
    outputs: new Map(),
  });
}

test('reads one record a line, and passes over other log lines', (t) => {
  const emf = JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [] }, RequestLatency: 2 });
  const text = [JSON.stringify(record('a')), emf, 'START RequestId: a Version: 1', '', JSON.stringify(record('b'))].join('\n');
  const parsed = parseCaptureText(text, 'f.jsonl');
  t.deepEqual(parsed.records.map((r) => r.requestId), ['a', 'b']);
  t.is(parsed.malformed, 0);
});

test('reads records behind the time, request id and level that Lambda\'s text log format puts before them', (t) => {
  const line = `2026-05-01T06:00:00.000Z\tc0ffee\tINFO\t${JSON.stringify(record('a'))}`;
  t.deepEqual(parseCaptureText(`${line}\r\n${line}`, 'f').records.map((r) => r.requestId), ['a', 'a']);
});

test('braces and quotes inside a record\'s strings do not end it early', (t) => {
  const tricky = record('a', '}{"_type":"prediction-capture"} \\" }');
  const parsed = parseCaptureText(JSON.stringify(tricky), 'f');
  t.deepEqual(parsed.records, [tricky]);
});

test('opens CloudWatch Logs subscription messages written back to back, as Firehose delivers them', (t) => {
  const message = (ids: string[]) =>
    JSON.stringify({ messageType: 'DATA_MESSAGE', logGroup: '/aws/lambda/f', logEvents: ids.map((id) => ({ id, timestamp: 1, message: `2026-05-01T06:00:00.000Z\t${id}\tINFO\t${JSON.stringify(record(id))}\n` })) });
  const control = JSON.stringify({ messageType: 'CONTROL_MESSAGE', logEvents: [{ id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }] });
  const parsed = parseCaptureText(`${message(['a', 'b'])}${control}${message(['c'])}`, 'firehose');
  t.deepEqual(parsed.records.map((r) => r.requestId), ['a', 'b', 'c']);
});

test('counts a capture line cut short, not JSON, or of an unknown version, and says why', (t) => {
  const line = JSON.stringify(record('a'));
  const newer = JSON.stringify({ ...record('b'), version: 2 });
  const parsed = parseCaptureText([line.slice(0, 80), newer, line, '{"_type":"prediction-capture", oops}'].join('\n'), 'f.jsonl');
  t.deepEqual(parsed.records.map((r) => r.requestId), ['a']);
  t.is(parsed.malformed, 3);
  t.regex(parsed.reasons[0]!, /^f\.jsonl: a capture line is cut short/);
  t.regex(parsed.reasons[1]!, /version is 2; this reader knows 1/);
  t.regex(parsed.reasons[2]!, /not valid JSON/);
});

test('splits a line into its top-level objects, and returns one left open', (t) => {
  t.deepEqual(jsonObjects('x {"a":[1,{"b":"}"}]} y {"c":2} {"d":'), { objects: ['{"a":[1,{"b":"}"}]}', '{"c":2}'], open: '{"d":' });
});

test('unzips a gzip file of several members, whatever its name', (t) => {
  const bytes = Buffer.concat([gzipSync('first\n'), gzipSync('second\n')]);
  t.is(fileText(bytes, 'part-0001'), 'first\nsecond\n');
  t.is(fileText(Buffer.from('plain\n'), 'x.jsonl'), 'plain\n');
});
