import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleFunction } from '../../build.js';
import { buildFor } from '../../bench/artifact-sizes.js';
import { readBundle } from '../../bench/bench-data.js';
import { startDaemonListener } from '../../bench/daemon-listener.js';
import { observeInProcess, observeSection, type ObserveSettings } from '../../bench/observe.js';
import { OBSERVE_MODES } from '../../bench/observe-report.js';
import { hostArch } from '../../tools/emulator.js';
import { stageArtifacts, type StagedArtifacts } from '../../tools/stage-artifacts.js';
import { MODELS, ROOT } from '../helpers/function.js';

// npm run bench's observe section on iris, with a handful of requests: the figures are not judged here, only that
// every mode was measured, that the traced ones sent their spans and that wrong answers fail it.
const iris = readBundle(path.join(MODELS, 'iris'));
const SETTINGS: ObserveSettings = { rounds: 1, budgetMs: 1, minRequests: 9, maxRequests: 9, warmupCalls: 10, warmupMs: 10, rieWarmup: 1, rieSamples: 4, firstRuns: 1 };
let staged: StagedArtifacts;
let work: string;
let functionDir: string;

test.before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'bench-observe-'));
  staged = await stageArtifacts((await buildFor(hostArch(), path.join(work, 'dist'), iris.dir)).outDir);
  // Inside the project, as the bench puts it, so that the bundle resolves onnxruntime-node from node_modules.
  await mkdir(path.join(ROOT, 'node_modules', '.cache', 'bench'), { recursive: true });
  functionDir = await mkdtemp(path.join(ROOT, 'node_modules', '.cache', 'bench', 'observe-test-'));
  for (const entry of await bundleFunction()) await writeFile(path.join(functionDir, entry.path), entry.data);
});

test.after.always(async () => {
  await staged?.remove();
  await rm(work, { recursive: true, force: true });
  if (functionDir !== undefined) await rm(functionDir, { recursive: true, force: true });
});

test.serial('every mode is measured in process and under the emulator, the traced ones send their spans, and the first traced invocation is timed', async (t) => {
  const result = await observeSection(functionDir, staged, iris, SETTINGS, () => {});
  t.deepEqual(
    result.warm.map((w) => w.rows),
    [1, 100],
  );
  for (const warm of result.warm) {
    for (const mode of OBSERVE_MODES) {
      t.is(warm.modes[mode].total.n, 9, `${mode}, ${warm.rows} rows`);
      // The time to the end of the turn after the response encloses the time to the response, call by call.
      t.true(warm.modes[mode].total.p50 >= warm.modes[mode].response.p50);
    }
    t.true(warm.spans.received > 0 && warm.spans.received <= warm.spans.expected, `${warm.spans.received} of ${warm.spans.expected} spans`);
    // Two traced modes, each checked once and then timed 9 times (the warm-up adds up to 10): three stages a request.
    t.true(warm.spans.expected >= 2 * 10 * 3 && warm.spans.expected <= 2 * 20 * 3, `${warm.spans.expected} spans expected`);
    t.is(warm.modes.captured.logLines, warm.modes.plain.logLines + 1, 'a capture record is written');
    t.true(warm.modes.captured.logBytes > warm.modes.plain.logBytes, 'a capture record has bytes');
    // Bytes are not compared: the metrics line's latencies vary in their number of digits.
    t.is(warm.modes.traced.logLines, warm.modes.plain.logLines, 'tracing writes no log line');
    t.true(warm.modes.plain.logLines >= 1, 'the metrics line is counted');
  }
  t.not(typeof result.rie, 'string', String(result.rie));
  if (typeof result.rie !== 'string') {
    for (const rie of result.rie) for (const mode of OBSERVE_MODES) t.is(rie.modes[mode].duration.n, 4);
  }
  t.is(result.first.traced.n, 1);
  t.is(result.first.untraced.n, 1);
});

test.serial('an answer that differs from golden.json fails the in-process measurement', async (t) => {
  const dir = path.join(work, 'wrong-golden');
  await cp(iris.dir, dir, { recursive: true });
  const golden = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8')) as { outputs: number[][] };
  golden.outputs[0]![0]! += 0.01;
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify(golden));
  const daemon = await startDaemonListener();
  t.teardown(() => daemon.close());
  await t.throwsAsync(() => observeInProcess(functionDir, readBundle(dir), daemon, SETTINGS), { message: /wrong prediction: handler \(plain\) on iris: row 0 value 0/ });
});
