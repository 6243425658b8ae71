import { ApolloServer } from "@apollo/server";
import type { ApolloServerOptions, BaseContext } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLSchema } from "graphql";
import { parse } from "graphql";
import { readPackageFile } from "../../src/package-files";
import { EXAMPLE_SERVERS } from "./servers";
import type { ExampleServer } from "./servers";

/** The example subgraph's type definitions, parsed from its `schema.graphql`. */
export const serversTypeDefs = parse(
  readPackageFile("examples/servers-subgraph/schema.graphql"),
);

/**
 * Builds the Servers subgraph schema over a fixed list of servers. Each
 * server returns only `{ id }` for its image, and the router requests the rest
 * from the images subgraph.
 */
export function createServersSchema(
  servers: readonly ExampleServer[],
): GraphQLSchema {
  const byId = new Map(servers.map((server) => [server.id, server]));
  return buildSubgraphSchema({
    typeDefs: serversTypeDefs,
    resolvers: {
      Query: {
        servers: () => servers,
        server: (_parent: unknown, { id }: { id: string }) =>
          byId.get(id) ?? null,
      },
      Server: {
        // A snapshot's `Image.server` arrives here as `{ id }`. An id that is
        // not in the fleet, such as a deleted server's, resolves to null.
        __resolveReference: ({ id }: { id: string }) => byId.get(id) ?? null,
        image: (server: ExampleServer) =>
          server.imageId === null ? null : { id: server.imageId },
      },
    },
  });
}

export interface ServersSubgraphOptions {
  /** Default: {@link EXAMPLE_SERVERS}. */
  servers?: readonly ExampleServer[];
  /** Default 0, which picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Apollo Server's logger; default: one that drops every message. */
  logger?: ApolloServerOptions<BaseContext>["logger"];
}

export interface RunningSubgraph {
  /** The GraphQL endpoint, such as `http://127.0.0.1:4002/`. */
  url: string;
  stop(): Promise<void>;
}

const silentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** Starts the example Servers subgraph over HTTP. */
export async function startServersSubgraph(
  options: ServersSubgraphOptions = {},
): Promise<RunningSubgraph> {
  const apollo = new ApolloServer({
    schema: createServersSchema(options.servers ?? EXAMPLE_SERVERS),
    logger: options.logger ?? silentLogger,
    // The caller stops the subgraph, so that a process stops in order.
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: options.port ?? 0, host: options.host ?? "127.0.0.1" },
  });
  return { url, stop: () => apollo.stop() };
}
