/**
 * `npm run bench`: starts the simulator, then each contender in its own
 * process, drives every scenario with autocannon and measures the cost
 * curve, and prints the tables with ratios against this service.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import type {
  LoadMeasurement,
  SequentialResult,
  Upstream,
  UpstreamSetup,
} from "./measure";
import {
  measureLoad,
  measureSequential,
  measureUpstreamCall,
  prepareUpstream,
} from "./measure";
import { buildOperation } from "./operations";
import type { Operation, Protocol, ScenarioName, Workload } from "./operations";
import { parseOptions } from "./options";
import type { BenchOptions, ContenderKey, CurveKey } from "./options";
import { startProcess } from "./processes";
import type { BenchProcess } from "./processes";
import { printReport } from "./report";
import { benchImageId, spreadIds } from "./tenant";

interface ContenderSpec {
  label: string;
  script: string;
  protocol: Protocol;
  env?: Record<string, string>;
  /** Options of `node` itself, such as V8's heap settings. */
  nodeOptions?: string[];
}

/**
 * The V8 settings that README.md gives for a small heap. The old generation
 * grows to 1.3 times what survived the last full collection before the next
 * one, and the young generation uses 8 MB semi-spaces instead of 16 MB.
 */
const SMALL_HEAP_OPTIONS = [
  "--heap-growing-percent=30",
  "--max-semi-space-size=8",
];

/** Operations sent one at a time per scenario, for the unloaded latency. */
const ALONE_OPERATIONS = 30;

/**
 * The scenarios whose throughput the targets compare. At 50 connections and
 * 20 ms of upstream latency, a contender that responds in 24 ms serves at
 * most about 2,100 operations per second, however little CPU it uses. So the
 * capacity runs add connections until the contenders set the pace.
 */
const CAPACITY_SCENARIOS: readonly ScenarioName[] = ["single", "join"];

/**
 * Settings of this service in the benchmark: the defaults, with logs at
 * `warn` as in production, so that failures are logged.
 */
const SERVICE_ENV = { LOG_LEVEL: "warn" };

const CONTENDERS: Record<ContenderKey, ContenderSpec> = {
  service: {
    label: "this service",
    script: "contenders/service",
    protocol: "subgraph",
    env: SERVICE_ENV,
  },
  "service-small-heap": {
    label: "this service, small heap",
    script: "contenders/service",
    protocol: "subgraph",
    env: SERVICE_ENV,
    nodeOptions: SMALL_HEAP_OPTIONS,
  },
  "rest-datasource": {
    label: "RESTDataSource + DataLoader",
    script: "contenders/rest-datasource",
    protocol: "subgraph",
  },
  mesh: {
    label: "Hive Gateway (Mesh, OpenAPI)",
    script: "contenders/mesh",
    protocol: "mesh",
  },
  naive: {
    label: "naive, one call per image",
    script: "contenders/naive",
    protocol: "subgraph",
  },
  raw: {
    label: "raw upstream (undici)",
    script: "contenders/raw",
    protocol: "raw",
  },
};

export interface ScenarioRow {
  scenario: ScenarioName;
  contender: ContenderKey;
  label: string;
  /** Operations sent one at a time: correctness, calls and unloaded latency. */
  alone?: SequentialResult;
  load?: LoadMeasurement;
  /** The load run at `--capacity-connections`, for `single` and `join` only. */
  capacity?: LoadMeasurement;
  /** The error that stopped the contender on this scenario. */
  error?: string;
}

export interface CurvePoint {
  contender: CurveKey;
  latencyMs: number;
  distinctImages: number;
  result?: SequentialResult;
  error?: string;
}

export interface BenchResults {
  options: BenchOptions;
  machine: {
    cpus: string;
    cores: number;
    memoryGiB: number;
    node: string;
    /** 1, 5 and 15 minute load averages at the start and at the end. */
    loadAverage: number[];
    loadAverageEnd: number[];
  };
  startedAt: string;
  /** Median of one direct upstream call at the scenarios' latency, in ms. */
  upstreamCallMs: number;
  rows: ScenarioRow[];
  curve: CurvePoint[];
}

/** Ids of each scenario, taken from the start of the generated tenant. */
function workloads(): Record<ScenarioName, Workload> {
  const twenty = Array.from({ length: 20 }, (_, index) => benchImageId(index));
  const ten = twenty.slice(0, 10);
  const join = Array.from({ length: 50 }, (_, index) => ten[index % 10]!);
  return {
    single: { ids: [twenty[0]!], shape: "single", expectedImages: 1 },
    entities: {
      ids: Array.from({ length: 100 }, (_, index) => twenty[index % 20]!),
      shape: "entities",
      expectedImages: 100,
    },
    join: { ids: join, shape: "join", expectedImages: 50 },
    // One of the ten images fails, so 10% of the upstream responses do.
    "join-faults": { ids: join, shape: "join", expectedImages: 45 },
  };
}

const FAILING_IMAGE_ID = benchImageId(0);

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }

  const simulator = await startProcess("simulator", "simulator-process", {
    BENCH_TENANT_IMAGES: String(options.tenantImages),
    BENCH_LATENCY_MS: String(options.latencyMs),
  });
  const upstream: Upstream = { process: simulator, url: simulator.url };
  const results: BenchResults = {
    options,
    machine: describeMachine(),
    startedAt: new Date().toISOString(),
    upstreamCallMs: NaN,
    rows: [],
    curve: [],
  };

  try {
    await prepareUpstream(upstream, { latencyMs: options.latencyMs });
    results.upstreamCallMs = await measureUpstreamCall(
      upstream,
      benchImageId(0),
      options.smoke ? 2 : 20,
    );
    for (const key of options.contenders) {
      results.rows.push(...(await runContender(key, options, upstream)));
    }
    if (options.curveLatencies.length > 0) {
      results.curve = await runCurve(options, upstream);
    }
  } finally {
    await simulator.stop();
  }

  results.machine.loadAverageEnd = os.loadavg();
  printReport(results);
  if (options.jsonPath !== undefined) {
    writeFileSync(options.jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  }
  const failures = countFailures(results);
  if (options.smoke && failures > 0) {
    process.stderr.write(
      `Smoke run failed: ${failures} measurements had errors.\n`,
    );
    process.exit(1);
  }
}

/** Runs every scenario on one contender, with a gateway for the joins. */
async function runContender(
  key: ContenderKey,
  options: BenchOptions,
  upstream: Upstream,
): Promise<ScenarioRow[]> {
  const spec = CONTENDERS[key];
  const rows: ScenarioRow[] = [];
  log(`${spec.label}: starting`);

  let contender: BenchProcess;
  try {
    contender = await startProcess(
      key,
      spec.script,
      { ...spec.env, BENCH_UPSTREAM_URL: upstream.url },
      spec.nodeOptions,
    );
  } catch (error) {
    return options.scenarios.map((scenario) => ({
      scenario,
      contender: key,
      label: spec.label,
      error: String(error),
    }));
  }

  let gateway: BenchProcess | undefined;
  const all = workloads();
  const operations = new Map<ScenarioName, Operation>();
  const setupOf = (scenario: ScenarioName): UpstreamSetup => ({
    latencyMs: options.latencyMs,
    ...(scenario === "join-faults" && { failingImageId: FAILING_IMAGE_ID }),
  });
  try {
    for (const scenario of options.scenarios) {
      const workload = all[scenario];
      const row: ScenarioRow = { scenario, contender: key, label: spec.label };
      rows.push(row);
      try {
        let target = contender;
        if (workload.shape === "join" && spec.protocol !== "raw") {
          gateway ??= await startProcess(`${key} gateway`, "gateway-process", {
            BENCH_SUBGRAPH_URL: contender.url,
            BENCH_SERVER_IMAGE_IDS: JSON.stringify(workload.ids),
          });
          target = gateway;
        }
        const operation = buildOperation(spec.protocol, workload, target.url);
        operations.set(scenario, operation);
        const setup = setupOf(scenario);

        await prepareUpstream(upstream, setup);
        row.load = await measureLoad(
          contender,
          operation,
          options.connections,
          options.durationSeconds,
          options.warmupSeconds,
        );
        log(
          `${spec.label}, ${scenario}: ${row.load.requestsPerSecond.toFixed(0)} req/s`,
        );
        // After the load, so that the times are those of a warm process
        // whose code the JIT compiler has optimized, as in a service that has
        // been up for a while.
        await prepareUpstream(upstream, setup);
        row.alone = await measureSequential(
          upstream,
          operation,
          workload.expectedImages,
          options.smoke ? 2 : ALONE_OPERATIONS,
        );
      } catch (error) {
        row.error = String(error);
        log(`${spec.label}, ${scenario}: ${row.error}`);
      }
    }

    // After every other scenario, so that the peak RSS of those rows is that
    // of the benchmark's usual load.
    for (const row of rows) {
      const operation = operations.get(row.scenario);
      if (
        options.capacityConnections === 0 ||
        !CAPACITY_SCENARIOS.includes(row.scenario) ||
        operation === undefined ||
        row.error !== undefined
      ) {
        continue;
      }
      try {
        await prepareUpstream(upstream, setupOf(row.scenario));
        row.capacity = await measureLoad(
          contender,
          operation,
          options.capacityConnections,
          options.durationSeconds,
          options.warmupSeconds,
        );
        log(
          `${spec.label}, ${row.scenario} at ${options.capacityConnections} connections: ${row.capacity.requestsPerSecond.toFixed(0)} req/s`,
        );
      } catch (error) {
        row.error = String(error);
        log(`${spec.label}, ${row.scenario} capacity: ${row.error}`);
      }
    }
  } finally {
    await gateway?.stop();
    await contender.stop();
  }
  return rows;
}

/**
 * This service on the cost curve: one id at a time, and the list strategy
 * for every batch above `--list-threshold`.
 */
const CURVE_CONTENDERS: Record<
  CurveKey,
  (options: BenchOptions) => ContenderSpec
> = {
  "per-id": () => ({
    ...CONTENDERS.service,
    label: "this service, per id",
    env: { ...SERVICE_ENV, IMAGE_LIST_THRESHOLD: "0" },
  }),
  list: (options) => ({
    ...CONTENDERS.service,
    label: `this service, list above ${options.listThreshold}`,
    env: {
      ...SERVICE_ENV,
      IMAGE_LIST_THRESHOLD: String(options.listThreshold),
    },
  }),
  raw: () => CONTENDERS.raw,
};

/** Measures latency and upstream calls per operation for growing batches. */
async function runCurve(
  options: BenchOptions,
  upstream: Upstream,
): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const key of options.curveContenders) {
    const spec = CURVE_CONTENDERS[key](options);
    log(`curve, ${spec.label}: starting`);
    const contender = await startProcess(key, spec.script, {
      ...spec.env,
      BENCH_UPSTREAM_URL: upstream.url,
    });
    try {
      for (const latencyMs of options.curveLatencies) {
        for (const size of options.curveSizes) {
          const point: CurvePoint = {
            contender: key,
            latencyMs,
            distinctImages: size,
          };
          points.push(point);
          try {
            const workload: Workload = {
              ids: spreadIds(size, options.tenantImages),
              shape: "entities",
              expectedImages: size,
            };
            const operation = buildOperation(
              spec.protocol,
              workload,
              contender.url,
            );
            await prepareUpstream(upstream, { latencyMs });
            point.result = await measureSequential(
              upstream,
              operation,
              size,
              options.curveSamples,
            );
          } catch (error) {
            point.error = String(error);
          }
        }
      }
    } finally {
      await contender.stop();
    }
  }
  return points;
}

function countFailures(results: BenchResults): number {
  const rows = results.rows.filter(
    (row) =>
      row.error !== undefined ||
      (row.alone?.problems.length ?? 0) > 0 ||
      [row.load, row.capacity].some(
        (load) => load !== undefined && (load.errors > 0 || load.non2xx > 0),
      ),
  );
  const points = results.curve.filter(
    (point) =>
      point.error !== undefined || (point.result?.problems.length ?? 0) > 0,
  );
  return rows.length + points.length;
}

function describeMachine(): BenchResults["machine"] {
  const cpus = os.cpus();
  return {
    cpus: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage: os.loadavg(),
    loadAverageEnd: [],
  };
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`Benchmark failed: ${String(error)}\n`);
  process.exit(1);
});
