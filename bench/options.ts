import { parseArgs } from "node:util";
import { SCENARIOS } from "./operations";
import type { ScenarioName } from "./operations";

export const CONTENDER_KEYS = [
  "service",
  "service-small-heap",
  "rest-datasource",
  "mesh",
  "naive",
  "raw",
] as const;
export type ContenderKey = (typeof CONTENDER_KEYS)[number];

export const CURVE_KEYS = ["per-id", "list", "raw"] as const;
export type CurveKey = (typeof CURVE_KEYS)[number];

/** Settings of one benchmark run, from the command line. */
export interface BenchOptions {
  /** Upstream latency of the scenarios in milliseconds. */
  latencyMs: number;
  /** Length of each measured load run in seconds. */
  durationSeconds: number;
  /** Load before each measured run, in seconds; 0 skips it. */
  warmupSeconds: number;
  /** Concurrent connections of the load generator. */
  connections: number;
  /**
   * Connections of the capacity runs of `single` and `join`, enough to keep
   * a contender busy. 0 skips those runs.
   */
  capacityConnections: number;
  scenarios: ScenarioName[];
  contenders: ContenderKey[];
  /** Upstream latencies of the cost curve in milliseconds; empty skips it. */
  curveLatencies: number[];
  /** Distinct images per operation on the cost curve. */
  curveSizes: number[];
  curveContenders: CurveKey[];
  /** Operations sent one at a time per point of the curve. */
  curveSamples: number;
  /** Generated images of the simulated tenant, besides the seed images. */
  tenantImages: number;
  /** IMAGE_LIST_THRESHOLD of the `list` curve contender. */
  listThreshold: number;
  /** True for the quick CI run, which fails on any error. */
  smoke: boolean;
  /** Writes every measurement as JSON to this file when set. */
  jsonPath: string | undefined;
}

export const USAGE = `Usage: npm run bench -- [options]

  --latency MS            upstream latency of the scenarios (default 20)
  --duration S            seconds of each measured load run (default 10)
  --warmup S              seconds of load before each run (default 2)
  --connections N         concurrent connections of autocannon (default 50)
  --capacity-connections N
                          connections of the capacity runs of single and join
                          (default 200; 0 skips them)
  --scenarios LIST        ${SCENARIOS.join(",")} (default all)
  --contenders LIST       ${CONTENDER_KEYS.join(",")} (default all)
  --curve-latencies LIST  upstream latencies of the cost curve, ms (default 0,20; "" skips it)
  --curve-sizes LIST      distinct images per operation (default 1,10,100,200,500,1000)
  --curve-contenders LIST ${CURVE_KEYS.join(",")} (default all)
  --curve-samples N       operations per point of the curve (default 10)
  --tenant-images N       generated images of the simulated tenant (default 2000)
  --list-threshold N      IMAGE_LIST_THRESHOLD of the list curve contender (default 1)
  --json FILE             also write the measurements as JSON
  --smoke                 quick run of everything for CI; fails on any error
`;

/** Settings of `--smoke`: every contender and scenario, briefly. */
const SMOKE: Partial<BenchOptions> = {
  latencyMs: 0,
  durationSeconds: 1,
  warmupSeconds: 0,
  connections: 2,
  capacityConnections: 4,
  curveLatencies: [0],
  curveSizes: [1, 10],
  curveSamples: 2,
  tenantImages: 100,
  listThreshold: 5,
};

/** @throws Error with the usage text for an unknown or invalid option. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      latency: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      "capacity-connections": { type: "string" },
      scenarios: { type: "string" },
      contenders: { type: "string" },
      "curve-latencies": { type: "string" },
      "curve-sizes": { type: "string" },
      "curve-contenders": { type: "string" },
      "curve-samples": { type: "string" },
      "tenant-images": { type: "string" },
      "list-threshold": { type: "string" },
      json: { type: "string" },
      smoke: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new Error(USAGE);

  const defaults: BenchOptions = {
    latencyMs: 20,
    durationSeconds: 10,
    warmupSeconds: 2,
    connections: 50,
    capacityConnections: 200,
    scenarios: [...SCENARIOS],
    contenders: [...CONTENDER_KEYS],
    curveLatencies: [0, 20],
    curveSizes: [1, 10, 100, 200, 500, 1000],
    curveContenders: [...CURVE_KEYS],
    curveSamples: 10,
    tenantImages: 2000,
    listThreshold: 1,
    smoke: values.smoke,
    jsonPath: values.json,
    ...(values.smoke ? SMOKE : {}),
  };

  const number = (name: string, value: string | undefined, fallback: number) =>
    value === undefined ? fallback : readNumber(name, value);
  const numbers = (
    name: string,
    value: string | undefined,
    fallback: number[],
  ) =>
    value === undefined
      ? fallback
      : splitList(value).map((item) => readNumber(name, item));

  const options: BenchOptions = {
    ...defaults,
    latencyMs: number("--latency", values.latency, defaults.latencyMs),
    durationSeconds: number(
      "--duration",
      values.duration,
      defaults.durationSeconds,
    ),
    warmupSeconds: number("--warmup", values.warmup, defaults.warmupSeconds),
    connections: number(
      "--connections",
      values.connections,
      defaults.connections,
    ),
    capacityConnections: number(
      "--capacity-connections",
      values["capacity-connections"],
      defaults.capacityConnections,
    ),
    scenarios: readChoices(
      "--scenarios",
      values.scenarios,
      SCENARIOS,
      defaults.scenarios,
    ),
    contenders: readChoices(
      "--contenders",
      values.contenders,
      CONTENDER_KEYS,
      defaults.contenders,
    ),
    curveLatencies: numbers(
      "--curve-latencies",
      values["curve-latencies"],
      defaults.curveLatencies,
    ),
    curveSizes: numbers(
      "--curve-sizes",
      values["curve-sizes"],
      defaults.curveSizes,
    ),
    curveContenders: readChoices(
      "--curve-contenders",
      values["curve-contenders"],
      CURVE_KEYS,
      defaults.curveContenders,
    ),
    curveSamples: number(
      "--curve-samples",
      values["curve-samples"],
      defaults.curveSamples,
    ),
    tenantImages: number(
      "--tenant-images",
      values["tenant-images"],
      defaults.tenantImages,
    ),
    listThreshold: number(
      "--list-threshold",
      values["list-threshold"],
      defaults.listThreshold,
    ),
  };
  if (options.connections < 1 || options.curveSamples < 1) {
    throw new Error("--connections and --curve-samples must be at least 1.");
  }
  const counts = {
    "--connections": options.connections,
    "--capacity-connections": options.capacityConnections,
    "--curve-samples": options.curveSamples,
    "--tenant-images": options.tenantImages,
  };
  for (const [name, count] of Object.entries(counts)) {
    if (!Number.isInteger(count)) {
      throw new Error(`${name} must be a whole number, not ${count}.`);
    }
  }
  for (const size of options.curveSizes) {
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(
        `--curve-sizes must list whole numbers of at least 1, not ${size}.`,
      );
    }
  }
  return options;
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function readNumber(name: string, value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number < 0) {
    throw new Error(
      `${name} is invalid: ${JSON.stringify(value)}; expected a number of 0 or more.\n\n${USAGE}`,
    );
  }
  return number;
}

function readChoices<T extends string>(
  name: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: T[],
): T[] {
  if (value === undefined) return fallback;

  return splitList(value).map((item) => {
    const choice = choices.find((candidate) => candidate === item);
    if (choice === undefined) {
      throw new Error(
        `${name} is invalid: ${JSON.stringify(item)}; expected some of ${choices.join(", ")}.`,
      );
    }
    return choice;
  });
}
