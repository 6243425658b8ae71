import { ApolloServer } from "@apollo/server";
import type { ApolloServerOptions, ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";

/** The header that carries the caller's Cloud Servers token. */
export const AUTH_TOKEN_HEADER = "x-auth-token";

/** The operation and headers that Apollo Sandbox opens with on the landing page. */
export interface SandboxSettings {
  document: string;
  variables?: Record<string, unknown>;
  /** Headers that Sandbox sends, such as a demo `X-Auth-Token`. */
  headers?: Record<string, string>;
}

export interface ApolloGatewayOptions {
  /** A composed supergraph SDL, as `rover supergraph compose` writes it. */
  supergraphSdl: string;
  /** Default 0, which picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serves Apollo Sandbox on GET when set; default: no landing page. */
  sandbox?: SandboxSettings;
  /** Headers added to every subgraph request, such as a router secret. */
  subgraphHeaders?: Record<string, string>;
  /** Apollo Server's logger; default: one that drops every message. */
  logger?: ApolloServerOptions<GatewayContext>["logger"];
}

export interface RunningGateway {
  /** The GraphQL endpoint, such as `http://127.0.0.1:4000/`. */
  url: string;
  stop(): Promise<void>;
}

interface GatewayContext {
  token: string | undefined;
}

const silentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/**
 * Starts `@apollo/gateway` in front of the supergraph's subgraphs. It copies
 * the caller's `X-Auth-Token` onto every subgraph request. Subgraph errors
 * reach the client with their message and extensions, which is what this
 * gateway does by default.
 */
export async function startApolloGateway(
  options: ApolloGatewayOptions,
): Promise<RunningGateway> {
  const subgraphHeaders = Object.entries(options.subgraphHeaders ?? {});
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    logger: options.logger ?? silentLogger,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          for (const [name, value] of subgraphHeaders) {
            request.http?.headers.set(name, value);
          }
          if (context.token !== undefined) {
            request.http?.headers.set(AUTH_TOKEN_HEADER, context.token);
          }
        },
      }),
  });

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: options.logger ?? silentLogger,
    // Sandbox reads the schema by introspection, also with NODE_ENV=production.
    ...(options.sandbox !== undefined && { introspection: true }),
    plugins: [landingPage(options.sandbox)],
    // The caller stops the gateway, so that a process stops in order.
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: options.port ?? 0, host: options.host ?? "127.0.0.1" },
    context: async ({ req }) => ({ token: readToken(req.headers) }),
  });
  return { url, stop: () => apollo.stop() };
}

function landingPage(
  sandbox: SandboxSettings | undefined,
): ApolloServerPlugin<GatewayContext> {
  if (sandbox === undefined) return ApolloServerPluginLandingPageDisabled();
  return ApolloServerPluginLandingPageLocalDefault({
    embed: true,
    includeCookies: false,
    document: sandbox.document,
    ...(sandbox.variables !== undefined && { variables: sandbox.variables }),
    ...(sandbox.headers !== undefined && { headers: sandbox.headers }),
  });
}

function readToken(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const value = headers[AUTH_TOKEN_HEADER];
  const token = Array.isArray(value) ? value[0] : value;
  return token === undefined || token.trim() === "" ? undefined : token;
}
