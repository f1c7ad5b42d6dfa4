import test from 'ava';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTrafficCheck } from '../../commands/rollout/traffic-check.js';
import { sendCanaryTraffic } from '../../commands/rollout/traffic-check-canary.js';
import { loadGoldenSet, type GoldenSet } from '../../commands/rollout/traffic-check-golden.js';
import { startEmulatedVersions, type EmulatedVersions, type VersionArtifacts } from '../../tools/emulator-invoker.js';
import type { StagedArtifacts } from '../../tools/stage-artifacts.js';
import { buildAndStage } from '../helpers/build.js';
import { irisWithChangedIntercept } from '../../tools/changed-model.js';
import { stageFunction } from '../helpers/emulator.js';
import { FIXTURES, MODELS, readGolden, simulatedHttpApiEvent } from '../helpers/function.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';

// The pre-traffic check end to end: `npm run build` writes the golden rows beside build.json, the check reads them
// from there and sends them to versions of one function, each the built artifacts under AWS's Runtime Interface
// Emulator (one emulator per version, behind the rollout's Invoker interface):
//   1 iris as built from models/iris;
//   2 iris built from a copy of the bundle whose model has one intercept changed (and no golden.json, so it builds
//     with --allow-missing-golden): the same name, version and signature, different answers;
//   3 the iris build's code serving models/breast-cancer, which takes 30 features, not 4;
//   4 the iris build's code with a model.json that does not fit its model: it cannot load and answers 503;
//   5 a function whose handler throws (test/fixtures/emulator/handler-throws).
const FUNCTION = 'predict-iris';
const cleanup = new SuiteCleanup();
let bed: { readonly golden: GoldenSet; readonly emulated: EmulatedVersions } | undefined;

async function irisChanged(): Promise<string> {
  return irisWithChangedIntercept(await cleanup.tempDir('iris-changed-'));
}

/** The iris build's code with another model folder, as Lambda would unpack such a zip. */
async function irisCodeWith(staged: StagedArtifacts, modelDir: string, change?: (manifest: Record<string, unknown>) => void): Promise<VersionArtifacts> {
  const taskRoot = path.join(await cleanup.tempDir('task-'), 'task');
  await cp(staged.taskRoot, taskRoot, { recursive: true });
  await rm(path.join(taskRoot, 'model'), { recursive: true });
  await cp(modelDir, path.join(taskRoot, 'model'), { recursive: true });
  if (change !== undefined) {
    const file = path.join(taskRoot, 'model', 'model.json');
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    change(manifest);
    await writeFile(file, JSON.stringify(manifest));
  }
  return { taskRoot, optDir: staged.optDir, build: staged.build };
}

test.before(async () => {
  const iris = await buildAndStage(cleanup);
  const changed = await buildAndStage(cleanup, ['--model', await irisChanged(), '--allow-missing-golden']);
  // Staged outside the project, whose package.json would make the fixture's .js an ES module.
  const throwing = await stageFunction(path.join(FIXTURES, 'emulator', 'handler-throws'));
  cleanup.add(() => throwing.remove());
  const load = loadGoldenSet(iris.outDir);
  if (load.kind !== 'rows') throw new Error(`the iris build has no golden rows: ${load.reason}`);
  const emulated = await startEmulatedVersions({
    functionName: FUNCTION,
    env: { METRICS_NAMESPACE: 'TrafficCheckTest' },
    versions: {
      '1': iris.staged,
      '2': changed.staged,
      '3': await irisCodeWith(iris.staged, path.join(MODELS, 'breast-cancer')),
      '4': await irisCodeWith(iris.staged, path.join(MODELS, 'iris'), (m) => {
        m['input'] = 'input';
      }),
      '5': { taskRoot: throwing.taskRoot, optDir: throwing.optDir, build: iris.staged.build },
    },
    aliasRouting: async () => ({ version: '1', weights: { '2': 0.5 } }),
    // Alternating draws: the alias sends every other request to version 2.
    random: (() => {
      let n = 0;
      return () => (n++ % 2 === 0 ? 0.75 : 0.25);
    })(),
  });
  cleanup.add(() => emulated.stop());
  bed = { golden: load.set, emulated };
});

test.after.always(async () => {
  await cleanup.run();
});

function ready(): NonNullable<typeof bed> {
  if (bed === undefined) throw new Error('test.before did not finish');
  return bed;
}

/** The probabilities a version answers for every golden row, sent by hand in one request. */
async function answersOf(version: string): Promise<number[][]> {
  const { golden, emulated } = ready();
  const direct = await emulated.versions.get(version)!.invoke(simulatedHttpApiEvent('POST', '/predict', JSON.stringify({ instances: golden.golden.inputs })));
  return (JSON.parse((direct.payload as { body: string }).body) as { probabilities: number[][] }).probabilities;
}

/** Whether a row of answers is further than 1e-4 from iris's golden outputs. */
async function differs(row: number, answers: number[][]): Promise<boolean> {
  const expected = (await readGolden('iris')).outputs as number[][];
  return answers[row]!.some((p, i) => Math.abs(p - expected[row]![i]!) > 1e-4);
}

test('the build ships the golden rows beside build.json: the same bytes as the bundle, with the sha256 it records', async (t) => {
  const { golden } = ready();
  t.is(await readFile(golden.file, 'utf8'), await readFile(path.join(MODELS, 'iris', 'golden.json'), 'utf8'));
  t.like(golden, { model: 'iris@1', task: 'classification', maxBatch: 256 });
  t.is(golden.golden.inputs.length, 45);
});

test('a version built from models/iris passes the check against its golden rows', async (t) => {
  const { golden, emulated } = ready();
  const verdict = await runTrafficCheck(emulated.invoker, { functionName: FUNCTION, qualifier: '1', golden });
  t.is(verdict.outcome, 'passed', verdict.message);
  t.like(verdict, { rows: 45, invocations: 1, executedVersions: ['1'], modelVersions: ['iris@1'] });
  t.true(verdict.outcome === 'passed' && verdict.maxDiff <= 1e-4);
});

test('a version whose model answers differently fails, naming the first row that differs beyond the tolerance', async (t) => {
  const { golden, emulated } = ready();
  const verdict = await runTrafficCheck(emulated.invoker, { functionName: FUNCTION, qualifier: '2', golden });
  const difference = verdict.outcome === 'failed' ? verdict.difference : undefined;
  if (difference?.kind !== 'value') return t.fail(verdict.message);
  // The same rows sent to that version by hand: the first row with a value beyond 1e-4 is the one the check names.
  const expected = (await readGolden('iris')).outputs as number[][];
  const probabilities = await answersOf('2');
  const beyond = await Promise.all(probabilities.map((_, r) => differs(r, probabilities)));
  const { row, index, got } = difference;
  t.is(row, beyond.indexOf(true));
  t.is(got, probabilities[row]![index]!);
  t.is(difference.expected, expected[row]![index]!);
  t.true(Math.abs(got - difference.expected) > 1e-4);
  t.true(verdict.message.startsWith(`version 2 of ${FUNCTION} answers the golden rows of iris@1 differently: row ${row} "probabilities"[${index}] is ${got}`), verdict.message);
  t.deepEqual(verdict.modelVersions, ['iris@1'], 'the same name and version: only the answers tell the models apart');
});

test('a version serving another model refuses the golden rows, and the verdict says which rows and why', async (t) => {
  const { golden, emulated } = ready();
  const verdict = await runTrafficCheck(emulated.invoker, { functionName: FUNCTION, qualifier: '3', golden });
  t.like(verdict, { outcome: 'failed', difference: { kind: 'refused', firstRow: 0, lastRow: 44, httpStatus: 400 } });
  t.regex(verdict.message, /golden rows 0 to 44 were refused with HTTP 400: instances\[0\] has 4 values; model breast-cancer expects 30/);
});

const ERRORS = [
  { version: '4', what: 'whose model cannot load', expected: { statusCode: 200, functionError: undefined, httpStatus: 503 }, message: /failed on golden rows 0 to 44 of iris@1: HTTP 503: Model unavailable: the model bundle is invalid; see the function log for the cause$/ },
  { version: '5', what: 'whose handler throws', expected: { statusCode: 200, functionError: 'Unhandled', httpStatus: undefined }, message: /failed on golden rows 0 to 44 of iris@1: FunctionError Unhandled: TypeError: handler-throws fixture: failing in the handler/ },
] as const;

for (const { version, what, expected, message } of ERRORS) {
  test(`a version ${what} gets an error verdict with what the function said`, async (t) => {
    const { golden, emulated } = ready();
    const verdict = await runTrafficCheck(emulated.invoker, { functionName: FUNCTION, qualifier: version, golden });
    t.like(verdict, { outcome: 'error', ...expected });
    t.regex(verdict.message, message);
  });
}

test('canary traffic to the alias reaches both versions by its weights, and the counts tell the changed model apart', async (t) => {
  const { golden, emulated } = ready();
  const counts = await sendCanaryTraffic(emulated.invoker, { functionName: FUNCTION, alias: 'live', golden, requests: 6, spreadMs: 0 });
  t.is(counts.sent, 6);
  t.is(counts.notInvoked, 0);
  t.deepEqual(counts.byVersion['1'], { matched: 3, differed: 0, refused: 0, failed: 0 });
  // Version 2 answers rows 1, 3 and 5 (every other request); those its changed intercept moves beyond 1e-4 differ.
  const answers = await answersOf('2');
  const differing = (await Promise.all([1, 3, 5].map((row) => differs(row, answers)))).filter(Boolean).length;
  t.true(differing > 0, 'the changed model differs on at least one of these rows');
  t.deepEqual(counts.byVersion['2'], { matched: 3 - differing, differed: differing, refused: 0, failed: 0 });
});
