import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from "prom-client";

/**
 * The service's Prometheus metrics, in a registry of its own so that two
 * services in one process (as in tests) do not share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Outcome is `ok` or the error code of the attempt. */
  readonly upstreamDuration = new Histogram({
    name: "images_upstream_request_duration_seconds",
    help: "Duration of one upstream GET attempt, by HTTP status and outcome.",
    labelNames: ["status", "outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly upstreamRetries = new Counter({
    name: "images_upstream_retries_total",
    help: "Upstream attempts repeated after a failure, by the reason for the retry.",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly upstreamRateLimited = new Counter({
    name: "images_upstream_rate_limited_total",
    help: "Calls failed at once because the token is inside an upstream rate-limit window.",
    registers: [this.registry],
  });

  readonly loaderBatchSize = new Histogram({
    name: "images_loader_batch_size",
    help: "Distinct image ids in one loader batch.",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  /**
   * Dedupe ratio: 1 - rate(images_loader_keys_total) / rate(images_loader_loads_total).
   */
  readonly loaderLoads = new Counter({
    name: "images_loader_loads_total",
    help: "Image loads requested by resolvers, duplicates included.",
    registers: [this.registry],
  });

  readonly loaderKeys = new Counter({
    name: "images_loader_keys_total",
    help: "Distinct image ids that loader batches fetched or rejected.",
    registers: [this.registry],
  });

  /**
   * Outcome: `success` (no errors), `partial` (errors, and some root field
   * has data) or `failure` (errors, and no data or every root field null).
   */
  readonly operations = new Counter({
    name: "graphql_operations_total",
    help: "GraphQL operations answered, by outcome.",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: "graphql_errors_total",
    help: "GraphQL errors sent to clients, by extensions.code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: "graphql_requests_in_flight",
    help: "GraphQL HTTP requests being served.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
