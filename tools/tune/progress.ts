/**
 * Progress while a run measures (minutes): at a terminal one line on stderr rewritten in place (size, phase,
 * invocations done, time left); otherwise a plain line every few seconds and at each size's start and end.
 */
import { timeLeft } from '../../commands/rollout/progress.js';
import type { SizeProgress } from '../../commands/tune/measurement.js';

export interface RunProgress extends SizeProgress {
  /** The size's place in the run, from 1. */
  readonly index: number;
  readonly sizes: number;
  /** Estimated end of the run, ms since the epoch; undefined until there is something to go on. */
  readonly endsAt: number | undefined;
}

export function progressText(p: RunProgress, now: number): string {
  const left = p.endsAt === undefined ? 'time left: estimating' : `about ${timeLeft(p.endsAt, now)} left`;
  return `size ${p.index}/${p.sizes}: ${p.memoryMb} MB | ${p.phase} | ${p.done}/${p.total} invocations | ${left}`;
}

/**
 * Estimates the run's end: each size's invocations take time in inverse proportion to its CPU share, scaled from
 * what the run has measured so far (seconds per invocation at one vCPU); startup costs are folded in.
 */
export class RunClock {
  #workS = 0;
  #shareWeighted = 0;

  /** Records that `invocations` at `share` vCPUs took `seconds`. */
  record(invocations: number, share: number, seconds: number): void {
    if (invocations === 0) return;
    this.#workS += seconds * share;
    this.#shareWeighted += invocations;
  }

  /** Seconds the given invocations at the given shares should take, or undefined before any record. */
  estimate(remaining: readonly { readonly invocations: number; readonly share: number }[]): number | undefined {
    if (this.#shareWeighted === 0) return undefined;
    const perInvocationAtOneCpu = this.#workS / this.#shareWeighted;
    return remaining.reduce((sum, r) => sum + (r.invocations * perInvocationAtOneCpu) / r.share, 0);
  }
}

export interface ProgressSink {
  update(progress: RunProgress): void;
  /** Clears the live line before other output. */
  done(): void;
}

export function progressSink(stream: NodeJS.WriteStream, intervalS: number): ProgressSink {
  let last: RunProgress | undefined;
  if (stream.isTTY) {
    const draw = () => {
      if (last !== undefined) stream.write(`\r\x1b[2K${progressText(last, Date.now())}`);
    };
    const timer = setInterval(draw, 1000);
    timer.unref();
    return {
      update(progress) {
        last = progress;
        draw();
      },
      done() {
        clearInterval(timer);
        stream.write('\r\x1b[2K');
      },
    };
  }
  if (intervalS === 0) return { update() {}, done() {} };
  let printedAt = 0;
  let size = 0;
  return {
    update(progress) {
      const now = Date.now();
      // A line when a size starts and ends, and every intervalS seconds between.
      if (progress.memoryMb !== size || progress.phase === 'done' || now - printedAt >= intervalS * 1000) {
        stream.write(`${progressText(progress, now)}\n`);
        printedAt = now;
        size = progress.memoryMb;
      }
    },
    done() {},
  };
}
