import test from 'ava';
import {
  isPublishedVersion,
  outcomeDescription,
  PlanError,
  planSteps,
  readState,
  resumeIndex,
  rollbackRouting,
  rolledBackVersion,
  routingAt,
  sameRouting,
  weightFor,
  type AliasRouting,
} from '../../../commands/rollout/plan.js';

for (const steps of [[10, 50, 100], [100], [0.5, 2.5, 100]]) {
  test(`accepts the increasing percents ${steps.join(',')}, which end at 100`, (t) => {
    t.deepEqual(planSteps(steps), steps);
  });
}

const BAD_STEPS: readonly { readonly steps: readonly number[]; readonly message: string }[] = [
  { steps: [50, 10, 100], message: 'step 2 (10) is not above step 1 (50); steps must increase' },
  { steps: [10, 10, 100], message: 'step 2 (10) is not above step 1 (10); steps must increase' },
  { steps: [10, 50], message: 'the last step is 50; it must be 100, the step that promotes the new version' },
  { steps: [], message: 'no steps; give percents of traffic on the new version ending at 100, such as 10,50,100' },
  { steps: [0, 100], message: 'step 1 is 0; each step is a percent of traffic above 0 and at most 100' },
  { steps: [-5, 100], message: 'step 1 is -5; each step is a percent of traffic above 0 and at most 100' },
  { steps: [101, 100], message: 'step 1 is 101; each step is a percent of traffic above 0 and at most 100' },
  { steps: [Number.NaN, 100], message: 'step 1 is NaN; each step is a percent of traffic above 0 and at most 100' },
  { steps: [10, Number.POSITIVE_INFINITY], message: 'step 2 is Infinity; each step is a percent of traffic above 0 and at most 100' },
];

for (const { steps, message } of BAD_STEPS) {
  test(`rejects the steps [${steps.join(',')}]: ${message}`, (t) => {
    t.throws(() => planSteps(steps), { instanceOf: PlanError, message });
  });
}

for (const [percent, weight] of [[10, 0.1], [33.3, 0.333], [0.001, 0.00001], [100, 1]] as const) {
  test(`turns ${percent}% into the weight ${weight}, exactly`, (t) => {
    t.is(weightFor(percent), weight);
  });
}

for (const percent of [150, -1]) {
  test(`rejects ${percent}%, whose weight is outside 0..1`, (t) => {
    t.throws(() => weightFor(percent), { instanceOf: PlanError, message: /is outside 0\.\.1/ });
  });
}

test('a step below 100 keeps the alias on the stable version with one weight; 100 moves it with none', (t) => {
  t.deepEqual(routingAt('3', '4', 10), { version: '3', weights: { '4': 0.1 } });
  t.deepEqual(routingAt('3', '4', 100), { version: '4', weights: {} });
});

test('a rollback puts the alias on the stable version with no weights', (t) => {
  t.deepEqual(rollbackRouting('3'), { version: '3', weights: {} });
});

const STATES: readonly { readonly title: string; readonly routing: AliasRouting; readonly state: ReturnType<typeof readState> }[] = [
  { title: 'an alias with no weights is a stable version and no rollout', routing: { version: '3', weights: {} }, state: { stable: '3' } },
  { title: 'an alias with one weight is a rollout that far', routing: { version: '3', weights: { '4': 0.5 } }, state: { stable: '3', canary: { version: '4', weight: 0.5 } } },
  { title: 'a zero weight routes nothing, so it is no rollout', routing: { version: '3', weights: { '4': 0 } }, state: { stable: '3' } },
];

for (const { title, routing, state } of STATES) {
  test(`reads the state back from the alias: ${title}`, (t) => {
    t.deepEqual(readState(routing), state);
  });
}

test('refuses an alias split between more than two versions', (t) => {
  t.throws(() => readState({ version: '3', weights: { '4': 0.1, '5': 0.1 } }), { instanceOf: PlanError, message: 'the alias routes to 2 additional versions (4, 5); a rollout moves traffic between two' });
});

const ROUTINGS: readonly { readonly title: string; readonly a: AliasRouting; readonly b: AliasRouting; readonly same: boolean }[] = [
  { title: 'weights within rounding are the same', a: { version: '3', weights: { '4': 0.1 } }, b: { version: '3', weights: { '4': 0.100000001 } }, same: true },
  { title: 'a zero weight is the same as none', a: { version: '3', weights: {} }, b: { version: '3', weights: { '4': 0 } }, same: true },
  { title: 'other weights differ', a: { version: '3', weights: { '4': 0.1 } }, b: { version: '3', weights: { '4': 0.5 } }, same: false },
  { title: 'other versions differ', a: { version: '3', weights: {} }, b: { version: '4', weights: {} }, same: false },
];

for (const { title, a, b, same } of ROUTINGS) {
  test(`compares routings by what they send where: ${title}`, (t) => {
    t.is(sameRouting(a, b), same);
  });
}

for (const [weight, index] of [[0.1, 0], [0.5, 1], [0.3, 1], [0.05, 0]] as const) {
  test(`resumes steps 10,50,100 from the weight ${weight} at step ${index + 1}`, (t) => {
    t.is(resumeIndex([10, 50, 100], weight), index);
  });
}

for (const [value, published] of [['7', true], ['$LATEST', false], ['live', false], ['07', false], ['0', false]] as const) {
  test(`${published ? 'knows' : 'does not take'} ${value} ${published ? 'for' : 'as'} a published version`, (t) => {
    t.is(isPublishedVersion(value), published);
  });
}

test('records an outcome in an alias description', (t) => {
  t.is(outcomeDescription('promoted', '8', new Date('2026-11-27T22:40:01.123Z'), 'from version 7'), 'rollout: promoted version 8 at 2026-11-27T22:40:01Z: from version 7');
});

test('cuts a description to Lambda\'s 256 characters, ending in an ellipsis', (t) => {
  const long = outcomeDescription('rolled back', '8', new Date('2026-11-27T22:40:01Z'), 'x'.repeat(400));
  t.is(long.length, 256);
  t.true(long.endsWith('x…'));
});

test('reads back which version a description says was rolled back', (t) => {
  const record = outcomeDescription('rolled back', '8', new Date(0), 'alarm');
  t.deepEqual(rolledBackVersion(record), { version: '8', record });
});

for (const description of [outcomeDescription('promoted', '8', new Date(0), ''), 'Serving alias; the rollout tool moves it between versions', undefined]) {
  test(`finds no rolled-back version in the description ${JSON.stringify(description)}`, (t) => {
    t.is(rolledBackVersion(description), undefined);
  });
}
