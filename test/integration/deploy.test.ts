// Checks the Kubernetes manifests in deploy/ against the service: the
// probes and the scrape annotation point at endpoints that respond, the
// ports agree, the environment is valid configuration, and the objects
// refer to each other by the right names and labels.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../src/config";
import { FLUSH_TIMEOUT_MS } from "../../src/observability/tracing";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const DEPLOY_DIR = join(__dirname, "..", "..", "deploy");

interface Probe {
  httpGet?: { path: string; port: string | number };
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number; protocol?: string }[];
  env: EnvVar[];
  resources: {
    requests?: Record<string, string>;
    limits?: Record<string, string>;
  };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: Record<string, unknown>;
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // The specs are checked field by field below.
  spec: Record<string, any>;
}

function readManifests(): Manifest[] {
  const kustomization = parseAllDocuments(
    readFileSync(join(DEPLOY_DIR, "kustomization.yaml"), "utf8"),
  )[0]!.toJS() as { resources: string[] };

  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(DEPLOY_DIR, file), "utf8")).map(
      (document) => {
        expect(document.errors).toEqual([]);
        return document.toJS() as Manifest;
      },
    ),
  );
}

const manifests = readManifests();

function byKind(kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
}

const deployment = byKind("Deployment");
const service = byKind("Service");
const autoscaler = byKind("HorizontalPodAutoscaler");
const disruptionBudget = byKind("PodDisruptionBudget");
const podSpec = deployment.spec.template.spec as {
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  containers: Container[];
};
const podLabels = deployment.spec.template.metadata.labels as Record<
  string,
  string
>;
const container = podSpec.containers[0]!;

/** Returns the container's environment variables that have a plain value. */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  return env;
}

/** Resolves a probe port, by name or number, to the container port number. */
function resolvePort(port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return container.ports.find((entry) => entry.name === port)?.containerPort;
}

function matches(
  selector: Record<string, string>,
  labels: Record<string, string>,
): boolean {
  return Object.entries(selector).every(
    ([key, value]) => labels[key] === value,
  );
}

test("kustomization lists every kind", () => {
  expect(manifests.map((manifest) => manifest.kind).sort()).toEqual([
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Service",
  ]);
});

test("deployment has one container", () => {
  expect(podSpec.containers).toHaveLength(1);
  expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
});

test("container environment is valid configuration", () => {
  const config = loadConfig(containerEnv());

  expect(config.port).toBe(container.ports[0]?.containerPort);
  expect(config.development).toBe(false);
  expect(config.landingPage).toBe(false);
});

test("environment names are read by the service", () => {
  const source = readFileSync(
    join(__dirname, "..", "..", "src", "config.ts"),
    "utf8",
  );
  // NODE_OPTIONS is read by Node itself.
  const names = container.env
    .map((variable) => variable.name)
    .filter((name) => name !== "NODE_OPTIONS");
  for (const name of names) {
    expect(source).toMatch(new RegExp(`"${name}"|env\\.${name}\\b`));
  }
});

test("router secret comes from a Secret", () => {
  const secret = container.env.find((entry) => entry.name === "ROUTER_SECRET");

  expect(secret?.value).toBeUndefined();
  expect(secret?.valueFrom?.secretKeyRef?.name).toBe(deployment.metadata.name);
});

test("grace period covers the shutdown", () => {
  const config = loadConfig(containerEnv());
  const shutdownMs =
    config.shutdownDelayMs + config.shutdownGraceMs + FLUSH_TIMEOUT_MS;

  expect(config.shutdownDelayMs).toBeGreaterThan(0);
  expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
    shutdownMs,
  );
});

test("pod runs as non-root", () => {
  expect(podSpec.securityContext.runAsNonRoot).toBe(true);
  expect(podSpec.securityContext.runAsUser).toBeGreaterThan(0);
  expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
  expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
  expect(container.securityContext?.capabilities).toEqual({ drop: ["ALL"] });
});

test("container has resource requests and limits", () => {
  // The autoscaler's CPU utilization is relative to the CPU request.
  expect(container.resources.requests?.cpu).toBeDefined();
  expect(container.resources.requests?.memory).toBeDefined();
  expect(container.resources.limits?.memory).toBeDefined();
});

test("service targets the container port", () => {
  const [port] = service.spec.ports as {
    port: number;
    targetPort: string | number;
  }[];

  expect(matches(service.spec.selector, podLabels)).toBe(true);
  expect(resolvePort(port!.targetPort)).toBe(loadConfig(containerEnv()).port);
});

test("autoscaler targets the deployment", () => {
  expect(autoscaler.spec.scaleTargetRef).toEqual({
    apiVersion: deployment.apiVersion,
    kind: "Deployment",
    name: deployment.metadata.name,
  });
  expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
  expect(autoscaler.spec.maxReplicas).toBeGreaterThan(
    autoscaler.spec.minReplicas,
  );
});

test("disruption budget selects the pods", () => {
  expect(matches(disruptionBudget.spec.selector.matchLabels, podLabels)).toBe(
    true,
  );
  expect(disruptionBudget.spec.minAvailable).toBeLessThan(
    autoscaler.spec.minReplicas,
  );
});

describe("endpoints", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ env: { NODE_ENV: "production" } });
  });

  afterAll(() => stack.close());

  const probes = (["startupProbe", "livenessProbe", "readinessProbe"] as const)
    .map((name) => [name, container[name]?.httpGet] as const)
    .filter(([, httpGet]) => httpGet !== undefined);

  test("every probe is an HTTP GET on the container port", () => {
    expect(probes.map(([name]) => name)).toEqual([
      "startupProbe",
      "livenessProbe",
      "readinessProbe",
    ]);
    for (const [, httpGet] of probes) {
      expect(resolvePort(httpGet!.port)).toBe(
        container.ports[0]?.containerPort,
      );
    }
  });

  test.each(probes)("%s path answers 200", async (_name, httpGet) => {
    const response = await request(
      new URL(httpGet!.path, stack.service.url).href,
    );
    await response.body.dump();
    expect(response.statusCode).toBe(200);
  });

  test("readiness probe is /readyz", () => {
    expect(container.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container.livenessProbe?.httpGet?.path).toBe("/livez");
  });

  test("scrape annotation points at /metrics", async () => {
    const annotations = deployment.spec.template.metadata.annotations as Record<
      string,
      string
    >;
    expect(Number(annotations["prometheus.io/port"])).toBe(
      container.ports[0]?.containerPort,
    );

    const response = await request(
      new URL(annotations["prometheus.io/path"]!, stack.service.url).href,
    );
    const text = await response.body.text();
    expect(response.statusCode).toBe(200);
    expect(text).toContain("graphql_operations_total");
  });
});
