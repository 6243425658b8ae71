// /metrics over HTTP after real traffic: every metric of the service is
// exposed and moves with the requests that should move it.

import { connect } from "node:net";
import { request } from "undici";
import { DEMO_TOKEN, SEED_IMAGE_IDS } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const UBUNTU = SEED_IMAGE_IDS.ubuntu;
const DEBIAN = SEED_IMAGE_IDS.debian;
const CENTOS = SEED_IMAGE_IDS.centos;
const MISSING = "00000000-0000-4000-8000-000000000000";
const LIMITED_TOKEN = "limited-token-0123456789";

let stack: Stack;
let metricsUrl: string;

beforeAll(async () => {
  stack = await startStack({
    env: { UPSTREAM_RETRY_BASE_MS: "1", REQUEST_DEADLINE_MS: "5000" },
    simulator: {
      tokens: { [DEMO_TOKEN]: "010101", [LIMITED_TOKEN]: "010101" },
    },
  });
  metricsUrl = new URL("/metrics", stack.service.url).href;
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

/** One sample of the text exposition format, keyed by `name{labels}`. */
type Samples = Map<string, number>;

async function scrape(): Promise<{ contentType: string; samples: Samples }> {
  const response = await request(metricsUrl);
  expect(response.statusCode).toBe(200);
  const text = await response.body.text();

  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const separator = line.lastIndexOf(" ");
    samples.set(line.slice(0, separator), Number(line.slice(separator + 1)));
  }
  return {
    contentType: String(response.headers["content-type"]),
    samples,
  };
}

/** Change of each listed sample between two scrapes; absent counts as 0. */
function delta(before: Samples, after: Samples, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

function queryImages(ids: string[], token = DEMO_TOKEN) {
  const fields = ids
    .map((id, index) => `i${index}: image(id: "${id}") { id }`)
    .join(" ");
  return stack.query(`{ ${fields} }`, { token });
}

test("metrics use the Prometheus text format", async () => {
  const { contentType, samples } = await scrape();

  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(samples.get("process_resident_memory_bytes")).toBeGreaterThan(0);
  expect(samples.has("nodejs_eventloop_lag_seconds")).toBe(true);
});

test("successful lookups move upstream and loader metrics", async () => {
  const before = (await scrape()).samples;
  // Three loads of two distinct ids in one batch: one duplicate.
  const { body } = await queryImages([UBUNTU, DEBIAN, UBUNTU]);
  expect(body.errors).toBeUndefined();
  const after = (await scrape()).samples;

  const ok = 'status="200",outcome="ok"';
  expect(
    delta(
      before,
      after,
      `images_upstream_request_duration_seconds_count{${ok}}`,
    ),
  ).toBe(2);
  expect(
    delta(before, after, `images_upstream_request_duration_seconds_sum{${ok}}`),
  ).toBeGreaterThan(0);
  expect(
    delta(
      before,
      after,
      `images_upstream_request_duration_seconds_bucket{le="+Inf",${ok}}`,
    ),
  ).toBe(2);
  expect(delta(before, after, "images_loader_loads_total")).toBe(3);
  expect(delta(before, after, "images_loader_keys_total")).toBe(2);
  expect(delta(before, after, "images_loader_batch_size_count")).toBe(1);
  expect(delta(before, after, "images_loader_batch_size_sum")).toBe(2);
  expect(delta(before, after, 'images_loader_batch_size_bucket{le="1"}')).toBe(
    0,
  );
  expect(delta(before, after, 'images_loader_batch_size_bucket{le="2"}')).toBe(
    1,
  );
  expect(
    delta(before, after, 'graphql_operations_total{outcome="success"}'),
  ).toBe(1);
});

test("retries and failures are counted by status and code", async () => {
  stack.simulator.inject(
    UBUNTU,
    { kind: "fault", name: "serviceUnavailable" },
    { times: 1 },
  );
  stack.simulator.inject(CENTOS, { kind: "malformedJson" });
  const before = (await scrape()).samples;
  const { body } = await queryImages([UBUNTU, MISSING, CENTOS]);
  const after = (await scrape()).samples;

  expect(body.data).toEqual({ i0: { id: UBUNTU }, i1: null, i2: null });
  expect(
    delta(before, after, 'images_upstream_retries_total{reason="503"}'),
  ).toBe(1);
  const count = "images_upstream_request_duration_seconds_count";
  expect(
    delta(
      before,
      after,
      `${count}{status="503",outcome="SERVICE_UNAVAILABLE"}`,
    ),
  ).toBe(1);
  expect(
    delta(before, after, `${count}{status="404",outcome="NOT_FOUND"}`),
  ).toBe(1);
  expect(
    delta(
      before,
      after,
      `${count}{status="200",outcome="BAD_UPSTREAM_RESPONSE"}`,
    ),
  ).toBe(1);
  expect(delta(before, after, `${count}{status="200",outcome="ok"}`)).toBe(1);
  expect(delta(before, after, 'graphql_errors_total{code="NOT_FOUND"}')).toBe(
    1,
  );
  expect(
    delta(before, after, 'graphql_errors_total{code="BAD_UPSTREAM_RESPONSE"}'),
  ).toBe(1);
  expect(
    delta(before, after, 'graphql_operations_total{outcome="partial"}'),
  ).toBe(1);
});

test("resets are counted with no status", async () => {
  stack.simulator.inject(UBUNTU, { kind: "reset" });
  const before = (await scrape()).samples;
  const { body } = await queryImages([UBUNTU]);
  const after = (await scrape()).samples;

  expect(body.errors?.[0]?.extensions?.code).toBe("UPSTREAM_UNAVAILABLE");
  expect(
    delta(
      before,
      after,
      'images_upstream_request_duration_seconds_count{status="none",outcome="UPSTREAM_UNAVAILABLE"}',
    ),
  ).toBe(3);
  expect(
    delta(before, after, 'images_upstream_retries_total{reason="reset"}'),
  ).toBe(2);
  expect(
    delta(before, after, 'graphql_operations_total{outcome="failure"}'),
  ).toBe(1);
  expect(
    delta(before, after, 'graphql_errors_total{code="UPSTREAM_UNAVAILABLE"}'),
  ).toBe(1);
});

test("rate-limited token is counted once failed fast", async () => {
  stack.simulator.inject(UBUNTU, {
    kind: "fault",
    name: "overLimit",
    retryAfterSeconds: 120,
  });
  const before = (await scrape()).samples;
  const first = await queryImages([UBUNTU], LIMITED_TOKEN);
  const second = await queryImages([DEBIAN], LIMITED_TOKEN);
  const after = (await scrape()).samples;

  expect(first.body.errors?.[0]?.extensions?.code).toBe("OVER_LIMIT");
  expect(second.body.errors?.[0]?.extensions?.code).toBe("OVER_LIMIT");
  expect(stack.simulator.imageRequests(DEBIAN)).toHaveLength(0);
  expect(delta(before, after, "images_upstream_rate_limited_total")).toBe(1);
  expect(delta(before, after, 'graphql_errors_total{code="OVER_LIMIT"}')).toBe(
    2,
  );
});

test("request errors are counted by code", async () => {
  const before = (await scrape()).samples;
  const { status } = await stack.query("{ image(id: 1) { nope } }");
  const after = (await scrape()).samples;

  expect(status).toBe(400);
  expect(
    delta(
      before,
      after,
      'graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}',
    ),
  ).toBeGreaterThanOrEqual(1);
  expect(
    delta(before, after, 'graphql_operations_total{outcome="failure"}'),
  ).toBe(1);
});

test("requests rejected before GraphQL are counted", async () => {
  const before = (await scrape()).samples;
  const invalidJson = await request(stack.service.url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": DEMO_TOKEN },
    body: "{",
  });
  await invalidJson.body.dump();
  const compressed = await request(stack.service.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "content-encoding": "br",
      "x-auth-token": DEMO_TOKEN,
    },
    body: "{}",
  });
  await compressed.body.dump();
  const after = (await scrape()).samples;

  expect(invalidJson.statusCode).toBe(400);
  expect(compressed.statusCode).toBe(415);
  expect(delta(before, after, 'graphql_errors_total{code="BAD_REQUEST"}')).toBe(
    2,
  );
  expect(
    delta(before, after, 'graphql_operations_total{outcome="failure"}'),
  ).toBe(2);
});

test("Apollo's HTTP rejections are counted", async () => {
  // Apollo Server rejects these before any plugin runs: a GET without a
  // CSRF-safe header, another method, and a batch.
  const json = { "content-type": "application/json" };
  const rejected = [
    { method: "GET", path: "?query=%7B__typename%7D", headers: {} },
    { method: "PUT", path: "", headers: json, body: '{"query":"{ a }"}' },
    { method: "POST", path: "", headers: json, body: '[{"query":"{ a }"}]' },
  ] as const;
  const before = (await scrape()).samples;
  const statuses: number[] = [];
  for (const { method, path, headers, ...rest } of rejected) {
    const response = await request(`${stack.service.url}${path}`, {
      method,
      headers,
      body: "body" in rest ? rest.body : undefined,
    });
    await response.body.dump();
    statuses.push(response.statusCode);
  }
  const after = (await scrape()).samples;

  expect(statuses).toEqual([400, 405, 400]);
  expect(delta(before, after, 'graphql_errors_total{code="BAD_REQUEST"}')).toBe(
    3,
  );
  expect(
    delta(before, after, 'graphql_operations_total{outcome="failure"}'),
  ).toBe(3);
});

test("aborted bodies are not errors", async () => {
  const before = (await scrape()).samples;
  const { hostname, port } = new URL(stack.service.url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  socket.write(
    "POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n" +
      '{"query":',
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
  const message =
    "client closed the connection before the end of its request body";
  // Waits for the service to see the close, for 5 s at most.
  for (let waited = 0; waited < 5000; waited += 10) {
    if (stack.log.lines.some((line) => line.includes(message))) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const after = (await scrape()).samples;

  expect(
    delta(before, after, 'graphql_errors_total{code="INTERNAL_SERVER_ERROR"}'),
  ).toBe(0);
  expect(
    delta(before, after, 'graphql_operations_total{outcome="failure"}'),
  ).toBe(0);
  const errors = stack.log.lines
    .map((line) => JSON.parse(line) as { level: number })
    .filter((entry) => entry.level >= 50);
  expect(errors).toEqual([]);
});

test("in-flight gauge follows a slow request", async () => {
  stack.simulator.setLatency(1000);
  const idle = (await scrape()).samples;
  expect(idle.get("graphql_requests_in_flight")).toBe(0);

  const pending = queryImages([UBUNTU]);
  while (stack.simulator.imageRequests(UBUNTU).length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const busy = (await scrape()).samples;
  expect(busy.get("graphql_requests_in_flight")).toBe(1);

  await pending;
  const done = (await scrape()).samples;
  expect(done.get("graphql_requests_in_flight")).toBe(0);
});
