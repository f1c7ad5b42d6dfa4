/**
 * The validators of construct props and config values, shared by the constructs and infra/config.ts so that each rule
 * lives in one place. Each returns the value it checked, typed, or throws a SettingError naming the setting, the value
 * and what is allowed.
 */
import { Token } from 'cdktf';
import type { IConstruct } from 'constructs';
import { SettingError } from './errors.js';

/** Where a setting lives: a construct (its path names the environment) or a config location. */
export type Where = IConstruct | string;

function location(where: Where): string {
  return typeof where === 'string' ? where : where.node.path;
}

export function fail(where: Where, setting: string, value: unknown, allowed: string, fix?: string): never {
  throw new SettingError(location(where), setting, value, allowed, fix);
}

/** A whole number in min..max; `unit` is said in the message ("MB", "seconds"). */
export function wholeNumber(where: Where, setting: string, value: number, min: number, max: number, unit: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(where, setting, value, `a whole number of ${unit} from ${min} to ${max}`);
  }
  return value;
}

/** A finite number in min..max, ends included. */
export function numberInRange(where: Where, setting: string, value: number, min: number, max: number, meaning: string): number {
  if (!Number.isFinite(value) || value < min || value > max) fail(where, setting, value, `a number from ${min} to ${max} (${meaning})`);
  return value;
}

export function oneOf<T extends string | number>(where: Where, setting: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) fail(where, setting, value, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return value;
}

export function matching(where: Where, setting: string, value: string, pattern: RegExp, description: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(where, setting, value, description);
  return value;
}

/** `matching` for a setting that may be a Terraform reference, whose value is known only at apply: a literal is checked. */
export function matchingLiteral(where: Where, setting: string, value: string, pattern: RegExp, description: string): string {
  if (!Token.isUnresolved(value) && !pattern.test(value)) fail(where, setting, value, description);
  return value;
}

/** The longest period (and evaluation window) CloudWatch alarms and graphs take: one day. */
export const MAX_PERIOD_SECONDS = 86_400;

/** A period of standard-resolution metrics (the function's EMF metrics are): whole minutes, up to a day. */
export function periodSeconds(where: Where, setting: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0 || value % 60 !== 0 || value > MAX_PERIOD_SECONDS) {
    fail(where, setting, value, `a positive multiple of 60 up to ${MAX_PERIOD_SECONDS}`);
  }
  return value;
}

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Retention from which checkov's CKV_AWS_338 passes; shorter retentions skip it with the environment's reason. */
export const ONE_YEAR_DAYS = 365;

/** A KMS key's ARN (not an alias: log groups and buckets need the key itself). */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

export function logRetention(where: Where, setting: string, value: number): number {
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(value)) fail(where, setting, value, `one of CloudWatch's retention periods in days: ${LOG_RETENTION_DAYS.join(', ')}`);
  return value;
}
