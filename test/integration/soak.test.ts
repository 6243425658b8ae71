// Fault soak: concurrent callers against the compiled service as its own
// process, while the simulator resets connections, sends 503 bursts, 413
// storms, slow bodies, malformed JSON and hangs. Every response must be a
// valid GraphQL response with the code that its fault calls for, and the
// process must stay up with bounded memory and open file descriptors.
//
// SOAK_SECONDS sets the length of the run (default 5, for CI), and
// SOAK_CALLERS the number of concurrent callers (default 32).

import { Agent, request } from "undici";
import { DEMO_TOKEN, SEED_IMAGE_IDS, startSimulator } from "../../simulator";
import type { Simulator } from "../../simulator";
import { buildService, startServiceProcess } from "../support/service-process";
import type { ServiceProcess } from "../support/service-process";

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 5);
const CALLERS = Number(process.env.SOAK_CALLERS ?? 32);
const UPSTREAM_MAX_CONNECTIONS = 16;
const MAX_ALIASES = 20;
/** A token that is only sent with requests for the image in a 413 storm. */
const STORM_TOKEN = "storm-token-0123456789";
/** Seconds in the Retry-After of the 413 storm. */
const STORM_RETRY_AFTER = 30;
const MISSING_ID = "00000000-0000-4000-8000-000000000000";
const MiB = 1024 * 1024;

/** Which seed image gets which fault for the whole run. */
const IMAGES = {
  ok: SEED_IMAGE_IDS.ubuntu,
  reset: SEED_IMAGE_IDS.snapshot,
  resetMidBody: SEED_IMAGE_IDS.saving,
  burst: SEED_IMAGE_IDS.windows,
  storm: SEED_IMAGE_IDS.centos,
  slowBody: SEED_IMAGE_IDS.debian,
  malformed: SEED_IMAGE_IDS.backup,
  hang: SEED_IMAGE_IDS.nonStringMetadata,
};

jest.setTimeout(SOAK_SECONDS * 1000 + 120_000);

interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; retryAfter?: number };
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: GraphQLError[];
}

interface Scenario {
  name: string;
  query: string;
  token: string | null;
  /** Returns what is wrong with a response, or undefined if it is right. */
  check(status: number, body: GraphQLBody): string | undefined;
}

function imageQuery(id: string): string {
  return `{ image(id: "${id}") { id name status } }`;
}

/** Expects `{ image: null }` and one error with `code` on `image`. */
function expectImageError(code: string) {
  return (status: number, body: GraphQLBody): string | undefined => {
    if (status !== 200) return `status ${status}`;
    if (body.data?.image !== null) return "image is not null";
    if (body.errors?.length !== 1) return `${body.errors?.length} errors`;
    const [error] = body.errors;
    if (error?.extensions?.code !== code) {
      return `code ${error?.extensions?.code}, expected ${code}`;
    }
    if (error.path?.join(".") !== "image") return `path ${error.path}`;
    return undefined;
  };
}

function expectImage(id: string) {
  return (status: number, body: GraphQLBody): string | undefined => {
    if (status !== 200) return `status ${status}`;
    if (body.errors !== undefined) {
      return `errors ${body.errors.map((e) => e.extensions?.code).join(",")}`;
    }
    const image = body.data?.image as { id?: string } | null | undefined;
    return image?.id === id ? undefined : `image ${JSON.stringify(image)}`;
  };
}

const SCENARIOS: Scenario[] = [
  {
    name: "ok",
    query: imageQuery(IMAGES.ok),
    token: DEMO_TOKEN,
    check: expectImage(IMAGES.ok),
  },
  {
    name: "reset",
    query: imageQuery(IMAGES.reset),
    token: DEMO_TOKEN,
    check: expectImageError("UPSTREAM_UNAVAILABLE"),
  },
  {
    name: "reset mid-body",
    query: imageQuery(IMAGES.resetMidBody),
    token: DEMO_TOKEN,
    check: expectImageError("UPSTREAM_UNAVAILABLE"),
  },
  {
    // Bursts of five 503s: a call that retries past the burst succeeds.
    name: "503 burst",
    query: imageQuery(IMAGES.burst),
    token: DEMO_TOKEN,
    check: (status, body) =>
      body.errors === undefined
        ? expectImage(IMAGES.burst)(status, body)
        : expectImageError("SERVICE_UNAVAILABLE")(status, body),
  },
  {
    name: "413 storm",
    query: imageQuery(IMAGES.storm),
    token: STORM_TOKEN,
    check: (status, body) => {
      const problem = expectImageError("OVER_LIMIT")(status, body);
      if (problem !== undefined) return problem;
      const retryAfter = body.errors?.[0]?.extensions?.retryAfter;
      const valid =
        Number.isInteger(retryAfter) &&
        retryAfter! >= 1 &&
        retryAfter! <= STORM_RETRY_AFTER;
      return valid ? undefined : `retryAfter ${retryAfter}`;
    },
  },
  {
    name: "slow body",
    query: imageQuery(IMAGES.slowBody),
    token: DEMO_TOKEN,
    check: expectImage(IMAGES.slowBody),
  },
  {
    name: "malformed JSON",
    query: imageQuery(IMAGES.malformed),
    token: DEMO_TOKEN,
    check: expectImageError("BAD_UPSTREAM_RESPONSE"),
  },
  {
    name: "hang",
    query: imageQuery(IMAGES.hang),
    token: DEMO_TOKEN,
    check: expectImageError("UPSTREAM_TIMEOUT"),
  },
  {
    name: "not found",
    query: imageQuery(MISSING_ID),
    token: DEMO_TOKEN,
    check: expectImageError("NOT_FOUND"),
  },
  {
    name: "no token",
    query: imageQuery(IMAGES.ok),
    token: null,
    check: expectImageError("UNAUTHENTICATED"),
  },
  {
    name: "entities",
    query: `{ _entities(representations: [${[
      IMAGES.ok,
      IMAGES.reset,
      IMAGES.malformed,
      MISSING_ID,
    ]
      .map((id) => `{ __typename: "Image", id: "${id}" }`)
      .join(", ")}]) { ... on Image { id } } }`,
    token: DEMO_TOKEN,
    check: (status, body) => {
      if (status !== 200) return `status ${status}`;
      const entities = body.data?._entities as unknown[] | undefined;
      const expectedEntities = [{ id: IMAGES.ok }, null, null, null];
      if (JSON.stringify(entities) !== JSON.stringify(expectedEntities)) {
        return `entities ${JSON.stringify(entities)}`;
      }
      const codes = (body.errors ?? [])
        .map((error) => `${error.path?.[1]}:${error.extensions?.code}`)
        .sort()
        .join(",");
      const expectedCodes =
        "1:UPSTREAM_UNAVAILABLE,2:BAD_UPSTREAM_RESPONSE,3:NOT_FOUND";
      return codes === expectedCodes ? undefined : `codes ${codes}`;
    },
  },
  {
    name: "alias bomb",
    query: `{ ${Array.from(
      { length: MAX_ALIASES * 10 },
      (_, index) => `a${index}: image(id: "${IMAGES.ok}") { id }`,
    ).join(" ")} }`,
    token: DEMO_TOKEN,
    check: (status, body) => {
      if (status !== 400) return `status ${status}`;
      const message = body.errors?.[0]?.message ?? "";
      return message.includes("MAX_ALIASES") ? undefined : message;
    },
  },
];

/** One reading of the service's own process metrics. */
interface Sample {
  residentBytes: number;
  heapUsedBytes: number;
  openFds: number;
}

async function sampleProcess(origin: string): Promise<Sample> {
  const response = await request(`${origin}/metrics`);
  const text = await response.body.text();
  const value = (name: string) => {
    const line = text.split("\n").find((row) => row.startsWith(`${name} `));
    if (line === undefined) throw new Error(`${name} is missing in /metrics`);
    return Number(line.split(" ")[1]);
  };
  return {
    residentBytes: value("process_resident_memory_bytes"),
    heapUsedBytes: value("nodejs_heap_size_used_bytes"),
    openFds: value("process_open_fds"),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

let simulator: Simulator;
let service: ServiceProcess;

beforeAll(async () => {
  simulator = await startSimulator({
    tokens: { [DEMO_TOKEN]: "010101", [STORM_TOKEN]: "010101" },
  });
  service = await startServiceProcess(buildService(), {
    IMAGES_API_URL: simulator.imagesApiUrl,
    LOG_LEVEL: process.env.SOAK_LOG_LEVEL ?? "error",
    UPSTREAM_TIMEOUT_MS: "2500",
    REQUEST_DEADLINE_MS: "5000",
    UPSTREAM_RETRY_BASE_MS: "5",
    UPSTREAM_RETRY_MAX_MS: "50",
    UPSTREAM_MAX_CONNECTIONS: String(UPSTREAM_MAX_CONNECTIONS),
    UPSTREAM_KEEP_ALIVE_MS: "1000",
    MAX_ALIASES: String(MAX_ALIASES),
  });

  simulator.inject(IMAGES.reset, { kind: "reset" });
  simulator.inject(IMAGES.resetMidBody, { kind: "resetMidBody" });
  simulator.inject(IMAGES.storm, {
    kind: "fault",
    name: "overLimit",
    retryAfterSeconds: STORM_RETRY_AFTER,
  });
  simulator.inject(IMAGES.slowBody, {
    kind: "slowBody",
    chunkDelayMs: 20,
    chunks: 4,
  });
  simulator.inject(IMAGES.malformed, { kind: "malformedJson" });
  simulator.inject(IMAGES.hang, { kind: "hang" });
});

afterAll(async () => {
  service?.kill();
  await simulator.close();
});

test("service survives the fault soak", async () => {
  const agent = new Agent({ connections: CALLERS });
  const endsAt = Date.now() + SOAK_SECONDS * 1000;
  const counts = new Map<string, number>();
  const problems: string[] = [];
  const samples: Sample[] = [];
  const baseline = await sampleProcess(service.origin);

  const burster = setInterval(() => {
    simulator.inject(
      IMAGES.burst,
      { kind: "fault", name: "serviceUnavailable" },
      { times: 5 },
    );
  }, 250);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await sampleProcess(service.origin));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();

  const callers = Array.from({ length: CALLERS }, async (_, caller) => {
    for (let round = 0; Date.now() < endsAt; round++) {
      const scenario = SCENARIOS[(caller + round) % SCENARIOS.length]!;
      const response = await request(`${service.origin}/graphql`, {
        method: "POST",
        dispatcher: agent,
        headers: {
          "content-type": "application/json",
          ...(scenario.token !== null && { "x-auth-token": scenario.token }),
        },
        body: JSON.stringify({ query: scenario.query }),
      });
      const text = await response.body.text();
      counts.set(scenario.name, (counts.get(scenario.name) ?? 0) + 1);

      let problem: string | undefined;
      try {
        const body = JSON.parse(text) as GraphQLBody;
        const valid =
          typeof body === "object" &&
          body !== null &&
          ("data" in body || "errors" in body) &&
          (body.errors ?? []).every(
            (error) =>
              typeof error.message === "string" &&
              typeof error.extensions?.code === "string",
          );
        problem = valid
          ? scenario.check(response.statusCode, body)
          : "not a GraphQL response";
      } catch {
        problem = "body is not JSON";
      }
      if (problem !== undefined && problems.length < 20) {
        problems.push(`${scenario.name}: ${problem}: ${text.slice(0, 300)}`);
      }
    }
  });
  try {
    await Promise.all(callers);
  } finally {
    clearInterval(burster);
    sampling = false;
    await sampler;
    await agent.close();
  }

  if (process.env.SOAK_SECONDS !== undefined) {
    // A long run prints what it saw, for the operator who asked for it.
    const quarterLength = Math.max(1, Math.floor(samples.length / 4));
    console.log(
      JSON.stringify({
        seconds: SOAK_SECONDS,
        callers: CALLERS,
        responses: Object.fromEntries(counts),
        maxResidentMiB: Math.max(...samples.map((s) => s.residentBytes)) / MiB,
        earlyHeapMiB:
          median(samples.slice(0, quarterLength).map((s) => s.heapUsedBytes)) /
          MiB,
        lateHeapMiB:
          median(samples.slice(-quarterLength).map((s) => s.heapUsedBytes)) /
          MiB,
        baselineFds: baseline.openFds,
        maxFds: Math.max(...samples.map((s) => s.openFds)),
      }),
    );
  }
  expect(problems).toEqual([]);
  for (const scenario of SCENARIOS) {
    expect(counts.get(scenario.name) ?? 0).toBeGreaterThan(0);
  }

  // The process is up, healthy and logged no masked internal error.
  expect(service.child.exitCode).toBeNull();
  const livez = await request(`${service.origin}/livez`);
  expect(livez.statusCode).toBe(200);
  await livez.body.dump();
  expect(service.logs.filter((line) => line.level >= 50)).toEqual([]);

  // Open descriptors stay within the connections that the limits allow:
  // one per caller, the upstream pool and the metrics scrape.
  const fdLimit = baseline.openFds + CALLERS + UPSTREAM_MAX_CONNECTIONS + 16;
  expect(Math.max(...samples.map((sample) => sample.openFds))).toBeLessThan(
    fdLimit,
  );

  // Memory stays bounded: no absolute blow-up, and the heap of the last
  // quarter of the run is not far above that of the first quarter.
  expect(
    Math.max(...samples.map((sample) => sample.residentBytes)),
  ).toBeLessThan(512 * MiB);
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const early = median(samples.slice(0, quarter).map((s) => s.heapUsedBytes));
  const late = median(samples.slice(-quarter).map((s) => s.heapUsedBytes));
  expect(late).toBeLessThan(early * 2 + 32 * MiB);

  // Once idle, the upstream pool and the callers' sockets close again.
  let idle = await sampleProcess(service.origin);
  const idleBy = Date.now() + 15_000;
  while (idle.openFds > baseline.openFds + 4 && Date.now() < idleBy) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    idle = await sampleProcess(service.origin);
  }
  expect(idle.openFds).toBeLessThanOrEqual(baseline.openFds + 4);

  service.child.kill("SIGTERM");
  expect(await service.exited).toBe(0);
});
