import test from 'ava';
import { TerraformOutput } from 'cdktf';
import type { InferenceFunctionProps } from '../../../infra/constructs/inference-function.js';
import { LiveAlias, type LiveAliasProps } from '../../../infra/constructs/live-alias.js';
import { ProvisionedConcurrency, scheduleProblem, type ProvisionedConcurrencySettings } from '../../../infra/constructs/provisioned-concurrency.js';
import { SettingError } from '../../../infra/errors.js';
import { all, buildDist, one, ref, stackWithFunction, synth, type Json } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

const RANGE: ProvisionedConcurrencySettings = { min: 1, max: 10 };

function build(settings: Partial<ProvisionedConcurrencySettings> = {}, aliasProps: Partial<LiveAliasProps> = {}, fnProps: Partial<InferenceFunctionProps> = {}) {
  const { stack, fn } = stackWithFunction(dist, fnProps);
  const alias = new LiveAlias(stack, 'alias', { fn, ...aliasProps });
  const pc = new ProvisionedConcurrency(stack, 'pc', { alias, ...RANGE, ...settings });
  return { stack, pc };
}

function synthPc(settings: Partial<ProvisionedConcurrencySettings> = {}): Json {
  return synth(build(settings).stack);
}

/** The scalable target's three identifying arguments, as every policy and schedule must repeat them. */
function targetRefs(out: Json): Json {
  return {
    service_namespace: ref(out, 'aws_appautoscaling_target', 'service_namespace'),
    scalable_dimension: ref(out, 'aws_appautoscaling_target', 'scalable_dimension'),
    resource_id: ref(out, 'aws_appautoscaling_target', 'resource_id'),
  };
}

test('creates the alias\'s provisioned concurrency with the minimum and leaves its amount to the scaler', (t) => {
  const out = synthPc({ min: 2, max: 8 });
  const config = one(out, 'aws_lambda_provisioned_concurrency_config');
  t.is(config['function_name'], ref(out, 'aws_lambda_function', 'function_name'));
  t.is(config['qualifier'], ref(out, 'aws_lambda_alias', 'name'));
  t.is(config['provisioned_concurrent_executions'], 2);
  t.deepEqual(config['lifecycle'], { ignore_changes: ['provisioned_concurrent_executions'] });
});

test('registers the alias as a Lambda provisioned-concurrency scalable target once its provisioned concurrency exists', (t) => {
  const out = synthPc({ min: 2, max: 8 });
  const target = one(out, 'aws_appautoscaling_target');
  t.is(target['service_namespace'], 'lambda');
  t.is(target['scalable_dimension'], 'lambda:function:ProvisionedConcurrency');
  // function:<name>:<alias>, from the PC config's attributes: Terraform orders the target after the PC.
  t.is(target['resource_id'], `function:${ref(out, 'aws_lambda_provisioned_concurrency_config', 'function_name')}:${ref(out, 'aws_lambda_provisioned_concurrency_config', 'qualifier')}`);
  t.like(target, { min_capacity: 2, max_capacity: 8 });
});

test('leaves the target\'s suspended state to the rollout', (t) => {
  t.deepEqual(one(synthPc(), 'aws_appautoscaling_target')['lifecycle'], { ignore_changes: ['suspended_state'] });
});

test('tracks LambdaProvisionedConcurrencyUtilization at 0.7 with a short scale-out and a long scale-in cooldown by default', (t) => {
  const out = synthPc();
  const policy = one(out, 'aws_appautoscaling_policy');
  t.like(policy, { policy_type: 'TargetTrackingScaling', ...targetRefs(out) });
  t.deepEqual(policy['target_tracking_scaling_policy_configuration'], {
    target_value: 0.7,
    predefined_metric_specification: { predefined_metric_type: 'LambdaProvisionedConcurrencyUtilization' },
    scale_out_cooldown: 60,
    scale_in_cooldown: 600,
  });
});

test('applies the target utilization and cooldowns it is given', (t) => {
  const policy = one(synthPc({ targetUtilization: 0.5, scaleOutCooldownSeconds: 0, scaleInCooldownSeconds: 1800 }), 'aws_appautoscaling_policy');
  t.like(policy['target_tracking_scaling_policy_configuration'], { target_value: 0.5, scale_out_cooldown: 0, scale_in_cooldown: 1800 });
});

test('has no scheduled actions by default', (t) => {
  t.deepEqual(all(synthPc(), 'aws_appautoscaling_scheduled_action'), []);
});

test('schedules changes of the range on the scalable target, in UTC unless a time zone is given', (t) => {
  const out = synthPc({
    schedules: [
      { name: 'business-hours', schedule: 'cron(0 8 ? * MON-FRI *)', min: 3, max: 20, timezone: 'Europe/Berlin' },
      { name: 'night', schedule: 'cron(0 20 * * ? *)', min: 1 },
    ],
  });
  const actions = all(out, 'aws_appautoscaling_scheduled_action');
  const byName = Object.fromEntries(actions.map((a) => [a['name'] as string, a]));
  t.deepEqual(Object.keys(byName).sort(), ['business-hours', 'night']);
  t.like(byName['business-hours'], { ...targetRefs(out), schedule: 'cron(0 8 ? * MON-FRI *)', timezone: 'Europe/Berlin' });
  t.deepEqual(byName['business-hours']?.['scalable_target_action'], { min_capacity: '3', max_capacity: '20' });
  t.like(byName['night'], { schedule: 'cron(0 20 * * ? *)', timezone: 'UTC' });
  t.deepEqual(byName['night']?.['scalable_target_action'], { min_capacity: '1' });
});

test('with schedules, leaves the target\'s range to them after creation', (t) => {
  const out = synthPc({ schedules: [{ name: 'night', schedule: 'rate(1 day)', max: 2 }] });
  t.deepEqual(one(out, 'aws_appautoscaling_target')['lifecycle'], { ignore_changes: ['suspended_state', 'min_capacity', 'max_capacity'] });
});

test('exposes the scalable target\'s resource id for an output', (t) => {
  const { stack, pc } = build();
  new TerraformOutput(stack, 'resource_id', { value: pc.resourceId });
  const out = synth(stack);
  t.is(out['output']['resource_id']['value'], ref(out, 'aws_appautoscaling_target', 'resource_id'));
});

/** Schedules Application Auto Scaling accepts, one of each form. */
const ACCEPTED_SCHEDULES = ['cron(0 8 ? * MON-FRI *)', 'cron(15 12 * * ? *)', 'cron(0/30 * ? * * 2030)', 'rate(1 hour)', 'rate(15 minutes)', 'rate(2 days)', 'at(2030-02-28T23:59:00)'];

for (const schedule of ACCEPTED_SCHEDULES) {
  test(`accepts the schedule ${schedule}`, (t) => {
    t.is(scheduleProblem(schedule), undefined);
  });
}

/** Settings the construct refuses, each with what its SettingError says (the whole message, or the setting). */
const REFUSED: readonly { title: string; settings: Partial<ProvisionedConcurrencySettings>; aliasProps?: Partial<LiveAliasProps>; fnProps?: Partial<InferenceFunctionProps>; error: { message: string } | { setting: string } | { message: RegExp } }[] = [
  { title: 'refuses a minimum above the maximum', settings: { min: 5, max: 2 }, error: { message: 'test/pc: min is 5; allowed: at most max (2)' } },
  { title: 'refuses a minimum of 0', settings: { min: 0 }, error: { message: 'test/pc: min is 0; allowed: a whole number of concurrent executions from 1 to 10000' } },
  { title: 'refuses a fractional maximum', settings: { max: 2.5 }, error: { setting: 'max' } },
  {
    title: 'refuses a maximum above the function\'s reserved concurrency',
    settings: { max: 10 },
    fnProps: { reservedConcurrency: 5 },
    error: { message: 'test/pc: max is 10; allowed: at most the function\'s reservedConcurrency (5); Lambda refuses more' },
  },
  {
    title: 'refuses provisioned concurrency on an alias created with weights',
    settings: {},
    aliasProps: { initialRouting: [{ version: '3', weight: 0.1 }] },
    error: { message: /^test\/pc: min is 1; allowed: no provisioned concurrency while the alias's initialRouting sets weights/ },
  },
  { title: 'refuses a target utilization of 0', settings: { targetUtilization: 0 }, error: { message: 'test/pc: targetUtilization is 0; allowed: a number greater than 0 and at most 1 (the share of provisioned concurrency in use, e.g. 0.7)' } },
  { title: 'refuses a target utilization above 1', settings: { targetUtilization: 70 }, error: { setting: 'targetUtilization' } },
  { title: 'refuses a target utilization that is not a number', settings: { targetUtilization: Number.NaN }, error: { setting: 'targetUtilization' } },
  { title: 'refuses a negative scale-in cooldown', settings: { scaleInCooldownSeconds: -1 }, error: { message: 'test/pc: scaleInCooldownSeconds is -1; allowed: a whole number of seconds from 0 to 86400' } },
  { title: 'refuses a fractional scale-out cooldown', settings: { scaleOutCooldownSeconds: 1.5 }, error: { setting: 'scaleOutCooldownSeconds' } },
  {
    title: 'refuses a schedule that is neither cron, rate nor at',
    settings: { schedules: [{ name: 'daily', schedule: 'daily at 8', min: 2 }] },
    error: { message: /^test\/pc: schedules\[0\]\.schedule is "daily at 8"; allowed: cron\(.*\)\. Here: neither cron\(\.\.\.\), rate\(\.\.\.\) nor at\(\.\.\.\)$/ },
  },
  {
    title: 'refuses a five-field cron expression',
    settings: { schedules: [{ name: 'unix', schedule: 'cron(0 8 * * 1-5)', min: 2 }] },
    error: { message: /Here: cron\(\) has 5 fields; it takes 6/ },
  },
  {
    title: 'refuses a cron expression with both day fields set',
    settings: { schedules: [{ name: 'both', schedule: 'cron(0 8 1 * MON *)', min: 2 }] },
    error: { message: /Here: cron\(\) needs "\?" in exactly one of day of month/ },
  },
  { title: 'refuses a rate of 0', settings: { schedules: [{ name: 'zero', schedule: 'rate(0 minutes)', min: 2 }] }, error: { message: /Here: rate\(\) takes a whole number above 0 and a unit/ } },
  { title: 'refuses a rate in weeks', settings: { schedules: [{ name: 'weekly', schedule: 'rate(1 week)', min: 2 }] }, error: { message: /Here: rate\(\) takes a whole number above 0 and a unit/ } },
  { title: 'refuses an at() date that does not exist', settings: { schedules: [{ name: 'once', schedule: 'at(2030-02-30T08:00:00)', min: 2 }] }, error: { message: /Here: at\(\) names a date or time that does not exist/ } },
  { title: 'refuses an at() without seconds', settings: { schedules: [{ name: 'once', schedule: 'at(2030-02-28T08:00)', min: 2 }] }, error: { message: /Here: at\(\) takes a date and time/ } },
  {
    title: 'refuses a time zone that does not exist',
    settings: { schedules: [{ name: 'tz', schedule: 'cron(0 8 ? * * *)', min: 2, timezone: 'Mars/Olympus' }] },
    error: { message: 'test/pc: schedules[0].timezone is "Mars/Olympus"; allowed: an IANA time zone such as "UTC" or "Europe/Berlin"' },
  },
  {
    title: 'refuses a schedule that sets neither a minimum nor a maximum',
    settings: { schedules: [{ name: 'noop', schedule: 'rate(1 day)' }] },
    error: { message: 'test/pc: schedules[0].min is unset; allowed: a new minimum, a new maximum or both; a schedule that sets neither changes nothing' },
  },
  { title: 'refuses a schedule whose minimum is above its maximum', settings: { schedules: [{ name: 'x', schedule: 'rate(1 day)', min: 5, max: 3 }] }, error: { message: 'test/pc: schedules[0].min is 5; allowed: at most schedules[0].max (3)' } },
  {
    title: 'refuses a schedule whose maximum is above the reserved concurrency',
    settings: { max: 4, schedules: [{ name: 'peak', schedule: 'rate(1 day)', max: 20 }] },
    fnProps: { reservedConcurrency: 5 },
    error: { message: 'test/pc: schedules[0].max is 20; allowed: at most the function\'s reservedConcurrency (5); Lambda refuses more' },
  },
  {
    title: 'refuses two schedules with the same name',
    settings: { schedules: [{ name: 'peak', schedule: 'rate(1 day)', min: 2 }, { name: 'peak', schedule: 'rate(2 days)', min: 3 }] },
    error: { message: 'test/pc: schedules[1].name is "peak"; allowed: a name no other schedule of this alias uses' },
  },
  { title: 'refuses a schedule name with a colon', settings: { schedules: [{ name: 'peak:am', schedule: 'rate(1 day)', min: 2 }] }, error: { setting: 'schedules[0].name' } },
];

for (const { title, settings, aliasProps, fnProps, error } of REFUSED) {
  test(title, (t) => {
    const thrown = t.throws(() => build(settings, aliasProps, fnProps), { instanceOf: SettingError });
    if ('message' in error && error.message instanceof RegExp) t.regex(thrown?.message ?? '', error.message);
    else t.like(thrown, error as Json);
  });
}
