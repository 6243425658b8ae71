/**
 * Contender 4: the N+1 floor. Every resolved image makes its own upstream
 * call with the global `fetch`, with no batching and no dedupe.
 */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import { GraphQLError } from "graphql";
import { requireEnv, serveRunner } from "../child";
import { handWrittenTypeDefs, readToken } from "./subgraph-schema";
import type { UpstreamImage } from "./subgraph-schema";

interface Context {
  token: string;
}

async function main(): Promise<void> {
  const base = requireEnv("BENCH_UPSTREAM_URL");
  const fetchImage = async (
    id: string,
    { token }: Context,
  ): Promise<UpstreamImage> => {
    const response = await fetch(`${base}/images/${encodeURIComponent(id)}`, {
      headers: { "x-auth-token": token, accept: "application/json" },
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new GraphQLError(`Image ${id}: upstream status ${response.status}`);
    }
    const body = (await response.json()) as { image: UpstreamImage };
    return body.image;
  };

  const server = new ApolloServer<Context>({
    schema: buildSubgraphSchema({
      typeDefs: handWrittenTypeDefs,
      resolvers: {
        Query: {
          image: (_: unknown, { id }: { id: string }, context: Context) =>
            fetchImage(id, context),
        },
        Image: {
          __resolveReference: ({ id }: { id: string }, context: Context) =>
            fetchImage(id, context),
        },
      } as GraphQLResolverMap<unknown>,
    }),
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ token: readToken(req.headers) }),
  });
  serveRunner(url, () => server.stop());
}

main().catch((error: unknown) => {
  console.error(`The naive contender failed to start: ${String(error)}`);
  process.exit(1);
});
