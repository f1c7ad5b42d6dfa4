import test from 'ava';
import { analyse, type Thresholds, type VersionStats } from '../../../commands/rollout/canary-analysis.js';

const THRESHOLDS: Thresholds = { minRequests: 100, maxErrorRateIncrease: 0.01, maxInvalidRateIncrease: 0.05, maxLatencyRatio: 1.5, latencySlackMs: 5, maxConfidenceDrop: 0.05 };

function stats(version: string, overrides: Partial<VersionStats> = {}): VersionStats {
  return { version, requests: 1000, errors: 0, invalid: 0, latency: { metric: 'RequestLatency', average: 20, p99: 40 }, confidence: { mean: 0.9, rows: 1000 }, ...overrides };
}

test('passes a canary that behaves like the stable version, listing what it compared', (t) => {
  const verdict = analyse(stats('4'), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'pass');
  t.deepEqual(verdict.comparisons.map((c) => c.metric), ['error rate', 'invalid-request rate', 'p99 RequestLatency', 'mean confidence']);
});

test('waits, never passes, while the canary has served too few requests', (t) => {
  const verdict = analyse(stats('4', { requests: 99, errors: 50 }), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'wait');
  t.is(verdict.outcome === 'wait' ? verdict.reason : '', 'version 4 served 99 of the 100 requests the step needs');
});

test('with minRequests 0 it leaves the decision to the alarms', (t) => {
  const verdict = analyse(stats('4', { requests: 0 }), stats('3'), { ...THRESHOLDS, minRequests: 0 });
  t.is(verdict.outcome, 'pass');
  t.deepEqual(verdict.comparisons, []);
});

test('fails an error rate over the stable one plus the allowance, with both values and the threshold', (t) => {
  const verdict = analyse(stats('4', { requests: 200, errors: 5 }), stats('3', { errors: 1 }), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.is(verdict.outcome === 'fail' ? verdict.reason : '', 'error rate: version 4 2.50% (5/200) vs version 3 0.10% (1/1000); threshold: at most 1.10% (+1.00%)');
});

test('allows an error rate within the allowance', (t) => {
  t.is(analyse(stats('4', { requests: 200, errors: 2 }), stats('3', { errors: 1 }), THRESHOLDS).outcome, 'pass');
});

test('compares p99 latency when both versions have it', (t) => {
  const verdict = analyse(stats('4', { latency: { metric: 'RequestLatency', average: 21, p99: 70 } }), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.regex(verdict.outcome === 'fail' ? verdict.reason : '', /^p99 RequestLatency: version 4 70\.0 ms vs version 3 40\.0 ms; threshold: at most 60\.0 ms/);
});

test('falls back to averages and says so when percentiles are missing', (t) => {
  const verdict = analyse(stats('4', { latency: { metric: 'RequestLatency', average: 25 } }), stats('3', { latency: { metric: 'RequestLatency', average: 20 } }), THRESHOLDS);
  t.is(verdict.outcome, 'pass');
  t.true(verdict.comparisons.some((c) => c.metric === 'average RequestLatency'));
  t.true(verdict.notes.some((n) => n.includes('compared average RequestLatency')));
});

test('lets small latency differences pass at small latencies', (t) => {
  const verdict = analyse(stats('4', { latency: { metric: 'RequestLatency', p99: 4 } }), stats('3', { latency: { metric: 'RequestLatency', p99: 1 } }), THRESHOLDS);
  t.is(verdict.outcome, 'pass', '4 ms vs 1 ms is 4x, but within the 5 ms slack');
});

test('fails a model whose mean confidence dropped', (t) => {
  const verdict = analyse(stats('4', { confidence: { mean: 0.7, rows: 300 } }), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.regex(verdict.outcome === 'fail' ? verdict.reason : '', /mean confidence: version 4 0\.7000 \(300 rows\) vs version 3 0\.9000 \(1000 rows\); threshold: at least 0\.8500/);
});

test('fails a model that rejects more requests than the stable one', (t) => {
  const verdict = analyse(stats('4', { invalid: 400 }), stats('3', { invalid: 10 }), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.regex(verdict.outcome === 'fail' ? verdict.reason : '', /^invalid-request rate: version 4 40\.00%/);
});

test('skips confidence for regressors and says why', (t) => {
  const verdict = analyse(stats('4', { confidence: undefined }), stats('3', { confidence: undefined }), THRESHOLDS);
  t.is(verdict.outcome, 'pass');
  t.false(verdict.comparisons.some((c) => c.metric === 'mean confidence'));
  t.true(verdict.notes.some((n) => n.includes('no PredictionConfidence')));
});

test('judges rates against zero when the stable version served nothing', (t) => {
  const verdict = analyse(stats('4', { errors: 50 }), stats('3', { requests: 0 }), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.true(verdict.notes.some((n) => n.includes('served no requests')));
});

test('lists every failed metric in one reason', (t) => {
  const verdict = analyse(stats('4', { errors: 100, confidence: { mean: 0.5, rows: 10 } }), stats('3'), THRESHOLDS);
  t.is(verdict.outcome, 'fail');
  t.regex(verdict.outcome === 'fail' ? verdict.reason : '', /^error rate: .*; mean confidence: /);
});
