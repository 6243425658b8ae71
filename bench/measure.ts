import { request } from "undici";
import { DEMO_TOKEN } from "../simulator";
import type { Fault } from "../simulator";
import { median, runLoad, sendOnce } from "./load";
import type { LoadResult } from "./load";
import type { Operation } from "./operations";
import type { BenchProcess } from "./processes";

/** The upstream as the runner drives it. */
export interface Upstream {
  process: BenchProcess;
  /** The tenant-scoped images endpoint. */
  url: string;
}

/** Latency and faults of the upstream during one measurement. */
export interface UpstreamSetup {
  latencyMs: number;
  /** An image whose every call fails with a 500 computeFault. */
  failingImageId?: string;
}

const FAILURE: Fault = {
  kind: "fault",
  name: "computeFault",
  message:
    "The server has either erred or is incapable of performing the requested operation.",
};

/** How long the upstream must see no call before a measurement starts. */
const QUIET_MS = 250;

/** Maximum wait for the calls of the previous load run to end. */
const MAX_SETTLE_MS = 15_000;

/**
 * Waits until the calls of the previous load run have ended, then clears
 * the request log and faults and applies `setup`. Operations still in
 * flight when the load generator stops keep calling the upstream, and
 * those calls must not count for the next measurement.
 */
export async function prepareUpstream(
  upstream: Upstream,
  setup: UpstreamSetup,
): Promise<void> {
  const started = performance.now();
  let calls = await upstream.process.request<number>("calls");
  while (performance.now() - started < MAX_SETTLE_MS) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const now = await upstream.process.request<number>("calls");
    if (now === calls) break;
    calls = now;
  }
  await upstream.process.request("reset");
  await upstream.process.request("latency", setup.latencyMs);
  if (setup.failingImageId !== undefined) {
    await upstream.process.request("fault", {
      imageId: setup.failingImageId,
      fault: FAILURE,
    });
  }
}

/** The result of operations sent one at a time. */
export interface SequentialResult {
  /** Median wall time of one operation, in milliseconds. */
  medianMs: number;
  /** Upstream calls divided by operations sent. */
  callsPerOperation: number;
  /** One line per operation that failed or resolved the wrong number of images. */
  problems: string[];
}

/**
 * Sends `count` operations one after another and counts the upstream calls
 * they cause. The first operation also opens the connections; it counts
 * for calls but not for the median.
 */
export async function measureSequential(
  upstream: Upstream,
  operation: Operation,
  expectedImages: number,
  count: number,
): Promise<SequentialResult> {
  const before = await upstream.process.request<number>("calls");
  const problems: string[] = [];
  const times: number[] = [];
  for (let index = 0; index <= count; index++) {
    const result = await sendOnce(operation);
    if (index > 0) times.push(result.ms);

    const images = operation.countImages(result.body);
    if (result.status !== 200 || images !== expectedImages) {
      problems.push(
        `status ${result.status}, ${images} of ${expectedImages} images: ${JSON.stringify(result.body).slice(0, 300)}`,
      );
    }
  }
  const after = await upstream.process.request<number>("calls");
  return {
    medianMs: median(times),
    callsPerOperation: (after - before) / (count + 1),
    problems,
  };
}

/** A load run with the contender's own CPU time and peak RSS. */
export interface LoadMeasurement extends LoadResult {
  /** CPU time of the contender process per completed operation, in ms. */
  cpuMsPerOperation: number;
  /** Peak RSS of the contender process since it started, in bytes. */
  maxRssBytes: number;
}

export async function measureLoad(
  contender: BenchProcess,
  operation: Operation,
  connections: number,
  durationSeconds: number,
  warmupSeconds: number,
): Promise<LoadMeasurement> {
  if (warmupSeconds > 0) {
    await runLoad(operation, { connections, durationSeconds: warmupSeconds });
  }
  const before = await contender.usage();
  const load = await runLoad(operation, { connections, durationSeconds });
  const after = await contender.usage();
  return {
    ...load,
    cpuMsPerOperation:
      load.completed === 0
        ? NaN
        : (after.cpuMicros - before.cpuMicros) / 1000 / load.completed,
    maxRssBytes: after.maxRssBytes,
  };
}

/** Median time of one `GET {base}/images/{id}` made directly, in ms. */
export async function measureUpstreamCall(
  upstream: Upstream,
  imageId: string,
  count: number,
): Promise<number> {
  const url = `${upstream.url}/images/${imageId}`;
  const times: number[] = [];
  for (let index = 0; index <= count; index++) {
    const started = performance.now();
    const response = await request(url, {
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    await response.body.text();
    if (index > 0) times.push(performance.now() - started);
  }
  return median(times);
}
