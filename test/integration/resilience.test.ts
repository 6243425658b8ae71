import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const IMAGE_ID = SEED_IMAGE_IDS.ubuntu;
const QUERY = `query ($id: ID!) { image(id: $id) { id name } }`;
const TOKENS = [
  "token-a-0123456789",
  "token-b-0123456789",
  "token-c-0123456789",
];

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      UPSTREAM_MAX_ATTEMPTS: "3",
      UPSTREAM_RETRY_BASE_MS: "20",
      UPSTREAM_TIMEOUT_MS: "2000",
      REQUEST_DEADLINE_MS: "4000",
    },
    simulator: {
      tokens: Object.fromEntries(
        [DEMO_TOKEN, ...TOKENS].map((token) => [token, "010101"]),
      ),
    },
  });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

function queryImage(token: string = DEMO_TOKEN, id: string = IMAGE_ID) {
  return stack.query(QUERY, { variables: { id }, token });
}

async function metricValue(name: string, labels = ""): Promise<number> {
  const text = await stack.service.metrics.registry.metrics();
  const line = text
    .split("\n")
    .find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(" ")[1]);
}

describe("retries", () => {
  test.each([
    ["503", { kind: "fault", name: "serviceUnavailable" }],
    ["502", { kind: "html", status: 502 }],
    ["504", { kind: "html", status: 504 }],
    ["reset", { kind: "reset" }],
    ["reset mid-body", { kind: "resetMidBody" }],
  ] as const)("%s is retried", async (_name, fault) => {
    stack.simulator.inject(IMAGE_ID, fault, { times: 1 });
    const { body } = await queryImage();

    expect(body.errors).toBeUndefined();
    expect(body.data?.image).toEqual({ id: IMAGE_ID, name: "Ubuntu 11.10" });
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(2);
  });

  test("attempts stop at the maximum", async () => {
    stack.simulator.inject(IMAGE_ID, {
      kind: "fault",
      name: "serviceUnavailable",
    });
    const { body } = await queryImage();

    expect(body.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(3);
  });

  test.each([
    ["400", "badRequest"],
    ["403", "forbidden"],
    ["404", "itemNotFound"],
    ["409", "conflictingRequest"],
    ["500", "computeFault"],
  ] as const)("%s is not retried", async (_status, name) => {
    stack.simulator.inject(IMAGE_ID, { kind: "fault", name });
    await queryImage();

    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(1);
  });

  test("malformed JSON is not retried", async () => {
    stack.simulator.inject(IMAGE_ID, { kind: "malformedJson" });
    const { body } = await queryImage();

    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_UPSTREAM_RESPONSE");
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(1);
  });

  test("retries are counted and logged", async () => {
    const before = await metricValue(
      "images_upstream_retries_total",
      '{reason="503"}',
    );
    stack.simulator.inject(
      IMAGE_ID,
      { kind: "fault", name: "serviceUnavailable" },
      { times: 1 },
    );
    await queryImage();

    const after = await metricValue(
      "images_upstream_retries_total",
      '{reason="503"}',
    );
    expect(after - before).toBe(1);
    const retried = stack.log.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === "retrying upstream call");
    expect(retried.at(-1)).toMatchObject({
      imageId: IMAGE_ID,
      attempt: 1,
      reason: "503",
    });
    const failed = stack.log.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === "upstream call failed");
    expect(failed.at(-1)).toMatchObject({
      imageId: IMAGE_ID,
      attempt: 1,
      status: 503,
      code: "SERVICE_UNAVAILABLE",
      requestId: expect.stringMatching(/^req-/),
      durationMs: expect.any(Number),
    });
  });
});

test("missing images are logged at debug", async () => {
  const missing = "00000000-0000-4000-8000-000000000404";
  const { body } = await stack.query(`{ image(id: "${missing}") { id } }`);

  expect(body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  const lines = stack.log.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.imageId === missing);
  expect(lines.map((entry) => entry.level)).toEqual([20]);
  expect(lines[0]).toMatchObject({ msg: "upstream call failed", status: 404 });
});

describe("Retry-After", () => {
  test("short 503 Retry-After is honoured", async () => {
    stack.simulator.inject(
      IMAGE_ID,
      { kind: "fault", name: "serviceUnavailable", retryAfterSeconds: 1 },
      { times: 1 },
    );
    const started = Date.now();
    const { body } = await queryImage();

    expect(body.errors).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const calls = stack.simulator.imageRequests(IMAGE_ID);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.receivedAt - calls[0]!.receivedAt).toBeGreaterThanOrEqual(
      990,
    );
  });

  test("long 503 Retry-After fails at once", async () => {
    stack.simulator.inject(IMAGE_ID, {
      kind: "fault",
      name: "serviceUnavailable",
      retryAfterSeconds: 30,
    });
    // A wait for the 30 s window would exceed the test timeout.
    const { body } = await queryImage();

    expect(body.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(body.errors?.[0]?.extensions?.retryAfter).toBe(30);
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(1);
  });

  test("Retry-After as HTTP date", async () => {
    const retryAt = new Date(Date.now() + 1500).toUTCString();
    stack.simulator.inject(
      IMAGE_ID,
      {
        kind: "replay",
        status: 503,
        headers: { "content-type": "text/plain", "retry-after": retryAt },
        text: "Service Unavailable",
      },
      { times: 1 },
    );
    const { body } = await queryImage();

    expect(body.errors).toBeUndefined();
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(2);
  });

  test("short overLimit waits then succeeds", async () => {
    const token = TOKENS[0]!;
    stack.simulator.inject(
      IMAGE_ID,
      { kind: "fault", name: "overLimit", retryAfterSeconds: 1 },
      { times: 1 },
    );
    const { body } = await queryImage(token);

    expect(body.errors).toBeUndefined();
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(2);
  });

  test("body retryAt is honoured", async () => {
    stack.simulator.inject(
      IMAGE_ID,
      {
        kind: "replay",
        status: 413,
        headers: { "content-type": "application/json" },
        body: {
          overLimit: {
            code: 413,
            message: "This request was rate-limited.",
            retryAt: new Date(Date.now() + 1000).toISOString(),
          },
        },
      },
      { times: 1 },
    );
    const { body } = await queryImage(TOKENS[2]!);

    expect(body.errors).toBeUndefined();
    expect(stack.simulator.imageRequests(IMAGE_ID)).toHaveLength(2);
  });
});

describe("rate-limit window", () => {
  test("long overLimit fails the token fast", async () => {
    const token = TOKENS[1]!;
    stack.simulator.inject(
      IMAGE_ID,
      { kind: "fault", name: "overLimit", retryAfterSeconds: 54 },
      { times: 1 },
    );
    const first = await queryImage(token);
    const second = await queryImage(token, SEED_IMAGE_IDS.debian);

    expect(first.body.errors?.[0]?.extensions?.code).toBe("OVER_LIMIT");
    expect(first.body.errors?.[0]?.extensions?.retryAfter).toBe(54);
    expect(second.body.errors?.[0]?.extensions?.code).toBe("OVER_LIMIT");
    const retryAfter = second.body.errors?.[0]?.extensions
      ?.retryAfter as number;
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(54);
    expect(stack.simulator.imageRequests()).toHaveLength(1);
  });

  test("other tokens are not blocked", async () => {
    const { body } = await queryImage(DEMO_TOKEN, SEED_IMAGE_IDS.debian);

    expect(body.errors).toBeUndefined();
    expect(stack.simulator.imageRequests()).toHaveLength(1);
  });
});

describe("deadline", () => {
  test("hang ends at the request deadline", async () => {
    const short = await startStack({
      env: { REQUEST_DEADLINE_MS: "300", UPSTREAM_TIMEOUT_MS: "10000" },
    });
    try {
      short.simulator.inject(IMAGE_ID, { kind: "hang" });
      const { body } = await short.query(QUERY, {
        variables: { id: IMAGE_ID },
      });

      expect(body.errors?.[0]?.extensions?.code).toBe("UPSTREAM_TIMEOUT");
      expect(body.errors?.[0]?.message).toBe(
        `The images API request for image ${IMAGE_ID} did not finish within the request deadline of 300 ms.`,
      );
    } finally {
      await short.close();
    }
  });

  test("no retry outlives the deadline", async () => {
    const short = await startStack({
      env: {
        REQUEST_DEADLINE_MS: "400",
        UPSTREAM_MAX_ATTEMPTS: "10",
        UPSTREAM_RETRY_BASE_MS: "100",
      },
    });
    try {
      short.simulator.setLatency(150);
      short.simulator.inject(IMAGE_ID, {
        kind: "fault",
        name: "serviceUnavailable",
      });
      const { body } = await short.query(QUERY, {
        variables: { id: IMAGE_ID },
      });

      expect(["SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT"]).toContain(
        body.errors?.[0]?.extensions?.code,
      );
      expect(short.simulator.imageRequests(IMAGE_ID).length).toBeLessThan(4);
    } finally {
      await short.close();
    }
  });
});

describe("connections", () => {
  test("process connection pool is bounded", async () => {
    const bounded = await startStack({
      env: { UPSTREAM_MAX_CONNECTIONS: "2" },
    });
    try {
      bounded.simulator.setLatency(30);
      const ids = Object.values(SEED_IMAGE_IDS);
      const results = await Promise.all(
        ids.map((id) => bounded.query(QUERY, { variables: { id } })),
      );

      expect(results.every((result) => result.status === 200)).toBe(true);
      const connections = new Set(
        bounded.simulator.imageRequests().map((call) => call.connection),
      );
      expect(connections.size).toBeLessThanOrEqual(2);
    } finally {
      await bounded.close();
    }
  });

  test("silent close under load is survived", async () => {
    stack.simulator.inject("*", {
      kind: "closeAfterResponse",
      announce: false,
    });
    const ids = Object.values(SEED_IMAGE_IDS).filter(
      (id) => id !== SEED_IMAGE_IDS.deleted && id !== SEED_IMAGE_IDS.error,
    );
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        queryImage(DEMO_TOKEN, ids[index % ids.length]!),
      ),
    );

    const codes = results.flatMap(
      (result) =>
        result.body.errors?.map((error) => error.extensions?.code) ?? [],
    );
    expect(codes).toEqual([]);
  });
});

test("no token in logs at trace level", async () => {
  const traced = await startStack({
    logLevel: "trace",
    env: { UPSTREAM_RETRY_BASE_MS: "1" },
    simulator: { tokens: { "secret-token-for-logs": "010101" } },
  });
  try {
    traced.simulator.inject(IMAGE_ID, { kind: "reset" }, { times: 1 });
    traced.simulator.inject(SEED_IMAGE_IDS.debian, {
      kind: "fault",
      name: "overLimit",
      retryAfterSeconds: 30,
    });
    await traced.query(
      `{ a: image(id: "${IMAGE_ID}") { id } b: image(id: "${SEED_IMAGE_IDS.debian}") { id } }`,
      { token: "secret-token-for-logs" },
    );
    await traced.query(`{ image(id: "${IMAGE_ID}") { id } }`, {
      token: "secret-token-for-logs",
    });

    expect(traced.log.lines.length).toBeGreaterThan(3);
    expect(traced.log.lines.join("\n")).not.toContain("secret-token-for-logs");
  } finally {
    await traced.close();
  }
});
