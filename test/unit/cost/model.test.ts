import test from 'ava';
import {
  breakEven,
  coldStartsPerMonth,
  DEFAULT_ASSUMPTIONS,
  fargate,
  lambdaOnDemand,
  lambdaProvisioned,
  pcUnitsFor,
  sagemakerServerless,
  type Traffic,
  type Workload,
} from '../../../commands/cost/model.js';

// Hand calculations from commands/pricing/prices.ts, written out as numbers: a changed price fails these tests.
// 10 rps, 24 h, 30 days: 10 x 3600 x 24 x 30 = 25,920,000 requests; 2 ms at 1 GB: 51,840 GB-seconds.
const traffic: Traffic = { avgRps: 10, peakRps: 10, hoursPerDay: 24, daysPerMonth: 30 };
const workload: Workload = { arch: 'arm64', memoryMb: 1024, durationMs: 2, billedMs: 2, initMs: undefined, rowsPerRequest: 1, payloadBytes: 2048 };
const x86: Workload = { ...workload, arch: 'x86_64' };

function close(t: import('ava').ExecutionContext, actual: number, expected: number): void {
  t.true(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${actual} is not ${expected}`);
}

test('Lambda on demand is the request fee plus billed GB-seconds at the arm64 price', (t) => {
  const cost = lambdaOnDemand(traffic, workload, DEFAULT_ASSUMPTIONS);
  // 25.92 M x $0.20 = $5.184; 51,840 x $0.0000133334 = $0.691203456.
  close(t, cost.lines.find((l) => l.item === 'requests')!.usd, 5.184);
  close(t, cost.lines.find((l) => l.item === 'duration')!.usd, 0.691203456);
  close(t, cost.monthlyUsd, 5.875203456);
});

test('Lambda on demand prices the billed init of every estimated cold start when the init duration is known', (t) => {
  const withInit = lambdaOnDemand(traffic, { ...x86, initMs: 100 }, DEFAULT_ASSUMPTIONS);
  // 10 rps never leaves 10 idle minutes; one environment started on each of 30 days: 30 x 0.1 s x 1 GB x $0.0000166667.
  t.is(coldStartsPerMonth(traffic, x86, DEFAULT_ASSUMPTIONS), 30);
  close(t, withInit.lines.find((l) => l.item === 'init (cold starts)')!.usd, 0.0000500001);
  t.true(lambdaOnDemand(traffic, x86, DEFAULT_ASSUMPTIONS).notes.some((n) => n.includes('not priced')));
});

test('cold starts at a trickle come from arrivals after the idle timeout', (t) => {
  // 0.001 rps for 24 h x 30 days: 2,592 requests, each after a silence longer than 10 minutes with probability e^-0.6.
  const trickle = { ...traffic, avgRps: 0.001, peakRps: 0.001 };
  close(t, coldStartsPerMonth(trickle, workload, DEFAULT_ASSUMPTIONS), 2592 * Math.exp(-0.6) + 30);
});

test('provisioned concurrency is sized for the peak and billed every hour of the month at the x86_64 price', (t) => {
  t.is(pcUnitsFor({ ...traffic, peakRps: 1000 }, workload, DEFAULT_ASSUMPTIONS), 3); // 1000 x 0.002 / 0.7 = 2.86
  const cost = lambdaProvisioned(traffic, x86, DEFAULT_ASSUMPTIONS);
  // 1 unit x 1 GB x 730 h x 3600 s x $0.0000041667 = $10.9500876; 51,840 x $0.0000097222 = $0.503998848.
  close(t, cost.lines[0]!.usd, 10.9500876);
  close(t, cost.lines.find((l) => l.item === 'duration on provisioned concurrency')!.usd, 0.503998848);
  close(t, cost.monthlyUsd, 10.9500876 + 5.184 + 0.503998848);
});

test('requests beyond a fixed provisioned concurrency spill over to on-demand prices', (t) => {
  // 1,000 rps x 2 ms = 2 busy on average against 1 unit: half the GB-seconds on PC, half on demand (arm64).
  const busy = { ...traffic, avgRps: 1000, peakRps: 1000 };
  const cost = lambdaProvisioned(busy, workload, { ...DEFAULT_ASSUMPTIONS, pcUnits: 1 });
  close(t, cost.lines[0]!.usd, 8.7601752); // 2,628,000 GB-seconds x $0.0000033334 (arm64)
  close(t, cost.lines.find((l) => l.item === 'spill-over on demand')!.usd, 2_592_000 * 0.0000133334);
  close(t, cost.lines.find((l) => l.item === 'duration on provisioned concurrency')!.usd, 2_592_000 * 0.0000077778);
});

test('SageMaker Serverless prices inference per GB-second of the smallest size that fits, plus data processed', (t) => {
  const cost = sagemakerServerless(traffic, workload);
  // 51,840 GB-s x $0.00002 = $1.0368; 25.92 M x 2,048 bytes = 49.4384765625 GiB x $0.016 = $0.791015625.
  close(t, cost.monthlyUsd, 1.0368 + 0.791015625);
  close(t, sagemakerServerless(traffic, { ...workload, memoryMb: 1536 }).lines[0]!.usd, 2 * 1.0368); // a 2048 MB endpoint
  t.is(sagemakerServerless(traffic, { ...workload, memoryMb: 8192 }).monthlyUsd, Infinity);
});

test('Fargate bills its tasks every hour of the month at the per-vCPU and per-GB prices', (t) => {
  // 730 h x (1 vCPU x $0.03238 + 2 GB x $0.00356) = $28.835; x86_64: 730 x (0.04048 + 2 x 0.004445) = $36.0401.
  close(t, fargate(traffic, workload, DEFAULT_ASSUMPTIONS).monthlyUsd, 28.835);
  close(t, fargate(traffic, x86, DEFAULT_ASSUMPTIONS).monthlyUsd, 36.0401);
  // 1,000 rps at 2 ms, one request at a time, 0.7 busy: 350 rps a task, 3 tasks.
  close(t, fargate({ ...traffic, avgRps: 1000, peakRps: 1000 }, workload, DEFAULT_ASSUMPTIONS).monthlyUsd, 3 * 28.835);
});

test('the Fargate break-even is the rate at which one task costs what Lambda on demand does', (t) => {
  const b = breakEven('fargate', traffic, workload, DEFAULT_ASSUMPTIONS);
  // Lambda costs 2,592,000 x (0.002 x $0.0000133334 + $0.0000002) = $0.5875203456 a month per rps; one task $28.835.
  if (b.kind !== 'at') return t.fail(`got ${b.kind}`);
  close(t, Math.round(b.rps * 1e6) / 1e6, Math.round((28.835 / 0.5875203456) * 1e6) / 1e6);
  t.true(b.staysCheaper, 'each further task (every 350 rps, $28.835) costs far less than 350 rps on Lambda ($205.63)');
});

test('an alternative that is cheaper at any rate or at none says so', (t) => {
  t.is(breakEven('sagemaker-serverless', traffic, workload, DEFAULT_ASSUMPTIONS).kind, 'always');
  t.is(breakEven('lambda-pc', { ...traffic, peakRps: 1000 }, workload, DEFAULT_ASSUMPTIONS).kind, 'never');
});

test('provisioned concurrency busy at a steady 70% becomes cheaper than on demand where its fixed charge is paid back', (t) => {
  const b = breakEven('lambda-pc', traffic, x86, DEFAULT_ASSUMPTIONS);
  // One unit (to 350 rps): $10.9500876 = r x 2,592,000 x 0.002 x ($0.0000166667 - $0.0000097222) => r = 304.1733...
  if (b.kind !== 'at') return t.fail(`got ${b.kind}`);
  close(t, Math.round(b.rps * 1e4) / 1e4, Math.round((10.9500876 / (2_592_000 * 0.002 * (0.0000166667 - 0.0000097222))) * 1e4) / 1e4);
});
