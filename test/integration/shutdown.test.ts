// SIGTERM on the real started process: `node dist/src/main.js` compiled from
// src/, with the simulator in this process as its upstream.

import { connect } from "node:net";
import { request } from "undici";
import { DEMO_TOKEN, SEED_IMAGE_IDS, startSimulator } from "../../simulator";
import type { Simulator } from "../../simulator";
import { buildService, startServiceProcess } from "../support/service-process";
import type { ServiceProcess } from "../support/service-process";

const SLOW_ID = SEED_IMAGE_IDS.ubuntu;
const FAST_ID = SEED_IMAGE_IDS.debian;
/** Upstream latency of SLOW_ID, long enough that SIGTERM lands mid-request. */
const SLOW_MS = 4000;
const BURST_SIZE = 24;

jest.setTimeout(90_000);

let packageDir: string;
let simulator: Simulator;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  packageDir = buildService();
  simulator = await startSimulator();
});

afterAll(() => simulator.close());

beforeEach(() => {
  simulator.reset();
  simulator.setLatency((id) => (id === SLOW_ID ? SLOW_MS : 0));
});

afterEach(async () => {
  service?.kill();
  await service?.exited;
  service = undefined;
});

interface Answer {
  status: number;
  connection: string | undefined;
  body: {
    data?: { image: { id: string; name: string } | null } | null;
    errors?: { extensions?: { code?: string } }[];
  };
}

/** Posts `{ image(id) }` on a connection of its own and reads the whole response. */
async function queryImage(origin: string, id: string): Promise<Answer> {
  const response = await request(`${origin}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-auth-token": DEMO_TOKEN },
    body: JSON.stringify({
      query: "query ($id: ID!) { image(id: $id) { id name } }",
      variables: { id },
    }),
    reset: true,
  });
  const connection = response.headers.connection;
  return {
    status: response.statusCode,
    connection: Array.isArray(connection) ? connection[0] : connection,
    body: (await response.body.json()) as Answer["body"],
  };
}

/** Resolves when `count` upstream calls for `id` have reached the simulator. */
async function waitForUpstreamCalls(id: string, count: number): Promise<void> {
  while (simulator.imageRequests(id).length < count) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves with the error code of a TCP connection attempt, or "connected". */
function tryConnect(origin: string): Promise<string> {
  const { port } = new URL(origin);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code ?? error.message),
    );
  });
}

async function startBurst(origin: string): Promise<Promise<Answer>[]> {
  const answers = Array.from({ length: BURST_SIZE }, () =>
    queryImage(origin, SLOW_ID),
  );
  // Every request has been accepted once its upstream call has arrived.
  await waitForUpstreamCalls(SLOW_ID, BURST_SIZE);
  return answers;
}

function expectCompleteAnswer(answer: Answer): void {
  expect(answer.status).toBe(200);
  expect(answer.body.errors).toBeUndefined();
  expect(answer.body.data?.image).toEqual({
    id: SLOW_ID,
    name: "Ubuntu 11.10",
  });
}

test("SIGTERM drains a burst of slow requests", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
  });
  const answers = await startBurst(service.origin);

  service.child.kill("SIGTERM");
  const draining = await service.waitForLog(
    (line) => line.msg === "draining requests",
  );
  expect(draining.inFlight).toBe(BURST_SIZE);
  expect(await tryConnect(service.origin)).toBe("ECONNREFUSED");

  const settled = await Promise.allSettled(answers);
  for (const result of settled) {
    expect(result.status).toBe("fulfilled");
    if (result.status === "fulfilled") {
      expectCompleteAnswer(result.value);
      expect(result.value.connection).toBe("close");
    }
  }
  expect(await service.exited).toBe(0);

  const messages = service.logs.map((line) => line.msg);
  expect(messages).toContain("shutting down");
  expect(messages).toContain("service stopped");
  expect(messages).not.toContain(
    "shutdown grace period ended; closed connections with requests in flight",
  );
});

test("readiness fails during shutdown delay", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
    SHUTDOWN_DELAY_MS: "5000",
  });
  const ready = await request(`${service.origin}/readyz`);
  expect(ready.statusCode).toBe(200);
  await ready.body.dump();
  const answers = await startBurst(service.origin);

  service.child.kill("SIGTERM");
  await service.waitForLog((line) =>
    line.msg.startsWith("not ready; serving until"),
  );

  const readyz = await request(`${service.origin}/readyz`, { reset: true });
  expect(readyz.statusCode).toBe(503);
  expect(await readyz.body.json()).toEqual({ status: "shutting down" });
  const livez = await request(`${service.origin}/livez`, { reset: true });
  expect(livez.statusCode).toBe(200);
  await livez.body.dump();

  // Requests routed here before the load balancer noticed are still served.
  const late = await queryImage(service.origin, FAST_ID);
  expect(late.status).toBe(200);
  expect(late.body.errors).toBeUndefined();
  expect(late.body.data?.image?.id).toBe(FAST_ID);
  expect(late.connection).toBe("close");

  const settled = await Promise.allSettled(answers);
  for (const result of settled) {
    expect(result.status).toBe("fulfilled");
    if (result.status === "fulfilled") expectCompleteAnswer(result.value);
  }
  expect(await service.exited).toBe(0);
});

test("grace period cuts hung requests", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
    SHUTDOWN_GRACE_MS: "300",
    UPSTREAM_TIMEOUT_MS: "60000",
    REQUEST_DEADLINE_MS: "60000",
  });
  simulator.inject(SLOW_ID, { kind: "hang" });
  const answers = Array.from({ length: 4 }, () =>
    queryImage(service!.origin, SLOW_ID),
  );
  await waitForUpstreamCalls(SLOW_ID, 4);

  service.child.kill("SIGTERM");
  const settled = await Promise.allSettled(answers);
  for (const result of settled) {
    expect(result.status).toBe("rejected");
  }
  expect(await service.exited).toBe(0);

  const cut = service.logs.find((line) =>
    line.msg.startsWith("shutdown grace period ended"),
  );
  expect(cut?.cutConnections).toBe(4);
  expect(service.logs.map((line) => line.msg)).toContain("service stopped");
});

test("SIGTERM when idle exits 0", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
  });
  const answer = await queryImage(service.origin, FAST_ID);
  expect(answer.body.data?.image?.id).toBe(FAST_ID);

  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
  expect(service.logs.map((line) => line.msg)).toEqual(
    expect.arrayContaining(["service started", "service stopped"]),
  );
});

test("SIGTERM exits after log reader closes", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
  });
  const answer = await queryImage(service.origin, FAST_ID);
  expect(answer.body.data?.image?.id).toBe(FAST_ID);
  // Closing the read end makes every later log write fail with EPIPE.
  service.child.stdout!.destroy();

  service.child.kill("SIGTERM");
  const outcome = await Promise.race([
    service.exited,
    new Promise((resolve) => setTimeout(resolve, 20_000, "still running")),
  ]);

  expect(outcome).toBe(0);
});

test("second SIGTERM exits without draining", async () => {
  service = await startServiceProcess(packageDir, {
    IMAGES_API_URL: simulator.imagesApiUrl,
    SHUTDOWN_GRACE_MS: "60000",
  });
  simulator.inject(SLOW_ID, { kind: "hang" });
  const pending = queryImage(service.origin, SLOW_ID).then(
    () => "answered",
    () => "failed",
  );
  await waitForUpstreamCalls(SLOW_ID, 1);

  service.child.kill("SIGTERM");
  await service.waitForLog((line) => line.msg === "draining requests");
  service.child.kill("SIGTERM");

  expect(await service.exited).toBe(1);
  expect(await pending).toBe("failed");
  expect(service.logs.map((line) => line.msg)).toContain(
    "second signal; exiting without draining",
  );
});
