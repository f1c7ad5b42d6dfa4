/**
 * Progress a person can follow while a step waits minutes. The rollout hands a snapshot to `progress` whenever it
 * learns something (each alarm poll, each metrics read, each PC or weights check); the CLI shows it:
 * - at a terminal (stderr is a TTY), one line on stderr rewritten in place and ticking every second (`LiveLine`);
 * - otherwise, and with --json, a plain line or a `progress` event every few seconds (`PeriodicProgress`).
 * The events and lines the rollout already prints are unchanged.
 */

export type Progress =
  | {
      readonly phase: 'step';
      readonly step: number;
      readonly steps: number;
      readonly percent: number;
      readonly canary: string;
      readonly stable: string;
      /** When the step's current observation window ends (ms since the epoch). */
      readonly endsAt: number;
      /** Requests each version served in the step, from the last canary metrics read; absent before the first read. */
      readonly served?: { readonly canary: number; readonly stable: number } | undefined;
      /** `ok`: no alarm under --alarm-prefix in ALARM at the last read; `unchecked`: no --alarm-prefix. */
      readonly alarms: 'ok' | 'unchecked';
    }
  | {
      readonly phase: 'provisioned-concurrency';
      readonly requested: number;
      readonly allocated: number;
      readonly status: string;
      /** When the wait for READY gives up. */
      readonly endsAt: number;
    }
  | {
      readonly phase: 'settle';
      readonly version: string;
      readonly weights: Readonly<Record<string, number>>;
      /** When the wait for the weights to clear gives up. */
      readonly endsAt: number;
    };

/** "4:05" for the time until `endsAt`, never below 0:00. */
export function timeLeft(endsAt: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((endsAt - now) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

function share(weight: number): string {
  return `${Number((weight * 100).toFixed(3))}%`;
}

/** One line describing `progress` at time `now`. */
export function progressText(progress: Progress, now: number): string {
  switch (progress.phase) {
    case 'step': {
      const served = progress.served === undefined ? 'requests: not read yet' : `requests in this step: version ${progress.canary} ${progress.served.canary}, version ${progress.stable} ${progress.served.stable}`;
      const alarms = progress.alarms === 'ok' ? 'alarms OK' : 'alarms not checked';
      const weights = progress.percent >= 100 ? `100% on version ${progress.canary}` : `${progress.percent}% on version ${progress.canary}, ${Number((100 - progress.percent).toFixed(3))}% on version ${progress.stable}`;
      return `step ${progress.step}/${progress.steps}: ${weights} | ${timeLeft(progress.endsAt, now)} left | ${served} | ${alarms}`;
    }
    case 'provisioned-concurrency':
      return `provisioned concurrency ${progress.requested}: ${progress.status}, ${progress.allocated} of ${progress.requested} allocated | ${timeLeft(progress.endsAt, now)} left to become READY`;
    case 'settle': {
      const weights = Object.entries(progress.weights).map(([version, weight]) => `${share(weight)} on version ${version}`).join(', ');
      return `alias on version ${progress.version}, Lambda still reports ${weights} | ${timeLeft(progress.endsAt, now)} left for it to clear`;
    }
  }
}

/** A stream the live line writes to: the CLI's stderr. */
export interface LineStream {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

const CLEAR = '\r\x1b[2K';

/**
 * One line on a terminal, rewritten in place with each snapshot and every `tickMs` (so the time left counts down).
 * `clear` before printing anything else to the terminal and `redraw` after, so lines never mix; `stop` at the end.
 */
export class LiveLine {
  #progress: Progress | undefined;
  #shown = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly stream: LineStream,
    private readonly now: () => number = Date.now,
    tickMs = 1000,
  ) {
    if (tickMs > 0) {
      this.#timer = setInterval(() => this.redraw(), tickMs);
      this.#timer.unref();
    }
  }

  update(progress: Progress): void {
    this.#progress = progress;
    this.redraw();
  }

  redraw(): void {
    if (this.#progress === undefined) return;
    const width = Math.max(20, (this.stream.columns ?? 120) - 1);
    const text = progressText(this.#progress, this.now());
    this.stream.write(`${CLEAR}${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    this.stream.write(CLEAR);
    this.#shown = false;
  }

  /** Ends the line for good: what follows starts on a clean line. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
    this.#progress = undefined;
  }
}

/**
 * Passes on at most one snapshot every `everyMs`, the first `everyMs` after it was created: a CI log gets a line
 * every half minute of a long wait, and a short run gets none.
 */
export class PeriodicProgress {
  #last: number;

  constructor(
    private readonly everyMs: number,
    private readonly emit: (progress: Progress, text: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.#last = now();
  }

  update(progress: Progress): void {
    const at = this.now();
    if (this.everyMs <= 0 || at - this.#last < this.everyMs) return;
    this.#last = at;
    this.emit(progress, progressText(progress, at));
  }
}
