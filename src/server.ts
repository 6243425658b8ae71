import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApolloServer, HTTPGraphQLResponse } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import cors from "cors";
import type { Logger } from "pino";
import { createApolloServer } from "./apollo";
import type { Config } from "./config";
import type { RequestContext } from "./context";
import { createImageLoader } from "./images/loader";
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
  /** Stops taking requests, finishes those in flight and closes the upstream pool. */
  close(): Promise<void>;
}

const GRAPHQL_PATH = "/graphql";

class RequestTooLargeError extends Error {
  override name = "RequestTooLargeError";
}

/** Starts the HTTP server with the subgraph at `/graphql` and the health checks. */
export async function startService(
  options: ServiceOptions,
): Promise<RunningService> {
  const { config, logger } = options;
  const client = new ImagesApiClient({
    baseUrl: config.imagesApiUrl,
    timeoutMs: config.upstreamTimeoutMs,
    maxConnections: config.upstreamMaxConnections,
    maxBodyBytes: config.upstreamMaxBodyBytes,
    userAgent: `${PACKAGE_NAME}/${PACKAGE_VERSION}`,
    logger,
  });
  const apollo = createApolloServer({
    logger,
    development: config.development,
    ...(options.sandboxToken !== undefined && {
      sandboxToken: options.sandboxToken,
    }),
  });
  await apollo.start();

  const state = { ready: true };
  const createContext = async (request: IncomingMessage) => {
    const token = readToken(request);
    return {
      token,
      images: createImageLoader({
        source: client,
        token,
        concurrency: config.upstreamConcurrency,
      }),
      logger,
    } satisfies RequestContext;
  };

  const corsHandler = cors();
  const server = createServer((request, response) => {
    corsHandler(request, response, () => {
      route(request, response, {
        apollo,
        config,
        createContext,
        state,
        logger,
      });
    });
  });

  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const host =
    config.host === "0.0.0.0" || config.host === "::"
      ? "localhost"
      : config.host;
  logger.info(
    { port, host: config.host, upstream: config.imagesApiUrl.origin },
    "service started",
  );

  return {
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    port,
    close: async () => {
      state.ready = false;
      await closeServer(server);
      await apollo.stop();
      await client.close();
      logger.info("service stopped");
    },
  };
}

interface RouteDependencies {
  apollo: ApolloServer<RequestContext>;
  config: Config;
  createContext: (request: IncomingMessage) => Promise<RequestContext>;
  state: { ready: boolean };
  logger: Logger;
}

function route(
  request: IncomingMessage,
  response: ServerResponse,
  dependencies: RouteDependencies,
): void {
  const url = new URL(request.url ?? "/", "http://localhost");
  switch (url.pathname) {
    case GRAPHQL_PATH:
      handleGraphQL(request, response, url, dependencies).catch((error) => {
        dependencies.logger.error({ err: error }, "GraphQL request failed");
        if (!response.headersSent)
          sendJson(response, 500, { error: "Internal server error." });
        else response.destroy();
      });
      return;
    case "/livez":
      sendJson(response, 200, { status: "ok" });
      return;
    case "/readyz":
      sendJson(response, dependencies.state.ready ? 200 : 503, {
        status: dependencies.state.ready ? "ready" : "shutting down",
      });
      return;
    default:
      sendJson(response, 404, {
        error: `No route for ${url.pathname}: GraphQL is served at ${GRAPHQL_PATH}.`,
      });
  }
}

async function handleGraphQL(
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  { apollo, config, createContext }: RouteDependencies,
): Promise<void> {
  let body: unknown;
  try {
    body = await readJsonBody(request, config.maxRequestBytes);
  } catch (error) {
    if (error instanceof RequestTooLargeError) {
      sendGraphQLError(response, 413, error.message, "PAYLOAD_TOO_LARGE");
      return;
    }
    if (error instanceof SyntaxError) {
      sendGraphQLError(
        response,
        400,
        `The request body is not valid JSON: ${error.message}`,
        "BAD_REQUEST",
      );
      return;
    }
    throw error;
  }

  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined)
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }

  const result = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: request.method?.toUpperCase() ?? "GET",
      headers,
      search: url.search,
      body,
    },
    context: () => createContext(request),
  });
  await writeGraphQLResponse(response, result);
}

function readToken(request: IncomingMessage): string | null {
  const value = request.headers["x-auth-token"];
  const token = (Array.isArray(value) ? value[0] : value)?.trim();
  return token === undefined || token === "" ? null : token;
}

/**
 * Reads a JSON request body of at most `maxBytes`. Returns the raw text for
 * other content types, which Apollo Server then rejects with its own message.
 */
async function readJsonBody(
  request: IncomingMessage,
  maxBytes: number,
): Promise<unknown> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    request.resume();
    throw new RequestTooLargeError(
      `The request body is larger than the limit of ${maxBytes} bytes.`,
    );
  }

  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      request.resume();
      throw new RequestTooLargeError(
        `The request body is larger than the limit of ${maxBytes} bytes.`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;

  const text = Buffer.concat(chunks).toString("utf8");
  const contentType = request.headers["content-type"] ?? "";
  return /\bjson\b/i.test(contentType) ? JSON.parse(text) : text;
}

async function writeGraphQLResponse(
  response: ServerResponse,
  result: HTTPGraphQLResponse,
): Promise<void> {
  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;

  if (result.body.kind === "complete") {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
  });
  response.end(JSON.stringify(body));
}

function sendGraphQLError(
  response: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  sendJson(response, status, { errors: [{ message, extensions: { code } }] });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}
