import test from 'ava';
import { analyse, type Thresholds, type VersionStats } from '../../../commands/rollout/canary-analysis.js';

const THRESHOLDS: Thresholds = { minRequests: 100, maxErrorRateIncrease: 0.01, maxInvalidRateIncrease: 0.05, maxLatencyRatio: 1.5, latencySlackMs: 5, maxConfidenceDrop: 0.05 };

function stats(version: string, overrides: Partial<VersionStats> = {}): VersionStats {
  return { version, requests: 1000, errors: 0, invalid: 0, latency: { metric: 'RequestLatency', average: 20, p99: 40 }, confidence: { mean: 0.9, rows: 1000 }, ...overrides };
}

function reason(canary: Partial<VersionStats>, stable: Partial<VersionStats> = {}): string {
  const verdict = analyse(stats('4', canary), stats('3', stable), THRESHOLDS);
  return verdict.outcome === 'pass' ? '(passed)' : `${verdict.outcome}: ${verdict.reason}`;
}

test('passes a canary that behaves like the stable version, listing what it compared', (t) => {
  const verdict = analyse(stats('4'), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'pass');
  t.deepEqual(verdict.comparisons.map((c) => c.metric), ['error rate', 'invalid-request rate', 'p99 RequestLatency', 'mean confidence']);
});

const PASSES: readonly { readonly title: string; readonly canary: Partial<VersionStats>; readonly stable?: Partial<VersionStats> }[] = [
  { title: 'passes an error rate within the allowance', canary: { requests: 200, errors: 2 }, stable: { errors: 1 } },
  { title: 'passes an invalid-request rate within the allowance', canary: { requests: 200, invalid: 10 }, stable: { invalid: 0 } },
  { title: 'passes a latency under the ratio', canary: { latency: { metric: 'RequestLatency', average: 21, p99: 59 } } },
  { title: 'lets a small latency difference pass at small latencies (4 ms against 1 ms is within the 5 ms slack)', canary: { latency: { metric: 'RequestLatency', p99: 4 } }, stable: { latency: { metric: 'RequestLatency', p99: 1 } } },
  { title: 'passes a confidence drop within the allowance', canary: { confidence: { mean: 0.86, rows: 300 } } },
];

for (const { title, canary, stable } of PASSES) {
  test(title, (t) => {
    t.is(reason(canary, stable), '(passed)');
  });
}

const DOES_NOT_PASS: readonly { readonly title: string; readonly canary: Partial<VersionStats>; readonly stable?: Partial<VersionStats>; readonly reason: string | RegExp }[] = [
  {
    title: 'fails an error rate over the stable one plus the allowance, with both values and the threshold',
    canary: { requests: 200, errors: 5 },
    stable: { errors: 1 },
    reason: 'fail: error rate: version 4 2.50% (5/200) vs version 3 0.10% (1/1000); threshold: at most 1.10% (+1.00%)',
  },
  {
    title: 'fails a model that rejects more requests than the stable one',
    canary: { invalid: 400 },
    stable: { invalid: 10 },
    reason: 'fail: invalid-request rate: version 4 40.00% (400/1000) vs version 3 1.00% (10/1000); threshold: at most 6.00% (+5.00%)',
  },
  {
    title: 'compares p99 latency when both versions have it',
    canary: { latency: { metric: 'RequestLatency', average: 21, p99: 70 } },
    reason: 'fail: p99 RequestLatency: version 4 70.0 ms vs version 3 40.0 ms; threshold: at most 60.0 ms (1.5x, or +5 ms)',
  },
  {
    title: 'compares average latency when a version has no p99',
    canary: { latency: { metric: 'RequestLatency', average: 40 } },
    stable: { latency: { metric: 'RequestLatency', average: 20 } },
    reason: 'fail: average RequestLatency: version 4 40.0 ms vs version 3 20.0 ms; threshold: at most 30.0 ms (1.5x, or +5 ms)',
  },
  {
    title: 'fails a model whose mean confidence dropped',
    canary: { confidence: { mean: 0.7, rows: 300 } },
    reason: 'fail: mean confidence: version 4 0.7000 (300 rows) vs version 3 0.9000 (1000 rows); threshold: at least 0.8500 (-0.05)',
  },
  {
    title: 'lists every failed metric in one reason',
    canary: { errors: 100, confidence: { mean: 0.5, rows: 10 } },
    reason: /^fail: error rate: .*; mean confidence: /,
  },
  {
    title: 'waits, never passes, while the canary has served too few requests',
    canary: { requests: 99, errors: 50 },
    reason: 'wait: version 4 served 99 of the 100 requests the step needs',
  },
];

for (const { title, canary, stable, reason: expected } of DOES_NOT_PASS) {
  test(title, (t) => {
    if (typeof expected === 'string') t.is(reason(canary, stable), expected);
    else t.regex(reason(canary, stable), expected);
  });
}

test('with minRequests 0 it leaves the decision to the alarms', (t) => {
  const verdict = analyse(stats('4', { requests: 0, errors: 50 }), stats('3'), { ...THRESHOLDS, minRequests: 0 });
  t.is(verdict.outcome, 'pass');
  t.deepEqual(verdict.comparisons, []);
});

test('says so when it compared averages for want of percentiles', (t) => {
  const verdict = analyse(stats('4', { latency: { metric: 'RequestLatency', average: 25 } }), stats('3', { latency: { metric: 'RequestLatency', average: 20 } }), THRESHOLDS);
  t.true(verdict.comparisons.some((c) => c.metric === 'average RequestLatency'));
  t.true(verdict.notes.some((n) => n.includes('compared average RequestLatency')));
});

test('skips confidence for regressors and says why', (t) => {
  const verdict = analyse(stats('4', { confidence: undefined }), stats('3', { confidence: undefined }), THRESHOLDS);
  t.is(verdict.outcome, 'pass');
  t.false(verdict.comparisons.some((c) => c.metric === 'mean confidence'));
  t.true(verdict.notes.some((n) => n.includes('no PredictionConfidence')));
});

test('judges rates against zero when the stable version served nothing, and says so', (t) => {
  const verdict = analyse(stats('4', { errors: 50 }), stats('3', { requests: 0 }), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.deepEqual(verdict.comparisons.map((c) => c.metric), ['error rate', 'invalid-request rate']);
  t.true(verdict.notes.some((n) => n.includes('served no requests')));
});
