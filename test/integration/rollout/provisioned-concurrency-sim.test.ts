/**
 * The rules of the provisioned-concurrency SIMULATION (tools/provisioned-concurrency-sim.ts) that the rollout's
 * tests run against, since moto has no PC API: each test says whether the behaviour is AWS's documented one or the
 * simulation's choice. Alias weights live in moto, set through the real SDK; the simulation's clock is the test's.
 */
import { UpdateAliasCommand } from '@aws-sdk/client-lambda';
import test from 'ava';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { ProvisionedConcurrencySimulation, WEIGHTS_REFUSAL, type SimulationOptions } from '../../../tools/provisioned-concurrency-sim.js';
import { aliasRouting, clients, createBed, destroy, type Bed } from '../../helpers/rollout-bed.js';

let moto: Moto;

test.before(async () => {
  moto = await startMoto();
});

test.after.always(async () => {
  await moto?.stop();
});

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let at = 1_000_000;
  return { now: () => at, advance: (ms) => (at += ms) };
}

async function setWeights(bed: Bed, version: string, weights: Record<string, number>): Promise<void> {
  const { lambda } = clients(moto.endpoint);
  try {
    await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }));
  } finally {
    destroy({ lambda });
  }
}

async function withSim<T>(options: Omit<SimulationOptions, 'lambda'>, body: (sim: ProvisionedConcurrencySimulation, lambda: ReturnType<typeof clients>['lambda']) => Promise<T>): Promise<T> {
  const all = clients(moto.endpoint);
  try {
    return await body(new ProvisionedConcurrencySimulation({ lambda: all.lambda, ...options }), all.lambda);
  } finally {
    destroy(all);
  }
}

test('AWS documented: a provisioned-concurrency change is refused while the alias has weights, and accepted once they are gone', async (t) => {
  const bed = await createBed(moto.endpoint);
  await withSim({}, async (sim) => {
    sim.seed(bed, 2);
    await setWeights(bed, '1', { '2': 0.1 });
    const error = await t.throwsAsync(sim.put(bed, 5));
    t.is(error?.message, WEIGHTS_REFUSAL);
    t.is(error?.name, 'InvalidParameterValueException');
    t.deepEqual(sim.refusals, [{ alias: bed.alias, amount: 5, weights: { '2': 0.1 } }]);
    t.like(await sim.get(bed), { requested: 2, status: 'READY' }, 'the refused change changed nothing');

    await setWeights(bed, '1', {});
    await sim.put(bed, 5);
    t.like(await sim.get(bed), { requested: 5 });
    t.deepEqual(sim.changes, [{ alias: bed.alias, amount: 5 }]);
  });
});

test('AWS documented: an alias that has provisioned concurrency takes weights', async (t) => {
  const bed = await createBed(moto.endpoint);
  await withSim({}, async (sim, lambda) => {
    sim.seed(bed, 2);
    sim.attach(lambda);
    await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }));
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: { '2': 0.5 } });
    t.like(await sim.get(bed), { requested: 2, status: 'READY' });
  });
});

const ALLOCATIONS: readonly {
  readonly what: string;
  readonly options: Omit<SimulationOptions, 'lambda' | 'now'>;
  readonly amount: number;
  readonly during: object;
  readonly after: object;
}[] = [
  {
    what: 'AWS documented: a raise reads IN_PROGRESS, the old amount still allocated, then READY with all of it allocated',
    options: { allocationMs: 5000 },
    amount: 5,
    during: { requested: 5, allocated: 2, status: 'IN_PROGRESS' },
    after: { requested: 5, allocated: 5, status: 'READY' },
  },
  {
    what: 'AWS documented: a raise can end FAILED with a reason (the simulation fails raises only, when told to)',
    options: { allocationMs: 5000, failWith: 'FUNCTION_ERROR_INIT_FAILED (simulated)' },
    amount: 5,
    during: { requested: 5, allocated: 2, status: 'IN_PROGRESS' },
    after: { requested: 5, allocated: 2, status: 'FAILED', reason: 'FUNCTION_ERROR_INIT_FAILED (simulated)' },
  },
  {
    what: 'the simulation\'s choice: lowering PC never fails, even when raises are told to',
    options: { allocationMs: 5000, failWith: 'FUNCTION_ERROR_INIT_FAILED (simulated)' },
    amount: 1,
    during: { requested: 1, allocated: 1, status: 'IN_PROGRESS' },
    after: { requested: 1, allocated: 1, status: 'READY' },
  },
];

for (const { what, options, amount, during, after } of ALLOCATIONS) {
  test(what, async (t) => {
    const bed = await createBed(moto.endpoint);
    const time = clock();
    await withSim({ ...options, now: time.now }, async (sim) => {
      sim.seed(bed, 2);
      await sim.put(bed, amount);
      t.like(await sim.get(bed), during);
      time.advance(4999);
      t.like(await sim.get(bed), { status: 'IN_PROGRESS' }, 'one millisecond before the delay is over');
      time.advance(1);
      t.like(await sim.get(bed), after);
    });
  });
}

test('an allocation that is never over stays IN_PROGRESS (allocationMs: Infinity)', async (t) => {
  const bed = await createBed(moto.endpoint);
  const time = clock();
  await withSim({ allocationMs: Number.POSITIVE_INFINITY, now: time.now }, async (sim) => {
    sim.seed(bed, 2);
    await sim.put(bed, 5);
    time.advance(86_400_000);
    t.like(await sim.get(bed), { requested: 5, allocated: 2, status: 'IN_PROGRESS' });
  });
});

test('an alias without provisioned concurrency has no config', async (t) => {
  const bed = await createBed(moto.endpoint);
  await withSim({}, async (sim) => {
    t.is(await sim.get(bed), undefined);
  });
});

test('reported on AWS: after the version of an alias with PC changes, GetAlias reports a weight on the old version for a while, and a PC change is refused until it clears', async (t) => {
  const bed = await createBed(moto.endpoint);
  const time = clock();
  await withSim({ transient: { weight: 0.05, ms: 3000 }, now: time.now }, async (sim, lambda) => {
    sim.seed(bed, 2);
    sim.attach(lambda);
    await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }));
    t.deepEqual(await sim.weights(bed), { '1': 0.05 });
    await t.throwsAsync(sim.put(bed, 3), { message: WEIGHTS_REFUSAL });
    time.advance(3000);
    t.deepEqual(await sim.weights(bed), {});
    await sim.put(bed, 3);
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} }, 'moto itself never held the entry');
  });
});

test('no transient entry when the alias has no provisioned concurrency, or its version did not change', async (t) => {
  const bed = await createBed(moto.endpoint, 3);
  const time = clock();
  await withSim({ transient: { weight: 0.05, ms: 3000 }, now: time.now }, async (sim, lambda) => {
    sim.attach(lambda);
    await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '2' }));
    t.deepEqual(await sim.weights(bed), {}, 'no PC: no entry');
    sim.seed(bed, 2);
    await lambda.send(new UpdateAliasCommand({ FunctionName: bed.functionName, Name: bed.alias, FunctionVersion: '2', Description: 'same version' }));
    t.deepEqual(await sim.weights(bed), {}, 'same version: no entry');
  });
});
