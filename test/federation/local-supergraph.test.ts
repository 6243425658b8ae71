import pino from "pino";
import { loadConfig } from "../../src/config";
import { SEED_IMAGE_IDS } from "../../simulator";
import { startLocalSupergraph } from "../../examples/supergraph";
import type { LocalSupergraph } from "../../examples/supergraph";
import { EXAMPLE_SERVERS } from "../../examples/servers-subgraph";
import { postGraphQL } from "../support/stack";

/** The first query that the README and `npm run supergraph` suggest. */
const NEWCOMER_QUERY = `{
  servers {
    name
    image { name minRam type metadata { key value } server { id name } }
  }
}`;

interface JoinedServer {
  name: string;
  image: {
    name: string | null;
    minRam: number | null;
    type: string | null;
    metadata: { key: string; value: string | null }[];
    server: { id: string; name: string } | null;
  } | null;
}

/** Starts the stack of `npm run supergraph` on free ports. */
function startOnFreePorts(
  env: Record<string, string> = {},
): Promise<LocalSupergraph> {
  return startLocalSupergraph({
    config: loadConfig({
      IMAGES_API_URL: "http://127.0.0.1/replaced-by-the-simulator",
      PORT: "0",
      HOST: "127.0.0.1",
      SHUTDOWN_GRACE_MS: "0",
      ...env,
    }),
    logger: pino({ level: "silent" }),
    gatewayPort: 0,
    serversPort: 0,
    simulatorPort: 0,
  });
}

let supergraph: LocalSupergraph;

beforeAll(async () => {
  supergraph = await startOnFreePorts();
});

afterAll(async () => {
  await supergraph?.close();
});

async function queryServers(): Promise<JoinedServer[]> {
  const { body } = await postGraphQL(supergraph.gateway.url, NEWCOMER_QUERY, {
    token: supergraph.token,
  });
  expect(body.errors).toBeUndefined();
  return body.data?.servers as JoinedServer[];
}

function serverNamed(servers: JoinedServer[], name: string): JoinedServer {
  const server = servers.find((candidate) => candidate.name === name);
  if (server === undefined) throw new Error(`no server named ${name}`);
  return server;
}

test("newcomer query returns every server", async () => {
  const servers = await queryServers();

  expect(servers.map((server) => server.name)).toEqual(
    EXAMPLE_SERVERS.map((server) => server.name),
  );
  const web01 = serverNamed(servers, "web-01");
  expect(web01.image?.name).toBe("Ubuntu 11.10");
  expect(web01.image?.minRam).toBe(256);
  expect(web01.image?.type).toBe("BASE");
  expect(web01.image?.metadata).toContainEqual({
    key: "image_type",
    value: "base",
  });
});

test("snapshot leads back to its server", async () => {
  const servers = await queryServers();

  const web02 = serverNamed(servers, "web-02");
  expect(web02.image?.type).toBe("SNAPSHOT");
  expect(web02.image?.server?.name).toBe("web-01");
});

test("backup of an unknown server has no server", async () => {
  const servers = await queryServers();

  const web04 = serverNamed(servers, "web-04");
  expect(web04.image?.type).toBe("BACKUP");
  expect(web04.image?.server).toBeNull();
});

test("server booted from a volume has no image", async () => {
  const servers = await queryServers();

  expect(serverNamed(servers, "vol-01").image).toBeNull();
});

test("each distinct image is fetched once", async () => {
  supergraph.simulator.reset();

  await queryServers();

  const distinctImages = new Set(
    EXAMPLE_SERVERS.flatMap((server) =>
      server.imageId === null ? [] : [server.imageId],
    ),
  );
  const calls = supergraph.simulator.imageRequests();
  expect(calls).toHaveLength(distinctImages.size);
  expect(new Set(calls.map((call) => call.imageId))).toEqual(distinctImages);
  expect(distinctImages).toContain(SEED_IMAGE_IDS.snapshot);
});

test("gateway sends the router secret", async () => {
  const secured = await startOnFreePorts({
    ROUTER_SECRET: "local-router-secret-0123456789",
  });
  try {
    const { body } = await postGraphQL(secured.gateway.url, NEWCOMER_QUERY, {
      token: secured.token,
    });

    expect(body.errors).toBeUndefined();
    const servers = body.data?.servers as JoinedServer[];
    expect(serverNamed(servers, "web-01").image?.name).toBe("Ubuntu 11.10");
  } finally {
    await secured.close();
  }
});
