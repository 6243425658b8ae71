import { SEED_IMAGE_IDS } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const TENANT = "010101";
const TOKENS = Array.from(
  { length: 24 },
  (_, index) => `token-${index}-${"x".repeat(20)}`,
);
const IMAGE_IDS = Object.values(SEED_IMAGE_IDS);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    simulator: {
      tenantId: TENANT,
      tokens: Object.fromEntries(TOKENS.map((token) => [token, TENANT])),
      latencyMs: 5,
    },
  });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

test("each call carries its request's token", async () => {
  // Every request has its own token and image, so a call that used another
  // request's token shows up as a mismatched pair in the simulator's log.
  const jobs = Array.from({ length: 96 }, (_, index) => ({
    token: TOKENS[index % TOKENS.length]!,
    imageId: IMAGE_IDS[index % IMAGE_IDS.length]!,
    alias: `r${index}`,
  }));
  const results = await Promise.all(
    jobs.map((job) =>
      stack.query(`{ ${job.alias}: image(id: "${job.imageId}") { id } }`, {
        token: job.token,
      }),
    ),
  );

  results.forEach((result, index) => {
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data?.[jobs[index]!.alias]).toEqual({
      id: jobs[index]!.imageId,
    });
  });
  const seen = stack.simulator
    .imageRequests()
    .map((call) => `${call.headers["x-auth-token"]} ${call.imageId}`)
    .sort();
  const expected = jobs.map((job) => `${job.token} ${job.imageId}`).sort();
  expect(seen).toEqual(expected);
});

test("missing token makes no upstream call", async () => {
  const { status, body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`,
    { token: null },
  );

  expect(status).toBe(200);
  expect(body.data).toEqual({ image: null });
  expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  expect(body.errors?.[0]?.message).toBe(
    "Missing X-Auth-Token header: send the caller's Cloud Servers API token in it.",
  );
  expect(stack.simulator.requests).toHaveLength(0);
});

test("blank token counts as missing", async () => {
  const { body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`,
    { token: "   " },
  );

  expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("token never appears in responses or logs", async () => {
  const secret = TOKENS[0]!;
  const rejected = "rejected-secret-token-value";
  const answers = await Promise.all([
    stack.query(`{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`, {
      token: secret,
    }),
    stack.query(
      `{ image(id: "00000000-0000-4000-8000-000000000000") { id } }`,
      {
        token: secret,
      },
    ),
    stack.query(`{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`, {
      token: rejected,
    }),
    stack.query(`{ image(id: "not-a-uuid") { id } }`, { token: secret }),
  ]);

  for (const answer of answers) {
    const text = JSON.stringify(answer);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(rejected);
  }
  expect(stack.log.lines.length).toBeGreaterThan(0);
  const logs = stack.log.lines.join("\n");
  expect(logs).not.toContain(secret);
  expect(logs).not.toContain(rejected);
});

test("token for another tenant is rejected", async () => {
  const other = await startStack({
    simulator: { tenantId: TENANT, tokens: { "other-tenant-token": "020202" } },
  });
  try {
    const { body } = await other.query(
      `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`,
      { token: "other-tenant-token" },
    );

    expect(body.data).toEqual({ image: null });
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_REQUEST");
  } finally {
    await other.close();
  }
});
