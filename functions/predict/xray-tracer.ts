/**
 * The tracer of traced invocations, imported on demand by tracing.ts (its own chunk, `xray-tracer.mjs`). Spans are
 * made with the OpenTelemetry API and SDK (`BasicTracerProvider`; AWS's X-Ray propagator reads Lambda's trace
 * header) and exported as X-Ray subsegment documents over UDP to the X-Ray daemon at AWS_XRAY_DAEMON_ADDRESS, the
 * way the X-Ray SDKs send them inside Lambda: each stage becomes a subsegment of Lambda's function segment (the
 * header's `Parent`), so a trace shows `parse`, `inference` and `serialize` under the function.
 *
 * The exporter is written here rather than taken from AWS's OpenTelemetry distribution, whose UDP exporter carries
 * the OTLP protobuf serializer: docs/PERFORMANCE.md ("Tracing and capture") has the sizes and load times that decided it. The
 * document format is AWS's: "Sending trace data to AWS X-Ray" and "AWS X-Ray segment documents" in the X-Ray
 * Developer Guide (a header line `{"format": "json", "version": 1}`, then one segment document per datagram).
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Blame, InvocationTrace, InvocationTracer, StageAttributes, StageName } from './trace-types.js';

/** The header line of every document sent to the daemon. */
export const DAEMON_HEADER = '{"format": "json", "version": 1}\n';
/** The span attribute that says who a failed stage blames; it becomes X-Ray's `error` (client) or `fault` (server). */
const BLAME_ATTRIBUTE = 'blame';
/** X-Ray annotation keys take letters, digits and underscores. */
const ANNOTATION_KEY = /[^A-Za-z0-9_]/g;

/** The daemon's UDP address from AWS_XRAY_DAEMON_ADDRESS: `host:port`, or the `udp:host:port tcp:host:port` form. */
export function daemonEndpoint(address: string): { readonly host: string; readonly port: number } {
  const udp = address.split(/\s+/).find((part) => part.startsWith('udp:'))?.slice(4) ?? address.trim();
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(udp);
  const port = Number(match?.[3]);
  if (match === null || !(port > 0 && port < 65536)) {
    throw new Error(`AWS_XRAY_DAEMON_ADDRESS ${JSON.stringify(address)} is not host:port (or "udp:host:port tcp:host:port")`);
  }
  return { host: match[1] ?? match[2]!, port };
}

function seconds(time: readonly [number, number]): number {
  return time[0] + time[1] / 1e9;
}

/** An OpenTelemetry span as an X-Ray subsegment document of the trace and parent it was started under. */
export function subsegmentDocument(span: ReadableSpan): Record<string, unknown> {
  const { traceId, spanId } = span.spanContext();
  const annotations: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (key === BLAME_ATTRIBUTE) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') annotations[key.replace(ANNOTATION_KEY, '_')] = value;
  }
  const failed = span.status.code === SpanStatusCode.ERROR;
  const blame = span.attributes[BLAME_ATTRIBUTE] === 'client' ? 'error' : 'fault';
  return {
    name: span.name,
    id: spanId,
    trace_id: `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`,
    ...(span.parentSpanContext === undefined ? {} : { parent_id: span.parentSpanContext.spanId }),
    type: 'subsegment',
    start_time: seconds(span.startTime),
    end_time: seconds(span.endTime),
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    ...(failed ? { [blame]: true, cause: { exceptions: [{ id: spanId, message: span.status.message ?? 'failed' }] } } : {}),
  };
}

/** Sends each ended span to the daemon as one datagram; a send that fails is dropped, never retried or thrown. */
export class XRayDaemonExporter implements SpanExporter {
  private readonly socket: dgram.Socket;
  private warned = false;

  constructor(
    private readonly endpoint: { readonly host: string; readonly port: number },
    private readonly warn: (message: string) => void,
  ) {
    this.socket = dgram.createSocket(isIP(endpoint.host) === 6 ? 'udp6' : 'udp4');
    // An unreachable daemon must not keep the process alive or crash it: errors are reported once and dropped.
    this.socket.unref();
    this.socket.on('error', (error) => this.dropped(error));
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) {
      const datagram = Buffer.from(DAEMON_HEADER + JSON.stringify(subsegmentDocument(span)));
      this.socket.send(datagram, this.endpoint.port, this.endpoint.host, (error) => {
        if (error !== null && error !== undefined) this.dropped(error);
      });
    }
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {
    this.socket.close();
  }

  private dropped(error: Error): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`trace data to the X-Ray daemon at ${this.endpoint.host}:${this.endpoint.port} is dropped (${error.message}); requests are unaffected`);
  }
}

class StageTrace implements InvocationTrace {
  readonly recording = true;
  private attributes: Attributes;

  constructor(
    private readonly tracer: ReturnType<BasicTracerProvider['getTracer']>,
    private readonly parent: Context,
    attributes: StageAttributes,
  ) {
    this.attributes = { ...attributes };
  }

  annotate(attributes: StageAttributes): void {
    this.attributes = { ...this.attributes, ...attributes };
  }

  stageSync<T>(name: StageName, work: () => T, blame?: (error: unknown) => Blame): T {
    const span = this.tracer.startSpan(name, { attributes: this.attributes }, this.parent);
    try {
      const result = work();
      span.setAttributes(this.attributes);
      return result;
    } catch (error) {
      fail(span, error, blame?.(error) ?? 'server');
      throw error;
    } finally {
      span.end();
    }
  }

  async stage<T>(name: StageName, work: () => Promise<T>, blame?: (error: unknown) => Blame): Promise<T> {
    const span = this.tracer.startSpan(name, { attributes: this.attributes }, this.parent);
    try {
      const result = await work();
      span.setAttributes(this.attributes);
      return result;
    } catch (error) {
      fail(span, error, blame?.(error) ?? 'server');
      throw error;
    } finally {
      span.end();
    }
  }

  past(name: StageName, startMs: number, endMs: number, attributes: StageAttributes = {}): void {
    // Numbers below the time origin are performance.now() readings (OpenTelemetry's TimeInput).
    this.tracer.startSpan(name, { attributes: { ...this.attributes, ...attributes }, startTime: startMs }, this.parent).end(endMs);
  }
}

function fail(span: Span, error: unknown, blame: Blame): void {
  // A client error's message says what was wrong with the request; a server error is named by its class only, so no
  // path or internal text leaves the function, even for the account's own trace data.
  const message = blame === 'client' && error instanceof Error ? error.message : error instanceof Error ? error.name : 'error';
  span.setAttribute(BLAME_ATTRIBUTE, blame);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * The tracer of a container: one provider, one exporter and one propagator, made on the first traced invocation.
 * `attributes` go on every span (the function's name and version). Throws on a malformed daemon address.
 */
export function createInvocationTracer(daemonAddress: string, attributes: StageAttributes, warn: (message: string) => void): InvocationTracer {
  const exporter = new XRayDaemonExporter(daemonEndpoint(daemonAddress), warn);
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('onnx-lambda-predict');
  const propagator = new AWSXRayPropagator();
  return {
    start(traceHeader) {
      if (traceHeader === undefined) return undefined;
      const parent = propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': traceHeader }, { get: (carrier, key) => carrier[key], keys: (carrier) => Object.keys(carrier) });
      const spanContext = trace.getSpanContext(parent);
      if (spanContext === undefined || !trace.isSpanContextValid(spanContext) || (spanContext.traceFlags & 1) === 0) return undefined;
      return new StageTrace(tracer, parent, attributes);
    },
  };
}
