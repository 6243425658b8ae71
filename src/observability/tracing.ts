import { context, propagation, trace } from "@opentelemetry/api";
import type { Context, Tracer } from "@opentelemetry/api";
import type { IncomingHttpHeaders } from "node:http";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../package-files";

/**
 * The tracer of the service. Until `startTracing` of `./exporter` registers a
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
