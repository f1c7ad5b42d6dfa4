/**
 * A simulation of one header of Lambda's runtime API, for the emulator: Lambda hands each invocation's X-Ray trace
 * header to the runtime as `Lambda-Runtime-Trace-Id` on `/runtime/invocation/next`, and the runtime interface client
 * puts it in `_X_AMZN_TRACE_ID`. AWS's Runtime Interface Emulator builds that header with a no-op tracer and sends
 * none, so this proxy stands between the runtime and the emulator's runtime API and adds the header the test gave the
 * invocation (by request id). Everything else passes through unchanged.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TraceHeaderProxy {
  /** `127.0.0.1:<port>`: the runtime's AWS_LAMBDA_RUNTIME_API. */
  readonly address: string;
  /** The trace header of the invocation with this request id, handed out once with its event. */
  set(requestId: string, traceHeader: string): void;
  close(): Promise<void>;
}

const NEXT = '/2018-06-01/runtime/invocation/next';

export async function startTraceHeaderProxy(upstreamPort: number): Promise<TraceHeaderProxy> {
  const headers = new Map<string, string>();
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: upstreamPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      const answerHeaders = { ...answer.headers };
      const requestId = answer.headers['lambda-runtime-aws-request-id'];
      if (incoming.url === NEXT && typeof requestId === 'string') {
        const traceHeader = headers.get(requestId);
        headers.delete(requestId);
        if (traceHeader !== undefined) answerHeaders['lambda-runtime-trace-id'] = traceHeader;
      }
      outgoing.writeHead(answer.statusCode ?? 502, answerHeaders);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  // The runtime's long poll on /next waits as long as the function is idle.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    set: (requestId, traceHeader) => headers.set(requestId, traceHeader),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
