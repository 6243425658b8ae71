import { gzipSync } from "node:zlib";
import { getIntrospectionQuery } from "graphql";
import pino from "pino";
import { request } from "undici";
import { loadConfig } from "../../src/config";
import { startService } from "../../src/server";
import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

function serviceUrl(path: string): string {
  return new URL(path, stack.service.url).toString();
}

test("203 answers are served like 200", async () => {
  stack.simulator.inject(SEED_IMAGE_IDS.ubuntu, { kind: "nonAuthoritative" });
  const { body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name status } }`,
  );

  expect(body.errors).toBeUndefined();
  expect(body.data?.image).toEqual({ name: "Ubuntu 11.10", status: "ACTIVE" });
  expect(stack.simulator.imageRequests()[0]?.status).toBe(203);
});

test.each([
  [
    "a success",
    {
      token: DEMO_TOKEN,
      body: `{"query":"{ image(id: \\"${SEED_IMAGE_IDS.ubuntu}\\") { name } }"}`,
    },
  ],
  [
    "a resolver error",
    {
      token: null,
      body: `{"query":"{ image(id: \\"${SEED_IMAGE_IDS.ubuntu}\\") { name } }"}`,
    },
  ],
  ["invalid JSON", { token: DEMO_TOKEN, body: "{" }],
  ["a batch", { token: DEMO_TOKEN, body: '[{"query":"{ __typename }"}]' }],
])("%s forbids caching", async (_case, { token, body }) => {
  // A response contains what one token may see, so a router or proxy must
  // not hand it to another caller.
  const response = await request(stack.service.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token !== null && { "x-auth-token": token }),
    },
    body,
  });
  await response.body.dump();

  expect(response.headers["cache-control"]).toBe("no-store");
});

test("livez answers 200", async () => {
  const response = await request(serviceUrl("/livez"));

  expect(response.statusCode).toBe(200);
  expect(await response.body.json()).toEqual({ status: "ok" });
});

test("readyz answers 200 when ready", async () => {
  const response = await request(serviceUrl("/readyz"));

  expect(response.statusCode).toBe(200);
  expect(await response.body.json()).toEqual({ status: "ready" });
});

test("unknown path answers 404", async () => {
  const response = await request(serviceUrl("/nope"));

  expect(response.statusCode).toBe(404);
  expect(await response.body.json()).toEqual({
    error: "No route for /nope: GraphQL is served at /graphql.",
  });
});

test("development serves Sandbox landing page", async () => {
  const response = await request(stack.service.url, {
    headers: { accept: "text/html" },
  });
  const html = await response.body.text();

  expect(response.statusCode).toBe(200);
  expect(response.headers["content-type"]).toMatch(/text\/html/);
  expect(html).toContain("embeddable-sandbox");
  expect(html).toContain(SEED_IMAGE_IDS.ubuntu);
});

test("production serves no landing page", async () => {
  const production = await startStack({ env: { NODE_ENV: "production" } });
  try {
    const response = await request(production.service.url, {
      headers: { accept: "text/html" },
    });
    await response.body.text();

    expect(response.statusCode).toBe(400);
  } finally {
    await production.close();
  }
});

test("production introspection error names the setting", async () => {
  const production = await startStack({ env: { NODE_ENV: "production" } });
  try {
    const { status, body } = await production.query(
      "{ __schema { types { name } } }",
    );

    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toBe(
      "Introspection is off because NODE_ENV is production; set LANDING_PAGE=sandbox to turn it on.",
    );
  } finally {
    await production.close();
  }
});

test("GET queries need CSRF-safe headers", async () => {
  const query = encodeURIComponent(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`,
  );
  const blocked = await request(serviceUrl(`/graphql?query=${query}`));
  await blocked.body.text();
  const allowed = await request(serviceUrl(`/graphql?query=${query}`), {
    headers: { "apollo-require-preflight": "true", "x-auth-token": "demo" },
  });
  await allowed.body.text();

  expect(blocked.statusCode).toBe(400);
  expect(allowed.statusCode).toBe(200);
});

test("CORS preflight is answered", async () => {
  const response = await request(stack.service.url, {
    method: "OPTIONS",
    headers: {
      origin: "https://studio.apollographql.com",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,x-auth-token",
    },
  });
  await response.body.text();

  expect(response.statusCode).toBe(204);
  expect(response.headers["access-control-allow-origin"]).toBe("*");
  expect(response.headers["access-control-allow-methods"]).toBe("GET,POST");
});

test("full introspection passes default limits", async () => {
  const { status, body } = await stack.query(
    getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }),
  );

  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  expect(body.data?.__schema).toBeDefined();
});

const IMAGE_QUERY = JSON.stringify({
  query: `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`,
});

test("repeated X-Auth-Token is rejected", async () => {
  const response = await request(stack.service.url, {
    method: "POST",
    headers: [
      "content-type",
      "application/json",
      "x-auth-token",
      DEMO_TOKEN,
      "x-auth-token",
      "other-token-secret",
    ],
    body: IMAGE_QUERY,
  });
  const text = await response.body.text();

  expect(response.statusCode).toBe(400);
  expect(JSON.parse(text)).toEqual({
    errors: [
      {
        message: "The request has 2 X-Auth-Token headers: send exactly one.",
        extensions: { code: "BAD_REQUEST" },
      },
    ],
  });
  expect(text).not.toContain("other-token-secret");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("compressed request body is 415", async () => {
  const response = await request(stack.service.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-encoding": "gzip",
      "x-auth-token": DEMO_TOKEN,
    },
    body: gzipSync(IMAGE_QUERY),
  });
  const body = (await response.body.json()) as {
    errors: { message: string; extensions: { code: string } }[];
  };

  expect(response.statusCode).toBe(415);
  expect(body.errors[0]?.message).toBe(
    'Unsupported Content-Encoding "gzip": send the request body uncompressed.',
  );
  expect(body.errors[0]?.extensions.code).toBe("BAD_REQUEST");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("identity Content-Encoding is accepted", async () => {
  const { body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`,
    { headers: { "content-encoding": "identity" } },
  );

  expect(body.data?.image).toEqual({ name: "Ubuntu 11.10" });
});

test("timeout beyond the deadline is warned", async () => {
  const slow = await startStack({
    env: { UPSTREAM_TIMEOUT_MS: "20000", REQUEST_DEADLINE_MS: "5000" },
  });
  try {
    const warnings = slow.log.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.level === 40);

    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      upstreamTimeoutMs: 20000,
      requestDeadlineMs: 5000,
    });
    expect(String(warnings[0]?.msg)).toContain("REQUEST_DEADLINE_MS");
  } finally {
    await slow.close();
  }
});

test("port in use names HOST and PORT", async () => {
  const config = loadConfig({
    IMAGES_API_URL: stack.simulator.imagesApiUrl,
    HOST: "127.0.0.1",
    PORT: String(stack.service.port),
  });

  await expect(
    startService({ config, logger: pino({ level: "silent" }) }),
  ).rejects.toThrow(
    `Listening on HOST "127.0.0.1", PORT ${stack.service.port} failed: listen EADDRINUSE`,
  );
});
