import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import { startApolloGateway } from "../../examples/gateways/apollo-gateway";
import type { RunningGateway } from "../../examples/gateways/apollo-gateway";
import { composeSupergraph } from "../../examples/gateways/compose";
import { startHiveGateway } from "../../examples/gateways/hive-gateway";
import {
  SNAPSHOT_SOURCE_SERVER_IDS,
  startServersSubgraph,
} from "../../examples/servers-subgraph";
import type {
  ExampleServer,
  RunningSubgraph,
} from "../../examples/servers-subgraph";
import { postGraphQL, startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const MISSING_IMAGE_ID = "00000000-0000-4000-8000-000000000404";

/** Seven images of the simulator and one that it does not have. */
const IMAGE_IDS = [
  SEED_IMAGE_IDS.ubuntu,
  SEED_IMAGE_IDS.snapshot,
  SEED_IMAGE_IDS.windows,
  SEED_IMAGE_IDS.centos,
  SEED_IMAGE_IDS.debian,
  SEED_IMAGE_IDS.backup,
  SEED_IMAGE_IDS.nonStringMetadata,
  MISSING_IMAGE_ID,
];

/** 40 servers on the 8 images, in turn: server n is on IMAGE_IDS[n % 8]. */
const SERVERS: ExampleServer[] = Array.from({ length: 40 }, (_, index) => ({
  id: `6f1c2d3e-0000-4000-8000-${String(index).padStart(12, "0")}`,
  name: `web-${String(index).padStart(2, "0")}`,
  imageId: IMAGE_IDS[index % IMAGE_IDS.length]!,
}));

const SERVERS_QUERY = `{
  servers {
    name
    image { id name minRam type server { id } metadata { key value } }
  }
}`;

interface JoinedServer {
  name: string;
  image: {
    id: string;
    name: string | null;
    type: string | null;
    server: { id: string } | null;
  } | null;
}

const GATEWAYS = [
  { name: "Apollo Gateway", start: startApolloGateway },
  { name: "Hive Gateway", start: startHiveGateway },
] as const;

let stack: Stack;
let servers: RunningSubgraph;
let supergraphSdl: string;

beforeAll(async () => {
  stack = await startStack();
  servers = await startServersSubgraph({ servers: SERVERS });
  supergraphSdl = await composeSupergraph([
    { name: "images", url: stack.service.url },
    { name: "servers", url: servers.url },
  ]);
});

afterAll(async () => {
  await servers?.stop();
  await stack?.close();
});

beforeEach(() => stack.simulator.reset());

describe.each(GATEWAYS)("$name", ({ start }) => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await start({ supergraphSdl });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test("joins images onto servers", async () => {
    const { status, body } = await postGraphQL(gateway.url, SERVERS_QUERY);

    expect(status).toBe(200);
    const joined = body.data?.servers as JoinedServer[];
    expect(joined).toHaveLength(40);
    expect(joined[0]?.image?.name).toBe("Ubuntu 11.10");
    expect(joined[0]?.image?.type).toBe("BASE");
    expect(joined[1]?.image?.type).toBe("SNAPSHOT");
    expect(joined[2]?.image?.name).toBe("Windows Server 2012 R2");
    // The missing image is null as a whole because metadata is non-null.
    expect(joined[7]?.image).toBeNull();
    expect(joined[8]?.image?.id).toBe(SEED_IMAGE_IDS.ubuntu);
  });

  test("join of 40 servers makes 8 upstream calls", async () => {
    await postGraphQL(gateway.url, SERVERS_QUERY);

    const calls = stack.simulator.imageRequests();
    expect(calls).toHaveLength(8);
    expect(new Set(calls.map((call) => call.imageId))).toEqual(
      new Set(IMAGE_IDS),
    );
  });

  test("missing image is NOT_FOUND with upstream", async () => {
    const { body } = await postGraphQL(gateway.url, SERVERS_QUERY);

    const errors = body.errors ?? [];
    expect(new Set(errors.map((error) => error.extensions?.code))).toEqual(
      new Set(["NOT_FOUND"]),
    );
    // Apollo Gateway reports one error at each image's path, and Hive Gateway
    // one at each field that the client selected on the image.
    const imagePaths = new Set(
      errors.map((error) => JSON.stringify(error.path?.slice(0, 3))),
    );
    expect(imagePaths).toEqual(
      new Set(
        [7, 15, 23, 31, 39].map((index) =>
          JSON.stringify(["servers", index, "image"]),
        ),
      ),
    );
    for (const error of errors) {
      expect(error.message).toBe(`Image ${MISSING_IMAGE_ID} not found.`);
      expect(error.extensions?.imageId).toBe(MISSING_IMAGE_ID);
      expect(error.extensions?.upstream).toEqual({
        status: 404,
        fault: "itemNotFound",
        message: "Image not found.",
        requestId: expect.stringMatching(/^req-[0-9a-f-]{36}$/),
      });
    }
  });

  test("caller token reaches the upstream", async () => {
    await postGraphQL(gateway.url, SERVERS_QUERY, { token: DEMO_TOKEN });

    const tokens = stack.simulator
      .imageRequests()
      .map((call) => call.headers["x-auth-token"]);
    expect(tokens).toHaveLength(8);
    expect(new Set(tokens)).toEqual(new Set([DEMO_TOKEN]));
  });

  test("request without token is UNAUTHENTICATED", async () => {
    const { body } = await postGraphQL(gateway.url, SERVERS_QUERY, {
      token: null,
    });

    expect(stack.simulator.imageRequests()).toHaveLength(0);
    const codes = new Set(body.errors?.map((error) => error.extensions?.code));
    expect(codes).toEqual(new Set(["UNAUTHENTICATED"]));
    const names = (body.data?.servers as JoinedServer[]).map((s) => s.name);
    expect(names).toHaveLength(40);
  });

  test("snapshot links back to its server", async () => {
    const { body } = await postGraphQL(gateway.url, SERVERS_QUERY);

    const snapshot = (body.data?.servers as JoinedServer[])[1];
    expect(snapshot?.image?.server?.id).toBe(SNAPSHOT_SOURCE_SERVER_IDS.web01);
  });
});
