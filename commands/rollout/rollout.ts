/**
 * The rollout: shifts an alias from its version to a new one through the planned steps, one UpdateAlias at a time.
 * Between steps it waits the interval, polling the alarm gate; then it runs the canary analysis over the step. Any
 * alarm in ALARM, a failed analysis, too little traffic for too long, or an interrupt rolls the alias back to the
 * stable version with no weights. It never leaves weights set without printing how to resume or roll back.
 *
 * Around the steps it keeps the alias's warm capacity (capacity.ts): before the first weight it suspends the scaling
 * of the alias's provisioned concurrency and, with --raise-pc, raises that PC and waits until it is READY; after the
 * last step or a rollback it waits until Lambda reports no weights, then puts the PC back and resumes the scaling.
 *
 * Around the traffic, the bundle's golden rows (from the build record, traffic-check-golden.ts) check the answers
 * (traffic-check.ts): before any weight moves, the new version invoked directly must answer them within the bundle's
 * tolerance or it is refused at 0%; after the last step, the alias must. With --canary-requests, each step also
 * sends that many golden-row requests to the alias (traffic-check-canary.ts), so a quiet environment still gives the
 * canary analysis something to judge.
 *
 * The phases of a run, in order: read the alias and check where it stands; read the new version, the PC and the
 * scalable target; read the golden rows; print the plan; check the alarms; the pre-traffic check (the new version at
 * 0%); hold the capacity; the steps; at 100%: wait for the weights to clear, the post-traffic check (the alias), put
 * the capacity back.
 *
 * Outcomes and exit codes (SPEC "Rollout"): 0 promoted (or nothing to do), 2 rolled back, 1 could not run, or could
 * not put back what it held (the message gives the commands).
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DEFAULT_METRICS_NAMESPACE } from '../../functions/contract/env.js';
import { LAMBDA_NAMESPACE } from '../../functions/contract/metrics.js';
import { firingAlarms, type FiringAlarm } from './alarms.js';
import { analyse, type Thresholds } from './canary-analysis.js';
import { readWindow } from './canary-metrics.js';
import { holdCapacity, releaseCapacity, settle, type Capacity, type Released } from './capacity.js';
import { abortableSleep, errorText, Interrupted, type RolloutEvent } from './context.js';
import { PreconditionError, RolloutError } from './errors.js';
import { ALL_SUSPENDED, flagText, parseHold, planHold, promotedFrom, scalingCommand, withHold, withoutHold, type Hold, type HoldPlan } from './hold.js';
import { lambdaInvoker, type Invoker } from './invoker.js';
import { applyRouting, describeVersion, readAlias, type AliasRef, type AliasSnapshot } from './lambda-alias.js';
import { isPublishedVersion, outcomeDescription, readState, resumeIndex, rolledBackVersion, rollbackRouting, routingAt, weightFor, type RolloutState } from './plan.js';
import type { Progress } from './progress.js';
import { lambdaProvisionedConcurrency, pcText, readProvisionedConcurrency, type ProvisionedConcurrency, type ProvisionedConcurrencyApi } from './provisioned-concurrency.js';
import { recoveryCommands } from './recovery.js';
import { readScalingTarget, type ScalingTarget } from './scaling.js';
import { qualified, runTrafficCheck, type TrafficCheckVerdict } from './traffic-check.js';
import { sendCanaryTraffic, type CanaryTrafficCounts } from './traffic-check-canary.js';
import { loadGoldenSet, type GoldenLoad, type GoldenSet } from './traffic-check-golden.js';

export type { RolloutEvent };
export { recoveryCommands, stoppedAtOnceMessage } from './recovery.js';

export interface RolloutOptions {
  readonly functionName: string;
  readonly alias: string;
  /** The version to promote; with --resume or --rollback it may be left out (the alias's weights name it). */
  readonly to?: string | undefined;
  readonly steps: readonly number[];
  readonly intervalS: number;
  /** How often the alarms are read while a step waits (and PC or weights while the rollout waits for them). */
  readonly pollS: number;
  /** A step with too little traffic is extended up to this long in total, then rolled back. */
  readonly maxWaitS: number;
  readonly alarmPrefix?: string | undefined;
  /** Roll out a version the alias's description records as rolled back. */
  readonly retry?: boolean | undefined;
  /** The function's EMF namespace; read from the new version's METRICS_NAMESPACE when absent. */
  readonly namespace?: string | undefined;
  readonly thresholds: Thresholds;
  readonly dryRun: boolean;
  readonly resume: boolean;
  readonly rollback: boolean;
  /** Raise the alias's provisioned concurrency to this amount before the first weight; put it back at the end. */
  readonly raisePc?: number | undefined;
  /** How long a raised provisioned concurrency may take to become READY before the rollout gives up. */
  readonly pcTimeoutS: number;
  /** How long the alias may go on reporting the leaving version's weight after the last step or a rollback. */
  readonly settleTimeoutS: number;
  /** The build of the version rolled out (its folder or build.json), whose golden rows the traffic checks send. */
  readonly build: string;
  /** Go on without the pre- and post-traffic checks; every run says so in its output. */
  readonly skipTrafficCheck: boolean;
  /** Golden-row requests sent to the alias during each step, spread over it (0: none). */
  readonly canaryRequests: number;
}

export interface RolloutDeps {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /** Application Auto Scaling, where the alias's provisioned concurrency may be registered as a scalable target. */
  readonly scaling: ApplicationAutoScalingClient;
  /** The provisioned-concurrency calls: Lambda's, through `lambda`, unless given (moto has no PC API; tests simulate it). */
  readonly provisionedConcurrency?: ProvisionedConcurrencyApi | undefined;
  /** Invokes versions and the alias for the traffic checks: Lambda's Invoke, through `lambda`, unless given. */
  readonly invoker?: Invoker | undefined;
  readonly report: (event: RolloutEvent) => void;
  /** Where the rollout hands progress snapshots while it waits (progress.ts shows them). */
  readonly progress?: ((progress: Progress) => void) | undefined;
  /** Aborted on Ctrl-C: the rollout rolls back. */
  readonly signal?: AbortSignal | undefined;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RolloutResult {
  readonly code: 0 | 1 | 2;
  readonly outcome: 'promoted' | 'unchanged' | 'rolled-back' | 'planned' | 'failed' | 'interrupted';
  readonly message: string;
}

/** While a step waits, the requests each version served so far are read this often for the progress line. */
const PROGRESS_METRICS_EVERY_MS = 60_000;

function alarmText(alarms: readonly FiringAlarm[]): string {
  return alarms.map((alarm) => (alarm.reason === '' ? alarm.name : `${alarm.name} (${alarm.reason})`)).join('; ');
}

/** A result, turned into a failure (exit 1, with the commands) when what the rollout held could not all be put back. */
function withReleased(result: RolloutResult, released: Released | undefined): RolloutResult {
  if (released === undefined || released.commands.length === 0) return result;
  return { code: 1, outcome: 'failed', message: `${result.message}; but not everything the rollout held went back. Run: ${released.commands.join('  then  ')}` };
}

function capacityText(pc: ProvisionedConcurrency, target: ScalingTarget, plan: HoldPlan): string {
  const parts: string[] = [];
  if (pc.kind === 'configured') {
    parts.push(`provisioned concurrency ${pcText(pc)}${plan.raiseTo === undefined ? (plan.hold.pc === undefined ? ' kept' : `, raised from ${plan.hold.pc.restoreTo} by an earlier run`) : `, raised to ${plan.raiseTo} for the rollout`}`);
  }
  if (target.kind === 'registered') {
    const ours = plan.hold.scaling === undefined ? '' : `${plan.suspend ? 'suspended for the rollout' : 'suspended by an earlier run, resumed after this one'} (${flagText(plan.hold.scaling)})`;
    const foreign = plan.foreign === undefined ? '' : `already suspended, left as found (${flagText(plan.foreign)})`;
    parts.push(`scaling of ${target.resourceId}: ${[ours, foreign].filter((part) => part !== '').join('; ')}`);
  }
  return parts.length === 0 ? '' : `; ${parts.join('; ')}`;
}

export async function runRollout(options: RolloutOptions, deps: RolloutDeps): Promise<RolloutResult> {
  const now = deps.now ?? Date.now;
  const report = deps.report;
  const ref: AliasRef = { functionName: options.functionName, alias: options.alias };
  const capacity: Capacity = {
    ref,
    lambda: deps.lambda,
    scaling: deps.scaling,
    pc: deps.provisionedConcurrency ?? lambdaProvisionedConcurrency(deps.lambda),
    report,
    progress: deps.progress ?? (() => {}),
    now,
    sleep: deps.sleep ?? abortableSleep,
    pollMs: options.pollS * 1000,
  };

  let initial: AliasSnapshot;
  try {
    initial = await afterPromotion(capacity, await readAlias(deps.lambda, ref), options.settleTimeoutS, deps.signal);
  } catch (error) {
    if (!(error instanceof Interrupted)) throw error;
    report({ event: 'interrupted', message: `interrupted before anything changed; alias ${options.alias} unchanged` });
    return { code: 1, outcome: 'interrupted', message: 'interrupted' };
  }
  let state: RolloutState;
  try {
    state = readState(initial);
  } catch (error) {
    throw new PreconditionError(`alias ${options.alias} of ${options.functionName}: ${(error as Error).message}; fix the alias by hand`);
  }
  const stable = state.stable;
  if (!isPublishedVersion(stable)) {
    throw new PreconditionError(`alias ${options.alias} points at ${stable}, not a published version; Lambda routes weights only between published versions. Point it at one first (terraform apply publishes one)`);
  }
  /** What an earlier run held and did not put back (it died): this run takes it over. */
  const pending = parseHold(initial.description);
  /** The description as found, less that record: what it goes back to when this run ends before any weight moved. */
  const foundDescription = withoutHold(initial.description);
  const putBackPending = async (): Promise<Released | undefined> => {
    if (pending === undefined || options.dryRun) return undefined;
    report({ event: 'warning', message: `alias ${options.alias}'s description records what an earlier rollout held and did not put back: ${initial.description ?? ''}; putting it back` });
    return releaseCapacity(capacity, pending, foundDescription);
  };

  if (options.rollback) {
    if (state.canary === undefined) {
      const released = await putBackPending();
      report({ event: 'unchanged', message: `alias ${options.alias} serves version ${stable} with no weights: nothing to roll back`, version: stable });
      return withReleased({ code: 0, outcome: 'unchanged', message: 'nothing to roll back' }, released);
    }
    const canary = state.canary;
    const description = outcomeDescription('rolled back', canary.version, new Date(now()), 'by request (--rollback)');
    await applyRouting(deps.lambda, ref, rollbackRouting(stable), withHold(description, pending));
    await settleOrWarn(capacity, stable, canary.version, options.settleTimeoutS);
    const released = pending === undefined ? undefined : await releaseCapacity(capacity, pending, description);
    const message = `rolled back by request: alias ${options.alias} serves version ${stable} again; version ${canary.version} had ${(canary.weight * 100).toFixed(1)}%`;
    report({ event: 'rolled-back', message, stable, canary: canary.version, reason: 'requested' });
    return withReleased({ code: 2, outcome: 'rolled-back', message }, released);
  }

  if (state.canary !== undefined && options.to !== undefined && options.to !== state.canary.version) {
    throw new PreconditionError(
      `alias ${options.alias} routes ${(state.canary.weight * 100).toFixed(1)}% to version ${state.canary.version}, not to --to ${options.to}; finish or roll back that rollout first (--resume --to ${state.canary.version}, or --rollback)`,
    );
  }
  const to = options.to ?? state.canary?.version;
  if (to === undefined) {
    throw new PreconditionError(`alias ${options.alias} carries no weights, so there is no rollout to resume; give --to <version> to start one`);
  }
  const commands = recoveryCommands(options, to);
  if (state.canary !== undefined && !options.resume) {
    throw new PreconditionError(
      `alias ${options.alias} already routes ${(state.canary.weight * 100).toFixed(1)}% to version ${state.canary.version} (stable ${stable}): a rollout is in progress or was interrupted. Resume it: ${commands.resume}  Roll it back: ${commands.rollback}`,
    );
  }

  const target = await describeVersion(deps.lambda, options.functionName, to);
  if (state.canary === undefined) {
    if (stable === to) {
      const released = await putBackPending();
      const message = `alias ${options.alias} already serves version ${to} with no weights: nothing to do`;
      report({ event: 'unchanged', message, version: to });
      return withReleased({ code: 0, outcome: 'unchanged', message }, released);
    }
    if (options.resume) {
      throw new PreconditionError(`alias ${options.alias} serves version ${stable} with no weights, so there is no rollout of version ${to} to resume; run without --resume to start one`);
    }
    const rolledBack = rolledBackVersion(initial.description);
    if (rolledBack !== undefined && rolledBack.version === to && options.retry !== true) {
      throw new PreconditionError(`version ${to} was rolled back before (alias ${options.alias}'s description: "${rolledBack.record}"); publish a fixed version, or roll this one out again with --retry`);
    }
  }

  const pc = await readProvisionedConcurrency(capacity.pc, ref);
  const scalingTarget = await readScalingTarget(deps.scaling, ref);
  checkRaise(options, pc, state, pending);
  if (pc.kind === 'unknown') {
    report({ event: 'warning', message: `could not read the alias's provisioned concurrency (${pc.reason}); the rollout leaves it as it is` });
  }
  if (scalingTarget.kind === 'unknown') {
    report({
      event: 'warning',
      message: `could not read the scalable target ${scalingTarget.resourceId} (${scalingTarget.reason}); if the alias's provisioned concurrency is auto scaled, its scaling fails while the alias has weights: suspend it by hand for the rollout (${scalingCommand(options.functionName, options.alias, ALL_SUSPENDED)}) and resume it after`,
    });
  }
  const plan = planHold({
    scaling: scalingTarget.kind === 'registered' ? scalingTarget.suspended : undefined,
    pc: pc.kind === 'configured' ? pc.requested : undefined,
    raisePc: options.raisePc,
    pending,
  });
  const hold: Hold = plan.hold;
  const golden = readGolden(options);
  const goldenSet: GoldenSet | undefined = golden.kind === 'rows' ? golden.set : undefined;
  if (options.canaryRequests > 0 && goldenSet === undefined) {
    throw new PreconditionError(`--canary-requests ${options.canaryRequests} sends the build's golden rows, and there are none (${golden.kind === 'skipped' ? golden.reason : ''}); drop --canary-requests or give the build's golden rows`);
  }
  const invoker = deps.invoker ?? lambdaInvoker(deps.lambda);
  /** Sends the golden rows to `qualifier`: the verdict, and why it refuses (undefined when it passes). */
  const checkAnswers = async (qualifier: string, set: GoldenSet): Promise<{ readonly verdict: TrafficCheckVerdict; readonly refusal: string | undefined }> => {
    const verdict = await runTrafficCheck(invoker, { functionName: options.functionName, qualifier, golden: set, ...(deps.signal === undefined ? {} : { signal: deps.signal }) });
    return { verdict, refusal: verdict.outcome === 'passed' ? servesOtherModel(verdict, set) : verdict.message };
  };

  const namespace = options.namespace ?? target.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
  const startAt = state.canary === undefined ? 0 : resumeIndex(options.steps, state.canary.weight);
  report({
    event: 'plan',
    message: `${options.resume ? 'resuming' : 'rolling out'} version ${to} on alias ${options.alias} of ${target.functionName} (stable ${stable}): steps ${options.steps.slice(startAt).map((p) => `${p}%`).join(' → ')}, ${options.intervalS} s each; alarms ${options.alarmPrefix === undefined ? 'not checked (no --alarm-prefix)' : `"${options.alarmPrefix}*"`}; canary analysis ${options.thresholds.minRequests === 0 ? 'off (--min-requests 0)' : `after ${options.thresholds.minRequests} requests, metrics in ${namespace} and ${LAMBDA_NAMESPACE}`}${capacityText(pc, scalingTarget, plan)}; ${trafficCheckText(golden, options.canaryRequests)}`,
    functionName: target.functionName,
    alias: options.alias,
    stable,
    canary: to,
    steps: options.steps,
    startStep: startAt + 1,
    weights: options.steps.map(weightFor),
    intervalS: options.intervalS,
    namespace,
    provisionedConcurrency: pc.kind === 'configured' ? { requested: pc.requested, allocated: pc.allocated, status: pc.status, raiseTo: plan.raiseTo } : pc.kind,
    scaling: scalingTarget.kind === 'registered' ? { resourceId: scalingTarget.resourceId, suspended: scalingTarget.suspended, suspendForRollout: plan.hold.scaling, leftAsFound: plan.foreign } : scalingTarget.kind,
    trafficCheck: goldenSet === undefined ? { skipped: golden.kind === 'skipped' ? golden.reason : '' } : { model: goldenSet.model, rows: goldenSet.golden.inputs.length, file: goldenSet.file },
    canaryRequests: options.canaryRequests,
  });
  if (options.dryRun) return { code: 0, outcome: 'planned', message: 'dry run: nothing changed' };

  const alarmsFiring = async (): Promise<FiringAlarm[]> => (options.alarmPrefix === undefined ? [] : firingAlarms(deps.cloudwatch, options.alarmPrefix));

  if (state.canary === undefined) {
    const before = await alarmsFiring();
    if (before.length > 0) {
      throw new PreconditionError(`alarms are already in ALARM before the rollout: ${alarmText(before)}; the canary could not be judged. Fix them, or narrow --alarm-prefix`);
    }
  }

  // The pre-traffic check, for a new rollout (no weights yet): at 0% and before any capacity is held, so that a
  // refusal leaves nothing to put back.
  if (state.canary === undefined && goldenSet !== undefined) {
    let checked: Awaited<ReturnType<typeof checkAnswers>>;
    try {
      checked = await checkAnswers(to, goldenSet);
    } catch (error) {
      if (deps.signal?.aborted !== true) throw error;
      const message = `interrupted during the pre-traffic check; alias ${options.alias} unchanged on version ${stable}`;
      report({ event: 'interrupted', message });
      return { code: 1, outcome: 'interrupted', message };
    }
    const { verdict, refusal } = checked;
    report({ event: 'pre-traffic-check', message: `pre-traffic check: ${refusal ?? verdict.message}`, outcome: refusal === undefined ? 'passed' : 'refused', verdict });
    if (refusal !== undefined) {
      const message = `refused at 0%: alias ${options.alias} serves version ${stable}, no weight was set. Reason: ${refusal}`;
      report({ event: 'rolled-back', message, stable, canary: to, reason: refusal, step: 0 });
      return { code: 2, outcome: 'rolled-back', message };
    }
  }

  let shifted = state.canary !== undefined;
  /** Ends a run in which no weight moved: puts back what it held, and the description as found. */
  const endUnshifted = (): Promise<Released> => releaseCapacity(capacity, hold, foundDescription);
  const rollBack = async (reason: string, detail: Record<string, unknown>): Promise<RolloutResult> => {
    const description = outcomeDescription('rolled back', to, new Date(now()), reason);
    try {
      await applyRouting(deps.lambda, ref, rollbackRouting(stable), withHold(description, hold));
    } catch (error) {
      const message = `rollback of alias ${options.alias} to version ${stable} FAILED (${error instanceof Error ? error.message : String(error)}) after: ${reason}. Run: ${commands.rollback}`;
      report({ event: 'error', message, stable, canary: to });
      return { code: 1, outcome: 'failed', message };
    }
    await settleOrWarn(capacity, stable, to, options.settleTimeoutS);
    const released = await releaseCapacity(capacity, hold, description);
    const message = `rolled back: alias ${options.alias} serves version ${stable} again, no weights. Reason: ${reason}`;
    report({ event: 'rolled-back', message, stable, canary: to, reason, ...detail });
    return withReleased({ code: 2, outcome: 'rolled-back', message }, released);
  };

  try {
    const ready = await holdCapacity(capacity, plan, `rollout: rolling out version ${to} from ${stable} at ${new Date(now()).toISOString().slice(0, 19)}Z`, options.pcTimeoutS, deps.signal);
    if (!ready.ok) {
      if (shifted) return await rollBack(ready.reason, {});
      const released = await endUnshifted();
      const message = `rolled back before any weight moved: alias ${options.alias} serves version ${stable}, no weights. Reason: ${ready.reason}`;
      report({ event: 'rolled-back', message, stable, canary: to, reason: ready.reason, step: 0 });
      return withReleased({ code: 2, outcome: 'rolled-back', message }, released);
    }

    for (let index = startAt; index < options.steps.length; index += 1) {
      const percent = options.steps[index] as number;
      const routing = routingAt(stable, to, percent);
      const promotion = outcomeDescription('promoted', to, new Date(now()), `from version ${stable}, steps ${options.steps.join(',')}`);
      let changed: boolean;
      try {
        changed = await applyRouting(deps.lambda, ref, routing, percent === 100 ? withHold(promotion, hold) : undefined);
      } catch (error) {
        if (!shifted) throw new RolloutError(`could not move alias ${options.alias} to ${percent}% on version ${to}: ${errorText(error)}; the alias is unchanged on version ${stable}`);
        return await rollBack(`applying step ${index + 1} (${percent}%) failed: ${errorText(error)}`, { step: index + 1 });
      }
      shifted = true;
      report({
        event: 'step',
        message: `step ${index + 1}/${options.steps.length}: ${percent}% of alias ${options.alias} on version ${to} (stable ${stable})${changed ? '' : ', already set'}`,
        step: index + 1,
        percent,
        weight: weightFor(percent),
        routing,
        changed,
      });
      if (percent === 100) {
        await settleOrWarn(capacity, to, stable, options.settleTimeoutS);
        if (goldenSet !== undefined) {
          // The alias serves the new version alone here, and the capacity is still held: rollBack() still works.
          const { verdict, refusal } = await checkAnswers(options.alias, goldenSet);
          report({ event: 'post-traffic-check', message: `post-traffic check: ${refusal ?? verdict.message}`, outcome: refusal === undefined ? 'passed' : 'failed', verdict });
          if (refusal !== undefined) return await rollBack(`post-traffic check: ${refusal}`, { step: index + 1 });
        }
        const released = await releaseCapacity(capacity, hold, promotion);
        const message = `promoted: alias ${options.alias} serves version ${to}, no weights (was ${stable})`;
        report({ event: 'promoted', message, version: to, previous: stable });
        return withReleased({ code: 0, outcome: 'promoted', message }, released);
      }

      const stepStart = now();
      let windowEnd = stepStart + options.intervalS * 1000;
      const metricsTarget = { functionName: target.functionName, alias: options.alias, namespace };
      let served: { canary: number; stable: number } | undefined;
      let servedAt = stepStart;
      const alarmState = options.alarmPrefix === undefined ? 'unchecked' : 'ok';
      /** Hands out a snapshot; with someone to show it to, the requests served are read once a minute meanwhile. */
      const progress = async (): Promise<void> => {
        if (deps.progress === undefined) return;
        if (now() - servedAt >= PROGRESS_METRICS_EVERY_MS) {
          servedAt = now();
          try {
            const window = await readWindow(deps.cloudwatch, metricsTarget, [to, stable], new Date(stepStart), new Date(now()));
            served = { canary: window.stats[0]?.requests ?? 0, stable: window.stats[1]?.requests ?? 0 };
          } catch {
            // progress only: the analysis reads the metrics again, and fails there if it must
          }
        }
        deps.progress({ phase: 'step', step: index + 1, steps: options.steps.length, percent, canary: to, stable, endsAt: windowEnd, served, alarms: alarmState });
      };
      await progress();
      // Observation rounds, one interval each: counted rather than timed, so a slow API never cuts a step short.
      const rounds = Math.max(1, Math.floor(options.maxWaitS / Math.max(options.intervalS, Number.EPSILON)));
      for (let round = 1; ; round += 1) {
        const traffic = goldenSet === undefined || options.canaryRequests === 0 ? undefined : startCanaryTraffic(invoker, options, goldenSet, windowEnd - now(), deps.signal);
        // Alarms are read after every poll, and at least once per round (an --interval of 0 waits not at all).
        let observed = false;
        try {
          do {
            const remaining = windowEnd - now();
            if (remaining > 0) await capacity.sleep(Math.min(options.pollS * 1000, remaining), deps.signal);
            const firing = await alarmsFiring();
            if (firing.length > 0) return await rollBack(`alarm in ALARM during step ${index + 1} (${percent}%): ${alarmText(firing)}`, { step: index + 1, alarms: firing });
            await progress();
          } while (now() < windowEnd);
          observed = true;
        } finally {
          // A round cut short (rollback, Ctrl-C) stops the traffic; a finished one lets the requests in flight answer.
          if (!observed) traffic?.stop();
        }
        if (traffic !== undefined) {
          const counts = await traffic.counts;
          const differed = counts.byVersion[to]?.differed ?? 0;
          report({ event: 'canary-traffic', message: `step ${index + 1}: sent ${counts.sent} golden-row requests to alias ${options.alias}: ${countsText(counts)}`, step: index + 1, ...counts });
          if (differed > 0) return await rollBack(`canary traffic at step ${index + 1} (${percent}%): version ${to} answered ${differed} golden row(s) beyond the bundle's tolerance`, { step: index + 1 });
        }
        if (options.thresholds.minRequests === 0) {
          report({ event: 'analysis', message: `step ${index + 1}: alarms stayed OK; no canary comparison (--min-requests 0)`, outcome: 'pass', step: index + 1, percent, comparisons: [], notes: ['--min-requests 0: alarms alone decide'] });
          break;
        }
        const window = await readWindow(deps.cloudwatch, metricsTarget, [to, stable], new Date(stepStart), new Date(now()));
        const [canaryStats, stableStats] = window.stats as [typeof window.stats[0], typeof window.stats[0]];
        served = { canary: canaryStats.requests, stable: stableStats.requests };
        servedAt = now();
        const verdict = analyse(canaryStats, stableStats, options.thresholds);
        const notes = window.percentileNote === undefined ? verdict.notes : [window.percentileNote, ...verdict.notes];
        const detail = { step: index + 1, percent, canary: canaryStats, stable: stableStats, comparisons: verdict.comparisons, notes };
        const compared = verdict.comparisons.map((c) => `${c.metric} ${c.passed ? 'ok' : 'FAILED'}`).join(', ');
        if (verdict.outcome === 'fail') {
          report({ event: 'analysis', message: `step ${index + 1}: canary analysis failed: ${verdict.reason}`, outcome: 'fail', ...detail });
          return await rollBack(`canary analysis at step ${index + 1} (${percent}%): ${verdict.reason}`, { step: index + 1 });
        }
        if (verdict.outcome === 'pass') {
          report({ event: 'analysis', message: `step ${index + 1}: canary analysis passed (${compared === '' ? 'no comparison' : compared})${notes.length === 0 ? '' : `; ${notes.join('; ')}`}`, outcome: 'pass', ...detail });
          break;
        }
        const waited = (now() - stepStart) / 1000;
        if (round >= rounds) {
          report({ event: 'analysis', message: `step ${index + 1}: ${verdict.reason} after ${Math.round(waited)} s`, outcome: 'wait', ...detail });
          return await rollBack(`too little traffic to judge version ${to}: ${verdict.reason} in ${Math.round(waited)} s (--max-wait ${options.maxWaitS} s)`, { step: index + 1 });
        }
        report({ event: 'extend', message: `step ${index + 1}: ${verdict.reason}; extending the step by ${options.intervalS} s`, outcome: 'wait', ...detail });
        windowEnd = now() + options.intervalS * 1000;
        await progress();
      }
    }
  } catch (error) {
    if (shifted) {
      if (error instanceof Interrupted) return await rollBack('interrupted (Ctrl-C or SIGTERM)', {});
      return await rollBack(`the rollout could not go on (${errorText(error)}); traffic goes back rather than stay unjudged`, {});
    }
    const released = await endUnshifted();
    if (error instanceof Interrupted) {
      const message = `interrupted before any traffic moved; alias ${options.alias} unchanged on version ${stable}`;
      report({ event: 'interrupted', message });
      return withReleased({ code: 1, outcome: 'interrupted', message }, released);
    }
    const text = error instanceof RolloutError ? error.message : `could not prepare the rollout: ${errorText(error)}`;
    throw new RolloutError(withReleased({ code: 1, outcome: 'failed', message: text }, released).message);
  }
  throw new RolloutError('no steps to run');
}

/** The build's golden rows, or why the traffic checks go without them. */
function readGolden(options: RolloutOptions): GoldenLoad {
  if (options.skipTrafficCheck) return { kind: 'skipped', reason: '--skip-traffic-check' };
  return loadGoldenSet(options.build, { howToSkip: 'pass --skip-traffic-check (the output records it)' });
}

/** A check whose answers came from another model than the build's: the build record names the wrong build. */
function servesOtherModel(verdict: TrafficCheckVerdict, golden: GoldenSet): string | undefined {
  const others = verdict.modelVersions.filter((model) => model !== golden.model);
  if (others.length === 0) return undefined;
  return `${qualified(verdict.functionName, verdict.qualifier)} answers as model ${others.join(', ')}, but the golden rows are of ${golden.model} (${golden.file}); give --build the build of the version rolled out`;
}

function trafficCheckText(golden: GoldenLoad, canaryRequests: number): string {
  if (golden.kind === 'skipped') return `traffic checks SKIPPED (${golden.reason}): nothing compares the new version's answers with the build's golden rows`;
  const canary = canaryRequests === 0 ? '' : `, and ${canaryRequests} of them to the alias in each step`;
  return `traffic checks: the ${golden.set.golden.inputs.length} golden rows of ${golden.set.model} (${golden.set.file}) to the new version before the first weight and to the alias after the last step${canary}`;
}

function countsText(counts: CanaryTrafficCounts): string {
  const versions = Object.entries(counts.byVersion).map(([version, c]) => `version ${version} ${c.matched} matched, ${c.differed} differed, ${c.refused} refused, ${c.failed} failed`);
  return [...versions, ...(counts.notInvoked > 0 ? [`${counts.notInvoked} not invoked`] : [])].join('; ') || 'none answered';
}

/** Golden-row requests to the alias over the rest of a round; stop() ends them early, when the round is cut short. */
function startCanaryTraffic(invoker: Invoker, options: RolloutOptions, golden: GoldenSet, spreadMs: number, signal: AbortSignal | undefined): { readonly counts: Promise<CanaryTrafficCounts>; stop(): void } {
  const round = new AbortController();
  const stopping = signal === undefined ? round.signal : AbortSignal.any([signal, round.signal]);
  const counts = sendCanaryTraffic(invoker, { functionName: options.functionName, alias: options.alias, golden, requests: options.canaryRequests, spreadMs: Math.max(0, spreadMs), signal: stopping });
  counts.catch(() => undefined); // awaited when the round ends normally; a round cut short by a rollback drops it
  return { counts, stop: () => round.abort() };
}

/** --raise-pc needs PC it can read and raise; Lambda refuses a PC change while the alias has weights. */
function checkRaise(options: RolloutOptions, pc: ProvisionedConcurrency, state: RolloutState, pending: Hold | undefined): void {
  const amount = options.raisePc;
  if (amount === undefined) return;
  if (pc.kind === 'unknown') {
    throw new PreconditionError(`--raise-pc ${amount}: could not read alias ${options.alias}'s provisioned concurrency (${pc.reason}); the rollout raises only PC it can read. Check lambda:GetProvisionedConcurrencyConfig, or leave --raise-pc out`);
  }
  if (pc.kind === 'none') {
    throw new PreconditionError(`--raise-pc ${amount}: alias ${options.alias} has no provisioned concurrency to raise; Terraform owns it (provisionedConcurrency in infra/config.ts). Leave --raise-pc out, or give the environment PC first`);
  }
  if (state.canary !== undefined && pc.requested < amount && (pending?.pc?.raisedTo ?? 0) < amount) {
    throw new PreconditionError(
      `--raise-pc ${amount}: alias ${options.alias} carries weights (${(state.canary.weight * 100).toFixed(1)}% on version ${state.canary.version}), and Lambda refuses to resize provisioned concurrency on an alias with weights ("Alias with weights can not be used with Provisioned Concurrency"); it has ${pc.requested}. Resume without --raise-pc, or roll back (--rollback) and start again with it`,
    );
  }
}

/**
 * After an alias moved to a version with no weights: waits until Lambda reports none (settle), and says so when it
 * does not. Never throws and takes no abort signal: traffic has already moved, and a Ctrl-C must not undo it.
 */
async function settleOrWarn(capacity: Capacity, version: string, leaving: string, timeoutS: number): Promise<void> {
  try {
    const settled = await settle(capacity, version, leaving, timeoutS);
    if (settled.kind === 'timeout') {
      const weights = Object.entries(settled.weights).map(([v, w]) => `${(w * 100).toFixed(1)}% on version ${v}`).join(', ');
      capacity.report({ event: 'warning', message: `alias ${capacity.ref.alias} still reports ${weights} ${timeoutS} s after moving to version ${version} (--settle-timeout); Lambda clears that entry itself, but a provisioned-concurrency change may be refused until it does`, weights: settled.weights });
    } else if (settled.kind === 'changed') {
      capacity.report({ event: 'warning', message: `alias ${capacity.ref.alias} changed while the rollout waited for its weights to clear: version ${settled.alias.version}, weights ${JSON.stringify(settled.alias.weights)}; someone else moved it` });
    }
  } catch (error) {
    capacity.report({ event: 'warning', message: `could not read alias ${capacity.ref.alias} to see its weights clear (${errorText(error)})` });
  }
}

/**
 * Right after a promotion on an alias with provisioned concurrency, Lambda can still report a weight on the version
 * the promotion left (the alias's description names both): that entry is waited out, so it is not taken for a rollout
 * in progress. Any other weight is returned as found.
 */
async function afterPromotion(capacity: Capacity, alias: AliasSnapshot, timeoutS: number, signal: AbortSignal | undefined): Promise<AliasSnapshot> {
  const versions = Object.entries(alias.weights).filter(([, weight]) => weight > 0).map(([version]) => version);
  const promoted = promotedFrom(alias.description);
  if (versions.length !== 1 || promoted === undefined || promoted.version !== alias.version || promoted.from !== versions[0]) return alias;
  capacity.report({ event: 'warning', message: `alias ${capacity.ref.alias} still reports a weight on version ${promoted.from}, which the last rollout promoted it from (Lambda's own entry on an alias with provisioned concurrency); waiting up to ${timeoutS} s for it to clear` });
  const settled = await settle(capacity, alias.version, promoted.from, timeoutS, signal);
  return settled.kind === 'clear' ? readAlias(capacity.lambda, capacity.ref) : alias;
}
