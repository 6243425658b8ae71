import { context, propagation, trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
} from "@opentelemetry/sdk-trace-node";
import {
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from "@opentelemetry/semantic-conventions";
import { PACKAGE_VERSION } from "../package-files";
import { FLUSH_TIMEOUT_MS } from "./tracing";
import type { Tracing } from "./tracing";

// The OpenTelemetry SDK takes about 10 MB of memory, so the service loads
// this module only when it exports traces.

/**
 * Registers a tracer provider that exports spans over OTLP/HTTP to
 * `endpoint` (such as `http://collector:4318/v1/traces`), with the W3C
 * trace-context propagator.
 */
export function startTracing(endpoint: string, serviceName: string): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: PACKAGE_VERSION,
    }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({
          url: endpoint,
          timeoutMillis: FLUSH_TIMEOUT_MS,
        }),
      ),
    ],
  });
  provider.register();

  return {
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), FLUSH_TIMEOUT_MS);
      });
      const flushed = await Promise.race([
        provider.shutdown().then(
          () => true,
          () => false,
        ),
        timedOut,
      ]);
      clearTimeout(timer);
      trace.disable();
      context.disable();
      propagation.disable();
      return flushed;
    },
  };
}
