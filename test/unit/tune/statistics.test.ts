import test from 'ava';
import { LAMBDA_PRICES } from '../../../commands/pricing/prices.js';
import { costPerMillion, requestCost } from '../../../commands/tune/cost.js';
import { lambdaCpuShare, localCpuShare } from '../../../commands/tune/cpu-share.js';
import { recommend, type Candidate } from '../../../commands/tune/recommend.js';
import { billedMs, mean, percentile, summarize } from '../../../commands/tune/statistics.js';

test('billed duration rounds up to whole milliseconds, at least one', (t) => {
  t.deepEqual([0.2, 1, 1.01, 2.99, 3, 57.5].map(billedMs), [1, 1, 2, 3, 3, 58]);
});

test('percentiles are nearest-rank: the smallest value with at least p% at or below it', (t) => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  t.is(percentile(ten, 50), 5);
  t.is(percentile(ten, 90), 9);
  t.is(percentile(ten, 99), 10);
  t.is(percentile([7], 99), 7);
  t.is(percentile([1, 2, 3], 50), 2);
  t.throws(() => percentile([], 50), { instanceOf: RangeError });
});

test('summarize gives mean and percentiles of durations and of their billed milliseconds', (t) => {
  // Unsorted on purpose. Sorted: 1.2 1.4 2.1 2.5 9.8; billed: 2 2 3 3 10.
  const stats = summarize([2.5, 1.2, 9.8, 1.4, 2.1]);
  t.truthy(stats);
  t.is(stats!.durationMs.p50, 2.1);
  t.is(stats!.durationMs.p90, 9.8);
  t.is(stats!.durationMs.p99, 9.8);
  t.is(stats!.durationMs.mean, (2.5 + 1.2 + 9.8 + 1.4 + 2.1) / 5);
  t.is(stats!.billedMs.mean, 4);
  t.is(stats!.billedMs.p50, 3);
  t.is(summarize([]), undefined);
  t.is(mean([1, 2, 6]), 3);
});

test('cost per million requests is billed GB-seconds at each architecture\'s price plus the request fee', (t) => {
  // 3 ms at 1,024 MB: 0.003 s x 1 GB x price per GB-s, times a million, plus $0.20.
  const cost = costPerMillion(3, 1024);
  t.is(LAMBDA_PRICES.gbSecond.x86_64, 0.0000166667);
  t.is(LAMBDA_PRICES.perMillionRequests, 0.2);
  t.true(Math.abs(cost.x86_64 - (0.003 * 0.0000166667 * 1e6 + 0.2)) < 1e-12);
  t.true(Math.abs(cost.x86_64 - 0.2500001) < 1e-9);
  t.true(Math.abs(cost.arm64 - 0.2400002) < 1e-9);
  // 512 MB is half a GB: 10 ms there costs what 5 ms costs at 1,024 MB.
  t.true(Math.abs(requestCost(10, 512, 'x86_64') - requestCost(5, 1024, 'x86_64')) < 1e-15);
});

test("Lambda's CPU share is memory over 1,769 MB, capped at the machine's cores", (t) => {
  t.is(lambdaCpuShare(1769), 1);
  t.is(Number(lambdaCpuShare(1024).toFixed(3)), 0.579);
  t.is(Number(lambdaCpuShare(10_240).toFixed(3)), 5.789);
  t.deepEqual(localCpuShare(3008, 2), { share: 3008 / 1769, capped: false });
  t.deepEqual(localCpuShare(5307, 2), { share: 2, capped: true });
});

const candidate = (memoryMb: number, meanMs: number, p99Ms: number, cost: number, clean = true): Candidate => ({ memoryMb, meanMs, p99Ms, cost, clean });

test('recommendations: cheapest by cost, fastest by mean, balanced by the sum of both ratios to the best', (t) => {
  const sizes = [candidate(512, 40, 80, 0.5), candidate(1024, 20, 30, 0.55), candidate(1769, 12, 16, 0.7), candidate(3008, 11, 15, 1.1)];
  // balanced scores: 512: 1 + 40/11 = 4.64; 1024: 1.1 + 20/11 = 2.92; 1769: 1.4 + 12/11 = 2.49; 3008: 2.2 + 1 = 3.2.
  t.like(recommend(sizes, 'x86_64', null), { cheapest: 512, fastest: 3008, balanced: 1769, maxLatencyMs: null });
  // p99 within 15 ms leaves only 3008.
  t.like(recommend(sizes, 'x86_64', 15), { cheapest: 512, fastest: 3008, balanced: 3008, maxLatencyMs: 15 });
  t.like(recommend(sizes, 'x86_64', 5), { balanced: null });
});

test('recommendations leave out sizes with failures and break ties toward the smaller size', (t) => {
  const sizes = [candidate(128, 5, 5, 0.1, false), candidate(256, 10, 10, 0.3), candidate(512, 10, 10, 0.3)];
  t.like(recommend(sizes, 'arm64', null), { cheapest: 256, fastest: 256, balanced: 256 });
  t.like(recommend([], 'arm64', null), { cheapest: null, fastest: null, balanced: null });
});
