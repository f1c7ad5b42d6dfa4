/** The shapes tracing.ts and its on-demand chunk xray-tracer.ts share, apart so that neither imports the other. */

/** The stages an invocation records. */
export type StageName = 'parse' | 'inference' | 'serialize' | 'model-load' | 's3-download';

export type StageAttributes = Readonly<Record<string, string | number | boolean>>;

/** Who caused a failed stage: the client (a 4xx, an X-Ray `error`) or the function (a 5xx, an X-Ray `fault`). */
export type Blame = 'client' | 'server';

/** One invocation's trace. */
export interface InvocationTrace {
  /** Whether spans are recorded and sent. */
  readonly recording: boolean;
  /**
   * Runs asynchronous `work` as the stage `name`; a rejection marks the stage failed (blamed by `blame`) and is
   * passed on. Untraced, it returns `work()` itself: no promise is added to the request's path.
   */
  stage<T>(name: StageName, work: () => Promise<T>, blame?: (error: unknown) => Blame): Promise<T>;
  /** `stage` for synchronous work, itself synchronous: untraced, a plain call of `work`. */
  stageSync<T>(name: StageName, work: () => T, blame?: (error: unknown) => Blame): T;
  /** A stage that already happened, from `startMs` to `endMs` on performance.now()'s clock (the model's download at init). */
  past(name: StageName, startMs: number, endMs: number, attributes?: StageAttributes): void;
  /** Attributes every stage of this invocation carries from now on (model, version, batch size). */
  annotate(attributes: StageAttributes): void;
}

/** What xray-tracer.ts exports: a tracer that starts an invocation's trace from its header. */
export interface InvocationTracer {
  /** The invocation's trace, or undefined when the header is missing, malformed or not sampled. */
  start(traceHeader: string | undefined): InvocationTrace | undefined;
}
