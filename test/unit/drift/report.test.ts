import test from 'ava';
import { parseBaseline } from '../../../commands/drift/baseline.js';
import { driftReport, reportText, selectRecords, type ReportContext } from '../../../commands/drift/report.js';
import { buildCaptureRecord, type CaptureRecord } from '../../../functions/contract/capture.js';

/** A one-feature classifier whose training values were 1.1 (half) and 5.1 (half), as float32. */
const BASELINE = parseBaseline(
  {
    _type: 'training-baseline',
    version: 1,
    model: { name: 'm', version: '1', task: 'classification', sha256: 'b'.repeat(64) },
    rows: 100,
    source: 'test',
    writer: 'test',
    inputs: [{ name: 'x', input: 'in', column: 0, summary: { count: 100, min: Math.fround(1.1), max: Math.fround(5.1), mean: 3.1, edges: [Math.fround(1.1), Math.fround(5.1)], shares: [0.5, 0.5, 0] } }],
    skipped: [],
    prediction: { kind: 'labels', output: 'probabilities', count: 100, labels: ['no', 'yes'], shares: [0.5, 0.5] },
  },
  'test baseline',
);

function record(values: number[], options: { time?: string; model?: string; prediction?: string[]; probabilities?: number[] } = {}): CaptureRecord {
  return buildCaptureRecord({
    requestId: 'r',
    time: new Date(options.time ?? '2026-05-01T06:00:00.000Z'),
    model: options.model ?? 'm@1',
    functionVersion: '1',
    rows: values.length,
    inputs: new Map([['in', { type: 'float32', dims: [values.length, 1], data: new Float32Array(values) }]]),
    outputs: options.probabilities === undefined ? new Map() : new Map([['probabilities', { type: 'float32', dims: [values.length, 2], data: new Float32Array(options.probabilities) }]]),
    ...(options.prediction === undefined ? {} : { prediction: options.prediction }),
  });
}

const CONTEXT: ReportContext = {
  baselineFile: 'b.json',
  location: 'captures/',
  window: { since: undefined, until: new Date('2026-06-01T00:00:00.000Z') },
  threshold: 0.2,
  minRows: 1,
  files: 1,
  skippedFiles: 0,
  read: 1,
  malformed: 0,
  warnings: [],
};

test('only records of the model inside the window count; the others are counted by why', (t) => {
  const records = [record([1]), record([1], { time: '2026-04-01T00:00:00.000Z' }), record([1], { model: 'm@2' }), record([1], { model: 'other@1' })];
  const selection = selectRecords(records, 'm@1', { since: new Date('2026-04-15T00:00:00.000Z'), until: new Date('2026-06-01T00:00:00.000Z') });
  t.is(selection.used.length, 1);
  t.is(selection.outside, 1);
  t.deepEqual(selection.otherModels, { 'm@2': 1, 'other@1': 1 });
  t.is(selection.first, '2026-05-01T06:00:00.000Z');
});

test('a float32 written as its shortest decimal falls in the bin training put it in', (t) => {
  // The record holds 1.1 and 5.1; training's edges are the float32 values 1.100000023841858 and 5.099999904632568.
  const captured = [record([1.1, 5.1, 5.1, 1.1], { prediction: ['no', 'yes', 'yes', 'no'] })];
  t.deepEqual(captured[0]!.inputs['in']!.data, [1.1, 5.1, 5.1, 1.1]);
  const report = driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), CONTEXT);
  t.deepEqual(report.features[0]!.windowShares, [0.5, 0.5, 0]);
  t.is(report.features[0]!.psi, 0);
  t.is(report.features[0]!.outsideRange, 0);
  t.deepEqual(report.drifted, []);
});

test('a shift above the threshold is reported with its feature and the prediction\'s, with the label shares', (t) => {
  const captured = [record([9, 9, 9, 5.1], { prediction: ['yes', 'yes', 'yes', 'yes'] })];
  const report = driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), CONTEXT);
  t.deepEqual(report.drifted, ['x', 'prediction']);
  t.is(report.features[0]!.outsideRange, 0.75);
  t.is(report.features[0]!.level, 'significant');
  t.deepEqual(report.prediction[0]!.windowShares, [0, 1]);
  t.is(report.rows, 4);
  const text = reportText(report);
  t.regex(text, /DRIFT: PSI above 0\.2 for x, prediction/);
  t.regex(text, /prediction \(label shares\): PSI \d+\.\d{3} significant, 4 rows\n {2}no 50\.0% -> 0\.0%, yes 50\.0% -> 100\.0%/);
});

test('a window with fewer rows than the minimum is too little to judge, whatever its PSI', (t) => {
  const captured = [record([9, 9, 9, 5.1], { prediction: ['yes', 'yes', 'yes', 'yes'] })];
  const report = driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), { ...CONTEXT, minRows: 5 });
  t.is(report.verdict, 'too little');
  t.deepEqual(report.drifted, ['x', 'prediction'], 'the PSI are still reported');
  t.regex(reportText(report), /TOO LITTLE TO JUDGE: 4 rows in the window, fewer than 5 \(--min-rows\)/);
  t.is(driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), { ...CONTEXT, minRows: 4 }).verdict, 'drift');
});

test('without a prediction in the record, the label is the highest probability of the captured output', (t) => {
  const captured = [record([1.1, 5.1], { probabilities: [0.9, 0.1, 0.2, 0.8] })];
  const report = driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), CONTEXT);
  t.deepEqual(report.prediction[0]!.windowShares, [0.5, 0.5]);
  t.is(report.prediction[0]!.psi, 0);
});

test('a record without the input or output the baseline names is counted, not guessed', (t) => {
  const captured = [record([1.1])];
  const report = driftReport(BASELINE, selectRecords(captured, 'm@1', CONTEXT.window), CONTEXT);
  t.deepEqual(report.records.missing, { probabilities: 1 });
  t.like(report.prediction[0], { count: 0, psi: null, level: 'no data' });
  t.regex(reportText(report), /1 record\(s\) without "probabilities"/);
});
