/**
 * The stages of an invocation as trace spans (SPEC "Function configuration"): with the X-Ray daemon's address set and
 * a sampled trace header on the invocation, `parse`, `inference`, `serialize` (and `model-load` / `s3-download` when
 * the model loads inside the invocation) are sent as subsegments of Lambda's own function segment. Otherwise every
 * call here is a no-op that costs nothing.
 *
 * The OpenTelemetry SDK and the exporter live in their own chunk (xray-tracer.ts, shipped as `xray-tracer.mjs`),
 * imported on the first traced invocation: a function that is never traced never loads them, and the init phase
 * does not pay for them (docs/PERFORMANCE.md, "Tracing and capture", has the figures that chose this).
 */
import type { Logger } from './logger.js';
import type { InvocationTrace, InvocationTracer, StageAttributes, StageName } from './trace-types.js';

export type { Blame, InvocationTrace, InvocationTracer, StageAttributes, StageName } from './trace-types.js';

/** The trace of an invocation that is not traced. */
export const UNTRACED: InvocationTrace = Object.freeze({
  recording: false,
  stage<T>(_name: StageName, work: () => Promise<T>): Promise<T> {
    return work();
  },
  stageSync<T>(_name: StageName, work: () => T): T {
    return work();
  },
  past(): void {},
  annotate(): void {},
});

/** The fields of an X-Ray trace header, `Root=1-...;Parent=...;Sampled=1`; whether its Sampled flag is on. */
export function sampledHeader(header: string | undefined): boolean {
  return header !== undefined && /(^|;)\s*Sampled=1\s*(;|$)/.test(header) && /(^|;)\s*Root=1-[0-9a-f]{8}-[0-9a-f]{24}\s*(;|$)/.test(header);
}

/**
 * Traces invocations when `daemonAddress` is set: the first sampled invocation imports the tracer chunk, once; an
 * import that fails is logged once and tracing stays off (requests are never affected).
 */
export class Tracing {
  private tracer: Promise<InvocationTracer | undefined> | undefined;
  /** The tracer once loaded (or known not to load: null), so that later invocations start without awaiting. */
  private loaded: InvocationTracer | null | undefined;

  constructor(
    private readonly daemonAddress: string | undefined,
    private readonly attributes: StageAttributes,
    private readonly logger: Logger,
    private readonly load: (daemonAddress: string, attributes: StageAttributes, warn: (message: string) => void) => Promise<InvocationTracer> = loadTracer,
  ) {}

  /** Whether invocations may be traced at all: the daemon's address is set. Without it no header is even read. */
  get enabled(): boolean {
    return this.daemonAddress !== undefined;
  }

  /**
   * The invocation's trace; UNTRACED without a daemon address or a sampled header. Synchronous but for the first
   * sampled invocation, which waits for the tracer chunk to load: an untraced request meets no promise here.
   */
  forInvocation(traceHeader: string | undefined): InvocationTrace | Promise<InvocationTrace> {
    if (this.daemonAddress === undefined || !sampledHeader(traceHeader)) return UNTRACED;
    if (this.loaded !== undefined) return this.loaded?.start(traceHeader) ?? UNTRACED;
    this.tracer ??= this.load(this.daemonAddress, this.attributes, (message) => this.logger.warn(message)).then(
      (tracer) => (this.loaded = tracer),
      (error: unknown) => {
        this.logger.warn('tracing is off: the tracer could not be loaded', { error: error instanceof Error ? error.message : String(error) });
        this.loaded = null;
        return undefined;
      },
    );
    return this.tracer.then((tracer) => tracer?.start(traceHeader) ?? UNTRACED);
  }
}

async function loadTracer(daemonAddress: string, attributes: StageAttributes, warn: (message: string) => void): Promise<InvocationTracer> {
  const { createInvocationTracer } = await import('./xray-tracer.js');
  return createInvocationTracer(daemonAddress, attributes, warn);
}
