// The baseline of bench/tracing-candidates.ts: a module with the tracer's shape and nothing behind it, so that its
// figures are what loading any module and calling it costs.
export function createInvocationTracer() {
  return { start: () => ({ stage: async (_name, work) => work() }) };
}
