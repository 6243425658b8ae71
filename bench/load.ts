import autocannon from "autocannon";
import { request } from "undici";
import type { Operation } from "./operations";

/** Measurements of the load generator for one contender and scenario. */
export interface LoadResult {
  /** Completed requests per second over the run. */
  requestsPerSecond: number;
  /** Latency percentiles under load, in milliseconds. */
  p50Ms: number;
  p99Ms: number;
  /** Completed requests, the divisor of CPU time per operation. */
  completed: number;
  /** Responses with a status outside 2xx. */
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
}

/** Drives `operation` with autocannon over keep-alive connections. */
export async function runLoad(
  operation: Operation,
  options: LoadOptions,
): Promise<LoadResult> {
  const result = await autocannon({
    url: operation.url,
    method: "POST",
    headers: operation.headers,
    body: operation.body,
    connections: options.connections,
    duration: options.durationSeconds,
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    completed: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The response and the wall time of one request sent alone. */
export interface SingleResult {
  ms: number;
  status: number;
  body: unknown;
}

/** Sends `operation` once and times it with sub-millisecond resolution. */
export async function sendOnce(operation: Operation): Promise<SingleResult> {
  const started = performance.now();
  const response = await request(operation.url, {
    method: "POST",
    headers: operation.headers,
    body: operation.body,
  });
  const text = await response.body.text();
  const ms = performance.now() - started;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { ms, status: response.statusCode, body };
}

/** The median of `values`, which must not be empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]!
    : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
