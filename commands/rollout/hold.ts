/**
 * What a rollout changes besides the alias's routing, and must put back: the scaling it suspends on the alias's
 * scalable target and the provisioned concurrency (PC) it raises. That "hold" is recorded in the alias's description
 * before the change is made, and removed once it is put back, so a run that dies half-way (a killed CI job, a lost
 * laptop) leaves the record where the next run on that alias (a resume, a rollback, the next rollout) finds it and
 * puts things back: the alias stays the rollout's only state. Pure: the record's text, and the commands that undo a
 * hold by hand.
 */
import { LAMBDA_SCALING, lambdaScalableTargetId } from '../../functions/contract/aws-names.js';

/** Application Auto Scaling's three kinds of scaling activity a target can have suspended. */
export interface ScalingFlags {
  readonly dynamicIn: boolean;
  readonly dynamicOut: boolean;
  readonly scheduled: boolean;
}

export const ALL_SUSPENDED: ScalingFlags = Object.freeze({ dynamicIn: true, dynamicOut: true, scheduled: true });
export const NONE_SUSPENDED: ScalingFlags = Object.freeze({ dynamicIn: false, dynamicOut: false, scheduled: false });

const FLAG_NAMES: readonly (readonly [keyof ScalingFlags, string, string])[] = [
  ['dynamicIn', 'dynamic in', 'DynamicScalingInSuspended'],
  ['dynamicOut', 'dynamic out', 'DynamicScalingOutSuspended'],
  ['scheduled', 'scheduled', 'ScheduledScalingSuspended'],
];

export interface Hold {
  /** The scaling activities this rollout suspended (true) and must resume; the others it found suspended, or left alone. */
  readonly scaling?: ScalingFlags | undefined;
  /** The provisioned concurrency this rollout raised, from `restoreTo` (put back at the end) to `raisedTo`. */
  readonly pc?: { readonly restoreTo: number; readonly raisedTo: number } | undefined;
}

export function anySuspended(flags: ScalingFlags | undefined): boolean {
  return flags !== undefined && (flags.dynamicIn || flags.dynamicOut || flags.scheduled);
}

export function isEmptyHold(hold: Hold | undefined): boolean {
  return hold === undefined || (!anySuspended(hold.scaling) && hold.pc === undefined);
}

/** "dynamic in, scheduled": the flags that are set, for messages and the record. */
export function flagText(flags: ScalingFlags): string {
  return FLAG_NAMES.filter(([key]) => flags[key]).map(([, text]) => text).join(', ');
}

function holdItems(hold: Hold): string[] {
  const items: string[] = [];
  if (hold.scaling !== undefined && anySuspended(hold.scaling)) items.push(`resume scaling (${flagText(hold.scaling)})`);
  if (hold.pc !== undefined) items.push(`provisioned concurrency ${hold.pc.raisedTo} back to ${hold.pc.restoreTo}`);
  return items;
}

const MARKER = '; on finish: ';
/** Lambda's limit on an alias description. */
const DESCRIPTION_MAX = 256;

/** `head` with the hold's record appended; the head is cut, never the record, to fit Lambda's 256 characters. */
export function withHold(head: string, hold: Hold | undefined): string {
  const items = holdItems(hold ?? {});
  const suffix = items.length === 0 ? '' : `${MARKER}${items.join(', ')}`;
  const room = DESCRIPTION_MAX - suffix.length;
  const cut = head.length <= room ? head : `${head.slice(0, room - 1)}…`;
  return `${cut}${suffix}`;
}

/** The description without a hold's record. */
export function withoutHold(description: string | undefined): string {
  const text = description ?? '';
  const at = text.indexOf(MARKER);
  return at < 0 ? text : text.slice(0, at);
}

/** The hold a description records, or undefined when it records none. */
export function parseHold(description: string | undefined): Hold | undefined {
  const text = description ?? '';
  const at = text.indexOf(MARKER);
  if (at < 0) return undefined;
  const items = text.slice(at + MARKER.length);
  const scaling = /resume scaling \(([a-z ,]+)\)/.exec(items)?.[1];
  const pc = /provisioned concurrency (\d+) back to (\d+)/.exec(items);
  const hold: Hold = {
    scaling: scaling === undefined ? undefined : { dynamicIn: scaling.includes('dynamic in'), dynamicOut: scaling.includes('dynamic out'), scheduled: scaling.includes('scheduled') },
    pc: pc === null ? undefined : { raisedTo: Number(pc[1]), restoreTo: Number(pc[2]) },
  };
  return isEmptyHold(hold) ? undefined : hold;
}

/** The version a description records as promoted and the version it came from, when it records a promotion. */
export function promotedFrom(description: string | undefined): { version: string; from: string } | undefined {
  const match = /^rollout: promoted version ([1-9][0-9]*) at \S+: from version ([1-9][0-9]*)\b/.exec(description ?? '');
  return match === null ? undefined : { version: match[1] as string, from: match[2] as string };
}

/** A function's name from its name or ARN (`arn:aws:lambda:<region>:<account>:function:<name>`). */
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  return match === null ? nameOrArn : (match[1] as string);
}

export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The AWS CLI command that sets the alias's provisioned concurrency to `amount`. */
export function pcCommand(functionName: string, alias: string, amount: number): string {
  return `aws lambda put-provisioned-concurrency-config --function-name ${shellQuote(functionName)} --qualifier ${shellQuote(alias)} --provisioned-concurrent-executions ${amount}`;
}

/** The AWS CLI command that sets all three suspended flags of the alias's scalable target to `flags`. */
export function scalingCommand(functionName: string, alias: string, flags: ScalingFlags): string {
  const state = FLAG_NAMES.map(([key, , name]) => `${name}=${flags[key]}`).join(',');
  return `aws application-autoscaling register-scalable-target --service-namespace ${LAMBDA_SCALING.serviceNamespace} --scalable-dimension ${LAMBDA_SCALING.scalableDimension} --resource-id ${shellQuote(lambdaScalableTargetId(functionNameOf(functionName), alias))} --suspended-state ${state}`;
}

/**
 * The flags that resume what a hold suspended and keep the rest as they are now: the rollout suspends all three, so
 * the ones it did not suspend were suspended by someone else and stay so.
 */
export function resumedFlags(current: ScalingFlags, ours: ScalingFlags): ScalingFlags {
  return { dynamicIn: ours.dynamicIn ? false : current.dynamicIn, dynamicOut: ours.dynamicOut ? false : current.dynamicOut, scheduled: ours.scheduled ? false : current.scheduled };
}

/** The commands that put back what `hold` changed, PC first (scaling would otherwise resize it again). */
export function restoreCommands(functionName: string, alias: string, hold: Hold | undefined): string[] {
  const commands: string[] = [];
  if (hold?.pc !== undefined) commands.push(pcCommand(functionName, alias, hold.pc.restoreTo));
  if (hold?.scaling !== undefined && anySuspended(hold.scaling)) commands.push(scalingCommand(functionName, alias, resumedFlags(ALL_SUSPENDED, hold.scaling)));
  return commands;
}

/** What a rollout does to the alias's capacity before its first weight, decided from what it found. */
export interface HoldPlan {
  /** What the rollout holds once prepared (and puts back at the end). */
  readonly hold: Hold;
  /** Suspend all of the target's scaling (some of it is not suspended yet). */
  readonly suspend: boolean;
  /** Scaling someone else suspended: left as found, never resumed by the rollout. */
  readonly foreign?: ScalingFlags | undefined;
  /** Ask Lambda for this much provisioned concurrency. */
  readonly raiseTo?: number | undefined;
}

export interface Found {
  /** The scalable target's suspended flags; undefined when the alias has no target, or it could not be read. */
  readonly scaling?: ScalingFlags | undefined;
  /** The alias's requested provisioned concurrency; undefined when it has none, or it could not be read. */
  readonly pc?: number | undefined;
  /** --raise-pc. */
  readonly raisePc?: number | undefined;
  /** The hold an earlier run recorded on the alias and did not put back: taken over, as if this run had made it. */
  readonly pending?: Hold | undefined;
}

export function planHold(found: Found): HoldPlan {
  const recorded = found.pending?.scaling ?? NONE_SUSPENDED;
  let scaling: ScalingFlags | undefined = found.pending?.scaling;
  let foreign: ScalingFlags | undefined;
  let suspend = false;
  if (found.scaling !== undefined) {
    const now = found.scaling;
    scaling = { dynamicIn: recorded.dynamicIn || !now.dynamicIn, dynamicOut: recorded.dynamicOut || !now.dynamicOut, scheduled: recorded.scheduled || !now.scheduled };
    foreign = { dynamicIn: now.dynamicIn && !recorded.dynamicIn, dynamicOut: now.dynamicOut && !recorded.dynamicOut, scheduled: now.scheduled && !recorded.scheduled };
    suspend = !now.dynamicIn || !now.dynamicOut || !now.scheduled;
  }
  let pc = found.pending?.pc;
  let raiseTo: number | undefined;
  if (found.raisePc !== undefined && found.pc !== undefined && found.pc < found.raisePc) {
    raiseTo = found.raisePc;
    pc = { restoreTo: found.pending?.pc?.restoreTo ?? found.pc, raisedTo: found.raisePc };
  }
  return {
    hold: { scaling: anySuspended(scaling) ? scaling : undefined, pc },
    suspend,
    foreign: anySuspended(foreign) ? foreign : undefined,
    raiseTo,
  };
}
