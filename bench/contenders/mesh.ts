/**
 * Contender 3: GraphQL Mesh composes a federation subgraph from an OpenAPI
 * document of the endpoint, and Hive Gateway serves it, as
 * `mesh-compose --subgraph` and `hive-gateway subgraph` would.
 *
 * The upstream wraps the image as `{"image": {...}}`, so a hoist transform
 * lifts it onto the root field `image`. In subgraph mode the REST transport
 * is built from the served schema by default, where the hoist has removed
 * the generated field, and every `image` and `_entities` result is null or
 * an error (seen with the versions in package.json). So the transport gets
 * the composed subgraph schema instead.
 *
 * OpenAPI has no ID type, so `Image.id` is generated as `String!`, which
 * does not compose with the `ID!` of the Servers subgraph. A small
 * transform retypes it.
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  createFederationTransform,
  createHoistFieldTransform,
  getComposedSchemaFromConfig,
} from "@graphql-mesh/compose-cli";
import { restoreExtraDirectives } from "@graphql-mesh/fusion-runtime";
import restTransport from "@graphql-mesh/transport-rest";
import { createGatewayRuntime } from "@graphql-hive/gateway";
import { MapperKind, mapSchema } from "@graphql-tools/utils";
import { loadOpenAPISubgraph } from "@omnigraph/openapi";
import { GraphQLID, GraphQLNonNull, buildASTSchema, parse } from "graphql";
import type { GraphQLSchema } from "graphql";
import { requireEnv, serveRunner } from "../child";

const SUBGRAPH_NAME = "images";

type ComposeLogger = Parameters<typeof getComposedSchemaFromConfig>[1];
type ExecutorOptions = Parameters<typeof restTransport.getSubgraphExecutor>[0];

const silentLogger = {
  log: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
} as unknown as ComposeLogger;

/** Types `Image.id` as `ID!`, as the Servers subgraph declares it. */
function imageIdAsId(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) =>
      typeName === "Image" && fieldName === "id"
        ? { ...field, type: new GraphQLNonNull(GraphQLID) }
        : field,
  });
}

/** Finds the repository root, which contains the OpenAPI document. */
function packageRoot(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, "package.json"))) {
    const parent = path.dirname(directory);
    if (parent === directory)
      throw new Error(`No package root above ${__dirname}.`);
    directory = parent;
  }
  return directory;
}

async function composeSubgraph(endpoint: string): Promise<string> {
  return getComposedSchemaFromConfig(
    {
      cwd: packageRoot(),
      subgraph: SUBGRAPH_NAME,
      subgraphs: [
        {
          sourceHandler: loadOpenAPISubgraph(SUBGRAPH_NAME, {
            source: "./bench/contenders/images-openapi.yaml",
            endpoint,
            operationHeaders: {
              "X-Auth-Token": "{context.headers['x-auth-token']}",
            },
          }),
          transforms: [
            createHoistFieldTransform({
              mapping: [
                {
                  typeName: "Query",
                  pathConfig: ["getImage", "image"],
                  newFieldName: "image",
                },
              ],
            }),
            createFederationTransform({
              Image: {
                key: [
                  {
                    fields: "id",
                    resolveReference: { fieldName: "image" },
                  },
                ],
              },
            }),
            imageIdAsId,
          ],
        },
      ],
    },
    silentLogger,
  );
}

async function main(): Promise<void> {
  const subgraphSdl = await composeSubgraph(requireEnv("BENCH_UPSTREAM_URL"));
  const composedSchema = restoreExtraDirectives(
    buildASTSchema(parse(subgraphSdl), { assumeValidSDL: true }),
  );

  const gateway = createGatewayRuntime({
    subgraph: subgraphSdl,
    logging: false,
    landingPage: false,
    graphiql: false,
    transports: {
      rest: {
        getSubgraphExecutor: (options: ExecutorOptions) =>
          restTransport.getSubgraphExecutor({
            ...options,
            subgraph: composedSchema,
          }),
      },
    },
  });
  const server = createServer(gateway);
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;

  serveRunner(`http://127.0.0.1:${port}/graphql`, async () => {
    server.closeAllConnections();
    server.close();
    await gateway.dispose();
  });
}

main().catch((error: unknown) => {
  console.error(`The Mesh contender failed to start: ${String(error)}`);
  process.exit(1);
});
