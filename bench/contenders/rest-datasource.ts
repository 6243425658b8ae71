/**
 * Contender 2: a subgraph on Apollo's RESTDataSource with a DataLoader per
 * request, as Apollo's documentation suggests. The data source is created
 * per request too, because its request dedupe ignores headers and the
 * token differs per caller.
 */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { RESTDataSource } from "@apollo/datasource-rest";
import type { AugmentedRequest } from "@apollo/datasource-rest";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import DataLoader from "dataloader";
import { requireEnv, serveRunner } from "../child";
import { handWrittenTypeDefs, readToken } from "./subgraph-schema";
import type { UpstreamImage } from "./subgraph-schema";

class ImagesAPI extends RESTDataSource {
  constructor(
    baseURL: string,
    private readonly token: string,
  ) {
    super();
    this.baseURL = baseURL;
  }

  override willSendRequest(_path: string, request: AugmentedRequest): void {
    request.headers["x-auth-token"] = this.token;
  }

  async getImage(id: string): Promise<UpstreamImage> {
    const body = await this.get<{ image: UpstreamImage }>(
      `images/${encodeURIComponent(id)}`,
    );
    return body.image;
  }
}

interface Context {
  images: DataLoader<string, UpstreamImage>;
}

async function main(): Promise<void> {
  const baseURL = `${requireEnv("BENCH_UPSTREAM_URL")}/`;
  const server = new ApolloServer<Context>({
    schema: buildSubgraphSchema({
      typeDefs: handWrittenTypeDefs,
      resolvers: {
        Query: {
          image: (_: unknown, { id }: { id: string }, { images }: Context) =>
            images.load(id),
        },
        Image: {
          __resolveReference: ({ id }: { id: string }, { images }: Context) =>
            images.load(id),
        },
      } as GraphQLResolverMap<unknown>,
    }),
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => {
      const api = new ImagesAPI(baseURL, readToken(req.headers));
      return {
        images: new DataLoader((ids: readonly string[]) =>
          Promise.all(
            ids.map((id) =>
              api.getImage(id).catch((error: unknown) => error as Error),
            ),
          ),
        ),
      };
    },
  });
  serveRunner(url, () => server.stop());
}

main().catch((error: unknown) => {
  console.error(
    `The RESTDataSource contender failed to start: ${String(error)}`,
  );
  process.exit(1);
});
