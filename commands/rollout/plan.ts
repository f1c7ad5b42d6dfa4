/**
 * Pure planning: which weights a rollout applies, and where a rollout stands judging by the alias alone. No AWS
 * calls here, so every rule is unit-tested.
 *
 * A step is the percent of the alias's traffic on the new version. Below 100 the alias stays on the stable version
 * and routes `percent / 100` to the new one through `RoutingConfig.AdditionalVersionWeights`; at 100 the alias
 * points at the new version with no weights left. The alias itself is the rollout's state: stable version =
 * `FunctionVersion`, new version and progress = the one additional weight. That is why a crashed run can be resumed
 * or rolled back from any machine.
 */

/** Lambda stores weights as doubles; five decimals keep 0.1% steps exact and comparisons stable. */
const WEIGHT_DECIMALS = 5;

/** What the alias points at: `weights` maps an additional version to its share, 0..1. */
export interface AliasRouting {
  readonly version: string;
  readonly weights: Readonly<Record<string, number>>;
}

/** The alias read as a rollout: `canary` is absent when the alias carries no weights. */
export interface RolloutState {
  readonly stable: string;
  readonly canary?: { readonly version: string; readonly weight: number } | undefined;
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

const VERSION = /^[1-9][0-9]*$/;

/** True for a published version number ("7"); `$LATEST` and aliases are not versions a weighted alias accepts. */
export function isPublishedVersion(value: string): boolean {
  return VERSION.test(value);
}

/**
 * Checks a step list: percents above 0, strictly increasing, ending at 100 (the step that promotes). Returns a
 * frozen copy.
 */
export function planSteps(steps: readonly number[]): readonly number[] {
  if (steps.length === 0) throw new PlanError('no steps; give percents of traffic on the new version ending at 100, such as 10,50,100');
  steps.forEach((percent, i) => {
    if (!Number.isFinite(percent) || percent <= 0 || percent > 100) {
      throw new PlanError(`step ${i + 1} is ${percent}; each step is a percent of traffic above 0 and at most 100`);
    }
    if (i > 0 && percent <= (steps[i - 1] as number)) {
      throw new PlanError(`step ${i + 1} (${percent}) is not above step ${i} (${steps[i - 1]}); steps must increase`);
    }
  });
  if (steps[steps.length - 1] !== 100) {
    throw new PlanError(`the last step is ${steps[steps.length - 1]}; it must be 100, the step that promotes the new version`);
  }
  return Object.freeze([...steps]);
}

/** The share of traffic, 0..1, for a percent step; rejects anything outside 0..1 like Lambda would, but earlier. */
export function weightFor(percent: number): number {
  const weight = Number((percent / 100).toFixed(WEIGHT_DECIMALS));
  if (!(weight >= 0 && weight <= 1)) throw new PlanError(`weight ${weight} (from ${percent}%) is outside 0..1`);
  return weight;
}

/** The alias's routing at a step of a rollout from `stable` to `canary`. */
export function routingAt(stable: string, canary: string, percent: number): AliasRouting {
  const weight = weightFor(percent);
  if (weight === 1) return { version: canary, weights: {} };
  if (weight === 0) return { version: stable, weights: {} };
  return { version: stable, weights: { [canary]: weight } };
}

/** The alias's routing after a rollback: all traffic on the stable version, no weights. */
export function rollbackRouting(stable: string): AliasRouting {
  return { version: stable, weights: {} };
}

/** True when two routings send the same traffic to the same versions (so applying one over the other is a no-op). */
export function sameRouting(a: AliasRouting, b: AliasRouting): boolean {
  const aKeys = Object.keys(a.weights).filter((v) => (a.weights[v] ?? 0) > 0);
  const bKeys = Object.keys(b.weights).filter((v) => (b.weights[v] ?? 0) > 0);
  if (a.version !== b.version || aKeys.length !== bKeys.length) return false;
  return aKeys.every((v) => Math.abs((a.weights[v] ?? 0) - (b.weights[v] ?? 0)) < 10 ** -WEIGHT_DECIMALS);
}

/** Lambda's limit on an alias description. */
const DESCRIPTION_MAX = 256;

/**
 * The alias's description records the last rollout's outcome, so a later run (a deploy that published nothing new,
 * say) does not send traffic to a version that was already rolled back. Terraform ignores the description after
 * creating the alias (infra/constructs/live-alias.ts).
 */
export function outcomeDescription(outcome: 'rolled back' | 'promoted', version: string, at: Date, detail: string): string {
  const text = `rollout: ${outcome} version ${version} at ${at.toISOString().slice(0, 19)}Z: ${detail}`;
  return text.length <= DESCRIPTION_MAX ? text : `${text.slice(0, DESCRIPTION_MAX - 1)}…`;
}

/** The version a description says was rolled back, and why; undefined when it records nothing of the kind. */
export function rolledBackVersion(description: string | undefined): { version: string; record: string } | undefined {
  const match = /^rollout: rolled back version ([1-9][0-9]*) at /.exec(description ?? '');
  return match === null ? undefined : { version: match[1] as string, record: description as string };
}

/** Reads the rollout state from an alias; an alias split more ways than a rollout makes is refused. */
export function readState(routing: AliasRouting): RolloutState {
  const extra = Object.entries(routing.weights).filter(([, weight]) => weight > 0);
  if (extra.length === 0) return { stable: routing.version };
  if (extra.length > 1) {
    throw new PlanError(`the alias routes to ${extra.length} additional versions (${extra.map(([v]) => v).join(', ')}); a rollout moves traffic between two`);
  }
  const [version, weight] = extra[0] as [string, number];
  return { stable: routing.version, canary: { version, weight } };
}

/**
 * Where a resumed rollout continues: the index of the step whose weight the alias carries now (that step is observed
 * again, from the start of its interval), or, when the weight matches no step, the first step above it.
 */
export function resumeIndex(steps: readonly number[], weight: number): number {
  const exact = steps.findIndex((percent) => Math.abs(weightFor(percent) - weight) < 10 ** -WEIGHT_DECIMALS);
  if (exact >= 0) return exact;
  const above = steps.findIndex((percent) => weightFor(percent) > weight);
  return above >= 0 ? above : steps.length - 1;
}
