/**
 * What can stop a rollout before it shifts anything. Each message names the flag or resource, the value it got and
 * what to do; the CLI prints it and exits 1. Failures after traffic moved are not errors: they are rollbacks.
 */
import { usageMessage } from '../cli/usage.js';

/** Base of the rollout's own errors: the run could not start or continue, exit 1. */
export class RolloutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A flag is missing, malformed or contradicts another. */
export class UsageError extends RolloutError {
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(usageMessage(flag, value, allowed));
  }
}

/** The function, alias or version does not exist, or the alias is in a state the rollout must not touch. */
export class PreconditionError extends RolloutError {}
