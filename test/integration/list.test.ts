import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Pool } from "undici";
import { Deadline } from "../../src/deadline";
import { ImageError } from "../../src/errors";
import { fetchImagesPage } from "../../src/upstream/list";
import type { ImagesListOptions, PageRequest } from "../../src/upstream/list";
import { DEMO_TOKEN, SEED_IMAGES, startSimulator } from "../../simulator";
import type { Simulator } from "../../simulator";

const NO_DEADLINE = new Deadline(Infinity);
const FIRST_PAGE: PageRequest = { limit: 5, marker: null };

function listOptions(
  pool: Pool,
  basePath: string,
  overrides: Partial<ImagesListOptions> = {},
): ImagesListOptions {
  return {
    dispatcher: pool,
    basePath,
    timeoutMs: 2000,
    maxBodyBytes: 1_048_576,
    userAgent: "list-test/1",
    logger: pino({ level: "silent" }),
    ...overrides,
  };
}

/** Returns the ImageError that `promise` rejects with. */
async function imageErrorOf(promise: Promise<unknown>): Promise<ImageError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImageError) return error;
    throw error;
  }
  throw new Error("expected an ImageError");
}

describe("fetchImagesPage against the simulator", () => {
  let simulator: Simulator;
  let pool: Pool;
  let basePath: string;

  beforeAll(async () => {
    simulator = await startSimulator();
    pool = new Pool(simulator.origin);
    basePath = new URL(simulator.imagesApiUrl).pathname;
  });

  afterAll(async () => {
    await pool.close();
    await simulator.close();
  });

  beforeEach(() => simulator.reset());

  test("first page and next marker", async () => {
    const page = await fetchImagesPage(
      listOptions(pool, basePath),
      DEMO_TOKEN,
      FIRST_PAGE,
      NO_DEADLINE,
    );

    const expectedIds = SEED_IMAGES.slice(0, 5).map((image) => image.id);
    expect(page.images.map((image) => image.id)).toEqual(expectedIds);
    expect(page.nextMarker).toBe(expectedIds[4]);
    expect(page.requestId).toMatch(/^req-[0-9a-f-]{36}$/);
  });

  test("detail entries are full images", async () => {
    const page = await fetchImagesPage(
      listOptions(pool, basePath),
      DEMO_TOKEN,
      FIRST_PAGE,
      NO_DEADLINE,
    );

    const snapshot = page.images.find(
      (image) => image.id === SEED_IMAGES[1]!.id,
    );
    expect(snapshot?.body.name).toBe(SEED_IMAGES[1]!.name);
    expect(snapshot?.body.server).toMatchObject({
      id: SEED_IMAGES[1]!.server?.id,
    });
    expect(snapshot?.body.metadata).toEqual(SEED_IMAGES[1]!.metadata);
  });

  test("paging to the last page", async () => {
    const options = listOptions(pool, basePath);
    const seen: string[] = [];
    let marker: string | null = null;
    let pages = 0;
    do {
      const page = await fetchImagesPage(
        options,
        DEMO_TOKEN,
        { limit: 5, marker },
        NO_DEADLINE,
      );
      seen.push(...page.images.map((image) => image.id));
      marker = page.nextMarker;
      pages += 1;
    } while (marker !== null && pages < 10);

    expect(seen).toEqual(SEED_IMAGES.map((image) => image.id));
    expect(pages).toBe(Math.ceil(SEED_IMAGES.length / 5));
  });

  test("request path, query and headers", async () => {
    await fetchImagesPage(
      listOptions(pool, basePath),
      DEMO_TOKEN,
      { limit: 7, marker: SEED_IMAGES[2]!.id },
      NO_DEADLINE,
    );

    const [request] = simulator.requests;
    expect(simulator.requests).toHaveLength(1);
    expect(request?.method).toBe("GET");
    expect(request?.path).toBe(
      `${basePath}/images/detail?limit=7&marker=${SEED_IMAGES[2]!.id}`,
    );
    expect(request?.headers["x-auth-token"]).toBe(DEMO_TOKEN);
    expect(request?.headers["accept"]).toBe("application/json");
    expect(request?.headers["user-agent"]).toBe("list-test/1");
  });

  test("rejected token is UNAUTHENTICATED", async () => {
    const error = await imageErrorOf(
      fetchImagesPage(
        listOptions(pool, basePath),
        "not-a-valid-token",
        FIRST_PAGE,
        NO_DEADLINE,
      ),
    );

    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.message).toBe(
      "The images API rejected the X-Auth-Token (status 401); send a valid, unexpired token.",
    );
    expect(error.extensions.imageId).toBeUndefined();
    expect(error.upstream?.status).toBe(401);
  });

  test("unknown marker is BAD_REQUEST", async () => {
    const error = await imageErrorOf(
      fetchImagesPage(
        listOptions(pool, basePath),
        DEMO_TOKEN,
        { limit: 5, marker: "00000000-0000-4000-8000-000000000404" },
        NO_DEADLINE,
      ),
    );

    expect(error.code).toBe("BAD_REQUEST");
    expect(error.upstream?.fault).toBe("badRequest");
    expect(error.upstream?.message).toBe(
      "HTTP 400 Bad Request: No image found with ID 00000000-0000-4000-8000-000000000404",
    );
  });
});

test("rate-limited list is OVER_LIMIT", async () => {
  const simulator = await startSimulator({
    rateLimit: { requests: 1, perSeconds: 60 },
  });
  const pool = new Pool(simulator.origin);
  const options = listOptions(pool, new URL(simulator.imagesApiUrl).pathname);
  try {
    await fetchImagesPage(options, DEMO_TOKEN, FIRST_PAGE, NO_DEADLINE);
    const error = await imageErrorOf(
      fetchImagesPage(options, DEMO_TOKEN, FIRST_PAGE, NO_DEADLINE),
    );

    expect(error.code).toBe("OVER_LIMIT");
    expect(error.extensions.retryAfter).toEqual(expect.any(Number));
    expect(error.upstream?.status).toBe(413);
  } finally {
    await pool.close();
    await simulator.close();
  }
});

/**
 * A stand-in upstream for answers that the simulator does not give on the
 * list route. `respond` writes each response; every request is recorded.
 */
async function startStub(
  respond: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<{ server: Server; origin: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    paths.push(request.url ?? "");
    respond(request, response);
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, paths };
}

function sendJson(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

describe("fetchImagesPage answers", () => {
  let stub: Awaited<ReturnType<typeof startStub>>;
  let pool: Pool;
  let respond: (request: IncomingMessage, response: ServerResponse) => void;

  beforeAll(async () => {
    stub = await startStub((request, response) => respond(request, response));
    pool = new Pool(stub.origin);
  });

  afterAll(async () => {
    await pool.close();
    stub.server.closeAllConnections();
    await new Promise((resolve) => stub.server.close(resolve));
  });

  beforeEach(() => {
    stub.paths.length = 0;
  });

  function fetchPage(overrides: Partial<ImagesListOptions> = {}) {
    return fetchImagesPage(
      listOptions(pool, "/v2/010101", overrides),
      DEMO_TOKEN,
      FIRST_PAGE,
      NO_DEADLINE,
    );
  }

  test("next link on another host", async () => {
    respond = (_request, response) =>
      sendJson(response, 200, {
        images: [{ id: "a1" }],
        images_links: [
          {
            rel: "next",
            href: "http://internal.example:8774/v2/010101/images/detail?limit=5&marker=a1",
          },
        ],
      });

    const page = await fetchPage();

    expect(page.nextMarker).toBe("a1");
    expect(stub.paths).toEqual(["/v2/010101/images/detail?limit=5"]);
  });

  test("next link without marker ends", async () => {
    respond = (_request, response) =>
      sendJson(response, 200, {
        images: [{ id: "a1" }],
        images_links: [{ rel: "next", href: "/v2/010101/images/detail" }],
      });

    expect((await fetchPage()).nextMarker).toBeNull();
  });

  test("entries without string ids skipped", async () => {
    respond = (_request, response) =>
      sendJson(response, 200, {
        images: [{ id: "a1" }, { id: 7 }, null, "a2", { name: "no id" }],
      });

    const page = await fetchPage();

    expect(page.images).toEqual([{ id: "a1", body: { id: "a1" } }]);
    expect(page.nextMarker).toBeNull();
  });

  test("500 is UPSTREAM_ERROR", async () => {
    respond = (_request, response) =>
      sendJson(response, 500, {
        computeFault: { code: 500, message: "Unexpected API Error." },
      });

    const error = await imageErrorOf(fetchPage());

    expect(error.code).toBe("UPSTREAM_ERROR");
    expect(error.message).toBe(
      "The images API image list failed with status 500.",
    );
    expect(error.upstream).toEqual({
      status: 500,
      fault: "computeFault",
      message: "Unexpected API Error.",
      requestId: null,
    });
  });

  test("invalid JSON is BAD_UPSTREAM_RESPONSE", async () => {
    respond = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"images": [');
    };

    const error = await imageErrorOf(fetchPage());

    expect(error.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toBe(
      "The images API returned status 200 for the image list, but the body is not an image list: invalid JSON.",
    );
  });

  test("body without images rejected", async () => {
    respond = (_request, response) =>
      sendJson(response, 200, { image: { id: "a1" } });

    const error = await imageErrorOf(fetchPage());

    expect(error.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toContain('the body has no "images" array');
  });

  test("oversized page rejected", async () => {
    respond = (_request, response) =>
      sendJson(response, 200, {
        images: [{ id: "a1", name: "x".repeat(4096) }],
      });

    const error = await imageErrorOf(fetchPage({ maxBodyBytes: 1024 }));

    expect(error.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toBe(
      "The images API returned an image list page that is too large: the body is larger than 1024 bytes.",
    );
  });

  test("redirect not followed", async () => {
    respond = (_request, response) => {
      response.writeHead(302, { location: `${stub.origin}/elsewhere` });
      response.end("moved");
    };

    const error = await imageErrorOf(fetchPage());

    expect(error.code).toBe("UPSTREAM_ERROR");
    expect(error.upstream?.status).toBe(302);
    expect(stub.paths).toHaveLength(1);
  });

  test("no answer is UPSTREAM_TIMEOUT", async () => {
    respond = () => {
      // Never answers.
    };

    const error = await imageErrorOf(fetchPage({ timeoutMs: 100 }));

    expect(error.code).toBe("UPSTREAM_TIMEOUT");
    expect(error.message).toBe(
      "The images API image list request timed out after 100 ms.",
    );
  });

  test("expired deadline named", async () => {
    respond = () => {
      // Never answers.
    };

    const error = await imageErrorOf(
      fetchImagesPage(
        listOptions(pool, "/v2/010101"),
        DEMO_TOKEN,
        FIRST_PAGE,
        new Deadline(100),
      ),
    );

    expect(error.code).toBe("UPSTREAM_TIMEOUT");
    expect(error.message).toBe(
      "The images API image list request did not finish within the request deadline of 100 ms.",
    );
  });
});

test("refused connection is UPSTREAM_UNAVAILABLE", async () => {
  const stub = await startStub(() => {});
  const origin = stub.origin;
  await new Promise((resolve) => stub.server.close(resolve));
  const pool = new Pool(origin);
  try {
    const error = await imageErrorOf(
      fetchImagesPage(
        listOptions(pool, "/v2/010101"),
        DEMO_TOKEN,
        FIRST_PAGE,
        NO_DEADLINE,
      ),
    );

    expect(error.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(error.message).toContain("ECONNREFUSED");
  } finally {
    await pool.close();
  }
});
