// The expected figures are worked out by hand from AWS's published us-east-1 prices (Lambda: $0.20 per million
// requests, $0.0000133334 per GB-second on arm64 and $0.0000166667 on x86_64, GB-seconds of 1,024 MB; CloudWatch Logs:
// $0.50 per GB ingested) and the bench's model (one vCPU at 1,769 MB), so a wrong constant or formula in
// bench/lambda-cost.ts fails here.
import test, { type ExecutionContext } from 'ava';
import { MEMORY_SIZES, costMarkdown, costRows, cpuScale, initCost, type CostInput } from '../../../bench/lambda-cost.js';

const one: CostInput = { name: 'model, 1 row', durationMs: 0.2, predictionsPerRequest: 1, logBytesPerRequest: 600 };
const batch: CostInput = { name: 'model, 100 rows', durationMs: 10, predictionsPerRequest: 100, logBytesPerRequest: 1600 };

/** Equal to about nine significant digits: the figures below are exact decimals, the module's are binary floats. */
function close(t: ExecutionContext, actual: number, expected: number): void {
  t.true(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${actual}, expected ${expected}`);
}

test('CPU share scales with memory up to one vCPU at 1,769 MB and no further', (t) => {
  t.is(cpuScale(1769), 1);
  t.is(cpuScale(3008), 1);
  t.is(cpuScale(884.5), 2);
});

const priced: readonly { title: string; input: CostInput; arch: 'arm64' | 'x86_64'; memoryMb: number; billedMs: number; perMillion: number }[] = [
  {
    title: 'a request shorter than a millisecond is billed one millisecond',
    input: one,
    arch: 'arm64',
    memoryMb: 1024,
    // 0.2 ms x 1769 / 1024 = 0.3455 ms, billed 1 ms.
    billedMs: 1,
    // 1,000,000 requests x (0.001 s x 1 GB x $0.0000133334) + 1,000,000 x $0.20 / 1,000,000 = $0.0133334 + $0.20
    perMillion: 0.2133334,
  },
  {
    title: 'x86_64 is priced at its own GB-second rate',
    input: one,
    arch: 'x86_64',
    memoryMb: 1024,
    billedMs: 1,
    // 1,000,000 x (0.001 s x 1 GB x $0.0000166667) + $0.20 = $0.0166667 + $0.20
    perMillion: 0.2166667,
  },
  {
    title: 'a batch spreads the request charge over its predictions, and slows down below one vCPU',
    input: batch,
    arch: 'x86_64',
    memoryMb: 512,
    // 10 ms x 1769 / 512 = 34.55 ms, billed 35 ms.
    billedMs: 35,
    // 1,000,000 / 100 = 10,000 requests; 10,000 x (0.035 s x 0.5 GB x $0.0000166667) + 10,000 x $0.20 / 1,000,000
    // = $0.0029166725 + $0.002
    perMillion: 0.0049166725,
  },
  {
    title: 'memory above one vCPU costs more and runs no faster',
    input: batch,
    arch: 'arm64',
    memoryMb: 3008,
    // 10 ms at one vCPU stays 10 ms.
    billedMs: 10,
    // 10,000 x (0.010 s x 3008 / 1024 GB x $0.0000133334) + $0.002 = 10,000 x (0.010 x 2.9375 x $0.0000133334) + $0.002
    // = $0.00391668625 + $0.002
    perMillion: 0.00591668625,
  },
];

for (const c of priced) {
  test(c.title, (t) => {
    const row = costRows([c.input]).find((r) => r.arch === c.arch && r.memoryMb === c.memoryMb)!;
    t.is(row.billedMs, c.billedMs);
    close(t, row.lambdaPerMillion, c.perMillion);
  });
}

test('arm64 costs less than x86_64 at every memory size, and every size and arch is priced', (t) => {
  const rows = costRows([one, batch]);
  t.is(rows.length, 2 * 2 * MEMORY_SIZES.length);
  for (const r of rows.filter((row) => row.arch === 'arm64')) {
    const x86 = rows.find((row) => row.arch === 'x86_64' && row.input === r.input && row.memoryMb === r.memoryMb)!;
    t.true(r.lambdaPerMillion < x86.lambdaPerMillion);
  }
});

test('EMF log ingestion is priced per GB of lines, whatever the memory size', (t) => {
  for (const row of costRows([one])) {
    // 1,000,000 requests x 600 bytes = 600,000,000 bytes / 1,073,741,824 bytes per GB x $0.50
    close(t, row.logsPerMillion, 0.2793967723846435546875);
  }
  // 10,000 requests x 1,600 bytes = 16,000,000 bytes / 1,073,741,824 x $0.50
  close(t, costRows([batch])[0]!.logsPerMillion, 0.007450580596923828125);
});

test('billed init scales like the invocation, so below one vCPU it costs the same at any memory size', (t) => {
  // 0.1 s x 1769 / 1024 GB x $0.0000133334
  close(t, initCost(100, 'arm64', 1769), 0.00000230339693359375);
  // 0.1 s x 1769 / 512 (CPU share) x 0.5 GB x $0.0000133334: the same GB-seconds
  close(t, initCost(100, 'arm64', 512), 0.00000230339693359375);
  // 0.1 s x 1769 / 1024 GB x $0.0000166667
  close(t, initCost(100, 'x86_64', 1024), 0.000002879237529296875);
});

test('the Markdown table shows each figure of a workload at a memory size in one row', (t) => {
  const table = costMarkdown(costRows([one]), 100, [1024]).split('\n');
  // 0.2 ms x 1769 / 1024 = 0.346 ms, billed 1 ms; $0.2133334 and $0.2166667 per million; logs $0.2794;
  // init per 1,000 cold starts: 1,000 x 0.1 s x 1769 / 1024 GB x $0.0000133334 = $0.00230 (x86_64: $0.00288).
  t.is(table[2], '| model, 1 row | 1024 MB | 0.346 ms | 1 ms | $0.213 | $0.217 | $0.279 | $0.00230 / $0.00288 |');
});

test('the Markdown table can show a few memory sizes only', (t) => {
  const table = costMarkdown(costRows([one, batch]), 100, [1024, 1769]).split('\n');
  t.is(table.length, 2 + 2 * 2);
  t.true(table[3]!.startsWith('| model, 1 row | 1769 MB |'));
});

test('the Markdown table has a row per workload and memory size', (t) => {
  const table = costMarkdown(costRows([one, batch]), 100).split('\n');
  t.is(table.length, 2 + 2 * MEMORY_SIZES.length);
  t.true(table[2]!.startsWith('| model, 1 row | 512 MB |'));
});
