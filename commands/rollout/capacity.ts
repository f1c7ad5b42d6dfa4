/**
 * The alias's warm capacity around a rollout: before the first weight, suspend the scaling of its provisioned
 * concurrency (PC) and raise the PC if asked, waiting until it is READY; after the last step or a rollback, wait until
 * Lambda reports no weights on the alias, then put the PC back and resume the scaling. What is held is recorded in
 * the alias's description before it is changed (hold.ts), so that it is put back even after a run that died.
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { errorText, type RunContext } from './context.js';
import { ALL_SUSPENDED, anySuspended, flagText, isEmptyHold, pcCommand, resumedFlags, scalingCommand, withHold, type Hold, type HoldPlan } from './hold.js';
import { readAlias, setDescription, type AliasRef, type AliasSnapshot } from './lambda-alias.js';
import { pcText, type ProvisionedConcurrencyApi } from './provisioned-concurrency.js';
import { readScalingTarget, scalingResourceId, setScalingSuspended } from './scaling.js';

export interface Capacity extends RunContext {
  readonly ref: AliasRef;
  readonly lambda: LambdaClient;
  readonly scaling: ApplicationAutoScalingClient;
  readonly pc: ProvisionedConcurrencyApi;
}

export type Readiness = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Waits until the alias's PC is READY at `amount`; not READY by the deadline, or FAILED, is a reason to give up. */
export async function waitForReady(capacity: Capacity, amount: number, timeoutS: number, signal?: AbortSignal): Promise<Readiness> {
  const endsAt = capacity.now() + timeoutS * 1000;
  for (;;) {
    const config = await capacity.pc.get(capacity.ref);
    if (config === undefined) return { ok: false, reason: `the alias's provisioned concurrency disappeared while the rollout waited for ${amount} to become READY` };
    if (config.status === 'FAILED') return { ok: false, reason: `provisioned concurrency ${amount} FAILED${config.reason === undefined ? '' : `: ${config.reason}`}` };
    if (config.status === 'READY' && config.requested === amount) {
      capacity.report({ event: 'pc-ready', message: `provisioned concurrency of alias ${capacity.ref.alias} is READY: ${config.allocated} allocated`, requested: config.requested, allocated: config.allocated });
      return { ok: true };
    }
    if (capacity.now() >= endsAt) {
      return { ok: false, reason: `provisioned concurrency ${amount} was not READY after ${timeoutS} s (--pc-timeout): ${pcText(config)}` };
    }
    capacity.progress({ phase: 'provisioned-concurrency', requested: config.requested, allocated: config.allocated, status: config.status, endsAt });
    await capacity.sleep(Math.min(capacity.pollMs, Math.max(0, endsAt - capacity.now())), signal);
  }
}

/**
 * Before the first weight: records `plan.hold` on the alias under `head`, then suspends the scaling and raises the PC,
 * and waits for READY. Throws what the AWS calls throw (and Interrupted on Ctrl-C); the caller puts back `plan.hold`
 * whatever happens.
 */
export async function holdCapacity(capacity: Capacity, plan: HoldPlan, head: string, pcTimeoutS: number, signal?: AbortSignal): Promise<Readiness> {
  const { ref, report } = capacity;
  const resourceId = scalingResourceId(ref);
  if (!isEmptyHold(plan.hold)) await setDescription(capacity.lambda, ref, withHold(head, plan.hold));
  if (plan.foreign !== undefined) {
    report({
      event: 'scaling-already-suspended',
      message: `scaling of ${resourceId} was already suspended (${flagText(plan.foreign)}), not by a rollout: left as found, and not resumed after the rollout`,
      resourceId,
      suspended: plan.foreign,
    });
  }
  if (plan.suspend && plan.hold.scaling !== undefined) {
    await setScalingSuspended(capacity.scaling, ref, ALL_SUSPENDED);
    report({
      event: 'scaling-suspended',
      message: `suspended scaling of ${resourceId} (${flagText(plan.hold.scaling)}) for the rollout: scaling actions resize provisioned concurrency, which Lambda refuses while the alias has weights`,
      resourceId,
      suspended: plan.hold.scaling,
      restore: scalingCommand(ref.functionName, ref.alias, resumedFlags(ALL_SUSPENDED, plan.hold.scaling)),
    });
  }
  if (plan.hold.pc === undefined) return { ok: true };
  if (plan.raiseTo !== undefined) {
    await capacity.pc.put(ref, plan.raiseTo);
    report({
      event: 'pc-raised',
      message: `raised provisioned concurrency of alias ${ref.alias} from ${plan.hold.pc.restoreTo} to ${plan.raiseTo}; waiting up to ${pcTimeoutS} s for READY`,
      from: plan.hold.pc.restoreTo,
      to: plan.raiseTo,
      restore: pcCommand(ref.functionName, ref.alias, plan.hold.pc.restoreTo),
    });
  }
  return waitForReady(capacity, plan.hold.pc.raisedTo, pcTimeoutS, signal);
}

export type Settled =
  | { readonly kind: 'clear' }
  | { readonly kind: 'timeout'; readonly weights: Readonly<Record<string, number>> }
  | { readonly kind: 'changed'; readonly alias: AliasSnapshot };

/**
 * After the alias moved to `version` with no weights: waits until it reports none. On an alias with PC, Lambda can
 * report a weight on the version that left (`leaving`) for a while after the version changes; that entry is waited
 * out, up to `timeoutS`. Any other version or weight means someone else moved the alias: the wait stops at once.
 */
export async function settle(capacity: Capacity, version: string, leaving: string, timeoutS: number, signal?: AbortSignal): Promise<Settled> {
  const started = capacity.now();
  const endsAt = started + timeoutS * 1000;
  let waited = false;
  for (;;) {
    const alias = await readAlias(capacity.lambda, capacity.ref);
    const weights = Object.fromEntries(Object.entries(alias.weights).filter(([, weight]) => weight > 0));
    const versions = Object.keys(weights);
    if (versions.length === 0) {
      if (waited) {
        const seconds = Math.round((capacity.now() - started) / 1000);
        capacity.report({ event: 'settled', message: `alias ${capacity.ref.alias} reports no weights after ${seconds} s: Lambda cleared its entry for version ${leaving}`, version, leaving, waitedS: seconds });
      }
      return { kind: 'clear' };
    }
    if (alias.version !== version || versions.some((v) => v !== leaving)) return { kind: 'changed', alias };
    if (capacity.now() >= endsAt) return { kind: 'timeout', weights };
    capacity.progress({ phase: 'settle', version, weights, endsAt });
    waited = true;
    await capacity.sleep(Math.min(capacity.pollMs, Math.max(0, endsAt - capacity.now())), signal);
  }
}

/** What a release could not put back, with the commands that do it by hand; empty when all went back. */
export interface Released {
  readonly left: Hold;
  readonly commands: readonly string[];
}

/**
 * Puts back what `hold` changed: the PC first (resumed scaling would resize it again), then the scaling this rollout
 * suspended, leaving any it found suspended as it was; then sets the alias's description to `description` with the
 * record of whatever could not be put back. Never throws: what failed is reported and returned.
 */
export async function releaseCapacity(capacity: Capacity, hold: Hold, description: string): Promise<Released> {
  const { ref, report } = capacity;
  if (isEmptyHold(hold)) return { left: {}, commands: [] };
  const commands: string[] = [];
  let leftPc: Hold['pc'];
  let leftScaling: Hold['scaling'];
  if (hold.pc !== undefined) {
    try {
      await capacity.pc.put(ref, hold.pc.restoreTo);
      report({ event: 'pc-restored', message: `provisioned concurrency of alias ${ref.alias} back to ${hold.pc.restoreTo} (from ${hold.pc.raisedTo})`, to: hold.pc.restoreTo, from: hold.pc.raisedTo });
    } catch (error) {
      leftPc = hold.pc;
      const command = pcCommand(ref.functionName, ref.alias, hold.pc.restoreTo);
      commands.push(command);
      report({ event: 'error', message: `could not put provisioned concurrency of alias ${ref.alias} back to ${hold.pc.restoreTo} (${errorText(error)}); run: ${command}`, commands: [command] });
    }
  }
  if (hold.scaling !== undefined && anySuspended(hold.scaling)) {
    const resourceId = scalingResourceId(ref);
    const ours = hold.scaling;
    try {
      const target = await readScalingTarget(capacity.scaling, ref);
      if (target.kind === 'unknown') throw new Error(target.reason);
      if (target.kind === 'none') {
        report({ event: 'warning', message: `scalable target ${resourceId} is gone: no scaling to resume`, resourceId });
      } else {
        const flags = resumedFlags(target.suspended, ours);
        await setScalingSuspended(capacity.scaling, ref, flags);
        const kept = anySuspended(flags) ? `; still suspended, as found: ${flagText(flags)}` : '';
        report({ event: 'scaling-resumed', message: `resumed scaling of ${resourceId} (${flagText(ours)})${kept}`, resourceId, resumed: ours, suspended: flags });
      }
    } catch (error) {
      leftScaling = ours;
      const command = scalingCommand(ref.functionName, ref.alias, resumedFlags(ALL_SUSPENDED, ours));
      commands.push(command);
      report({ event: 'error', message: `could not resume scaling of ${resourceId} (${errorText(error)}); run: ${command}`, commands: [command] });
    }
  }
  const left: Hold = { scaling: leftScaling, pc: leftPc };
  try {
    await setDescription(capacity.lambda, ref, withHold(description, left));
  } catch (error) {
    report({ event: 'warning', message: `could not update alias ${ref.alias}'s description (${errorText(error)}); it may still list what the rollout holds, which the next rollout would put back again` });
  }
  return { left, commands };
}
