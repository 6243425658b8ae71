import { context, propagation, trace } from "@opentelemetry/api";
import type { Context, Tracer } from "@opentelemetry/api";
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
import type { IncomingHttpHeaders } from "node:http";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../package-files";

/**
 * The tracer of the service. Until {@link startTracing} registers a
 * provider, OpenTelemetry's API returns a no-op tracer, so spans cost
 * almost nothing while tracing is off.
 */
export function getTracer(): Tracer {
  return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
}

export interface Tracing {
  /**
   * Sends the spans still buffered and unregisters the provider. Resolves
   * false when the export did not finish within {@link FLUSH_TIMEOUT_MS}.
   */
  shutdown(): Promise<boolean>;
}

/**
 * Maximum time that shutdown waits for the last export, so that an
 * unreachable collector cannot hold the process past its grace period.
 */
export const FLUSH_TIMEOUT_MS = 5000;

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

/** Reads the caller's `traceparent` and `tracestate`, such as a router's. */
export function extractTraceContext(headers: IncomingHttpHeaders): Context {
  return propagation.extract(context.active(), headers);
}

/** Adds `traceparent` (and `tracestate`) for `traceContext` to `headers`. */
export function injectTraceContext(
  traceContext: Context,
  headers: Record<string, string>,
): void {
  propagation.inject(traceContext, headers);
}
