import test from 'ava';
import { isPublishedVersion, outcomeDescription, PlanError, rolledBackVersion, planSteps, readState, resumeIndex, rollbackRouting, routingAt, sameRouting, weightFor } from '../../../commands/rollout/plan.js';

test('accepts increasing percents that end at 100', (t) => {
  t.deepEqual(planSteps([10, 50, 100]), [10, 50, 100]);
  t.deepEqual(planSteps([100]), [100]);
  t.deepEqual(planSteps([0.5, 2.5, 100]), [0.5, 2.5, 100]);
});

test('rejects steps that do not increase', (t) => {
  t.throws(() => planSteps([50, 10, 100]), { instanceOf: PlanError, message: 'step 2 (10) is not above step 1 (50); steps must increase' });
  t.throws(() => planSteps([10, 10, 100]), { instanceOf: PlanError });
});

test('rejects a plan that does not end at 100', (t) => {
  t.throws(() => planSteps([10, 50]), { message: 'the last step is 50; it must be 100, the step that promotes the new version' });
  t.throws(() => planSteps([]), { instanceOf: PlanError });
});

test('rejects percents outside 0..100 and non-numbers', (t) => {
  for (const bad of [0, -5, 101, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => planSteps([bad, 100]), { instanceOf: PlanError }, String(bad));
  }
});

test('turns percents into weights between 0 and 1, exactly', (t) => {
  t.is(weightFor(10), 0.1);
  t.is(weightFor(33.3), 0.333);
  t.is(weightFor(100), 1);
  t.throws(() => weightFor(150), { instanceOf: PlanError });
  t.throws(() => weightFor(-1), { instanceOf: PlanError });
});

test('a step below 100 keeps the alias on the stable version with one weight; 100 moves it with none', (t) => {
  t.deepEqual(routingAt('3', '4', 10), { version: '3', weights: { '4': 0.1 } });
  t.deepEqual(routingAt('3', '4', 100), { version: '4', weights: {} });
  t.deepEqual(rollbackRouting('3'), { version: '3', weights: {} });
});

test('reads the rollout state back from the alias', (t) => {
  t.deepEqual(readState({ version: '3', weights: {} }), { stable: '3' });
  t.deepEqual(readState({ version: '3', weights: { '4': 0.5 } }), { stable: '3', canary: { version: '4', weight: 0.5 } });
  t.deepEqual(readState({ version: '3', weights: { '4': 0 } }), { stable: '3' }, 'a zero weight routes nothing');
  t.throws(() => readState({ version: '3', weights: { '4': 0.1, '5': 0.1 } }), { instanceOf: PlanError });
});

test('compares routings by what they send where', (t) => {
  t.true(sameRouting({ version: '3', weights: { '4': 0.1 } }, { version: '3', weights: { '4': 0.100000001 } }));
  t.true(sameRouting({ version: '3', weights: {} }, { version: '3', weights: { '4': 0 } }));
  t.false(sameRouting({ version: '3', weights: { '4': 0.1 } }, { version: '3', weights: { '4': 0.5 } }));
  t.false(sameRouting({ version: '3', weights: {} }, { version: '4', weights: {} }));
});

test('resumes at the step the alias carries, or at the next one above it', (t) => {
  t.is(resumeIndex([10, 50, 100], 0.1), 0);
  t.is(resumeIndex([10, 50, 100], 0.5), 1);
  t.is(resumeIndex([10, 50, 100], 0.3), 1);
  t.is(resumeIndex([10, 50, 100], 0.05), 0);
});

test('knows a published version from $LATEST and aliases', (t) => {
  t.true(isPublishedVersion('7'));
  t.false(isPublishedVersion('$LATEST'));
  t.false(isPublishedVersion('live'));
  t.false(isPublishedVersion('07'));
});

test('records an outcome in an alias description within Lambda\'s 256 characters', (t) => {
  const at = new Date('2026-11-27T22:40:01.123Z');
  t.is(outcomeDescription('promoted', '8', at, 'from version 7'), 'rollout: promoted version 8 at 2026-11-27T22:40:01Z: from version 7');
  const long = outcomeDescription('rolled back', '8', at, 'x'.repeat(400));
  t.is(long.length, 256);
  t.true(long.endsWith('…'));
});

test('reads back which version a description says was rolled back', (t) => {
  const record = outcomeDescription('rolled back', '8', new Date(0), 'alarm');
  t.deepEqual(rolledBackVersion(record), { version: '8', record });
  t.is(rolledBackVersion(outcomeDescription('promoted', '8', new Date(0), '')), undefined);
  t.is(rolledBackVersion('Serving alias; the rollout tool moves it between versions'), undefined);
  t.is(rolledBackVersion(undefined), undefined);
});
