import type { ApolloServerPlugin } from "@apollo/server";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { RequestContext } from "../context";
import type { Metrics } from "./metrics";
import { getTracer } from "./tracing";

/**
 * Counts operations by outcome and errors by code, and wraps each operation
 * in a server span that is the parent of its upstream calls' spans.
 */
export function observabilityPlugin(
  metrics: Metrics,
): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const call = contextValue.upstreamCall;
      const span = getTracer().startSpan(
        "graphql.operation",
        { kind: SpanKind.SERVER },
        call.traceContext,
      );
      if (call.traceContext !== undefined) {
        call.traceContext = trace.setSpan(call.traceContext, span);
      }

      return {
        async didResolveOperation({ operation, operationName }) {
          if (operation === undefined) return;
          const name = operationName ?? "anonymous";
          span.updateName(`${operation.operation} ${name}`);
          span.setAttribute("graphql.operation.type", operation.operation);
          span.setAttribute("graphql.operation.name", name);
        },

        async willSendResponse({ response }) {
          const result =
            response.body.kind === "single"
              ? response.body.singleResult
              : undefined;
          const errors = result?.errors ?? [];
          for (const error of errors) {
            metrics.errors.inc({
              code: String(error.extensions?.code ?? "UNKNOWN"),
            });
          }

          const outcome =
            errors.length === 0
              ? "success"
              : hasSomeData(result?.data)
                ? "partial"
                : "failure";
          metrics.operations.inc({ outcome });
          contextValue.metricsState.counted = true;
          if (outcome !== "success") {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: errors[0]?.message,
            });
          }
          span.setAttribute("graphql.errors", errors.length);
          span.end();
        },
      };
    },
  };
}

/** True when at least one root field of `data` is not null. */
function hasSomeData(
  data: Record<string, unknown> | null | undefined,
): boolean {
  if (data == null) return false;
  return Object.values(data).some((value) => value !== null);
}
