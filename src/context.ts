import type { Logger } from "pino";
import type { ImageLoader } from "./images/loader";
import type { CallOptions } from "./upstream/client";

/** What resolvers of one GraphQL request share. */
export interface RequestContext {
  /** The caller's `X-Auth-Token`, or null when the request had none. */
  token: string | null;
  images: ImageLoader;
  logger: Logger;
  /**
   * The deadline and trace context of the request's upstream calls, shared
   * with its loader. The tracing plugin sets `traceContext`.
   */
  upstreamCall: CallOptions;
  /**
   * Whether the observability plugin has counted the response. The server
   * counts the requests that Apollo Server rejects before plugins run. It is
   * an object because plugins receive a shallow copy of the context.
   */
  metricsState: { counted: boolean };
}
