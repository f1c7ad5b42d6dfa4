import test from 'ava';
import { parseRolloutArgs } from '../../commands/rollout/args.js';
import { runRollout, type RolloutEvent, type RolloutResult } from '../../commands/rollout/rollout.js';
import { lambdaAliasRouting, startEmulatedVersions, type EmulatedVersions } from '../../tools/emulator-invoker.js';
import { buildAndStage } from '../helpers/build.js';
import { irisWithChangedIntercept } from '../../tools/changed-model.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { SuiteCleanup } from '../helpers/temp-dir.js';
import { aliasRouting, clients, createBed, destroy, type Bed } from '../helpers/rollout-bed.js';

// The rollout's traffic checks end to end: the alias, its versions and alarms live in moto (through the real SDK),
// and Lambda's Invoke, which moto cannot run, goes to the built artifacts under AWS's Runtime Interface Emulator,
// one emulator per version, behind the rollout's Invoker interface (tools/emulator-invoker.ts; it routes an alias
// by the weights moto holds). Versions of the function:
//   1 and 2: iris as built from models/iris (its build, with the golden rows, is the --build of every run);
//   3: iris built from a copy of the bundle whose model has one intercept changed: same name, version and signature.
const cleanup = new SuiteCleanup();
let moto: Moto;
let irisBuild: string;
let bed: Bed;
let emulated: EmulatedVersions;

test.before(async () => {
  moto = await startMoto();
  cleanup.add(() => moto.stop());
  const iris = await buildAndStage(cleanup);
  const changed = await buildAndStage(cleanup, ['--model', await irisWithChangedIntercept(await cleanup.tempDir('iris-changed-')), '--allow-missing-golden']);
  irisBuild = iris.outDir;
  bed = await createBed(moto.endpoint, 3);
  const all = clients(moto.endpoint);
  cleanup.add(async () => destroy(all));
  emulated = await startEmulatedVersions({
    functionName: bed.functionName,
    env: { METRICS_NAMESPACE: 'RolloutTrafficCheckTest' },
    versions: { '1': iris.staged, '2': iris.staged, '3': changed.staged },
    aliasRouting: lambdaAliasRouting(all.lambda, bed.functionName),
  });
  cleanup.add(() => emulated.stop());
});

test.after.always(async () => {
  await cleanup.run();
});

async function rollout(flags: readonly string[]): Promise<{ readonly result: RolloutResult; readonly events: RolloutEvent[] }> {
  const events: RolloutEvent[] = [];
  const options = parseRolloutArgs(['--function', bed.functionName, '--alias', bed.alias, '--steps', '50,100', '--interval', '1', '--poll', '0.5', '--min-requests', '0', '--build', irisBuild, ...flags]);
  const all = clients(moto.endpoint);
  try {
    const result = await runRollout(options, { ...all, invoker: emulated.invoker, report: (event) => events.push(event) });
    return { result, events };
  } finally {
    destroy(all);
  }
}

const named = (events: readonly RolloutEvent[], name: string) => events.filter((event) => event.event === name);

// One test: each rollout starts from where the last one left the alias.
test.serial('a version whose model answers the golden rows differently is refused at 0%; one that answers them is promoted, checked before and after', async (t) => {
  const refused = await rollout(['--to', '3']);
  t.like(refused.result, { code: 2, outcome: 'rolled-back' });
  t.regex(refused.result.message, /^refused at 0%: alias live serves version 1, no weight was set\. Reason: version 3 of .* answers the golden rows of iris@1 differently: row \d+ "probabilities"\[\d\] is /);
  t.like(named(refused.events, 'pre-traffic-check')[0], { outcome: 'refused', verdict: { outcome: 'failed', qualifier: '3', executedVersions: ['3'] } });
  t.deepEqual(named(refused.events, 'step'), [], 'no weight was ever set');
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });

  const promoted = await rollout(['--to', '2', '--canary-requests', '4']);
  t.like(promoted.result, { code: 0, outcome: 'promoted' });
  t.like(named(promoted.events, 'pre-traffic-check')[0], { outcome: 'passed', verdict: { outcome: 'passed', qualifier: '2', modelVersions: ['iris@1'] } });
  t.like(named(promoted.events, 'post-traffic-check')[0], { outcome: 'passed', verdict: { outcome: 'passed', qualifier: 'live', executedVersions: ['2'] } });
  const traffic = named(promoted.events, 'canary-traffic');
  t.is(traffic.length, 1, 'one observed step (50%), one round of canary traffic');
  t.like(traffic[0], { step: 1, sent: 4, notInvoked: 0 });
  const counts = Object.values(traffic[0]!['byVersion'] as Record<string, { matched: number; differed: number }>);
  t.is(counts.reduce((sum, c) => sum + c.matched, 0), 4, 'every canary request answered its golden row, whichever version served it');
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} });
});

test.serial('without --skip-traffic-check, a build made without golden rows is refused before anything changes', async (t) => {
  const missing = await buildAndStage(cleanup, ['--model', await irisWithChangedIntercept(await cleanup.tempDir('iris-nogolden-')), '--allow-missing-golden']);
  const before = await aliasRouting(moto.endpoint, bed);
  const error = await t.throwsAsync(rollout(['--to', '3', '--build', missing.outDir]));
  t.regex(error?.message ?? '', /says model\.golden is "missing": iris@1 was built with --allow-missing-golden, so there are no golden rows to send, and a version is not given traffic unchecked; .*or pass --skip-traffic-check \(the output records it\)/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), before);
});
