/**
 * The commands a person runs to finish a rollout by hand, printed whenever a run leaves the alias with weights (or with
 * capacity held) and stops. Pure.
 */
import { DEFAULT_DIST_DIR } from '../../functions/contract/build-record.js';
import { shellQuote } from './hold.js';

/** What the commands repeat of the run that prints them (a subset of RolloutOptions). */
export interface RecoveryOptions {
  readonly functionName: string;
  readonly alias: string;
  readonly to?: string | undefined;
  readonly steps: readonly number[];
  readonly intervalS: number;
  readonly thresholds: { readonly minRequests: number };
  readonly alarmPrefix?: string | undefined;
  /** The build whose golden rows the traffic checks send; repeated unless it is the default, dist. */
  readonly build?: string | undefined;
}

/** The exact commands that resume or roll back this rollout, for every message that leaves weights set. */
export function recoveryCommands(options: RecoveryOptions, to: string): { resume: string; rollback: string } {
  const base = `npm run rollout -- --function ${shellQuote(options.functionName)} --alias ${shellQuote(options.alias)}`;
  const extra = [`--steps ${options.steps.join(',')}`, `--interval ${options.intervalS}`, `--min-requests ${options.thresholds.minRequests}`];
  if (options.alarmPrefix !== undefined) extra.push(`--alarm-prefix ${shellQuote(options.alarmPrefix)}`);
  if (options.build !== undefined && options.build !== DEFAULT_DIST_DIR) extra.push(`--build ${shellQuote(options.build)}`);
  return { resume: `${base} --to ${shellQuote(to)} ${extra.join(' ')} --resume`, rollback: `${base} --rollback` };
}

/**
 * What a second Ctrl-C prints as the CLI stops at once: how to roll back or resume, and the commands that put back
 * what the rollout held (`restore`, from its scaling-suspended and pc-raised events), which a --rollback also does.
 */
export function stoppedAtOnceMessage(options: RecoveryOptions, restore: readonly string[]): string {
  const commands = recoveryCommands(options, options.to ?? '<version>');
  const held = restore.length === 0 ? '' : `  It held capacity it has not put back; --rollback puts it back (the alias's description records it), or by hand: ${restore.join('  ')}`;
  return `stopped at once; the alias may still carry weights. Roll back: ${commands.rollback}  Resume: ${commands.resume}${held}`;
}
