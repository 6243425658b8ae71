import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

/** A server of the example Servers subgraph, with the id of its image. */
export interface ExampleServer {
  id: string;
  name: string;
  imageId: string;
}

const silentLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

const typeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Query {
    servers: [Server!]!
  }

  type Server @key(fields: "id") {
    id: ID!
    name: String!
    image: Image
  }

  type Image @key(fields: "id", resolvable: false) {
    id: ID!
  }
`);

/**
 * Starts a small Servers subgraph on loopback, as another team would own it:
 * each server holds only the id of its image, and the images subgraph
 * resolves the rest.
 */
export async function startServersSubgraph(
  servers: readonly ExampleServer[],
): Promise<{ url: string; stop: () => Promise<void> }> {
  const byId = new Map(servers.map((server) => [server.id, server]));
  const schema = buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: { servers: () => servers },
      Server: {
        __resolveReference: ({ id }: { id: string }) => byId.get(id) ?? null,
        image: (server: ExampleServer) => ({ id: server.imageId }),
      },
    },
  });

  const apollo = new ApolloServer({ schema, logger: silentLogger });
  const { url } = await startStandaloneServer(apollo, {
    listen: { port: 0, host: "127.0.0.1" },
  });
  return { url, stop: () => apollo.stop() };
}
