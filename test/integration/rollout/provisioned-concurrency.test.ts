/**
 * The rollout on an alias with provisioned concurrency (PC) and Application Auto Scaling: aliases, alarms and scalable
 * targets in moto through the real SDK; PC from the in-process SIMULATION of Lambda's PC rules
 * (tools/provisioned-concurrency-sim.ts), since moto has no PC API. The rollout and the simulation share a
 * clock that moves when the rollout sleeps, so allocation delays, step intervals and Lambda's transient weight play
 * out in full, in order, without waiting for them.
 */
import { GetAliasCommand, UpdateAliasCommand, type UpdateAliasCommandInput } from '@aws-sdk/client-lambda';
import test from 'ava';
import { setImmediate as tick } from 'node:timers/promises';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { Interrupted } from '../../../commands/rollout/context.js';
import { PreconditionError } from '../../../commands/rollout/errors.js';
import type { Progress } from '../../../commands/rollout/progress.js';
import type { ProvisionedConcurrencyApi } from '../../../commands/rollout/provisioned-concurrency.js';
import { runRollout, type RolloutEvent, type RolloutResult } from '../../../commands/rollout/rollout.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { ProvisionedConcurrencySimulation, type SimulationOptions } from '../../../tools/provisioned-concurrency-sim.js';
import { aliasRouting, clients, createBed, destroy, registerScalingTarget, scalingSuspended, setAlarm, type Bed, type Suspended } from '../../helpers/rollout-bed.js';

let moto: Moto;
let simLambda: ReturnType<typeof clients>['lambda'];

test.before(async () => {
  moto = await startMoto();
  simLambda = clients(moto.endpoint).lambda;
});

test.after.always(async () => {
  simLambda?.destroy();
  await moto?.stop();
});

const ALL: Suspended = { dynamicIn: true, dynamicOut: true, scheduled: true };
const NONE: Suspended = { dynamicIn: false, dynamicOut: false, scheduled: false };

/** The clock the rollout and the simulation share: it moves when the rollout sleeps, and Ctrl-C cuts a sleep short. */
interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function clock(): Clock {
  let at = Date.now();
  return {
    now: () => at,
    async sleep(ms, signal) {
      if (signal?.aborted) throw new Interrupted();
      at += ms;
      await tick();
    },
  };
}

function simulation(time: Clock, options: Omit<SimulationOptions, 'lambda' | 'now'> = {}): ProvisionedConcurrencySimulation {
  return new ProvisionedConcurrencySimulation({ lambda: simLambda, now: time.now, ...options });
}

interface Seen {
  readonly step: number;
  readonly routing: { version: string; weights: Record<string, number> };
  readonly scaling: Suspended | undefined;
  readonly pc: { requested: number; status: string } | undefined;
  readonly description: string;
}

interface Run {
  readonly result: RolloutResult;
  readonly events: RolloutEvent[];
  /** What moto and the simulation held when each step began to wait. */
  readonly seen: Seen[];
  readonly progress: Progress[];
  /** Every UpdateAlias the rollout sent. */
  readonly updates: UpdateAliasCommandInput[];
}

async function description(bed: Bed): Promise<string> {
  return (await simLambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }))).Description ?? '';
}

/**
 * A rollout of `bed` to its last version, 30 s steps polled every 5 s on the shared clock, alarms alone deciding.
 */
interface Hooks {
  /** Sees each event; `abort` is Ctrl-C. */
  readonly onEvent?: (event: RolloutEvent, abort: () => void) => void;
  /** Runs once as each step begins to wait, after what moto holds was recorded. */
  readonly atStep?: (step: number) => Promise<void>;
  /** The rollout's PC API instead of the simulation itself. */
  readonly pc?: ProvisionedConcurrencyApi;
}

async function rollout(bed: Bed, sim: ProvisionedConcurrencySimulation | undefined, time: Clock, flags: string[], hooks: Hooks = {}): Promise<Run> {
  const hasTo = flags.includes('--to') || flags.includes('--resume') || flags.includes('--rollback');
  const options = parseRolloutArgs([
    '--function', bed.functionName, '--alias', bed.alias, ...(hasTo ? [] : ['--to', bed.versions.at(-1) as string]),
    '--interval', '30', '--poll', '5', '--min-requests', '0', '--alarm-prefix', bed.alarmPrefix, '--skip-traffic-check', ...flags,
  ]);
  const all = clients(moto.endpoint);
  sim?.attach(all.lambda);
  const updates: UpdateAliasCommandInput[] = [];
  all.lambda.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateAliasCommand') updates.push(args.input as UpdateAliasCommandInput);
      return next(args);
    },
    { step: 'initialize', name: 'recordUpdates' },
  );
  const controller = new AbortController();
  const events: RolloutEvent[] = [];
  const seen: Seen[] = [];
  const progress: Progress[] = [];
  let step = 0;
  let recorded = 0;
  try {
    const result = await runRollout(options, {
      ...all,
      provisionedConcurrency: hooks.pc ?? sim,
      signal: controller.signal,
      now: time.now,
      report: (event) => {
        events.push(event);
        if (event.event === 'step') step = event['step'] as number;
        hooks.onEvent?.(event, () => controller.abort());
      },
      progress: (snapshot) => progress.push(snapshot),
      sleep: async (ms, signal) => {
        if (step > recorded) {
          recorded = step;
          const config = await sim?.get(bed);
          seen.push({
            step,
            routing: await aliasRouting(moto.endpoint, bed),
            scaling: await scalingSuspended(moto.endpoint, bed),
            pc: config === undefined ? undefined : { requested: config.requested, status: config.status },
            description: await description(bed),
          });
          await hooks.atStep?.(step);
        }
        await time.sleep(ms, signal);
      },
    });
    return { result, events, seen, progress, updates };
  } finally {
    destroy(all);
  }
}

function names(run: Run): string[] {
  return run.events.map((e) => e.event);
}

function weightsEverSet(run: Run): boolean {
  return run.updates.some((input) => Object.keys(input.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0);
}

const HOLD_RECORD = '; on finish: resume scaling (dynamic in, dynamic out, scheduled), provisioned concurrency 5 back to 2';

test('promotes an alias with provisioned concurrency: scaling suspended and PC raised to READY before the first weight, both put back once Lambda clears its entry for the old version', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed);
  const time = clock();
  const sim = simulation(time, { allocationMs: 20_000, transient: { weight: 0.1, ms: 12_000 } });
  sim.seed(bed, 2);
  const run = await rollout(bed, sim, time, ['--raise-pc', '5', '--steps', '10,50,100']);

  t.is(run.result.code, 0, run.result.message);
  t.deepEqual(names(run), ['plan', 'scaling-suspended', 'pc-raised', 'pc-ready', 'step', 'analysis', 'step', 'analysis', 'step', 'settled', 'pc-restored', 'scaling-resumed', 'promoted']);
  t.deepEqual(
    run.seen.map(({ step, routing, scaling, pc, description }) => ({ step, routing, scaling, pc, record: description.endsWith(HOLD_RECORD) })),
    [
      { step: 1, routing: { version: '1', weights: { '2': 0.1 } }, scaling: ALL, pc: { requested: 5, status: 'READY' }, record: true },
      { step: 2, routing: { version: '1', weights: { '2': 0.5 } }, scaling: ALL, pc: { requested: 5, status: 'READY' }, record: true },
      { step: 3, routing: { version: '2', weights: {} }, scaling: ALL, pc: { requested: 5, status: 'READY' }, record: true },
    ],
    'weights moved with the raised PC READY and scaling suspended, and the alias recorded what to put back until it went back',
  );
  t.deepEqual(sim.changes.map((change) => change.amount), [5, 2]);
  t.deepEqual(sim.refusals, [], 'Lambda never had to refuse a PC change');
  t.deepEqual(
    run.progress.filter((p) => p.phase === 'provisioned-concurrency').map((p) => (p.phase === 'provisioned-concurrency' ? `${p.status} ${p.allocated}/${p.requested}` : '')),
    ['IN_PROGRESS 2/5', 'IN_PROGRESS 2/5', 'IN_PROGRESS 2/5', 'IN_PROGRESS 2/5'],
    'four 5 s polls while the 20 s allocation was in progress',
  );
  t.deepEqual(
    run.progress.filter((p) => p.phase === 'settle').map((p) => (p.phase === 'settle' ? p.weights : {})),
    [{ '1': 0.1 }, { '1': 0.1 }, { '1': 0.1 }],
    'the transient entry on version 1 was waited out, not taken for a rollout',
  );
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} });
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
  t.like(await sim.get(bed), { requested: 2 });
  t.regex(await description(bed), /^rollout: promoted version 2 at \S+Z: from version 1, steps 10,50,100$/);
});

test('rolls out an alias with provisioned concurrency in place, never asking Lambda to change it, without --raise-pc', async (t) => {
  const bed = await createBed(moto.endpoint);
  const time = clock();
  const sim = simulation(time);
  sim.seed(bed, 3);
  const run = await rollout(bed, sim, time, ['--steps', '50,100']);
  t.is(run.result.code, 0, run.result.message);
  t.deepEqual(run.seen.map((s) => [s.routing.weights, s.pc]), [[{ '2': 0.5 }, { requested: 3, status: 'READY' }]]);
  t.deepEqual(sim.changes, []);
  t.deepEqual(sim.refusals, []);
  t.regex(run.events[0]?.message ?? '', /provisioned concurrency 3 \(READY\) kept/);
});

const FOUND_SCALING: readonly {
  readonly what: string;
  readonly found: Suspended;
  readonly during: Suspended;
  readonly after: Suspended;
  readonly events: readonly string[];
  readonly message?: RegExp;
}[] = [
  {
    what: 'active: suspends all of it for the rollout and resumes it after',
    found: NONE,
    during: ALL,
    after: NONE,
    events: ['plan', 'scaling-suspended', 'step', 'analysis', 'step', 'scaling-resumed', 'promoted'],
  },
  {
    what: 'suspended by someone else: leaves it as found, says so, and does not resume it',
    found: ALL,
    during: ALL,
    after: ALL,
    events: ['plan', 'scaling-already-suspended', 'step', 'analysis', 'step', 'promoted'],
    message: /scaling of function:\S+:live was already suspended \(dynamic in, dynamic out, scheduled\), not by a rollout: left as found, and not resumed after the rollout/,
  },
  {
    what: 'partly suspended by someone else: suspends the rest, and resumes only that',
    found: { dynamicIn: false, dynamicOut: false, scheduled: true },
    during: ALL,
    after: { dynamicIn: false, dynamicOut: false, scheduled: true },
    events: ['plan', 'scaling-already-suspended', 'scaling-suspended', 'step', 'analysis', 'step', 'scaling-resumed', 'promoted'],
    message: /already suspended \(scheduled\), not by a rollout: left as found/,
  },
];

for (const { what, found, during, after, events, message } of FOUND_SCALING) {
  test(`with the alias's scaling ${what}`, async (t) => {
    const bed = await createBed(moto.endpoint);
    await registerScalingTarget(moto.endpoint, bed, found);
    const time = clock();
    const sim = simulation(time);
    sim.seed(bed, 2);
    const run = await rollout(bed, sim, time, ['--steps', '50,100']);
    t.is(run.result.code, 0, run.result.message);
    t.deepEqual(names(run), [...events]);
    t.deepEqual(run.seen.map((s) => s.scaling), [during]);
    t.deepEqual(await scalingSuspended(moto.endpoint, bed), after);
    if (message !== undefined) t.regex(run.events.find((e) => e.event === 'scaling-already-suspended')?.message ?? '', message);
    t.false((await description(bed)).includes('on finish'), 'nothing left to put back');
  });
}

const NEVER_READY: readonly { readonly what: string; readonly sim: Omit<SimulationOptions, 'lambda' | 'now'>; readonly reason: RegExp }[] = [
  {
    what: 'is not READY within --pc-timeout',
    sim: { allocationMs: Number.POSITIVE_INFINITY },
    reason: /provisioned concurrency 5 was not READY after 120 s \(--pc-timeout\): 5 \(IN_PROGRESS, 2 allocated\)/,
  },
  {
    what: 'FAILED',
    sim: { allocationMs: 10_000, failWith: 'FUNCTION_ERROR_INIT_FAILED: the function failed to initialize (simulated)' },
    reason: /provisioned concurrency 5 FAILED: FUNCTION_ERROR_INIT_FAILED: the function failed to initialize \(simulated\)/,
  },
];

for (const { what, sim: simOptions, reason } of NEVER_READY) {
  test(`rolls back with exit 2 and the reason, before any weight moves, when the raised PC ${what}; PC and scaling go back`, async (t) => {
    const bed = await createBed(moto.endpoint);
    await registerScalingTarget(moto.endpoint, bed);
    const time = clock();
    const sim = simulation(time, simOptions);
    sim.seed(bed, 2);
    const run = await rollout(bed, sim, time, ['--raise-pc', '5', '--pc-timeout', '120']);
    t.is(run.result.code, 2);
    t.is(run.result.outcome, 'rolled-back');
    t.regex(run.result.message, /^rolled back before any weight moved: alias live serves version 1, no weights\. Reason: /);
    t.regex(run.result.message, reason);
    t.deepEqual(names(run), ['plan', 'scaling-suspended', 'pc-raised', 'pc-restored', 'scaling-resumed', 'rolled-back']);
    t.false(weightsEverSet(run), 'no UpdateAlias ever set a weight');
    t.deepEqual(sim.changes.map((change) => change.amount), [5, 2]);
    t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
    t.is(await description(bed), '', 'the description as found: the version is not recorded as rolled back');
  });
}

const ROLLBACKS: readonly { readonly what: string; readonly hooks: (bed: Bed) => Hooks; readonly reason: RegExp }[] = [
  {
    what: 'an alarm goes off at step 1',
    hooks: (bed) => ({ atStep: () => setAlarm(moto.endpoint, bed.alarms[0] as string, 'ALARM') }),
    reason: /alarm in ALARM during step 1 \(10%\)/,
  },
  {
    what: 'Ctrl-C comes at step 1',
    hooks: () => ({
      onEvent: (event, abort) => {
        if (event.event === 'step') abort();
      },
    }),
    reason: /interrupted \(Ctrl-C or SIGTERM\)/,
  },
];

for (const { what, hooks, reason } of ROLLBACKS) {
  test(`rolls back with exit 2 when ${what}, then puts the raised PC and the scaling back once the weights are gone`, async (t) => {
    const bed = await createBed(moto.endpoint);
    await registerScalingTarget(moto.endpoint, bed);
    const time = clock();
    const sim = simulation(time, { allocationMs: 10_000 });
    sim.seed(bed, 2);
    const run = await rollout(bed, sim, time, ['--raise-pc', '5'], hooks(bed));
    t.is(run.result.code, 2, run.result.message);
    t.regex(run.result.message, reason);
    t.deepEqual(names(run).slice(-4), ['step', 'pc-restored', 'scaling-resumed', 'rolled-back']);
    t.deepEqual(sim.changes.map((change) => change.amount), [5, 2]);
    t.deepEqual(sim.refusals, []);
    t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
    t.regex(await description(bed), /^rollout: rolled back version 2 at \S+: (alarm in ALARM|interrupted)[^;]*$/);
  });
}

test('Ctrl-C while the raised PC is allocated puts PC and scaling back; no weight ever moves', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed);
  const time = clock();
  const sim = simulation(time, { allocationMs: 60_000 });
  sim.seed(bed, 2);
  const run = await rollout(bed, sim, time, ['--raise-pc', '5'], {
    onEvent: (event, abort) => {
      if (event.event === 'pc-raised') abort();
    },
  });
  t.is(run.result.code, 1);
  t.is(run.result.outcome, 'interrupted');
  t.deepEqual(names(run), ['plan', 'scaling-suspended', 'pc-raised', 'pc-restored', 'scaling-resumed', 'interrupted']);
  t.false(weightsEverSet(run));
  t.deepEqual(sim.changes.map((change) => change.amount), [5, 2]);
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
  t.is(await description(bed), '');
});

test('Ctrl-C during a PC raise whose restore fails prints the exact command, and leaves the record that --rollback later puts back', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed);
  const time = clock();
  const sim = simulation(time, { allocationMs: 60_000 });
  sim.seed(bed, 2);
  const throttled: ProvisionedConcurrencyApi = {
    get: (ref) => sim.get(ref),
    async put(ref, amount) {
      if (amount === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      await sim.put(ref, amount);
    },
  };
  const run = await rollout(bed, sim, time, ['--raise-pc', '5'], {
    pc: throttled,
    onEvent: (event, abort) => {
      if (event.event === 'pc-raised') abort();
    },
  });
  const command = `aws lambda put-provisioned-concurrency-config --function-name ${bed.functionName} --qualifier live --provisioned-concurrent-executions 2`;
  t.is(run.result.code, 1);
  t.is(run.result.outcome, 'failed');
  t.true(run.result.message.includes(`Run: ${command}`), run.result.message);
  t.deepEqual(run.events.find((e) => e.event === 'error')?.['commands'], [command]);
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE, 'the scaling went back');
  t.like(await sim.get(bed), { requested: 5 });
  t.is(await description(bed), '; on finish: provisioned concurrency 5 back to 2');

  const rollback = await rollout(bed, sim, time, ['--rollback']);
  t.is(rollback.result.code, 0, rollback.result.message);
  t.deepEqual(names(rollback), ['warning', 'pc-restored', 'unchanged']);
  t.like(await sim.get(bed), { requested: 2 });
  t.is(await description(bed), '');
});

test('a rollout takes over what a run that died held (the alias records it), and puts it back at the end', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed, ALL);
  const time = clock();
  const sim = simulation(time);
  sim.seed(bed, 5);
  await simLambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, Description: `rollout: rolling out version 2 from 1 at 2026-01-01T00:00:00Z${HOLD_RECORD}` }));
  const run = await rollout(bed, sim, time, ['--steps', '50,100']);
  t.is(run.result.code, 0, run.result.message);
  t.deepEqual(names(run), ['plan', 'pc-ready', 'step', 'analysis', 'step', 'pc-restored', 'scaling-resumed', 'promoted'], 'the suspended scaling was the dead run\'s, not someone else\'s');
  t.regex(run.events[0]?.message ?? '', /provisioned concurrency 5 \(READY\), raised from 2 by an earlier run/);
  t.deepEqual(sim.changes.map((change) => change.amount), [2]);
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
  t.regex(await description(bed), /^rollout: promoted version 2 at \S+: from version 1, steps 50,100$/);
});

test('a rollout started while Lambda still reports the last promotion\'s old version waits that entry out instead of refusing', async (t) => {
  const bed = await createBed(moto.endpoint, 3);
  const time = clock();
  const sim = simulation(time, { transient: { weight: 0.1, ms: 12_000 } });
  sim.seed(bed, 2);
  const first = await rollout(bed, sim, time, ['--to', '2', '--steps', '100', '--settle-timeout', '0']);
  t.is(first.result.code, 0, first.result.message);
  t.regex(first.events.find((e) => e.event === 'warning')?.message ?? '', /still reports 10\.0% on version 1 0 s after moving to version 2 \(--settle-timeout\)/);

  const second = await rollout(bed, sim, time, ['--to', '3', '--steps', '50,100']);
  t.is(second.result.code, 0, second.result.message);
  t.regex(second.events[0]?.message ?? '', /still reports a weight on version 1, which the last rollout promoted it from .*waiting up to 120 s/);
  t.deepEqual(names(second).slice(0, 3), ['warning', 'settled', 'plan']);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '3', weights: {} });
});

const RAISE_REFUSED: readonly { readonly what: string; readonly seed?: number; readonly weights?: Record<string, number>; readonly flags: string[]; readonly simulated: boolean; readonly message: RegExp }[] = [
  { what: 'an alias without provisioned concurrency', flags: ['--raise-pc', '5'], simulated: true, message: /^--raise-pc 5: alias live has no provisioned concurrency to raise; Terraform owns it/ },
  { what: 'an endpoint that cannot say (moto alone)', flags: ['--raise-pc', '5'], simulated: false, message: /^--raise-pc 5: could not read alias live's provisioned concurrency \(.*\); the rollout raises only PC it can read/ },
  {
    what: 'a resumed rollout whose alias carries weights',
    seed: 2,
    weights: { '2': 0.1 },
    flags: ['--resume', '--raise-pc', '5'],
    simulated: true,
    message: /^--raise-pc 5: alias live carries weights \(10\.0% on version 2\), and Lambda refuses to resize provisioned concurrency on an alias with weights \("Alias with weights can not be used with Provisioned Concurrency"\); it has 2\. Resume without --raise-pc/,
  },
];

for (const { what, seed, weights, flags, simulated, message } of RAISE_REFUSED) {
  test(`refuses --raise-pc on ${what}, with nothing changed`, async (t) => {
    const bed = await createBed(moto.endpoint);
    await registerScalingTarget(moto.endpoint, bed);
    if (weights !== undefined) await simLambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: weights } }));
    const time = clock();
    const sim = simulation(time);
    if (seed !== undefined) sim.seed(bed, seed);
    const error = await t.throwsAsync(rollout(bed, simulated ? sim : undefined, time, flags), { instanceOf: PreconditionError });
    t.regex(error?.message ?? '', message);
    t.deepEqual(sim.changes, []);
    t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: weights ?? {} });
  });
}
