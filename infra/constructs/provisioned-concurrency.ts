import { AppautoscalingPolicy } from '@cdktf/provider-aws/lib/appautoscaling-policy/index.js';
import { AppautoscalingScheduledAction } from '@cdktf/provider-aws/lib/appautoscaling-scheduled-action/index.js';
import { AppautoscalingTarget } from '@cdktf/provider-aws/lib/appautoscaling-target/index.js';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config/index.js';
import { Construct } from 'constructs';
import { LAMBDA_SCALING, lambdaScalableTargetId } from '../../functions/contract/aws-names.js';
import { fail, matching, wholeNumber, type Where } from '../validators.js';
import type { LiveAlias } from './live-alias.js';

/** One scheduled change of the alias's provisioned-concurrency range (Application Auto Scaling scheduled scaling). */
export interface ScheduledScaling {
  /** Names the action; unique among the alias's schedules. Letters, digits, ".", "-" and "_". */
  readonly name: string;
  /**
   * When the action runs: `cron(<minutes> <hours> <day of month> <month> <day of week> <year>)` (one of the two
   * day fields `?`), `rate(<n> <minute|minutes|hour|hours|day|days>)`, or once, `at(yyyy-mm-ddThh:mm:ss)`.
   */
  readonly schedule: string;
  /**
   * The range's new minimum.
   * @default unchanged (at least one of min and max is required)
   */
  readonly min?: number | undefined;
  /**
   * The range's new maximum.
   * @default unchanged
   */
  readonly max?: number | undefined;
  /**
   * IANA time zone of `cron` and `at` schedules (e.g. "Europe/Berlin").
   * @default "UTC"
   */
  readonly timezone?: string | undefined;
}

/** The environment's setting (infra/config.ts `provisionedConcurrency`): a range that target tracking moves within. */
export interface ProvisionedConcurrencySettings {
  /**
   * Provisioned concurrency the alias never goes below; also what Terraform creates it with.
   * @default none; required
   */
  readonly min: number;
  /**
   * Provisioned concurrency the scaler never goes above (at most the function's reservedConcurrency, when set).
   * @default none; required
   */
  readonly max: number;
  /**
   * Target tracking's target for LambdaProvisionedConcurrencyUtilization, the share of provisioned concurrency in
   * use: it adds capacity above this share and removes it below. Greater than 0, at most 1.
   * @default 0.7
   */
  readonly targetUtilization?: number | undefined;
  /**
   * Seconds after a scale-out before the next scale-out: short, because new instances take a while to be READY.
   * @default 60
   */
  readonly scaleOutCooldownSeconds?: number | undefined;
  /**
   * Seconds after a scale-in before the next scale-in: long, so that a lull between bursts does not drop warm capacity.
   * @default 600
   */
  readonly scaleInCooldownSeconds?: number | undefined;
  /**
   * Scheduled changes of the range (e.g. a higher minimum during business hours).
   * @default none
   */
  readonly schedules?: readonly ScheduledScaling[] | undefined;
}

export interface ProvisionedConcurrencyProps extends ProvisionedConcurrencySettings {
  /**
   * The alias whose provisioned concurrency this is (the one callers invoke); created without initialRouting.
   * @default none; required
   */
  readonly alias: LiveAlias;
}

export const DEFAULT_TARGET_UTILIZATION = 0.7;
export const DEFAULT_SCALE_OUT_COOLDOWN_SECONDS = 60;
export const DEFAULT_SCALE_IN_COOLDOWN_SECONDS = 600;
/** The account's concurrency bounds provisioned concurrency, and no account starts above this; a cap on typos. */
const MAX_PROVISIONED = 10_000;
const MAX_COOLDOWN_SECONDS = 86_400;
const SCHEDULE_NAME = /^[A-Za-z0-9._-]{1,256}$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;
const RATE = /^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
export const SCHEDULE_RULE =
  'cron(<minutes> <hours> <day of month> <month> <day of week> <year>) with "?" in one day field, rate(<n> <minute(s)|hour(s)|day(s)>) or at(yyyy-mm-ddThh:mm:ss)';

/** Why `schedule` is not one Application Auto Scaling accepts, or undefined when it is. */
export function scheduleProblem(schedule: string): string | undefined {
  if (typeof schedule !== 'string') return 'not a string';
  if (schedule.startsWith('rate(')) return RATE.test(schedule) ? undefined : 'rate() takes a whole number above 0 and a unit';
  if (schedule.startsWith('at(')) {
    const parts = AT.exec(schedule)?.slice(1).map(Number);
    if (parts === undefined) return 'at() takes a date and time, yyyy-mm-ddThh:mm:ss';
    const [year, month, day, hour, minute, second] = parts as [number, number, number, number, number, number];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    const same = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
    return same ? undefined : 'at() names a date or time that does not exist';
  }
  const cron = /^cron\((.*)\)$/.exec(schedule)?.[1];
  if (cron === undefined) return 'neither cron(...), rate(...) nor at(...)';
  const fields = cron.split(' ');
  if (fields.length !== 6) return `cron() has ${fields.length} fields; it takes 6, separated by one space`;
  const bad = fields.find((field) => !CRON_FIELD.test(field));
  if (bad !== undefined) return `cron() field "${bad}" holds a character cron does not use`;
  if ((fields[2] === '?') === (fields[4] === '?')) return 'cron() needs "?" in exactly one of day of month (3rd field) and day of week (5th field)';
  return undefined;
}

function timezone(where: Where, setting: string, value: string): string {
  try {
    if (/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(value)) {
      new Intl.DateTimeFormat('en', { timeZone: value });
      return value;
    }
  } catch {
    // Not a zone the runtime knows: fall through to the error.
  }
  return fail(where, setting, value, 'an IANA time zone such as "UTC" or "Europe/Berlin"');
}

/**
 * Provisioned concurrency (PC) on the `live` alias, scaled by Application Auto Scaling between `min` and `max` by
 * target tracking on LambdaProvisionedConcurrencyUtilization, plus optional scheduled changes of that range.
 *
 * Who owns what: Terraform creates the PC with `min` and registers the scalable target, its policy and schedules;
 * from then on the scaler resizes the PC, so Terraform ignores changes to the amount (it would otherwise set it back
 * to `min` at every apply and fight the scaler). A higher `min` in the config still takes effect: Application Auto
 * Scaling raises the PC to the target's new minimum. The rollout suspends the target's scaling while an alias has
 * weights (each scaling action is a PC resize, which Lambda refuses on a weighted alias) and resumes it after, so
 * Terraform ignores the target's `suspended_state` too. With schedules, the schedules own the range after creation
 * and Terraform ignores the target's `min_capacity` and `max_capacity` (an apply would otherwise reset a range a
 * schedule set until the schedule's next run); a new `min` or `max` then takes effect from the next scheduled action.
 *
 * Target tracking creates two CloudWatch alarms of its own (`TargetTracking-function:<name>:<alias>-AlarmHigh-...`
 * and `-AlarmLow-...`), outside the environment's alarm prefix, so the rollout's alarm gate never sees them.
 */
export class ProvisionedConcurrency extends Construct {
  readonly config: LambdaProvisionedConcurrencyConfig;
  readonly target: AppautoscalingTarget;
  readonly policy: AppautoscalingPolicy;
  readonly scheduledActions: readonly AppautoscalingScheduledAction[];
  readonly min: number;
  readonly max: number;

  constructor(scope: Construct, id: string, props: ProvisionedConcurrencyProps) {
    super(scope, id);
    const { alias } = props;
    const reserved = alias.fn.reservedConcurrency;
    const ceiling = reserved === undefined ? MAX_PROVISIONED : Math.min(reserved, MAX_PROVISIONED);
    const ceilingText = reserved === undefined ? `${MAX_PROVISIONED}` : `the function's reservedConcurrency (${reserved}); Lambda refuses more`;
    this.min = wholeNumber(this, 'min', props.min, 1, MAX_PROVISIONED, 'concurrent executions');
    this.max = wholeNumber(this, 'max', props.max, 1, MAX_PROVISIONED, 'concurrent executions');
    if (this.min > this.max) fail(this, 'min', this.min, `at most max (${this.max})`);
    if (this.max > ceiling) fail(this, 'max', this.max, `at most ${ceilingText}`);
    if (alias.initialRouting.length > 0) {
      fail(this, 'min', this.min, 'no provisioned concurrency while the alias\'s initialRouting sets weights: Lambda refuses to create provisioned concurrency on an alias with weights');
    }
    const targetValue = props.targetUtilization ?? DEFAULT_TARGET_UTILIZATION;
    if (!Number.isFinite(targetValue) || targetValue <= 0 || targetValue > 1) {
      fail(this, 'targetUtilization', targetValue, 'a number greater than 0 and at most 1 (the share of provisioned concurrency in use, e.g. 0.7)');
    }
    const scaleOut = wholeNumber(this, 'scaleOutCooldownSeconds', props.scaleOutCooldownSeconds ?? DEFAULT_SCALE_OUT_COOLDOWN_SECONDS, 0, MAX_COOLDOWN_SECONDS, 'seconds');
    const scaleIn = wholeNumber(this, 'scaleInCooldownSeconds', props.scaleInCooldownSeconds ?? DEFAULT_SCALE_IN_COOLDOWN_SECONDS, 0, MAX_COOLDOWN_SECONDS, 'seconds');
    const schedules = (props.schedules ?? []).map((schedule, i) => this.checkSchedule(schedule, i, ceiling, ceilingText));
    const names = new Set<string>();
    schedules.forEach((schedule, i) => {
      if (names.has(schedule.name)) fail(this, `schedules[${i}].name`, schedule.name, 'a name no other schedule of this alias uses');
      names.add(schedule.name);
    });

    this.config = new LambdaProvisionedConcurrencyConfig(this, 'config', {
      functionName: alias.fn.name,
      qualifier: alias.name,
      provisionedConcurrentExecutions: this.min,
      lifecycle: { ignoreChanges: ['provisioned_concurrent_executions'] },
    });
    // Built from the PC config's attributes, so Terraform registers the target only once the PC exists.
    this.target = new AppautoscalingTarget(this, 'target', {
      serviceNamespace: LAMBDA_SCALING.serviceNamespace,
      scalableDimension: LAMBDA_SCALING.scalableDimension,
      resourceId: lambdaScalableTargetId(this.config.functionName, this.config.qualifier),
      minCapacity: this.min,
      maxCapacity: this.max,
      lifecycle: { ignoreChanges: schedules.length === 0 ? ['suspended_state'] : ['suspended_state', 'min_capacity', 'max_capacity'] },
    });
    const scalable = { serviceNamespace: this.target.serviceNamespace, scalableDimension: this.target.scalableDimension, resourceId: this.target.resourceId };
    this.policy = new AppautoscalingPolicy(this, 'utilization', {
      name: 'provisioned-concurrency-utilization',
      policyType: 'TargetTrackingScaling',
      ...scalable,
      targetTrackingScalingPolicyConfiguration: {
        targetValue,
        predefinedMetricSpecification: { predefinedMetricType: LAMBDA_SCALING.utilizationMetric },
        scaleOutCooldown: scaleOut,
        scaleInCooldown: scaleIn,
      },
    });
    this.scheduledActions = schedules.map(
      (schedule) =>
        new AppautoscalingScheduledAction(this, `schedule-${schedule.name}`, {
          name: schedule.name,
          ...scalable,
          schedule: schedule.schedule,
          timezone: schedule.timezone ?? 'UTC',
          scalableTargetAction: {
            ...(schedule.min === undefined ? {} : { minCapacity: String(schedule.min) }),
            ...(schedule.max === undefined ? {} : { maxCapacity: String(schedule.max) }),
          },
        }),
    );
  }

  /** The scalable target's resource id, `function:<function name>:<alias>` (what the rollout suspends). */
  get resourceId(): string {
    return this.target.resourceId;
  }

  private checkSchedule(schedule: ScheduledScaling, i: number, ceiling: number, ceilingText: string): ScheduledScaling {
    const at = `schedules[${i}]`;
    matching(this, `${at}.name`, schedule.name, SCHEDULE_NAME, '1 to 256 letters, digits, ".", "-" and "_"');
    const problem = scheduleProblem(schedule.schedule);
    if (problem !== undefined) fail(this, `${at}.schedule`, schedule.schedule, SCHEDULE_RULE, `Here: ${problem}`);
    if (schedule.timezone !== undefined) timezone(this, `${at}.timezone`, schedule.timezone);
    if (schedule.min === undefined && schedule.max === undefined) fail(this, `${at}.min`, undefined, 'a new minimum, a new maximum or both; a schedule that sets neither changes nothing');
    if (schedule.min !== undefined) wholeNumber(this, `${at}.min`, schedule.min, 1, ceiling, 'concurrent executions');
    if (schedule.max !== undefined) {
      wholeNumber(this, `${at}.max`, schedule.max, 1, MAX_PROVISIONED, 'concurrent executions');
      if (schedule.max > ceiling) fail(this, `${at}.max`, schedule.max, `at most ${ceilingText}`);
    }
    if (schedule.min !== undefined && schedule.max !== undefined && schedule.min > schedule.max) {
      fail(this, `${at}.min`, schedule.min, `at most ${at}.max (${schedule.max})`);
    }
    return schedule;
  }
}
