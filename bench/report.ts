import type { LoadMeasurement } from "./measure";
import type { BenchResults, CurvePoint, ScenarioRow } from "./run";

/** Distinct images per operation in each scenario. */
const DISTINCT_IMAGES: Record<ScenarioRow["scenario"], number> = {
  single: 1,
  entities: 20,
  join: 10,
  "join-faults": 10,
};

/** Prints the machine, the scenario table, the ratios, the curve and the targets as Markdown. */
export function printReport(results: BenchResults): void {
  const lines = [
    ...machineLines(results),
    "",
    ...scenarioTable(results.rows),
    "",
    ...ratioTable(results.rows),
    "",
    ...capacityTable(results),
    "",
    ...curveTable(results.curve),
    "",
    ...targetLines(results),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

function machineLines(results: BenchResults): string[] {
  const { machine, options } = results;
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
  return [
    `## Run of ${results.startedAt}`,
    "",
    `- machine: ${machine.cores} × ${machine.cpus}, ${machine.memoryGiB} GiB, Node ${machine.node}`,
    `- load average (1, 5, 15 min): ${load(machine.loadAverage)} at the start, ${load(machine.loadAverageEnd)} at the end`,
    `- upstream latency ${options.latencyMs} ms; ${options.durationSeconds} s per run after ${options.warmupSeconds} s of warm-up; ${options.connections} connections, and ${options.capacityConnections} in the capacity runs`,
    `- one direct upstream call: median ${fixed(results.upstreamCallMs, 2)} ms`,
    ...(options.smoke
      ? ["- smoke run: every measurement is too short to mean anything"]
      : []),
  ];
}

function scenarioTable(rows: readonly ScenarioRow[]): string[] {
  const lines = [
    "| scenario | contender | req/s | p50 ms | p99 ms | alone p50 ms | upstream calls/op | CPU ms/op | peak RSS MB | errors |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const { load, alone } = row;
    lines.push(
      `| ${row.scenario} | ${row.label} | ${fixed(load?.requestsPerSecond, 0)} | ${fixed(load?.p50Ms, 1)} | ${fixed(load?.p99Ms, 1)} | ${fixed(alone?.medianMs, 2)} | ${fixed(alone?.callsPerOperation, 1)} | ${fixed(load?.cpuMsPerOperation, 2)} | ${fixed(load && load.maxRssBytes / 2 ** 20, 0)} | ${describeErrors(row)} |`,
    );
  }
  return lines;
}

function describeErrors(row: ScenarioRow): string {
  if (row.error !== undefined) return `failed: ${row.error.slice(0, 120)}`;
  const parts: string[] = [];
  const problems = row.alone?.problems ?? [];
  if (problems.length > 0) {
    parts.push(
      `${problems.length} wrong answers: ${problems[0]!.slice(0, 120)}`,
    );
  }
  if (row.load !== undefined) {
    const errors = describeLoadErrors(row.load);
    if (errors !== "none") parts.push(errors);
  }
  return parts.length === 0 ? "none" : parts.join("; ");
}

function describeLoadErrors(load: LoadMeasurement): string {
  const parts: string[] = [];
  if (load.non2xx > 0) parts.push(`${load.non2xx} non-2xx`);
  if (load.errors > 0) parts.push(`${load.errors} connection errors`);
  return parts.length === 0 ? "none" : parts.join("; ");
}

/** Throughput and latency of this service against each other contender. */
function ratioTable(rows: readonly ScenarioRow[]): string[] {
  const lines = [
    "Ratios against this service, from the same run:",
    "",
    "| scenario | contender | this service's req/s ÷ theirs | their p50 ÷ this service's | their CPU/op ÷ this service's |",
    "| --- | --- | ---: | ---: | ---: |",
  ];
  for (const row of rows) {
    if (row.contender === "service") continue;
    const ours = findRow(rows, row.scenario, "service");
    const theirs = row.load;
    const mine = ours?.load;
    lines.push(
      `| ${row.scenario} | ${row.label} | ${ratio(mine?.requestsPerSecond, theirs?.requestsPerSecond)} | ${ratio(theirs?.p50Ms, mine?.p50Ms)} | ${ratio(theirs?.cpuMsPerOperation, mine?.cpuMsPerOperation)} |`,
    );
  }
  return lines;
}

/** Lists the capacity runs, with the throughput of this service against each. */
function capacityTable(results: BenchResults): string[] {
  const rows = results.rows.filter((row) => row.capacity !== undefined);
  if (rows.length === 0) return ["The capacity runs were skipped."];

  const lines = [
    `Capacity: the same operations over ${results.options.capacityConnections} connections:`,
    "",
    "| scenario | contender | req/s | p50 ms | p99 ms | CPU ms/op | peak RSS MB | this service's req/s ÷ theirs | errors |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const capacity = row.capacity!;
    const ours = findRow(results.rows, row.scenario, "service")?.capacity;
    lines.push(
      `| ${row.scenario} | ${row.label} | ${fixed(capacity.requestsPerSecond, 0)} | ${fixed(capacity.p50Ms, 1)} | ${fixed(capacity.p99Ms, 1)} | ${fixed(capacity.cpuMsPerOperation, 2)} | ${fixed(capacity.maxRssBytes / 2 ** 20, 0)} | ${ratio(ours?.requestsPerSecond, capacity.requestsPerSecond)} | ${describeLoadErrors(capacity)} |`,
    );
  }
  return lines;
}

/**
 * One row per upstream latency and batch size, one column per curve
 * contender, each cell the median time and the upstream calls.
 */
function curveTable(points: readonly CurvePoint[]): string[] {
  if (points.length === 0) return ["The cost curve was skipped."];

  const contenders = [...new Set(points.map((point) => point.contender))];
  const lines = [
    "Cost curve: one `_entities` operation with N distinct images, sent one at a time; each cell is the median ms, then the upstream calls per operation:",
    "",
    `| upstream latency | N | ${contenders.join(" | ")} |`,
    `| ---: | ---: | ${contenders.map(() => "---:").join(" | ")} |`,
  ];
  const keys = [
    ...new Set(
      points.map((point) => `${point.latencyMs}/${point.distinctImages}`),
    ),
  ];
  for (const key of keys) {
    const [latencyMs, size] = key.split("/").map(Number);
    const cells = contenders.map((contender) => {
      const point = points.find(
        (candidate) =>
          candidate.contender === contender &&
          candidate.latencyMs === latencyMs &&
          candidate.distinctImages === size,
      );
      return describePoint(point);
    });
    lines.push(`| ${latencyMs} ms | ${size} | ${cells.join(" | ")} |`);
  }

  const failed = points.filter(
    (point) =>
      point.error !== undefined || (point.result?.problems.length ?? 0) > 0,
  );
  for (const point of failed) {
    const problem = point.error ?? point.result?.problems[0] ?? "";
    lines.push(
      "",
      `- ${point.contender} at ${point.latencyMs} ms, N ${point.distinctImages}: ${problem.slice(0, 200)}`,
    );
  }
  return lines;
}

function describePoint(point: CurvePoint | undefined): string {
  if (point?.result === undefined) return "–";
  const flag = point.result.problems.length > 0 ? " (errors)" : "";
  return `${fixed(point.result.medianMs, 1)} ms, ${fixed(point.result.callsPerOperation, 0)}${flag}`;
}

/** Checks the targets of each setting of this service. */
function targetLines(results: BenchResults): string[] {
  return [
    ...serviceTargetLines(results, "service", "default settings"),
    "",
    ...serviceTargetLines(results, "service-small-heap", "a small heap"),
  ];
}

/** Checks the service's targets against this run's numbers. */
function serviceTargetLines(
  results: BenchResults,
  service: "service" | "service-small-heap",
  settings: string,
): string[] {
  const { rows } = results;
  const lines = [`Targets of this service with ${settings} in this run:`, ""];
  const check = (met: boolean | undefined, text: string) =>
    lines.push(
      `- ${met === undefined ? "NOT MEASURED" : met ? "MET" : "NOT MET"}: ${text}`,
    );

  const ours = rows.filter((row) => row.contender === service && row.alone);
  const extraCalls = ours.filter(
    (row) => row.alone!.callsPerOperation > DISTINCT_IMAGES[row.scenario],
  );
  check(
    ours.length === 0 ? undefined : extraCalls.length === 0,
    `upstream calls per operation at most the distinct images (${ours.map((row) => `${row.scenario} ${fixed(row.alone!.callsPerOperation, 1)} of ${DISTINCT_IMAGES[row.scenario]}`).join(", ")})`,
  );

  const entities = findRow(rows, "entities", service)?.alone?.medianMs;
  check(
    entities === undefined || results.options.latencyMs !== 20
      ? undefined
      : entities <= 1.5 * results.upstreamCallMs,
    `_entities of 100 representations of 20 images at 20 ms upstream latency within 1.5 × one upstream call: ${fixed(entities, 2)} ms alone against 1.5 × ${fixed(results.upstreamCallMs, 2)} ms`,
  );

  // Throughput is what a contender sustains when it is the bottleneck, so
  // the capacity runs decide.
  const connections = results.options.capacityConnections;
  for (const scenario of ["single", "join"] as const) {
    const mine = findRow(rows, scenario, service)?.capacity?.requestsPerSecond;
    for (const other of ["rest-datasource", "mesh"] as const) {
      const theirs = findRow(rows, scenario, other)?.capacity
        ?.requestsPerSecond;
      const measured = mine !== undefined && theirs !== undefined && theirs > 0;
      check(
        measured ? mine / theirs >= 1.5 : undefined,
        `${scenario}: at least 1.5 × the throughput of ${other} at ${connections} connections: ${ratio(mine, theirs)}`,
      );
    }
  }

  const single = findRow(rows, "single", service);
  const raw = findRow(rows, "single", "raw");
  const loaded =
    single?.load && raw?.load ? single.load.p50Ms - raw.load.p50Ms : undefined;
  const alone =
    single?.alone && raw?.alone
      ? single.alone.medianMs - raw.alone.medianMs
      : undefined;
  check(
    loaded === undefined ? undefined : loaded <= 1,
    `single: p50 under load within 1 ms of the raw upstream's: ${signed(loaded)} ms`,
  );
  check(
    alone === undefined ? undefined : alone <= 1,
    `single: median of one request at a time within 1 ms of the raw upstream's: ${signed(alone)} ms`,
  );

  const rss = Math.max(
    ...rows
      .filter((row) => row.contender === service && row.load)
      .map((row) => row.load!.maxRssBytes),
  );
  check(
    Number.isFinite(rss) ? rss < 150 * 2 ** 20 : undefined,
    `peak RSS under 150 MB: ${fixed(rss / 2 ** 20, 1)} MB`,
  );
  return lines;
}

function findRow(
  rows: readonly ScenarioRow[],
  scenario: ScenarioRow["scenario"],
  contender: ScenarioRow["contender"],
): ScenarioRow | undefined {
  return rows.find(
    (row) => row.scenario === scenario && row.contender === contender,
  );
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value)
    ? "–"
    : value.toFixed(digits);
}

/** Formats a difference with its sign, such as `+1.26`. */
function signed(value: number | undefined): string {
  if (value === undefined) return "–";
  return `${value >= 0 ? "+" : ""}${value.toFixed(2)}`;
}

function ratio(
  numerator: number | undefined,
  denominator: number | undefined,
): string {
  if (
    numerator === undefined ||
    denominator === undefined ||
    denominator === 0
  ) {
    return "–";
  }
  return `${(numerator / denominator).toFixed(2)}×`;
}
