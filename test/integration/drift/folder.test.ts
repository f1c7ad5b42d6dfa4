// `npm run drift` as a user runs it, on synthetic captures in local folders.
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { parseBaseline } from '../../../commands/drift/baseline.js';
import type { DriftReport } from '../../../commands/drift/report.js';
import { BASELINE_FILE, buildCaptureRecord } from '../../../functions/contract/capture.js';
import { MODELS } from '../../helpers/function.js';
import { runNpm } from '../../helpers/npm.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { captureLines, subscriptionMessages, syntheticRecords } from './synthetic-captures.js';

const IRIS = path.join(MODELS, 'iris');
const baseline = parseBaseline(JSON.parse(await readFile(path.join(IRIS, BASELINE_FILE), 'utf8')), 'iris');
const START = new Date('2026-05-01T00:00:00.000Z');

/**
 * A folder laid out as captures arrive: plain JSON lines, a gzipped Firehose object of subscription messages in a
 * dated folder, and another model's records beside them. 40 records of 25 rows of iris: 1,000 rows.
 */
async function captures(t: ExecutionContext, shift: Record<string, number> = {}): Promise<string> {
  const dir = await tempDir(t, 'drift-');
  const records = syntheticRecords(baseline, { records: 40, rowsPerRecord: 25, seed: 7, start: START, shift });
  await writeFile(path.join(dir, 'captures.jsonl'), captureLines(records.slice(0, 20)));
  await mkdir(path.join(dir, '2026', '05', '01'), { recursive: true });
  await writeFile(path.join(dir, '2026', '05', '01', 'firehose-1-2026-05-01-00-20-00-abc'), gzipSync(subscriptionMessages(records.slice(20), 6)));
  const other = syntheticRecords(baseline, { records: 3, rowsPerRecord: 5, seed: 8, start: START, model: 'iris@0' });
  await writeFile(path.join(dir, 'old-model.jsonl'), captureLines(other));
  return dir;
}

test('captures drawn from the training distribution are below the threshold: exit 0, table, JSON and chart', async (t) => {
  const dir = await captures(t);
  const out = await tempDir(t, 'drift-out-');
  const json = path.join(out, 'drift.json');
  const svg = path.join(out, 'drift.svg');
  const run = await runNpm('drift', [dir, '--model', IRIS, '--json', json, '--svg', svg]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /^drift of iris@1 against .*baseline\.json \(105 training rows, models\/train\/baseline\.py\)/);
  t.regex(run.stdout, /3 file\(s\) read, 43 record\(s\); 40 of iris@1 in the window \(1000 rows, 2026-05-01T00:00:00\.000Z to 2026-05-01T00:39:00\.000Z\)/);
  t.regex(run.stdout, /other models: iris@0 \(3\)/);
  t.regex(run.stdout, /\npetal_length +1000 +0\.0\d\d +stable/);
  t.regex(run.stdout, /no drift: every PSI is at most 0\.2/);
  const report = JSON.parse(await readFile(json, 'utf8')) as DriftReport;
  t.is(report.rows, 1000);
  t.deepEqual(report.drifted, []);
  t.deepEqual(report.features.map((f) => f.name), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  for (const feature of report.features) t.true(feature.psi! < 0.1, `${feature.name} ${feature.psi}`);
  t.true(report.prediction[0]!.psi! < 0.1);
  const drawn = await readFile(svg, 'utf8');
  t.true(drawn.startsWith('<svg') && drawn.includes('Drift of iris@1 against its training baseline'));
  t.false(/NaN|undefined|Infinity/.test(drawn));
});

test('a known shift of one feature is above the threshold: exit 3, naming the feature', async (t) => {
  const dir = await captures(t, { petal_length: 1.5 });
  const run = await runNpm('drift', [dir, '--model', IRIS, '--json', '-']);
  t.is(run.code, 3, run.stderr);
  const report = JSON.parse(run.stdout) as DriftReport;
  t.deepEqual(report.drifted, ['petal_length']);
  const petal = report.features.find((f) => f.name === 'petal_length')!;
  t.true(petal.psi! > 1, String(petal.psi));
  t.is(petal.level, 'significant');
  t.true(petal.outsideRange! > 0.1);
  t.true(report.features.filter((f) => f.name !== 'petal_length').every((f) => f.psi! < 0.1));
});

test('a shift in the predicted labels alone is drift too', async (t) => {
  const dir = await tempDir(t, 'drift-');
  await writeFile(path.join(dir, 'c.jsonl'), captureLines(syntheticRecords(baseline, { records: 20, rowsPerRecord: 50, seed: 3, start: START, labelShares: [0.1, 0.2, 0.7] })));
  const run = await runNpm('drift', [dir, '--model', IRIS]);
  t.is(run.code, 3, run.stderr);
  t.regex(run.stdout, /DRIFT: PSI above 0\.2 for prediction\n/);
});

test('the window keeps only its records, and a window without any exits 4 with what was found', async (t) => {
  const dir = await captures(t);
  const narrow = await runNpm('drift', [dir, '--model', IRIS, '--since', '2026-05-01T00:10Z', '--until', '2026-05-01T00:19:59Z', '--json', '-']);
  t.is(narrow.code, 0, narrow.stderr);
  t.like(JSON.parse(narrow.stdout), { rows: 250, records: { used: 10, outsideWindow: 30 } });

  const empty = await runNpm('drift', [dir, '--model', IRIS, '--since', '2026-06-01']);
  t.is(empty.code, 4);
  t.is(empty.stdout, '');
  t.is(
    empty.stderr,
    `drift: no capture record of iris@1 in ${dir} from 2026-06-01T00:00:00.000Z to ${empty.stderr.match(/to (\S+) \(/)![1]} (3 file(s) read; 43 capture record(s) found; 40 of iris@1 outside the window; records of iris@0 (3)); ` +
      'widen the window with --since, check the location, or check that capture is on (capture.sampleRate above 0 for the environment in infra/config.ts, which sets the function\'s CAPTURE_SAMPLE_RATE)\n',
  );
});

test('fewer rows than --min-rows are too little to judge: exit 4, with the report printed', async (t) => {
  const dir = await captures(t);
  const run = await runNpm('drift', [dir, '--model', IRIS, '--since', '2026-05-01T00:10Z', '--until', '2026-05-01T00:19:59Z', '--min-rows', '300']);
  t.is(run.code, 4, run.stderr);
  t.regex(run.stdout, /\npetal_length +250 /);
  t.regex(run.stdout, /TOO LITTLE TO JUDGE: 250 rows in the window, fewer than 300 \(--min-rows\)/);
});

test('iris\'s 45 held-out rows, from the training distribution, are too few for the default minimum rather than drift', async (t) => {
  // With so few rows a decile bin left empty by chance scores about 0.7 alone: the minimum keeps that from reading as drift.
  const golden = JSON.parse(await readFile(path.join(IRIS, 'golden.json'), 'utf8')) as { inputs: number[][]; outputs: number[][] };
  const labels = ['setosa', 'versicolor', 'virginica'];
  const record = buildCaptureRecord({
    requestId: 'held-out',
    time: START,
    model: 'iris@1',
    functionVersion: '1',
    rows: golden.inputs.length,
    inputs: new Map([['float_input', { type: 'float32', dims: [golden.inputs.length, 4], data: new Float32Array(golden.inputs.flat()) }]]),
    outputs: new Map([['probabilities', { type: 'float32', dims: [golden.inputs.length, 3], data: new Float32Array(golden.outputs.flat()) }]]),
    prediction: golden.outputs.map((row) => labels[row.indexOf(Math.max(...row))]!),
  });
  const dir = await tempDir(t, 'drift-');
  await writeFile(path.join(dir, 'held-out.jsonl'), captureLines([record]));
  const run = await runNpm('drift', [dir, '--model', IRIS, '--json', '-']);
  t.is(run.code, 4, run.stderr);
  t.like(JSON.parse(run.stdout), { rows: 45, minRows: 100, verdict: 'too little' });
});

test('a folder without any capture record exits 4 too', async (t) => {
  const dir = await tempDir(t, 'drift-');
  await writeFile(path.join(dir, 'app.log'), 'START RequestId: x\n{"_aws":{"Timestamp":1}}\n');
  const run = await runNpm('drift', [dir, '--model', IRIS]);
  t.is(run.code, 4);
  t.regex(run.stderr, /^drift: no capture record of iris@1 in .* \(1 file\(s\) read; 0 capture record\(s\) found\)/);
});

test('a bundle without a baseline is refused with the fix', async (t) => {
  const bundle = path.join(await tempDir(t, 'drift-bundle-'), 'iris');
  await cp(IRIS, bundle, { recursive: true });
  await rm(path.join(bundle, BASELINE_FILE));
  const run = await runNpm('drift', [await captures(t), '--model', bundle]);
  t.is(run.code, 1);
  t.regex(run.stderr, /^drift: .*iris has no baseline\.json, so there is nothing to compare the captures with; write one with npm run bundle -- .*iris --baseline-from <sample inputs\.json>/);
});

test('a build folder without a baseline beside build.json says to rebuild with one', async (t) => {
  const build = await tempDir(t, 'drift-build-');
  await writeFile(path.join(build, 'build.json'), JSON.stringify({ model: { name: 'iris', version: '1', sha256: baseline.model.sha256 } }));
  const run = await runNpm('drift', [await captures(t), '--model', build]);
  t.is(run.code, 1);
  t.regex(run.stderr, /has no baseline\.json beside build\.json.*Add one to the bundle \(npm run bundle -- <bundle dir> --baseline-from <sample inputs\.json>\) and rebuild, or pass --model <bundle dir>/);
  await writeFile(path.join(build, BASELINE_FILE), await readFile(path.join(IRIS, BASELINE_FILE)));
  t.is((await runNpm('drift', [await captures(t), '--model', build])).code, 0);
});

test('bad input exits 1 with the flag, the value and what is expected', async (t) => {
  const cases: [string[], string][] = [
    [['c', '--threshold', 'high'], 'drift: --threshold is "high"; expected a number from 0.001 to 100\n'],
    [['c', '--since', 'last week'], 'drift: --since is "last week"; expected an ISO 8601 time with its zone (2026-05-01, 2026-05-01T06:00Z, 2026-05-01T08:00+02:00) or a duration before now (30m, 24h, 7d, 2w)\n'],
    [['/nonexistent/captures', '--model', IRIS], 'drift: capture location /nonexistent/captures does not exist; give a folder of capture files, a file, or s3://bucket/prefix\n'],
    [['c', '--model', '/nonexistent/bundle'], 'drift: --model /nonexistent/bundle is not a folder; give a bundle folder (models/<name>) or a build folder (one holding build.json)\n'],
  ];
  for (const [args, stderr] of cases) {
    const run = await runNpm('drift', args);
    t.is(run.code, 1, args.join(' '));
    t.is(run.stderr, stderr);
    t.is(run.stdout, '');
  }
});
