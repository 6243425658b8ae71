import { createHash, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import type { ApolloServer, HTTPGraphQLResponse } from "@apollo/server";
import cors from "cors";
import type { Logger } from "pino";
import { createApolloServer } from "./apollo";
import type { Config } from "./config";
import type { RequestContext } from "./context";
import { Deadline } from "./deadline";
import {
  RequestAbortedError,
  RequestTooLargeError,
  closeServer,
  listen,
  readJsonBody,
  sendGraphQLError,
  sendJson,
  toHeaderMap,
  writeGraphQLResponse,
} from "./http";
import { createImageLoader } from "./images/loader";
import { Metrics } from "./observability/metrics";
import { FLUSH_TIMEOUT_MS, extractTraceContext } from "./observability/tracing";
import type { Tracing } from "./observability/tracing";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./package-files";
import { ImagesApiClient } from "./upstream/client";

export interface ServiceOptions {
  config: Config;
  logger: Logger;
  /** A token that Apollo Sandbox sends as `X-Auth-Token`, for the demo only. */
  sandboxToken?: string;
}

export interface RunningService {
  /** The GraphQL endpoint, such as `http://127.0.0.1:4001/graphql`. */
  url: string;
  port: number;
  metrics: Metrics;
  /**
   * Turns readiness off, stops taking connections after the shutdown delay,
   * lets in-flight requests finish within the shutdown grace period, then
   * closes the upstream pool. Later calls return the same promise.
   */
  close(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";

/** Time a client has to send its request headers, in milliseconds. */
const HEADERS_TIMEOUT_MS = 10_000;

/** Time a client has to send its whole request, body included, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30_000;

interface Handler {
  apollo: ApolloServer<RequestContext>;
  config: Config;
  client: ImagesApiClient;
  metrics: Metrics;
  logger: Logger;
  /** False from the start of shutdown on. */
  ready: boolean;
}

/** Starts the HTTP server with the subgraph at `/graphql`, health checks and metrics. */
export async function startService(
  options: ServiceOptions,
): Promise<RunningService> {
  const { config, logger } = options;
  const tracing = startTracingIfConfigured(config, logger);
  const metrics = new Metrics();
  const client = new ImagesApiClient({
    baseUrl: config.imagesApiUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxConnections: config.upstreamMaxConnections,
    keepAliveMs: config.upstreamKeepAliveMs,
    maxBodyBytes: config.upstreamMaxBodyBytes,
    retry: {
      maxAttempts: config.upstreamMaxAttempts,
      baseDelayMs: config.upstreamRetryBaseMs,
      maxDelayMs: config.upstreamRetryMaxMs,
    },
    userAgent: `${PACKAGE_NAME}/${PACKAGE_VERSION}`,
    logger,
    metrics,
  });
  const apollo = createApolloServer({
    logger,
    development: config.development,
    landingPage: config.landingPage,
    metrics,
    limits: {
      maxDepth: config.maxQueryDepth,
      maxAliases: config.maxAliases,
      maxTokens: config.maxQueryTokens,
      maxEntityRepresentations: config.maxEntityRepresentations,
    },
    ...(options.sandboxToken !== undefined && {
      sandboxToken: options.sandboxToken,
    }),
  });
  await apollo.start();

  const handler: Handler = {
    apollo,
    config,
    client,
    metrics,
    logger,
    ready: true,
  };
  // Any origin, such as Apollo Sandbox's, with the methods that GraphQL
  // serves. The token travels in a header, never in a cookie.
  const corsHandler = cors({ methods: ["GET", "POST"] });
  const server = createServer(
    {
      // A client gets this long to send its headers and then its whole
      // body, so a slow or stalled sender keeps no connection longer.
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
    },
    (request, response) => {
      corsHandler(request, response, () => route(request, response, handler));
    },
  );
  await listen(server, config.port, config.host);
  let closing: Promise<void> | undefined;

  const port = (server.address() as AddressInfo).port;
  const host = ["0.0.0.0", "::"].includes(config.host)
    ? "localhost"
    : config.host;
  logger.info(
    { port, host: config.host, upstream: config.imagesApiUrl.origin },
    "service started",
  );
  if (config.upstreamTimeoutMs > config.requestDeadlineMs) {
    logger.warn(
      {
        upstreamTimeoutMs: config.upstreamTimeoutMs,
        requestDeadlineMs: config.requestDeadlineMs,
      },
      "UPSTREAM_TIMEOUT_MS is longer than REQUEST_DEADLINE_MS, so the request deadline, not the upstream timeout, ends slow calls; set UPSTREAM_TIMEOUT_MS to at most REQUEST_DEADLINE_MS",
    );
  }

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    metrics,
    close: () => {
      closing ??= shutDown(server, handler, tracing);
      return closing;
    },
  };
}

/**
 * Turns readiness off, keeps serving for `shutdownDelayMs`, then closes the
 * listener and waits up to `shutdownGraceMs` for in-flight requests before
 * it cuts their connections and closes the upstream pool.
 */
async function shutDown(
  server: Server,
  handler: Handler,
  tracing: Tracing | undefined,
): Promise<void> {
  const { config, logger, apollo, client } = handler;
  handler.ready = false;
  if (config.shutdownDelayMs > 0) {
    logger.info(
      { delayMs: config.shutdownDelayMs },
      "not ready; serving until the shutdown delay ends",
    );
    await sleep(config.shutdownDelayMs);
  }

  const inFlight = (await handler.metrics.inFlight.get()).values[0]?.value;
  // The listener closes before the line is written, so a reader of the log
  // that sees it can rely on new connections being refused.
  const closed = closeServer(server, config.shutdownGraceMs);
  logger.info(
    { graceMs: config.shutdownGraceMs, inFlight: inFlight ?? 0 },
    "draining requests",
  );
  const { cutConnections } = await closed;
  if (cutConnections > 0) {
    logger.warn(
      { cutConnections, graceMs: config.shutdownGraceMs },
      "shutdown grace period ended; closed connections with requests in flight",
    );
  }

  await apollo.stop();
  // After a cut, resolvers may still wait on upstream calls whose results
  // can no longer be sent.
  await (cutConnections > 0 ? client.destroy() : client.close());
  if (tracing !== undefined && !(await tracing.shutdown())) {
    logger.warn(
      { timeoutMs: FLUSH_TIMEOUT_MS },
      "exporting the last spans failed or timed out; they are dropped",
    );
  }
  logger.info("service stopped");
}

type Exporter = typeof import("./observability/exporter");

function startTracingIfConfigured(
  config: Config,
  logger: Logger,
): Tracing | undefined {
  if (config.otlpTracesEndpoint === null) return undefined;

  logger.info({ endpoint: config.otlpTracesEndpoint }, "exporting traces");
  // Loaded here, so that a service without tracing never loads the SDK.
  const exporter = require("./observability/exporter") as Exporter;
  return exporter.startTracing(
    config.otlpTracesEndpoint,
    config.serviceName,
    logger,
  );
}

function route(
  request: IncomingMessage,
  response: ServerResponse,
  handler: Handler,
): void {
  // While draining, each response closes its connection, so that callers
  // move to another replica.
  if (!handler.ready) response.setHeader("connection", "close");

  const url = new URL(request.url ?? "/", "http://localhost");
  switch (url.pathname) {
    case GRAPHQL_PATH:
      serveGraphQL(request, response, url, handler);
      return;
    case "/livez":
      sendJson(response, 200, { status: "ok" });
      return;
    case "/readyz":
      sendJson(response, handler.ready ? 200 : 503, {
        status: handler.ready ? "ready" : "shutting down",
      });
      return;
    case "/metrics":
      serveMetrics(response, handler);
      return;
    default:
      sendJson(response, 404, {
        error: `No route for ${url.pathname}: GraphQL is served at ${GRAPHQL_PATH}.`,
      });
  }
}

function serveGraphQL(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  handler: Handler,
): void {
  // A response contains what the caller's token may see, so a router or
  // proxy that cached it could hand it to a caller with another token.
  response.setHeader("cache-control", "no-store");

  if (!hasRouterSecret(request, handler.config)) {
    handler.logger.warn(
      { header: handler.config.routerSecretHeader },
      "rejected a request without a valid router secret",
    );
    rejectRequest(
      handler,
      response,
      401,
      `Missing or invalid ${handler.config.routerSecretHeader} header: this subgraph accepts requests only from its router.`,
      "UNAUTHENTICATED",
    );
    return;
  }

  const rejection = checkRequestHeaders(request);
  if (rejection !== null) {
    handler.logger.warn({ status: rejection.status }, rejection.message);
    rejectRequest(
      handler,
      response,
      rejection.status,
      rejection.message,
      "BAD_REQUEST",
    );
    return;
  }

  handler.metrics.inFlight.inc();
  handleGraphQL(request, response, url, handler)
    .catch((error: unknown) => {
      handler.logger.error({ err: error }, "GraphQL request failed");
      if (!response.headersSent) {
        rejectRequest(
          handler,
          response,
          500,
          "Internal server error.",
          "INTERNAL_SERVER_ERROR",
        );
      } else {
        response.destroy();
      }
    })
    .finally(() => handler.metrics.inFlight.dec());
}

async function handleGraphQL(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  handler: Handler,
): Promise<void> {
  let body: unknown;
  try {
    body = await readJsonBody(request, handler.config.maxRequestBytes);
  } catch (error) {
    if (error instanceof RequestTooLargeError) {
      rejectRequest(handler, response, 413, error.message, "PAYLOAD_TOO_LARGE");
      return;
    }
    if (error instanceof RequestAbortedError) {
      // The client is gone, so no error can reach it, and the service is
      // not at fault.
      handler.logger.info(
        { err: error.cause },
        "client closed the connection before the end of its request body",
      );
      response.destroy();
      return;
    }
    if (error instanceof SyntaxError) {
      // The parser's message quotes the body, which stays out of the log.
      handler.logger.warn("rejected a request body that is not valid JSON");
      rejectRequest(
        handler,
        response,
        400,
        `The request body is not valid JSON: ${error.message}`,
        "BAD_REQUEST",
      );
      return;
    }
    throw error;
  }

  let context: RequestContext | undefined;
  const result = await handler.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: request.method?.toUpperCase() ?? "GET",
      headers: toHeaderMap(request),
      search: url.search,
      body,
    },
    context: async () => {
      context = createContext(request, handler);
      return context;
    },
  });
  if (context?.metricsState.counted !== true && (result.status ?? 200) >= 400) {
    countApolloRejection(handler, result);
  }
  if (!handler.ready) response.setHeader("connection", "close");
  await writeGraphQLResponse(response, result);
}

/**
 * Counts a request that Apollo Server rejected before GraphQL ran, such as a
 * GET without a CSRF-safe header or a batch, as the plugin counts the others.
 */
function countApolloRejection(
  handler: Handler,
  result: HTTPGraphQLResponse,
): void {
  let code = "BAD_REQUEST";
  if (result.body.kind === "complete") {
    try {
      const body = JSON.parse(result.body.string) as {
        errors?: { extensions?: { code?: unknown } }[];
      };
      const sent = body.errors?.[0]?.extensions?.code;
      if (typeof sent === "string") code = sent;
    } catch {
      // A body that is not JSON keeps BAD_REQUEST.
    }
  }
  countFailure(handler, code);
}

/** Counts a request that failed as a whole, with the code of its error. */
function countFailure(handler: Handler, code: string): void {
  handler.metrics.errors.inc({ code });
  handler.metrics.operations.inc({ outcome: "failure" });
}

function createContext(
  request: IncomingMessage,
  handler: Handler,
): RequestContext {
  const { config, client, metrics, logger } = handler;
  const token = readToken(request);
  const upstreamCall = {
    deadline: new Deadline(config.requestDeadlineMs),
    traceContext: extractTraceContext(request.headers),
  };
  return {
    token,
    images: createImageLoader({
      source: client,
      token,
      concurrency: config.upstreamConcurrency,
      call: upstreamCall,
      metrics,
      ...(config.imageListThreshold > 0 && {
        list: {
          lister: client,
          threshold: config.imageListThreshold,
          pageSize: config.imageListPageSize,
          maxPages: config.imageListMaxPages,
          logger,
        },
      }),
    }),
    logger,
    upstreamCall,
    metricsState: { counted: false },
  };
}

function serveMetrics(response: ServerResponse, handler: Handler): void {
  const { registry } = handler.metrics;
  registry.metrics().then(
    (text) => {
      response.writeHead(200, { "content-type": registry.contentType });
      response.end(text);
    },
    (error: unknown) => {
      handler.logger.error({ err: error }, "collecting metrics failed");
      sendJson(response, 500, { error: "Collecting metrics failed." });
    },
  );
}

/**
 * Checks the headers that the body parser and the token reader rely on.
 * Node joins repeated `X-Auth-Token` headers into one value, which would
 * reach the upstream as a token of neither, and the body parser reads only
 * uncompressed bodies.
 */
function checkRequestHeaders(
  request: IncomingMessage,
): { status: number; message: string } | null {
  const tokens = request.headersDistinct["x-auth-token"] ?? [];
  if (tokens.length > 1) {
    return {
      status: 400,
      message: `The request has ${tokens.length} X-Auth-Token headers: send exactly one.`,
    };
  }

  const encoding = request.headers["content-encoding"]?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "" && encoding !== "identity") {
    return {
      status: 415,
      message: `Unsupported Content-Encoding ${JSON.stringify(encoding.slice(0, 32))}: send the request body uncompressed.`,
    };
  }
  return null;
}

/**
 * Sends the error of a request rejected before GraphQL ran, and counts it in
 * the operation and error metrics like an error that GraphQL sent.
 */
function rejectRequest(
  handler: Handler,
  response: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  countFailure(handler, code);
  sendGraphQLError(response, status, message, code);
}

function readToken(request: IncomingMessage): string | null {
  const value = request.headers["x-auth-token"];
  const token = (Array.isArray(value) ? value[0] : value)?.trim();
  return token === undefined || token === "" ? null : token;
}

/** Compares digests, so that the time taken reveals nothing about the secret. */
function hasRouterSecret(request: IncomingMessage, config: Config): boolean {
  if (config.routerSecret === null) return true;

  const value = request.headers[config.routerSecretHeader];
  const sent = Array.isArray(value) ? value[0] : value;
  if (sent === undefined) return false;
  return timingSafeEqual(digest(sent), digest(config.routerSecret));
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
