import test from 'ava';
import {
  ALL_SUSPENDED,
  functionNameOf,
  NONE_SUSPENDED,
  parseHold,
  pcCommand,
  planHold,
  promotedFrom,
  restoreCommands,
  resumedFlags,
  scalingCommand,
  withHold,
  withoutHold,
  type Found,
  type Hold,
  type HoldPlan,
} from '../../../commands/rollout/hold.js';
import { stoppedAtOnceMessage } from '../../../commands/rollout/recovery.js';

const SCHEDULED_ONLY = { dynamicIn: false, dynamicOut: false, scheduled: true };
const DYNAMIC_ONLY = { dynamicIn: true, dynamicOut: true, scheduled: false };

const PLANS: readonly { readonly what: string; readonly found: Found; readonly plan: HoldPlan }[] = [
  { what: 'no scalable target and no --raise-pc: nothing to hold', found: { pc: 2 }, plan: { hold: { scaling: undefined, pc: undefined }, suspend: false, foreign: undefined, raiseTo: undefined } },
  { what: 'active scaling: suspend all of it, resume all of it', found: { scaling: NONE_SUSPENDED }, plan: { hold: { scaling: ALL_SUSPENDED, pc: undefined }, suspend: true, foreign: undefined, raiseTo: undefined } },
  { what: 'scaling suspended by someone else: left as found', found: { scaling: ALL_SUSPENDED }, plan: { hold: { scaling: undefined, pc: undefined }, suspend: false, foreign: ALL_SUSPENDED, raiseTo: undefined } },
  { what: 'scheduled scaling suspended by someone else: suspend and resume the dynamic scaling only', found: { scaling: SCHEDULED_ONLY }, plan: { hold: { scaling: DYNAMIC_ONLY, pc: undefined }, suspend: true, foreign: SCHEDULED_ONLY, raiseTo: undefined } },
  {
    what: 'scaling an earlier run suspended (the alias records it): taken over, not someone else\'s',
    found: { scaling: ALL_SUSPENDED, pending: { scaling: ALL_SUSPENDED } },
    plan: { hold: { scaling: ALL_SUSPENDED, pc: undefined }, suspend: false, foreign: undefined, raiseTo: undefined },
  },
  { what: '--raise-pc above the PC found: raise it, put back what was found', found: { pc: 2, raisePc: 5 }, plan: { hold: { scaling: undefined, pc: { restoreTo: 2, raisedTo: 5 } }, suspend: false, foreign: undefined, raiseTo: 5 } },
  { what: '--raise-pc at or below the PC found: nothing to raise', found: { pc: 5, raisePc: 5 }, plan: { hold: { scaling: undefined, pc: undefined }, suspend: false, foreign: undefined, raiseTo: undefined } },
  {
    what: 'PC an earlier run raised: taken over, put back to what that run found',
    found: { pc: 5, pending: { pc: { restoreTo: 2, raisedTo: 5 } } },
    plan: { hold: { scaling: undefined, pc: { restoreTo: 2, raisedTo: 5 } }, suspend: false, foreign: undefined, raiseTo: undefined },
  },
  {
    what: 'PC an earlier run raised, raised further now: still put back to what that run found',
    found: { pc: 5, raisePc: 8, pending: { pc: { restoreTo: 2, raisedTo: 5 } } },
    plan: { hold: { scaling: undefined, pc: { restoreTo: 2, raisedTo: 8 } }, suspend: false, foreign: undefined, raiseTo: 8 },
  },
  {
    what: 'a scalable target that cannot be read now, which an earlier run suspended: still resumed at the end',
    found: { pending: { scaling: ALL_SUSPENDED } },
    plan: { hold: { scaling: ALL_SUSPENDED, pc: undefined }, suspend: false, foreign: undefined, raiseTo: undefined },
  },
];

for (const { what, found, plan } of PLANS) {
  test(`plans the hold for ${what}`, (t) => {
    t.deepEqual(planHold(found), plan);
  });
}

const RECORDS: readonly { readonly hold: Hold; readonly text: string }[] = [
  { hold: { scaling: ALL_SUSPENDED }, text: '; on finish: resume scaling (dynamic in, dynamic out, scheduled)' },
  { hold: { scaling: DYNAMIC_ONLY, pc: { restoreTo: 2, raisedTo: 5 } }, text: '; on finish: resume scaling (dynamic in, dynamic out), provisioned concurrency 5 back to 2' },
  { hold: { pc: { restoreTo: 1, raisedTo: 10 } }, text: '; on finish: provisioned concurrency 10 back to 1' },
];

for (const { hold, text } of RECORDS) {
  test(`records "${text}" in the alias's description and reads it back`, (t) => {
    const description = withHold('rollout: rolling out version 3 from 2 at 2026-01-01T00:00:00Z', hold);
    t.is(description, `rollout: rolling out version 3 from 2 at 2026-01-01T00:00:00Z${text}`);
    t.deepEqual(parseHold(description), { scaling: hold.scaling, pc: hold.pc });
    t.is(withoutHold(description), 'rollout: rolling out version 3 from 2 at 2026-01-01T00:00:00Z');
  });
}

test('a description without a record holds nothing, and an empty hold adds nothing', (t) => {
  t.is(parseHold('rollout: promoted version 3 at 2026-01-01T00:00:00Z: from version 2, steps 10,50,100'), undefined);
  t.is(parseHold(undefined), undefined);
  t.is(withHold('managed by terraform', {}), 'managed by terraform');
  t.is(withoutHold('managed by terraform'), 'managed by terraform');
});

test('a long description is cut before the record, which always fits in Lambda\'s 256 characters', (t) => {
  const hold: Hold = { scaling: ALL_SUSPENDED, pc: { restoreTo: 2, raisedTo: 5 } };
  const description = withHold(`rollout: rolled back version 3 at 2026-01-01T00:00:00Z: ${'canary analysis failed; '.repeat(20)}`, hold);
  t.is(description.length, 256);
  t.deepEqual(parseHold(description), hold);
  t.true(withoutHold(description).endsWith('…'));
});

test('reads the promotion a description records, with the version it came from', (t) => {
  t.deepEqual(promotedFrom('rollout: promoted version 12 at 2026-01-01T00:00:00Z: from version 9, steps 10,100'), { version: '12', from: '9' });
  t.deepEqual(promotedFrom(`rollout: promoted version 3 at 2026-01-01T00:00:00Z: from version 2, steps 100${RECORDS[0]?.text}`), { version: '3', from: '2' });
  t.is(promotedFrom('rollout: rolled back version 3 at 2026-01-01T00:00:00Z: from version 2'), undefined);
});

for (const [input, name] of [['predict', 'predict'], ['arn:aws:lambda:eu-west-1:123456789012:function:predict', 'predict'], ['arn:aws:lambda:eu-west-1:123456789012:function:predict:live', 'predict'], ['123456789012:function:predict', 'predict']] as const) {
  test(`the function name of ${input} is ${name}`, (t) => {
    t.is(functionNameOf(input), name);
  });
}

test('resuming puts back only the flags the rollout suspended', (t) => {
  t.deepEqual(resumedFlags(ALL_SUSPENDED, DYNAMIC_ONLY), SCHEDULED_ONLY);
  t.deepEqual(resumedFlags(ALL_SUSPENDED, ALL_SUSPENDED), NONE_SUSPENDED);
  t.deepEqual(resumedFlags(NONE_SUSPENDED, ALL_SUSPENDED), NONE_SUSPENDED, 'someone resumed it meanwhile: stays resumed');
});

test('the commands that put a hold back by hand are the AWS CLI\'s, PC first, every flag spelled out', (t) => {
  t.deepEqual(restoreCommands('onnx-lambda-prod-predict', 'live', { scaling: DYNAMIC_ONLY, pc: { restoreTo: 2, raisedTo: 5 } }), [
    'aws lambda put-provisioned-concurrency-config --function-name onnx-lambda-prod-predict --qualifier live --provisioned-concurrent-executions 2',
    'aws application-autoscaling register-scalable-target --service-namespace lambda --scalable-dimension lambda:function:ProvisionedConcurrency --resource-id function:onnx-lambda-prod-predict:live --suspended-state DynamicScalingInSuspended=false,DynamicScalingOutSuspended=false,ScheduledScalingSuspended=true',
  ]);
  t.deepEqual(restoreCommands('f', 'live', undefined), []);
  t.is(pcCommand("it's", 'live', 3), "aws lambda put-provisioned-concurrency-config --function-name 'it'\\''s' --qualifier live --provisioned-concurrent-executions 3");
  t.regex(scalingCommand('arn:aws:lambda:eu-west-1:123456789012:function:f', 'live', ALL_SUSPENDED), /--resource-id function:f:live --suspended-state DynamicScalingInSuspended=true,DynamicScalingOutSuspended=true,ScheduledScalingSuspended=true$/);
});

test('a second Ctrl-C prints how to roll back or resume, and the commands that put back what the rollout held', (t) => {
  const options = { functionName: 'f', alias: 'live', to: '3', steps: [10, 100], intervalS: 60, thresholds: { minRequests: 100 } };
  const held = restoreCommands('f', 'live', { pc: { restoreTo: 2, raisedTo: 5 } });
  t.is(
    stoppedAtOnceMessage(options, held),
    'stopped at once; the alias may still carry weights. Roll back: npm run rollout -- --function f --alias live --rollback  Resume: npm run rollout -- --function f --alias live --to 3 --steps 10,100 --interval 60 --min-requests 100 --resume' +
      "  It held capacity it has not put back; --rollback puts it back (the alias's description records it), or by hand: aws lambda put-provisioned-concurrency-config --function-name f --qualifier live --provisioned-concurrent-executions 2",
  );
  t.false(stoppedAtOnceMessage(options, []).includes('held capacity'));
});
