/**
 * Canary traffic for quiet environments: during a step, a bounded number of golden-row requests to the alias, one
 * row each and spread over the step, so that an environment without users still gives the new version requests for
 * the canary analysis to judge. Lambda routes each request by the alias's weights, as it routes a user's; the
 * counts say which version answered and how.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { compareGolden } from '../build/golden-rows.js';
import type { Invoker } from './invoker.js';
import { oneRowGolden, predictEvent, readBatchAnswer } from './traffic-check.js';
import type { GoldenSet } from './traffic-check-golden.js';

/** At most this many requests per step: the sender is a stand-in for users, not a load test. */
export const MAX_CANARY_REQUESTS = 1000;

export interface CanaryTrafficOptions {
  readonly functionName: string;
  readonly alias: string;
  readonly golden: GoldenSet;
  /** How many requests to send, from 1 to MAX_CANARY_REQUESTS. */
  readonly requests: number;
  /** The time to spread them over (the step's interval), in milliseconds: the pause between two sends is spreadMs / requests. */
  readonly spreadMs: number;
  /** Stops sending; the counts so far are returned. */
  readonly signal?: AbortSignal;
  /** @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

/** How one version's requests went. */
export interface VersionCounts {
  /** Answered 200 within the golden tolerance. */
  matched: number;
  /** Answered 200 with values beyond the tolerance, or not as the golden model answers. */
  differed: number;
  /** Refused with a 4xx. */
  refused: number;
  /** Failed: a FunctionError, a 5xx, or an answer that is not an HTTP response. */
  failed: number;
}

export interface CanaryTrafficCounts {
  readonly sent: number;
  /** Invocations that Lambda itself refused (throttled, not found, a network error). */
  readonly notInvoked: number;
  /** Per executed version ("unknown" when Lambda did not say). */
  readonly byVersion: Readonly<Record<string, Readonly<VersionCounts>>>;
  /** True when `signal` stopped the sending before `requests` were sent. */
  readonly stopped: boolean;
}

/** Sends `requests` golden-row requests to the alias, spread over `spreadMs`; never throws for what the function answers. */
export async function sendCanaryTraffic(invoker: Invoker, options: CanaryTrafficOptions): Promise<CanaryTrafficCounts> {
  const { functionName, alias, golden: set, requests, spreadMs, signal } = options;
  if (!Number.isSafeInteger(requests) || requests < 1 || requests > MAX_CANARY_REQUESTS) {
    throw new RangeError(`requests is ${requests}; send from 1 to ${MAX_CANARY_REQUESTS} canary requests per step`);
  }
  if (!Number.isFinite(spreadMs) || spreadMs < 0) throw new RangeError(`spreadMs is ${spreadMs}; expected the milliseconds to spread the requests over, 0 or more`);
  const sleep = options.sleep ?? ((ms: number, s?: AbortSignal) => sleepFor(ms, undefined, s === undefined ? {} : { signal: s }));
  const pause = spreadMs / requests;
  const aborted = (): boolean => signal?.aborted === true;
  const byVersion: Record<string, VersionCounts> = {};
  let sent = 0;
  let notInvoked = 0;
  let stopped = false;
  const rows = set.golden.inputs.length;
  for (let i = 0; i < requests; i++) {
    if (i > 0) {
      try {
        await sleep(pause, signal);
      } catch (error) {
        if (!aborted()) throw error;
      }
    }
    if (aborted()) {
      stopped = true;
      break;
    }
    const row = i % rows;
    sent++;
    let result;
    try {
      result = await invoker.invoke(functionName, alias, predictEvent(JSON.stringify({ instances: [set.golden.inputs[row]] })), signal);
    } catch {
      if (aborted()) {
        stopped = true;
        break;
      }
      notInvoked++;
      continue;
    }
    const counts = (byVersion[result.executedVersion ?? 'unknown'] ??= { matched: 0, differed: 0, refused: 0, failed: 0 });
    const answer = readBatchAnswer(set.task, result, row, row);
    if (answer.kind === 'error') counts.failed++;
    else if (answer.kind === 'problem') {
      if (answer.problem.kind === 'refused') counts.refused++;
      else counts.differed++;
    } else {
      const comparison = compareGolden(oneRowGolden(set.golden, row), set.task, answer.outputs, (r, output) => (answer.outputs.all.includes(output) ? answer.values(r, output) : undefined));
      if (comparison.difference === undefined) counts.matched++;
      else counts.differed++;
    }
  }
  return { sent, notInvoked, byVersion, stopped };
}
