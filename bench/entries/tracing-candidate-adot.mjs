// Candidate A of bench/tracing-candidates.ts: the same stages as functions/predict/xray-tracer.ts, with AWS's
// OpenTelemetry distribution's X-Ray UDP exporter (OTLP protobuf over UDP to the daemon) and the OpenTelemetry 1.x
// SDK it depends on. Bundled by the script from a temporary npm install; never shipped.
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AwsXrayUdpSpanExporter } from '@aws/aws-distro-opentelemetry-exporter-xray-udp';

const getter = { get: (carrier, key) => carrier[key], keys: (carrier) => Object.keys(carrier) };

export function createInvocationTracer(daemonAddress, attributes) {
  const provider = new BasicTracerProvider();
  provider.addSpanProcessor(new SimpleSpanProcessor(new AwsXrayUdpSpanExporter(daemonAddress)));
  const tracer = provider.getTracer('onnx-lambda-predict');
  const propagator = new AWSXRayPropagator();
  return {
    start(traceHeader) {
      const parent = propagator.extract(ROOT_CONTEXT, { 'x-amzn-trace-id': traceHeader }, getter);
      return {
        async stage(name, work) {
          const span = tracer.startSpan(name, { attributes }, parent);
          try {
            const result = await work();
            span.setAttributes(attributes);
            return result;
          } finally {
            span.end();
          }
        },
      };
    },
  };
}
