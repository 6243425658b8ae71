// OpenTelemetry tracing end to end: the service exports spans over
// OTLP/HTTP (JSON) to a collector on loopback, and the simulator records the
// `traceparent` of every upstream call.

import { createServer } from "node:http";
import type { RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SEED_IMAGE_IDS, startSimulator } from "../../simulator";
import type { Simulator } from "../../simulator";
import { buildService, startServiceProcess } from "../support/service-process";
import type { ServiceProcess } from "../support/service-process";
import { postGraphQL, startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const UBUNTU = SEED_IMAGE_IDS.ubuntu;
const DEBIAN = SEED_IMAGE_IDS.debian;
const ROUTER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const ROUTER_SPAN_ID = "00f067aa0ba902b7";
const ROUTER_TRACEPARENT = `00-${ROUTER_TRACE_ID}-${ROUTER_SPAN_ID}-01`;
const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;
const SERVICE_NAME = "images-subgraph-under-test";

/** SpanKind values of the OTLP protocol. */
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const STATUS_CODE_ERROR = 2;

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status?: { code?: number };
}

interface ExportedSpan extends OtlpSpan {
  serviceName: string | undefined;
}

/** A minimal OTLP/HTTP collector that keeps the spans it receives. */
interface Collector {
  endpoint: string;
  spans: ExportedSpan[];
  close(): Promise<void>;
}

async function startCollector(): Promise<Collector> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        resourceSpans: {
          resource: { attributes: OtlpAttribute[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const resourceSpans of body.resourceSpans) {
        const serviceName = attribute(
          resourceSpans.resource.attributes,
          "service.name",
        );
        for (const scope of resourceSpans.scopeSpans) {
          for (const span of scope.spans) {
            spans.push({ ...span, serviceName: String(serviceName) });
          }
        }
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function attribute(
  attributes: OtlpAttribute[],
  key: string,
): string | number | undefined {
  const value = attributes.find((entry) => entry.key === key)?.value;
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  return value.intValue === undefined ? undefined : Number(value.intValue);
}

const QUERY = `query Pair { a: image(id: "${UBUNTU}") { id } b: image(id: "${DEBIAN}") { id } }`;

describe("tracing off", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(() => stack.close());

  test("no traceparent reaches the upstream", async () => {
    const { body } = await stack.query(QUERY, {
      headers: { traceparent: ROUTER_TRACEPARENT },
    });

    expect(body.errors).toBeUndefined();
    const calls = stack.simulator.imageRequests();
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers.traceparent).toBeUndefined();
    }
  });

  test("nothing is logged about traces", () => {
    expect(stack.log.lines.join("\n")).not.toContain("exporting traces");
  });
});

// The OTLP exporter loads its HTTP agent with a dynamic import(), which jest
// does not support without --experimental-vm-modules, so the service runs
// as its own process here, as in production.
describe("tracing on", () => {
  let collector: Collector;
  let simulator: Simulator;
  let service: ServiceProcess;
  /** Spans of the two operations, exported when the service stops. */
  let spans: ExportedSpan[];

  beforeAll(async () => {
    const packageDir = buildService();
    collector = await startCollector();
    simulator = await startSimulator();
    service = await startServiceProcess(packageDir, {
      IMAGES_API_URL: simulator.imagesApiUrl,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_SERVICE_NAME: SERVICE_NAME,
      UPSTREAM_RETRY_BASE_MS: "1",
    });
    const url = `${service.origin}/graphql`;

    // With the router's trace context, and one retried upstream call.
    simulator.inject(
      UBUNTU,
      { kind: "fault", name: "serviceUnavailable" },
      { times: 1 },
    );
    const routed = await postGraphQL(url, QUERY, {
      headers: { traceparent: ROUTER_TRACEPARENT },
    });
    expect(routed.body.errors).toBeUndefined();

    // Without a trace context: the operation starts a new trace.
    const direct = await postGraphQL(url, `{ image(id: "${DEBIAN}") { id } }`);
    expect(direct.body.errors).toBeUndefined();

    // Stopping flushes the batch span processor.
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    spans = collector.spans;
  }, 90_000);

  afterAll(async () => {
    service.kill();
    await simulator.close();
    await collector.close();
  });

  test("export is logged with its endpoint", () => {
    const line = service.logs.find((entry) => entry.msg === "exporting traces");
    expect(line?.endpoint).toBe(`${collector.endpoint}/v1/traces`);
  });

  function routedSpans(): ExportedSpan[] {
    return spans.filter((span) => span.traceId === ROUTER_TRACE_ID);
  }

  test("spans carry the service name", () => {
    expect(spans.length).toBeGreaterThan(0);
    for (const span of spans) expect(span.serviceName).toBe(SERVICE_NAME);
  });

  test("operation span continues the router's trace", () => {
    const servers = routedSpans().filter(
      (span) => span.kind === SPAN_KIND_SERVER,
    );

    expect(servers).toHaveLength(1);
    const [operation] = servers;
    expect(operation?.name).toBe("query Pair");
    expect(operation?.parentSpanId).toBe(ROUTER_SPAN_ID);
    expect(attribute(operation!.attributes, "graphql.operation.type")).toBe(
      "query",
    );
    expect(attribute(operation!.attributes, "graphql.operation.name")).toBe(
      "Pair",
    );
  });

  test("each upstream attempt has a child span", () => {
    const operation = routedSpans().find(
      (span) => span.kind === SPAN_KIND_SERVER,
    );
    const clients = routedSpans().filter(
      (span) => span.kind === SPAN_KIND_CLIENT,
    );

    // Ubuntu failed once with 503 and was retried; Debian took one attempt.
    expect(clients).toHaveLength(3);
    for (const span of clients) {
      expect(span.name).toBe("GET /images/{image_id}");
      expect(span.parentSpanId).toBe(operation?.spanId);
    }
    const attempts = clients
      .map((span) => ({
        imageId: attribute(span.attributes, "images.image_id"),
        resend: attribute(span.attributes, "http.request.resend_count"),
        error: span.status?.code === STATUS_CODE_ERROR,
        errorType: attribute(span.attributes, "error.type"),
        status: attribute(span.attributes, "http.response.status_code"),
      }))
      .sort((left, right) =>
        `${left.imageId}${left.resend}`.localeCompare(
          `${right.imageId}${right.resend}`,
        ),
      );
    expect(attempts).toEqual(
      [
        {
          imageId: UBUNTU,
          resend: 0,
          error: true,
          errorType: "SERVICE_UNAVAILABLE",
          status: 503,
        },
        {
          imageId: UBUNTU,
          resend: 1,
          error: false,
          errorType: undefined,
          status: 200,
        },
        {
          imageId: DEBIAN,
          resend: 0,
          error: false,
          errorType: undefined,
          status: 200,
        },
      ].sort((left, right) =>
        `${left.imageId}${left.resend}`.localeCompare(
          `${right.imageId}${right.resend}`,
        ),
      ),
    );
  });

  test("traceparent of each call names its span", () => {
    const clientSpanIds = routedSpans()
      .filter((span) => span.kind === SPAN_KIND_CLIENT)
      .map((span) => span.spanId)
      .sort();
    const routedCalls = simulator
      .imageRequests()
      .map((call) => TRACEPARENT_PATTERN.exec(call.headers.traceparent ?? ""))
      .filter((match) => match?.[1] === ROUTER_TRACE_ID);

    expect(routedCalls.map((match) => match![2]).sort()).toEqual(clientSpanIds);
  });

  test("operation without traceparent starts a trace", () => {
    const others = spans.filter((span) => span.traceId !== ROUTER_TRACE_ID);
    const operation = others.find((span) => span.kind === SPAN_KIND_SERVER);
    const client = others.find((span) => span.kind === SPAN_KIND_CLIENT);

    expect(others).toHaveLength(2);
    expect(operation?.parentSpanId ?? "").toBe("");
    expect(client?.parentSpanId).toBe(operation?.spanId);
    const direct = simulator
      .imageRequests(DEBIAN)
      .map((call) => call.headers.traceparent)
      .find(
        (header) => header !== undefined && !header.includes(ROUTER_TRACE_ID),
      );
    expect(direct).toBe(`00-${operation?.traceId}-${client?.spanId}-01`);
  });
});

/**
 * Runs `check` on a service process whose traces go to a collector that
 * answers with `handle`, then stops the service, simulator and collector.
 */
async function withCollector(
  handle: RequestListener,
  env: Record<string, string>,
  check: (service: ServiceProcess) => Promise<void>,
): Promise<void> {
  const collector = createServer(handle);
  await new Promise<void>((resolve) =>
    collector.listen(0, "127.0.0.1", resolve),
  );
  const { port } = collector.address() as AddressInfo;
  const simulator = await startSimulator();
  const service = await startServiceProcess(buildService(), {
    IMAGES_API_URL: simulator.imagesApiUrl,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
    ...env,
  });
  try {
    await check(service);
  } finally {
    service.kill();
    await simulator.close();
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
  }
}

test("stuck collector does not block shutdown", async () => {
  // A collector that accepts connections and never responds.
  await withCollector(
    () => undefined,
    {},
    async (service) => {
      const { body } = await postGraphQL(
        `${service.origin}/graphql`,
        `{ image(id: "${UBUNTU}") { id } }`,
      );
      expect(body.errors).toBeUndefined();

      service.child.kill("SIGTERM");
      expect(await service.exited).toBe(0);
      const messages = service.logs.map((line) => line.msg);
      expect(messages).toContain(
        "exporting the last spans failed or timed out; they are dropped",
      );
      expect(messages).toContain("service stopped");
    },
  );
}, 60_000);

test("failed exports are logged", async () => {
  // A collector that rejects every export.
  const reject: RequestListener = (request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(400).end("rejected"));
  };
  // Exports every 100 ms instead of every 5 s.
  const env = { OTEL_BSP_SCHEDULE_DELAY: "100" };
  await withCollector(reject, env, async (service) => {
    const url = `${service.origin}/graphql`;
    const query = `{ image(id: "${UBUNTU}") { id } }`;
    expect((await postGraphQL(url, query)).body.errors).toBeUndefined();
    const exportError = await Promise.race([
      service.waitForLog((line) =>
        String(line.msg).startsWith("OpenTelemetry:"),
      ),
      new Promise<undefined>((resolve) => setTimeout(resolve, 5000)),
    ]);

    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);

    expect(exportError?.level).toBe(50);
    expect(exportError?.msg).toContain("Bad Request");
  });
}, 60_000);
