import {
  DiagLogLevel,
  context,
  diag,
  propagation,
  trace,
} from "@opentelemetry/api";
import type { DiagLogger } from "@opentelemetry/api";
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
import type { Logger } from "pino";
import { PACKAGE_VERSION } from "../package-files";
import { FLUSH_TIMEOUT_MS } from "./tracing";
import type { Tracing } from "./tracing";

// Loading the OpenTelemetry SDK added about 5 MB to the RSS of the idle
// service, so the service loads this module only when it exports traces.

/**
 * Registers a tracer provider that exports spans over OTLP/HTTP to
 * `endpoint` (such as `http://collector:4318/v1/traces`), with the W3C
 * trace-context propagator. The SDK's warnings and errors, such as a failed
 * export, go to `logger`.
 */
export function startTracing(
  endpoint: string,
  serviceName: string,
  logger: Logger,
): Tracing {
  diag.setLogger(diagnosticsLogger(logger), {
    logLevel: DiagLogLevel.WARN,
    suppressOverrideMessage: true,
  });
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
      // provider.shutdown() resolves even when the last export fails, while
      // forceFlush() rejects, so flushing first reports the failure.
      const flushed = await Promise.race([
        provider
          .forceFlush()
          .then(() => provider.shutdown())
          .then(
            () => true,
            () => false,
          ),
        timedOut,
      ]);
      clearTimeout(timer);
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
      return flushed;
    },
  };
}

/** Writes OpenTelemetry's diagnostics as log lines of the service. */
function diagnosticsLogger(logger: Logger): DiagLogger {
  const write =
    (level: "error" | "warn" | "info" | "debug" | "trace") =>
    (message: string, ...args: unknown[]) => {
      const details = args.map((arg) =>
        arg instanceof Error ? arg.message : arg,
      );
      logger[level]({ details }, `OpenTelemetry: ${describe(message)}`);
    };
  return {
    error: write("error"),
    warn: write("warn"),
    info: write("info"),
    debug: write("debug"),
    verbose: write("trace"),
  };
}

/**
 * Returns the message of an error that the SDK's error handler passes as
 * JSON, such as a failed export, and any other message as it is.
 */
function describe(message: string): string {
  if (!message.startsWith("{")) return message;
  try {
    const parsed = JSON.parse(message) as { name?: unknown; message?: unknown };
    if (typeof parsed.message !== "string") return message;
    return typeof parsed.name === "string"
      ? `${parsed.name}: ${parsed.message}`
      : parsed.message;
  } catch {
    return message;
  }
}
