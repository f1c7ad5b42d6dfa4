import test from 'ava';
import { failureOf } from '../../../commands/tune/lambda-tuner.js';
import { findReportLine, parseReportLine } from '../../../commands/tune/report-line.js';

// Real REPORT lines: the first three as AWS's Lambda Developer Guide prints them ("Log and monitor Node.js Lambda
// functions", docs/nodejs-logging.md in awsdocs/aws-lambda-developer-guide), the last as AWS's Runtime Interface
// Emulator printed it for this project's function.
const lines = [
  {
    what: 'a cold start with X-Ray fields (tab-separated, Init Duration last)',
    line: 'REPORT RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\tDuration: 128.83 ms\tBilled Duration: 200 ms\tMemory Size: 128 MB\tMax Memory Used: 74 MB\tInit Duration: 166.62 ms\tXRAY TraceId: 1-5d9d007f-0a8c7fd02xmpl480aed55ef0\tSegmentId: 3d752xmpl1bbe37e\tSampled: true',
    expected: { requestId: 'c793869b-ee49-115b-a5b6-4fd21e8dedac', durationMs: 128.83, billedMs: 200, memorySizeMb: 128, maxMemoryUsedMb: 74, initMs: 166.62 },
  },
  {
    what: 'a warm invocation from CloudWatch Logs (a space before a tab, a trailing tab)',
    line: 'REPORT RequestId: 4ce9340a-b765-490f-ad8a-02ab3415e2bf\tDuration: 26.73 ms\tBilled Duration: 27 ms \tMemory Size: 128 MB\tMax Memory Used: 75 MB\t\n',
    expected: { requestId: '4ce9340a-b765-490f-ad8a-02ab3415e2bf', durationMs: 26.73, billedMs: 27, memorySizeMb: 128, maxMemoryUsedMb: 75 },
  },
  {
    what: "the CLI's decoded log tail (spaces instead of tabs)",
    line: 'REPORT RequestId: 57f231fb-1730-4395-85cb-4f71bd2b87b8  Duration: 79.67 ms      Billed Duration: 80 ms         Memory Size: 128 MB     Max Memory Used: 73 MB',
    expected: { requestId: '57f231fb-1730-4395-85cb-4f71bd2b87b8', durationMs: 79.67, billedMs: 80, memorySizeMb: 128, maxMemoryUsedMb: 73 },
  },
  {
    what: "the runtime emulator's cold start (Init Duration first)",
    line: 'REPORT RequestId: 017e12b5-edd3-413f-9f55-10eb11d42298\tInit Duration: 0.02 ms\tDuration: 256.88 ms\tBilled Duration: 257 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t',
    expected: { requestId: '017e12b5-edd3-413f-9f55-10eb11d42298', durationMs: 256.88, billedMs: 257, memorySizeMb: 128, maxMemoryUsedMb: 128, initMs: 0.02 },
  },
];

for (const { what, line, expected } of lines) {
  test(`reads every field of ${what}`, (t) => {
    t.deepEqual(parseReportLine(line), expected);
  });
}

test('reads Status and Error Type where a failed invocation carries them', (t) => {
  const report = parseReportLine('REPORT RequestId: 1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory');
  t.like(report, { status: 'error', errorType: 'Runtime.OutOfMemory', durationMs: 3000 });
});

test('is not fooled by a line that is not a complete REPORT line', (t) => {
  t.is(parseReportLine('END RequestId: 57f231fb-1730-4395-85cb-4f71bd2b87b8'), undefined);
  t.is(parseReportLine('REPORT RequestId: 1\tBilled Duration: 27 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB'), undefined, 'no Duration of its own');
  t.is(parseReportLine('2019-06-07T19:11:20.564Z\tc793869b\tINFO\tREPORT RequestId: 1 Duration: 1 ms Billed Duration: 1 ms Memory Size: 1 MB Max Memory Used: 1 MB'), undefined, 'a function printing the words');
});

test("finds the invocation's own REPORT line, the last one in a log tail", (t) => {
  const tail = ['START RequestId: a Version: 3', 'REPORT RequestId: a\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 512 MB\tMax Memory Used: 70 MB', 'START RequestId: b Version: 3', 'END RequestId: b', 'REPORT RequestId: b\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 512 MB\tMax Memory Used: 71 MB', ''].join('\n');
  t.like(findReportLine(tail), { requestId: 'b', billedMs: 3 });
  t.is(findReportLine('START RequestId: c Version: 3\n'), undefined);
});

const failures = [
  { what: 'a success', functionError: undefined, payload: '{"statusCode":200}', report: undefined, expected: undefined },
  { what: 'a timeout', functionError: 'Unhandled', payload: '{"errorMessage":"2026-12-02T10:00:00.000Z 1 Task timed out after 3.00 seconds"}', report: undefined, expected: { kind: 'timeout' } },
  { what: 'a timeout told by Status', functionError: 'Unhandled', payload: '', report: { status: 'timeout' }, expected: { kind: 'timeout' } },
  { what: 'an out-of-memory kill', functionError: 'Unhandled', payload: '{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited with error: signal: killed"}', report: undefined, expected: { kind: 'out-of-memory', message: 'Runtime.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed' } },
  { what: 'an out-of-memory kill told by Error Type', functionError: 'Unhandled', payload: '', report: { status: 'error', errorType: 'Runtime.OutOfMemory' }, expected: { kind: 'out-of-memory' } },
  { what: 'a handler that threw', functionError: 'Unhandled', payload: '{"errorType":"TypeError","errorMessage":"x is undefined"}', report: undefined, expected: { kind: 'error', message: 'TypeError: x is undefined' } },
] as const;

for (const { what, functionError, payload, report, expected } of failures) {
  test(`tells ${what} as Lambda reports it`, (t) => {
    const base = { requestId: '1', durationMs: 1, billedMs: 1, memorySizeMb: 128, maxMemoryUsedMb: 60 };
    const failure = failureOf(functionError, payload, report === undefined ? undefined : { ...base, ...report });
    if (expected === undefined) t.is(failure, undefined);
    else t.like(failure, expected);
  });
}
