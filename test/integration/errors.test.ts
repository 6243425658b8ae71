import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import type { Fault } from "../../simulator";
import { startStack } from "../support/stack";
import type { GraphQLResult, Stack } from "../support/stack";

const IMAGE_ID = SEED_IMAGE_IDS.ubuntu;
const QUERY = `query ($id: ID!) { image(id: $id) { id name } }`;

let stack: Stack;

/**
 * Tokens of their own for the rate-limit cases, because the service then
 * fails other calls with the same token fast until the window passes.
 */
const LIMITED_TOKENS = ["limited-token-413", "limited-token-429"];

beforeAll(async () => {
  // One attempt per call, so that each fault maps to its code unretried.
  stack = await startStack({
    env: { UPSTREAM_TIMEOUT_MS: "500", UPSTREAM_MAX_ATTEMPTS: "1" },
    simulator: {
      tokens: Object.fromEntries(
        [DEMO_TOKEN, ...LIMITED_TOKENS].map((token) => [token, "010101"]),
      ),
    },
  });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

/** Requests the image once with `fault` injected, then once more without it. */
async function queryWithFault(
  fault: Fault,
  token: string = DEMO_TOKEN,
): Promise<GraphQLResult> {
  stack.simulator.inject(IMAGE_ID, fault, { times: 1 });
  const result = await stack.query(QUERY, {
    variables: { id: IMAGE_ID },
    token,
  });

  const after = await stack.query(QUERY, { variables: { id: IMAGE_ID } });
  expect(after.body.errors).toBeUndefined();
  expect(after.body.data?.image).toEqual({
    id: IMAGE_ID,
    name: "Ubuntu 11.10",
  });
  return result;
}

function onlyError(result: GraphQLResult) {
  expect(result.status).toBe(200);
  expect(result.body.data).toEqual({ image: null });
  expect(result.body.errors).toHaveLength(1);
  return result.body.errors![0]!;
}

const requestId = expect.stringMatching(/^req-[0-9a-f-]{36}$/);

describe("upstream fault statuses", () => {
  const cases: [string, Fault, string, Record<string, unknown>][] = [
    [
      "400 badRequest",
      { kind: "fault", name: "badRequest", message: "Invalid image ref." },
      "BAD_REQUEST",
      { status: 400, fault: "badRequest", message: "Invalid image ref." },
    ],
    [
      "403 forbidden",
      { kind: "fault", name: "forbidden", message: "Policy doesn't allow it." },
      "FORBIDDEN",
      { status: 403, fault: "forbidden", message: "Policy doesn't allow it." },
    ],
    [
      "405 badMethod",
      { kind: "fault", name: "badMethod", message: "Not allowed." },
      "METHOD_NOT_ALLOWED",
      { status: 405, fault: "badMethod", message: "Not allowed." },
    ],
    [
      "409 conflictingRequest",
      { kind: "fault", name: "conflictingRequest", message: "In use." },
      "CONFLICT",
      { status: 409, fault: "conflictingRequest", message: "In use." },
    ],
    [
      "500 computeFault",
      { kind: "fault", name: "computeFault", message: "Boom." },
      "UPSTREAM_ERROR",
      { status: 500, fault: "computeFault", message: "Boom." },
    ],
    [
      "503 serviceUnavailable",
      { kind: "fault", name: "serviceUnavailable", message: "Try later." },
      "SERVICE_UNAVAILABLE",
      { status: 503, fault: "serviceUnavailable", message: "Try later." },
    ],
  ];

  test.each(cases)("%s", async (_name, fault, code, upstream) => {
    const error = onlyError(await queryWithFault(fault));

    expect(error.extensions?.code).toBe(code);
    expect(error.extensions?.imageId).toBe(IMAGE_ID);
    expect(error.extensions?.upstream).toEqual({ ...upstream, requestId });
    expect(error.path).toEqual(["image"]);
  });
});

test("404 itemNotFound is NOT_FOUND", async () => {
  const missing = "00000000-0000-4000-8000-000000000000";
  const result = await stack.query(QUERY, { variables: { id: missing } });

  const error = onlyError(result);
  expect(error.message).toBe(`Image ${missing} not found.`);
  expect(error.extensions?.code).toBe("NOT_FOUND");
  expect(error.extensions?.upstream).toEqual({
    status: 404,
    fault: "itemNotFound",
    message: "Image not found.",
    requestId,
  });
});

test("401 for unknown token is UNAUTHENTICATED", async () => {
  const result = await stack.query(QUERY, {
    variables: { id: IMAGE_ID },
    token: "expired-token",
  });

  const error = onlyError(result);
  expect(error.extensions?.code).toBe("UNAUTHENTICATED");
  expect(error.extensions?.upstream).toMatchObject({ status: 401 });
  expect(JSON.stringify(result.body)).not.toContain("expired-token");
});

test("413 overLimit gives retryAfter", async () => {
  const error = onlyError(
    await queryWithFault(
      {
        kind: "fault",
        name: "overLimit",
        message: "This request was rate-limited.",
        retryAfterSeconds: 54,
      },
      LIMITED_TOKENS[0],
    ),
  );

  expect(error.extensions?.code).toBe("OVER_LIMIT");
  expect(error.extensions?.retryAfter).toBe(54);
  expect(error.extensions?.upstream).toMatchObject({
    status: 413,
    fault: "overLimit",
  });
  expect(error.message).toContain("retry after 54 s");
});

test("429 is OVER_LIMIT too", async () => {
  const error = onlyError(
    await queryWithFault(
      {
        kind: "fault",
        name: "overLimit",
        status: 429,
        retryAfterSeconds: 7,
      },
      LIMITED_TOKENS[1],
    ),
  );

  expect(error.extensions?.code).toBe("OVER_LIMIT");
  expect(error.extensions?.retryAfter).toBe(7);
  expect(error.extensions?.upstream).toMatchObject({ status: 429 });
});

test("HTML 503 from a proxy", async () => {
  const error = onlyError(await queryWithFault({ kind: "html", status: 503 }));

  expect(error.extensions?.code).toBe("SERVICE_UNAVAILABLE");
  expect(error.extensions?.upstream).toEqual({
    status: 503,
    fault: null,
    message: null,
    requestId: null,
  });
});

test("502 from a proxy is UPSTREAM_ERROR", async () => {
  const error = onlyError(await queryWithFault({ kind: "html", status: 502 }));

  expect(error.extensions?.code).toBe("UPSTREAM_ERROR");
  expect(error.extensions?.upstream).toMatchObject({ status: 502 });
});

test("redirect is not followed", async () => {
  const error = onlyError(
    await queryWithFault({
      kind: "redirect",
      status: 302,
      location: `${stack.simulator.imagesApiUrl}/images/${SEED_IMAGE_IDS.debian}`,
    }),
  );

  expect(error.extensions?.code).toBe("UPSTREAM_ERROR");
  expect(error.extensions?.upstream).toMatchObject({ status: 302 });
  const requested = stack.simulator.imageRequests().map((call) => call.imageId);
  expect(requested).not.toContain(SEED_IMAGE_IDS.debian);
});

describe("broken upstream bodies", () => {
  test("malformed JSON is BAD_UPSTREAM_RESPONSE", async () => {
    const error = onlyError(await queryWithFault({ kind: "malformedJson" }));

    expect(error.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toContain("invalid JSON");
    expect(error.extensions?.upstream).toMatchObject({ status: 200 });
  });

  test("HTML with 200 is BAD_UPSTREAM_RESPONSE", async () => {
    const error = onlyError(
      await queryWithFault({ kind: "html", status: 200 }),
    );

    expect(error.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
  });

  test("JSON without image is BAD_UPSTREAM_RESPONSE", async () => {
    const error = onlyError(
      await queryWithFault({
        kind: "replay",
        status: 200,
        headers: { "content-type": "application/json" },
        body: { images: [] },
      }),
    );

    expect(error.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toContain('no "image" object');
  });

  test("body for another image is rejected", async () => {
    const error = onlyError(
      await queryWithFault({
        kind: "replay",
        status: 200,
        headers: { "content-type": "application/json" },
        body: { image: { id: SEED_IMAGE_IDS.debian, name: "Debian" } },
      }),
    );

    expect(error.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toContain("another image");
  });
});

describe("transport failures", () => {
  test("reset is UPSTREAM_UNAVAILABLE", async () => {
    const error = onlyError(await queryWithFault({ kind: "reset" }));

    expect(error.extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(error.extensions?.imageId).toBe(IMAGE_ID);
  });

  test("reset mid-body is UPSTREAM_UNAVAILABLE", async () => {
    const error = onlyError(await queryWithFault({ kind: "resetMidBody" }));

    expect(error.extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
  });

  test("hang is UPSTREAM_TIMEOUT", async () => {
    const started = Date.now();
    const error = onlyError(await queryWithFault({ kind: "hang" }));

    expect(error.extensions?.code).toBe("UPSTREAM_TIMEOUT");
    expect(error.message).toBe(
      `The images API request for image ${IMAGE_ID} timed out after 500 ms.`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("slow body past timeout is UPSTREAM_TIMEOUT", async () => {
    const error = onlyError(
      await queryWithFault({ kind: "slowBody", chunkDelayMs: 200, chunks: 10 }),
    );

    expect(error.extensions?.code).toBe("UPSTREAM_TIMEOUT");
  });

  test("slow body within timeout succeeds", async () => {
    stack.simulator.inject(
      IMAGE_ID,
      { kind: "slowBody", chunkDelayMs: 20, chunks: 5 },
      { times: 1 },
    );
    const result = await stack.query(QUERY, { variables: { id: IMAGE_ID } });

    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.image).toEqual({
      id: IMAGE_ID,
      name: "Ubuntu 11.10",
    });
  });
});

describe("connection reuse", () => {
  test.each([true, false])(
    "survives close after response (announced: %s)",
    async (announce) => {
      stack.simulator.inject(IMAGE_ID, {
        kind: "closeAfterResponse",
        announce,
      });
      for (let round = 0; round < 5; round++) {
        const result = await stack.query(QUERY, {
          variables: { id: IMAGE_ID },
        });
        expect(result.body.errors).toBeUndefined();
      }
    },
  );
});

test("refused connection is UPSTREAM_UNAVAILABLE", async () => {
  const port = await closedPort();
  const refused = await startStack({
    env: { IMAGES_API_URL: `http://127.0.0.1:${port}/v2/010101` },
  });
  try {
    const result = await refused.query(QUERY, { variables: { id: IMAGE_ID } });

    const error = onlyError(result);
    expect(error.extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.extensions?.upstream).toBeUndefined();
  } finally {
    await refused.close();
  }
});

test("oversized body is BAD_UPSTREAM_RESPONSE", async () => {
  const small = await startStack({ env: { UPSTREAM_MAX_BODY_BYTES: "1024" } });
  try {
    const result = await small.query(QUERY, {
      variables: { id: SEED_IMAGE_IDS.ubuntu },
    });

    const error = onlyError(result);
    expect(error.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(error.message).toContain("larger than 1024 bytes");
  } finally {
    await small.close();
  }
});

/** Returns a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
