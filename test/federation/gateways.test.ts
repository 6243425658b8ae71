import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import {
  ApolloGateway,
  IntrospectAndCompose,
  RemoteGraphQLDataSource,
} from "@apollo/gateway";
import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import { postGraphQL, startStack } from "../support/stack";
import type { Stack } from "../support/stack";
import { startServersSubgraph } from "./servers-subgraph";
import type { ExampleServer } from "./servers-subgraph";

const MISSING_IMAGE_ID = "00000000-0000-4000-8000-000000000404";

/** 12 servers on 4 distinct images, one of which the upstream does not have. */
const SERVERS: ExampleServer[] = Array.from({ length: 12 }, (_, index) => ({
  id: `server-${index}`,
  name: `web-${String(index).padStart(2, "0")}`,
  imageId: [
    SEED_IMAGE_IDS.ubuntu,
    SEED_IMAGE_IDS.snapshot,
    SEED_IMAGE_IDS.windows,
    MISSING_IMAGE_ID,
  ][index % 4]!,
}));

interface GatewayContext {
  token: string | undefined;
}

let stack: Stack;
let servers: { url: string; stop: () => Promise<void> };
let gateway: ApolloServer<GatewayContext>;
let gatewayUrl: string;

beforeAll(async () => {
  stack = await startStack();
  servers = await startServersSubgraph(SERVERS);

  gateway = new ApolloServer<GatewayContext>({
    gateway: new ApolloGateway({
      supergraphSdl: new IntrospectAndCompose({
        subgraphs: [
          { name: "images", url: stack.service.url },
          { name: "servers", url: servers.url },
        ],
      }),
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<GatewayContext>({
          url,
          willSendRequest({ request, context }) {
            if (context.token !== undefined) {
              request.http?.headers.set("x-auth-token", context.token);
            }
          },
        }),
    }),
  });
  ({ url: gatewayUrl } = await startStandaloneServer(gateway, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({
      token: req.headers["x-auth-token"] as string | undefined,
    }),
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await servers?.stop();
  await stack?.close();
});

beforeEach(() => stack.simulator.reset());

const SERVERS_QUERY = `{
  servers {
    name
    image { id name minRam type server { id } metadata { key value } }
  }
}`;

test("gateway joins images onto servers", async () => {
  const { status, body } = await postGraphQL(gatewayUrl, SERVERS_QUERY);

  expect(status).toBe(200);
  const joined = body.data?.servers as {
    name: string;
    image: { id: string; name: string; type: string } | null;
  }[];
  expect(joined).toHaveLength(12);
  expect(joined[0]?.image?.name).toBe("Ubuntu 11.10");
  expect(joined[0]?.image?.type).toBe("BASE");
  expect(joined[1]?.image?.type).toBe("SNAPSHOT");
  expect(joined[2]?.image?.name).toBe("Windows Server 2012 R2");
  expect(joined[3]?.image).toBeNull();
});

test("gateway join calls upstream once per image", async () => {
  await postGraphQL(gatewayUrl, SERVERS_QUERY);

  const calls = stack.simulator.imageRequests();
  expect(calls).toHaveLength(4);
  expect(new Set(calls.map((call) => call.imageId))).toEqual(
    new Set([
      SEED_IMAGE_IDS.ubuntu,
      SEED_IMAGE_IDS.snapshot,
      SEED_IMAGE_IDS.windows,
      MISSING_IMAGE_ID,
    ]),
  );
});

test("gateway keeps error extensions", async () => {
  const { body } = await postGraphQL(gatewayUrl, SERVERS_QUERY);

  const notFound = body.errors?.filter(
    (error) => error.extensions?.code === "NOT_FOUND",
  );
  expect(notFound).toHaveLength(3);
  expect(notFound?.[0]?.message).toBe(`Image ${MISSING_IMAGE_ID} not found.`);
  expect(notFound?.[0]?.path).toEqual(["servers", 3, "image"]);
  expect(notFound?.[0]?.extensions?.upstream).toEqual({
    status: 404,
    fault: "itemNotFound",
    message: "Image not found.",
    requestId: expect.stringMatching(/^req-[0-9a-f-]{36}$/),
  });
});

test("gateway forwards caller token upstream", async () => {
  await postGraphQL(gatewayUrl, SERVERS_QUERY, { token: DEMO_TOKEN });

  const tokens = stack.simulator
    .imageRequests()
    .map((call) => call.headers["x-auth-token"]);
  expect(tokens).toHaveLength(4);
  expect(new Set(tokens)).toEqual(new Set([DEMO_TOKEN]));
});

test("gateway without token gets UNAUTHENTICATED", async () => {
  const { body } = await postGraphQL(gatewayUrl, SERVERS_QUERY, {
    token: null,
  });

  expect(stack.simulator.imageRequests()).toHaveLength(0);
  const codes = new Set(body.errors?.map((error) => error.extensions?.code));
  expect(codes).toEqual(new Set(["UNAUTHENTICATED"]));
  const names = (body.data?.servers as { name: string }[]).map((s) => s.name);
  expect(names).toHaveLength(12);
});

test("snapshot links back to its server", async () => {
  const { body } = await postGraphQL(
    gatewayUrl,
    `{ servers { image { id server { id } } } }`,
  );

  const snapshot = (
    body.data?.servers as { image: { server: { id: string } | null } | null }[]
  )[1];
  expect(snapshot?.image?.server?.id).toMatch(/^[0-9a-f-]{36}$/);
});
