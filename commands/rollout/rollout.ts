/**
 * The rollout: shifts an alias from its version to a new one through the planned steps, one UpdateAlias at a time.
 * Between steps it waits the interval, polling the alarm gate; then it runs the canary analysis over the step. Any
 * alarm in ALARM, a failed analysis, too little traffic for too long, or an interrupt rolls the alias back to the
 * stable version with no weights. It never leaves weights set without printing how to resume or roll back.
 *
 * Outcomes and exit codes (SPEC "Rollout"): 0 promoted (or nothing to do), 2 rolled back, 1 could not run.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DEFAULT_METRICS_NAMESPACE } from '../../functions/contract/env.js';
import { LAMBDA_NAMESPACE } from '../../functions/contract/metrics.js';
import { firingAlarms, type FiringAlarm } from './alarms.js';
import { analyse, type Thresholds } from './canary-analysis.js';
import { readWindow } from './canary-metrics.js';
import { PreconditionError, RolloutError } from './errors.js';
import { applyRouting, describeVersion, provisionedConcurrency, readAlias, type AliasRef } from './lambda-alias.js';
import { isPublishedVersion, outcomeDescription, readState, resumeIndex, rolledBackVersion, rollbackRouting, routingAt, weightFor, type RolloutState } from './plan.js';

export interface RolloutOptions {
  readonly functionName: string;
  readonly alias: string;
  /** The version to promote; with --resume or --rollback it may be left out (the alias's weights name it). */
  readonly to?: string | undefined;
  readonly steps: readonly number[];
  readonly intervalS: number;
  /** How often the alarms are read while a step waits. */
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
}

export type RolloutEvent = { readonly event: string; readonly message: string } & Record<string, unknown>;

export interface RolloutDeps {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  readonly report: (event: RolloutEvent) => void;
  /** Aborted on Ctrl-C: the rollout rolls back. */
  readonly signal?: AbortSignal | undefined;
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RolloutResult {
  readonly code: 0 | 1 | 2;
  readonly outcome: 'promoted' | 'unchanged' | 'rolled-back' | 'planned' | 'failed';
  readonly message: string;
}

class Interrupted extends Error {}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Interrupted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function quote(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The exact commands that resume or roll back this rollout, for every message that leaves weights set. */
export function recoveryCommands(options: RolloutOptions, to: string): { resume: string; rollback: string } {
  const base = `npm run rollout -- --function ${quote(options.functionName)} --alias ${quote(options.alias)}`;
  const extra = [`--steps ${options.steps.join(',')}`, `--interval ${options.intervalS}`, `--min-requests ${options.thresholds.minRequests}`];
  if (options.alarmPrefix !== undefined) extra.push(`--alarm-prefix ${quote(options.alarmPrefix)}`);
  return { resume: `${base} --to ${quote(to)} ${extra.join(' ')} --resume`, rollback: `${base} --rollback` };
}

function alarmText(alarms: readonly FiringAlarm[]): string {
  return alarms.map((alarm) => (alarm.reason === '' ? alarm.name : `${alarm.name} (${alarm.reason})`)).join('; ');
}

export async function runRollout(options: RolloutOptions, deps: RolloutDeps): Promise<RolloutResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const report = deps.report;
  const ref: AliasRef = { functionName: options.functionName, alias: options.alias };

  const initial = await readAlias(deps.lambda, ref);
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

  if (options.rollback) {
    if (state.canary === undefined) {
      report({ event: 'unchanged', message: `alias ${options.alias} serves version ${stable} with no weights: nothing to roll back`, version: stable });
      return { code: 0, outcome: 'unchanged', message: 'nothing to roll back' };
    }
    await applyRouting(deps.lambda, ref, rollbackRouting(stable), outcomeDescription('rolled back', state.canary.version, new Date(now()), 'by request (--rollback)'));
    const message = `rolled back by request: alias ${options.alias} serves version ${stable} again; version ${state.canary.version} had ${(state.canary.weight * 100).toFixed(1)}%`;
    report({ event: 'rolled-back', message, stable, canary: state.canary.version, reason: 'requested' });
    return { code: 2, outcome: 'rolled-back', message };
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
      const message = `alias ${options.alias} already serves version ${to} with no weights: nothing to do`;
      report({ event: 'unchanged', message, version: to });
      return { code: 0, outcome: 'unchanged', message };
    }
    if (options.resume) {
      throw new PreconditionError(`alias ${options.alias} serves version ${stable} with no weights, so there is no rollout of version ${to} to resume; run without --resume to start one`);
    }
    const rolledBack = rolledBackVersion(initial.description);
    if (rolledBack !== undefined && rolledBack.version === to && options.retry !== true) {
      throw new PreconditionError(`version ${to} was rolled back before (alias ${options.alias}'s description: "${rolledBack.record}"); publish a fixed version, or roll this one out again with --retry`);
    }
  }

  const pc = await provisionedConcurrency(deps.lambda, ref);
  if (pc.kind === 'configured' && state.canary === undefined) {
    throw new PreconditionError(
      `alias ${options.alias} has provisioned concurrency (${pc.requested}, ${pc.status}), and Lambda refuses weights on an alias with provisioned concurrency. Remove it for the rollout (provisionedConcurrency in infra/config.ts, then npm run deploy), roll out, then set it again; or promote without steps: --steps 100`,
    );
  }
  if (pc.kind === 'unknown') {
    report({ event: 'warning', message: `could not read the alias's provisioned concurrency (${pc.reason}); if it has some, Lambda will refuse the first weighted step and the alias stays on version ${stable}` });
  }

  const namespace = options.namespace ?? target.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
  const startAt = state.canary === undefined ? 0 : resumeIndex(options.steps, state.canary.weight);
  report({
    event: 'plan',
    message: `${options.resume ? 'resuming' : 'rolling out'} version ${to} on alias ${options.alias} of ${target.functionName} (stable ${stable}): steps ${options.steps.slice(startAt).map((p) => `${p}%`).join(' → ')}, ${options.intervalS} s each; alarms ${options.alarmPrefix === undefined ? 'not checked (no --alarm-prefix)' : `"${options.alarmPrefix}*"`}; canary analysis ${options.thresholds.minRequests === 0 ? 'off (--min-requests 0)' : `after ${options.thresholds.minRequests} requests, metrics in ${namespace} and ${LAMBDA_NAMESPACE}`}`,
    functionName: target.functionName,
    alias: options.alias,
    stable,
    canary: to,
    steps: options.steps,
    startStep: startAt + 1,
    weights: options.steps.map(weightFor),
    intervalS: options.intervalS,
    namespace,
  });
  if (options.dryRun) return { code: 0, outcome: 'planned', message: 'dry run: nothing changed' };

  const alarmsFiring = async (): Promise<FiringAlarm[]> => (options.alarmPrefix === undefined ? [] : firingAlarms(deps.cloudwatch, options.alarmPrefix));

  if (state.canary === undefined) {
    const before = await alarmsFiring();
    if (before.length > 0) {
      throw new PreconditionError(`alarms are already in ALARM before the rollout: ${alarmText(before)}; the canary could not be judged. Fix them, or narrow --alarm-prefix`);
    }
  }

  let shifted = state.canary !== undefined;
  const rollBack = async (reason: string, detail: Record<string, unknown>): Promise<RolloutResult> => {
    try {
      await applyRouting(deps.lambda, ref, rollbackRouting(stable), outcomeDescription('rolled back', to, new Date(now()), reason));
    } catch (error) {
      const message = `rollback of alias ${options.alias} to version ${stable} FAILED (${error instanceof Error ? error.message : String(error)}) after: ${reason}. Run: ${commands.rollback}`;
      report({ event: 'error', message, stable, canary: to });
      return { code: 1, outcome: 'failed', message };
    }
    const message = `rolled back: alias ${options.alias} serves version ${stable} again, no weights. Reason: ${reason}`;
    report({ event: 'rolled-back', message, stable, canary: to, reason, ...detail });
    return { code: 2, outcome: 'rolled-back', message };
  };

  try {
    for (let index = startAt; index < options.steps.length; index += 1) {
      const percent = options.steps[index] as number;
      const routing = routingAt(stable, to, percent);
      let changed: boolean;
      try {
        changed = await applyRouting(deps.lambda, ref, routing, percent === 100 ? outcomeDescription('promoted', to, new Date(now()), `from version ${stable}, steps ${options.steps.join(',')}`) : undefined);
      } catch (error) {
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (!shifted) throw new RolloutError(`could not move alias ${options.alias} to ${percent}% on version ${to}: ${text}; the alias is unchanged on version ${stable}`);
        return await rollBack(`applying step ${index + 1} (${percent}%) failed: ${text}`, { step: index + 1 });
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
        const message = `promoted: alias ${options.alias} serves version ${to}, no weights (was ${stable})`;
        report({ event: 'promoted', message, version: to, previous: stable });
        return { code: 0, outcome: 'promoted', message };
      }

      const stepStart = now();
      let windowEnd = stepStart + options.intervalS * 1000;
      // Observation rounds, one interval each: counted rather than timed, so a slow API never cuts a step short.
      const rounds = Math.max(1, Math.floor(options.maxWaitS / Math.max(options.intervalS, Number.EPSILON)));
      for (let round = 1; ; round += 1) {
        // Alarms are read after every poll, and at least once per round (an --interval of 0 waits not at all).
        do {
          const remaining = windowEnd - now();
          if (remaining > 0) await sleep(Math.min(options.pollS * 1000, remaining), deps.signal);
          const firing = await alarmsFiring();
          if (firing.length > 0) return await rollBack(`alarm in ALARM during step ${index + 1} (${percent}%): ${alarmText(firing)}`, { step: index + 1, alarms: firing });
        } while (now() < windowEnd);
        if (options.thresholds.minRequests === 0) {
          report({ event: 'analysis', message: `step ${index + 1}: alarms stayed OK; no canary comparison (--min-requests 0)`, outcome: 'pass', step: index + 1, percent, comparisons: [], notes: ['--min-requests 0: alarms alone decide'] });
          break;
        }
        const window = await readWindow(deps.cloudwatch, { functionName: target.functionName, alias: options.alias, namespace }, [to, stable], new Date(stepStart), new Date(now()));
        const [canaryStats, stableStats] = window.stats as [typeof window.stats[0], typeof window.stats[0]];
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
      }
    }
  } catch (error) {
    if (error instanceof Interrupted) {
      if (!shifted) {
        report({ event: 'interrupted', message: `interrupted before any traffic moved; alias ${options.alias} unchanged on version ${stable}` });
        return { code: 1, outcome: 'failed', message: 'interrupted' };
      }
      return await rollBack('interrupted (Ctrl-C or SIGTERM)', {});
    }
    if (!shifted) throw error;
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return await rollBack(`the rollout could not go on (${text}); traffic goes back rather than stay unjudged`, {});
  }
  throw new RolloutError('no steps to run');
}
