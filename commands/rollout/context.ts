/**
 * What every part of one rollout run shares: the events it reports, the progress snapshots it hands out, the clock,
 * and the sleep that Ctrl-C cuts short. A leaf module, so that the rollout and its parts import it without a cycle.
 */
import type { Progress } from './progress.js';

export type RolloutEvent = { readonly event: string; readonly message: string } & Record<string, unknown>;

/** Thrown by a sleep that Ctrl-C (the run's abort signal) cut short. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
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

export interface RunContext {
  readonly report: (event: RolloutEvent) => void;
  readonly progress: (progress: Progress) => void;
  readonly now: () => number;
  readonly sleep: Sleep;
  /** How often a wait reads what it waits for. */
  readonly pollMs: number;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
