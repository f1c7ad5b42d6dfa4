/**
 * The rollout against moto server through the real @aws-sdk/client-lambda and client-cloudwatch: a function with
 * published versions, the live alias and alarms. moto stores alias weights without routing traffic and cannot run
 * functions, so each test plays the traffic itself: the metrics each version would have written go in with
 * PutMetricData while a step waits.
 */
import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { PreconditionError } from '../../../commands/rollout/errors.js';
import { runRollout, type RolloutEvent, type RolloutResult } from '../../../commands/rollout/rollout.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { aliasRouting, clients, createBed, destroy, serveTraffic, setAlarm, type Bed, type Traffic } from '../../helpers/rollout-bed.js';

let moto: Moto;

test.before(async () => {
  moto = await startMoto();
});

test.after.always(async () => {
  await moto?.stop();
});

interface Run {
  readonly result: RolloutResult;
  readonly events: RolloutEvent[];
  /** The alias as read from moto while each step waited. */
  readonly seen: { version: string; weights: Record<string, number> }[];
}

/**
 * Runs a rollout of `bed` to its last version with short steps. `during(step, tick)` runs at each wait tick of a
 * step (tick 0 first), after the alias was read back; it plays traffic or sets alarms.
 */
async function rollout(bed: Bed, flags: string[], during: (step: number, tick: number) => Promise<void> = async () => {}): Promise<Run> {
  const options = parseRolloutArgs(['--function', bed.functionName, '--alias', bed.alias, '--to', bed.versions.at(-1) as string, '--interval', '1.2', '--poll', '0.4', '--skip-traffic-check', ...flags]);
  const events: RolloutEvent[] = [];
  const seen: Run['seen'] = [];
  let step = 0;
  let tick = 0;
  const all = clients(moto.endpoint);
  try {
    const result = await runRollout(options, {
      ...all,
      report: (event) => {
        events.push(event);
        if (event.event === 'step') {
          step = event['step'] as number;
          tick = 0;
        }
      },
      sleep: async (ms) => {
        if (tick === 0) seen.push(await aliasRouting(moto.endpoint, bed));
        await during(step, tick);
        tick += 1;
        await sleep(ms);
      },
    });
    return { result, events, seen };
  } finally {
    destroy(all);
  }
}

/** Healthy traffic on both versions at one step: the canary gets its share of 1000 requests. */
function healthy(bed: Bed, canaryShare: number, overrides: Partial<Traffic> = {}): Promise<void>[] {
  const [stable, canary] = [bed.versions[0] as string, bed.versions.at(-1) as string];
  return [
    serveTraffic(moto.endpoint, bed, { version: stable, requests: Math.round(1000 * (1 - canaryShare)), latencyMs: 20, confidence: 0.9 }),
    serveTraffic(moto.endpoint, bed, { version: canary, requests: Math.round(1000 * canaryShare), latencyMs: 21, confidence: 0.89, ...overrides }),
  ];
}

const SHARE: Record<number, number> = { 1: 0.1, 2: 0.5 };

test('promotes through every step when alarms stay OK and the canary matches the stable version', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await rollout(bed, ['--alarm-prefix', bed.alarmPrefix, '--steps', '10,50,100'], async (step, tick) => {
    if (tick === 0) await Promise.all(healthy(bed, SHARE[step] ?? 0));
  });
  t.is(run.result.code, 0, run.result.message);
  t.is(run.result.outcome, 'promoted');
  t.deepEqual(run.seen, [
    { version: '1', weights: { '2': 0.1 } },
    { version: '1', weights: { '2': 0.5 } },
  ]);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} });
  t.deepEqual(
    run.events.filter((e) => e.event === 'step').map((e) => e['weight']),
    [0.1, 0.5, 1],
  );
  const analyses = run.events.filter((e) => e.event === 'analysis');
  t.is(analyses.length, 2);
  t.true(analyses.every((e) => e['outcome'] === 'pass'));
  t.regex(analyses[0]?.message ?? '', /compared average RequestLatency/, 'moto computes no p99, so the analysis says it compared averages');
});

test('rolls back with exit 2 and names the alarm when one goes to ALARM mid-canary', async (t) => {
  const bed = await createBed(moto.endpoint);
  const alarm = bed.alarms[1] as string;
  // The alarm fires in step 2's first wait, after that step's traffic: a step's wait may end after one tick when
  // moto is slow (the traffic itself can outlast a 1.2 s step), and an alarm check always follows a wait.
  const run = await rollout(bed, ['--alarm-prefix', bed.alarmPrefix], async (step, tick) => {
    if (tick === 0) await Promise.all(healthy(bed, SHARE[step] ?? 0));
    if (step === 2 && tick === 0) await setAlarm(moto.endpoint, alarm, 'ALARM');
  });
  t.is(run.result.code, 2);
  t.is(run.result.outcome, 'rolled-back');
  t.true(run.result.message.includes(alarm), run.result.message);
  t.regex(run.result.message, /during step 2 \(50%\)/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

const WORSE_CANARIES: readonly { readonly what: string; readonly canary: Partial<Traffic>; readonly reason: RegExp }[] = [
  {
    what: 'its error rate is worse than the stable version\'s',
    canary: { errors: 10 },
    reason: /canary analysis at step 1 \(10%\): error rate: version 2 10\.00% \(10\/100\) vs version 1 0\.00% \(0\/900\); threshold: at most 1\.00%/,
  },
  {
    what: 'it is much slower than the stable version',
    canary: { latencyMs: 80 },
    reason: /canary analysis at step 1 \(10%\): average RequestLatency: version 2 80\.0 ms vs version 1 20\.0 ms; threshold: at most 30\.0 ms/,
  },
  {
    what: 'the new model is less confident than the stable one',
    canary: { confidence: 0.6 },
    reason: /canary analysis at step 1 \(10%\): mean confidence: version 2 0\.6000 \(100 rows\) vs version 1 0\.9000 \(900 rows\); threshold: at least 0\.8500/,
  },
  {
    what: 'the new model rejects requests the stable one accepts',
    canary: { invalid: 100 },
    reason: /canary analysis at step 1 \(10%\): invalid-request rate: version 2 100\.00% \(100\/100\) vs version 1 0\.00% \(0\/900\)/,
  },
];

for (const { what, canary, reason } of WORSE_CANARIES) {
  test(`rolls back at the first step, naming both values and the threshold, when ${what}`, async (t) => {
    const bed = await createBed(moto.endpoint);
    const run = await rollout(bed, ['--alarm-prefix', bed.alarmPrefix], async (step, tick) => {
      if (tick === 0) await Promise.all(healthy(bed, SHARE[step] ?? 0, canary));
    });
    t.is(run.result.code, 2);
    t.regex(run.result.message, reason);
    t.deepEqual(run.seen, [{ version: '1', weights: { '2': 0.1 } }], 'never went past the first step');
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
  });
}

test('never promotes on too little traffic: the step is extended, then rolled back', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await rollout(bed, ['--min-requests', '100', '--max-wait', '3.6'], async (_step, tick) => {
    if (tick === 0) await serveTraffic(moto.endpoint, bed, { version: '2', requests: 5 });
  });
  t.is(run.result.code, 2);
  t.regex(run.result.message, /too little traffic to judge version 2: version 2 served 5 of the 100 requests/);
  t.is(run.events.filter((e) => e.event === 'extend').length, 2, `three rounds of 1.2 s in 3.6 s: extended twice, then given up; events:\n${run.events.map((e) => e.message).join('\n')}`);
  t.false(run.events.some((e) => e.event === 'step' && (e['step'] as number) > 1));
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

test('with --min-requests 0 alarms alone decide', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await rollout(bed, ['--min-requests', '0', '--steps', '50,100', '--alarm-prefix', bed.alarmPrefix]);
  t.is(run.result.code, 0, run.result.message);
  t.deepEqual(run.seen, [{ version: '1', weights: { '2': 0.5 } }]);
});

test('refuses to start while the alias carries weights, and leaves them', async (t) => {
  const bed = await createBed(moto.endpoint, 3);
  const { lambda } = clients(moto.endpoint);
  await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
  destroy({ lambda });
  const error = await t.throwsAsync(rollout(bed, []), { instanceOf: PreconditionError });
  t.regex(error?.message ?? '', /routes 10\.0% to version 2, not to --to 3/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: { '2': 0.1 } });
});

test('refuses to start while an alarm under the prefix is already in ALARM', async (t) => {
  const bed = await createBed(moto.endpoint);
  await setAlarm(moto.endpoint, bed.alarms[0] as string, 'ALARM');
  const error = await t.throwsAsync(rollout(bed, ['--alarm-prefix', bed.alarmPrefix]), { instanceOf: PreconditionError });
  t.true(error?.message.includes(bed.alarms[0] as string));
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

test('reports nothing to do when the alias already serves the version', async (t) => {
  const bed = await createBed(moto.endpoint, 1);
  const run = await rollout(bed, []);
  t.is(run.result.code, 0);
  t.is(run.result.outcome, 'unchanged');
});

test('a dry run prints the plan and changes nothing', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await rollout(bed, ['--dry-run', '--steps', '5,25,100']);
  t.is(run.result.outcome, 'planned');
  const plan = run.events.find((e) => e.event === 'plan');
  t.deepEqual(plan?.['weights'], [0.05, 0.25, 1]);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

test('an interrupt mid-step rolls the alias back', async (t) => {
  const bed = await createBed(moto.endpoint);
  const controller = new AbortController();
  const options = parseRolloutArgs(['--function', bed.functionName, '--to', '2', '--interval', '30', '--poll', '0.2', '--skip-traffic-check']);
  const all = clients(moto.endpoint);
  const result = await runRollout(options, {
    ...all,
    signal: controller.signal,
    report: (event) => {
      if (event.event === 'step') setTimeout(() => controller.abort(), 300);
    },
  });
  destroy(all);
  t.is(result.code, 2);
  t.regex(result.message, /interrupted/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

test('warns, and leaves provisioned concurrency alone, when the endpoint cannot say whether the alias has some', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await rollout(bed, ['--dry-run']);
  t.regex(run.events.find((e) => e.event === 'warning')?.message ?? '', /could not read the alias's provisioned concurrency \(.*\); the rollout leaves it as it is/);
  t.is(run.events.find((e) => e.event === 'plan')?.['provisionedConcurrency'], 'unknown');
});

test('refuses an alias on $LATEST, which Lambda cannot weight', async (t) => {
  const bed = await createBed(moto.endpoint);
  const { lambda } = clients(moto.endpoint);
  await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '$LATEST' }));
  destroy({ lambda });
  const error = await t.throwsAsync(rollout(bed, []), { instanceOf: PreconditionError });
  t.regex(error?.message ?? '', /points at \$LATEST, not a published version/);
});

test('records a rollback on the alias and refuses that version next time, unless --retry', async (t) => {
  const bed = await createBed(moto.endpoint);
  const first = await rollout(bed, [], async (step, tick) => {
    if (tick === 0) await Promise.all(healthy(bed, SHARE[step] ?? 0, { errors: 50 }));
  });
  t.is(first.result.code, 2);
  const { lambda } = clients(moto.endpoint);
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
  destroy({ lambda });
  t.regex(alias.Description ?? '', /^rollout: rolled back version 2 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ: canary analysis at step 1 \(10%\): error rate/);
  t.true((alias.Description ?? '').length <= 256);

  const again = await t.throwsAsync(rollout(bed, []), { instanceOf: PreconditionError });
  t.regex(again?.message ?? '', /version 2 was rolled back before .*; publish a fixed version, or roll this one out again with --retry/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });

  const retried = await rollout(bed, ['--retry', '--min-requests', '0', '--steps', '50,100']);
  t.is(retried.result.code, 0, retried.result.message);
  const { lambda: after } = clients(moto.endpoint);
  const promoted = await after.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
  destroy({ lambda: after });
  t.regex(promoted.Description ?? '', /^rollout: promoted version 2 at .*: from version 1, steps 50,100$/);
});
