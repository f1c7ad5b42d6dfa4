import test from 'ava';
import { buildCaptureRecord, CAPTURE_LIMITS, CAPTURE_RECORD_TYPE, type CaptureRequest, type CaptureTensorSource } from '../../../functions/contract/capture.js';

const TIME = new Date('2026-05-01T06:00:00.000Z');

function request(inputs: Record<string, CaptureTensorSource>, outputs: Record<string, CaptureTensorSource> = {}, extra: Partial<CaptureRequest> = {}): CaptureRequest {
  const first = Object.values(inputs)[0];
  return {
    requestId: 'c0ffee-1',
    time: TIME,
    model: 'iris@1',
    functionVersion: '7',
    rows: first?.dims[0] ?? 1,
    inputs: new Map(Object.entries(inputs)),
    outputs: new Map(Object.entries(outputs)),
    ...extra,
  };
}

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

test('a small request is kept whole, as one JSON line with the caps it was written under', (t) => {
  const record = buildCaptureRecord(
    request(
      { float_input: { type: 'float32', dims: [2, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2, 6.7, 3, 5.2, 2.3]) } },
      { probabilities: { type: 'float32', dims: [2, 3], data: new Float32Array([0.97, 0.02, 0.01, 0.01, 0.1, 0.89]) } },
      { prediction: ['setosa', 'virginica'] },
    ),
  );
  t.like(record, { _type: CAPTURE_RECORD_TYPE, version: 1, requestId: 'c0ffee-1', time: '2026-05-01T06:00:00.000Z', model: 'iris@1', functionVersion: '7', rows: 2 });
  t.deepEqual(record.inputs['float_input'], { type: 'float32', shape: [2, 4], data: [5.1, 3.5, 1.4, 0.2, 6.7, 3, 5.2, 2.3] });
  t.deepEqual(record.outputs['probabilities']!.data, [0.97, 0.02, 0.01, 0.01, 0.1, 0.89]);
  t.deepEqual(record.prediction, ['setosa', 'virginica']);
  t.deepEqual(record.limits, CAPTURE_LIMITS);
  const line = JSON.stringify(record);
  t.false(line.includes('\n'));
  t.deepEqual(JSON.parse(line), record);
});

test('a 6 MB request is capped to whole rows under the element cap, and the cap is noted', (t) => {
  const rows = (6 * 1024 * 1024) / 16; // four float32 features: 16 bytes a row, 6 MB of values (more as JSON)
  const data = new Float32Array(rows * 4).map((_, i) => (i % 7) + 0.5);
  const record = buildCaptureRecord(
    request(
      { float_input: { type: 'float32', dims: [rows, 4], data } },
      { probabilities: { type: 'float32', dims: [rows, 3], data: new Float32Array(rows * 3).fill(1 / 3) } },
      { prediction: new Array<string>(rows).fill('setosa') },
    ),
  );
  const input = record.inputs['float_input']!;
  t.deepEqual(input.shape, [rows, 4]);
  t.is(input.data.length, 1000);
  t.deepEqual(input.truncated, { elements: rows * 4, kept: 1000 });
  // 1,000 elements of three columns: 333 whole rows, never a part of one.
  t.deepEqual(record.outputs['probabilities']!.truncated, { elements: rows * 3, kept: 999 });
  t.is(record.prediction!.length, 1000);
  t.is(record.rows, rows);
  t.true(bytes(record) <= CAPTURE_LIMITS.recordBytes);
});

test('strings that need escaping survive the line unchanged, and the line stays one line', (t) => {
  const tricky = ['say "hi"', 'back\\slash', 'two\nlines\r\n', 'tab\there', '</script><script>alert(1)</script>', 'emoji 🦙 and é', '\u0000\u001f', '{"_type":"prediction-capture"}', 'lone \ud800 half'];
  const record = buildCaptureRecord(request({ text: { type: 'string', dims: [tricky.length], data: tricky } }));
  const line = JSON.stringify(record);
  t.false(/[\n\r]/.test(line));
  const back = JSON.parse(line) as typeof record;
  t.deepEqual(back.inputs['text']!.data, tricky);
  t.is(back.inputs['text']!.truncated, undefined);
});

test('a string the size of a whole request is cut to the string cap, never between the halves of a pair', (t) => {
  const huge = `${'a'.repeat(CAPTURE_LIMITS.charsPerString - 1)}🦙${'b'.repeat(6 * 1024 * 1024)}`;
  const record = buildCaptureRecord(request({ text: { type: 'string', dims: [1], data: [huge] } }));
  const kept = record.inputs['text']!.data[0] as string;
  t.is(kept, 'a'.repeat(CAPTURE_LIMITS.charsPerString - 1));
  t.deepEqual(record.inputs['text']!.truncated, { elements: 1, kept: 1, stringsCut: 1 });
  t.true(bytes(record) <= CAPTURE_LIMITS.recordBytes);
});

test('a record over the byte cap gives up rows of its largest tensor until the line fits', (t) => {
  const long = 'x'.repeat(CAPTURE_LIMITS.charsPerString);
  const texts = new Array<string>(2000).fill(long);
  const record = buildCaptureRecord(
    request({ text: { type: 'string', dims: [1000, 2], data: texts }, ids: { type: 'int64', dims: [1000, 2], data: new BigInt64Array(2000).fill(7n) } }),
  );
  t.true(bytes(record) <= CAPTURE_LIMITS.recordBytes);
  const text = record.inputs['text']!;
  t.true(text.data.length > 0 && text.data.length < 1000);
  t.is(text.data.length % 2, 0, 'whole rows of two strings');
  t.deepEqual(text.truncated, { elements: 2000, kept: text.data.length }, 'no string was cut: each is at the cap');
  t.deepEqual(record.inputs['ids']!.truncated, { elements: 2000, kept: 1000 });
});

test('element types become JSON values without losing any: float32 shortest, 64-bit integers exact, NaN as null', (t) => {
  const record = buildCaptureRecord(
    request({
      f32: { type: 'float32', dims: [1, 4], data: new Float32Array([0.1, Number.NaN, Number.POSITIVE_INFINITY, 16777217]) },
      f64: { type: 'float64', dims: [1, 2], data: new Float64Array([0.1, Number.NEGATIVE_INFINITY]) },
      i64: { type: 'int64', dims: [1, 2], data: new BigInt64Array([42n, 9007199254740993n]) },
      f16: { type: 'float16', dims: [1, 2], data: new Uint16Array([0x3c00, 0xc500]) },
      flag: { type: 'bool', dims: [1, 2], data: new Uint8Array([1, 0]) },
    }),
  );
  t.deepEqual(record.inputs['f32']!.data, [0.1, null, null, 16777216]);
  t.deepEqual(record.inputs['f64']!.data, [0.1, null]);
  t.deepEqual(record.inputs['i64']!.data, [42, '9007199254740993']);
  t.deepEqual(record.inputs['f16']!.data, [1, -5]);
  t.deepEqual(record.inputs['flag']!.data, [true, false]);
});
