import type { LevelWithSilent } from "pino";
import { PACKAGE_NAME } from "./package-files";

/** The service's settings, read from the environment by {@link loadConfig}. */
export interface Config {
  /** The tenant-scoped images endpoint (`IMAGES_API_URL`), without a trailing slash. */
  imagesApiUrl: URL;
  /** Port of the HTTP server (`PORT`); default 4001. */
  port: number;
  /** Address the HTTP server listens on (`HOST`); default `0.0.0.0`. */
  host: string;
  /** Maximum time of one upstream call in milliseconds (`UPSTREAM_TIMEOUT_MS`); default 10000. */
  upstreamTimeoutMs: number;
  /** Maximum upstream calls in flight for one GraphQL request (`UPSTREAM_CONCURRENCY`); default 32. */
  upstreamConcurrency: number;
  /** Maximum upstream connections of the process (`UPSTREAM_MAX_CONNECTIONS`); default 256. */
  upstreamMaxConnections: number;
  /** Maximum size of an upstream body in bytes (`UPSTREAM_MAX_BODY_BYTES`); default 1 MiB. */
  upstreamMaxBodyBytes: number;
  /** Maximum size of a GraphQL request body in bytes (`MAX_REQUEST_BYTES`); default 1 MiB. */
  maxRequestBytes: number;
  /** Time budget of all upstream calls of one GraphQL request, retries included, in milliseconds (`REQUEST_DEADLINE_MS`); default 15000. */
  requestDeadlineMs: number;
  /** Maximum attempts of one upstream call, the first included (`UPSTREAM_MAX_ATTEMPTS`); default 3. */
  upstreamMaxAttempts: number;
  /** Backoff ceiling before the first retry in milliseconds, doubled per retry (`UPSTREAM_RETRY_BASE_MS`); default 100. */
  upstreamRetryBaseMs: number;
  /** Maximum backoff before one retry in milliseconds (`UPSTREAM_RETRY_MAX_MS`); default 2000. */
  upstreamRetryMaxMs: number;
  /** How long an idle upstream connection is kept open in milliseconds (`UPSTREAM_KEEP_ALIVE_MS`); default 4000. */
  upstreamKeepAliveMs: number;
  /** Maximum depth of a GraphQL operation (`MAX_QUERY_DEPTH`); default 10. */
  maxQueryDepth: number;
  /** Maximum aliases in a GraphQL operation (`MAX_ALIASES`); default 50. */
  maxAliases: number;
  /** Maximum lexical tokens in a GraphQL document, which bounds parsing (`MAX_QUERY_TOKENS`); default 5000. */
  maxQueryTokens: number;
  /** Maximum `_entities` representations in one request (`MAX_ENTITY_REPRESENTATIONS`); default 1000. */
  maxEntityRepresentations: number;
  /**
   * A batch with more distinct image ids than this pages through
   * `GET /images/detail` before fetching the rest one by one
   * (`IMAGE_LIST_THRESHOLD`); 0 turns the list strategy off. Default 500:
   * in BENCHMARKS.md, in a tenant of 2000 images, the list wins from 200
   * ids at 20 ms upstream latency, but at 0 ms only at 1000 ids.
   */
  imageListThreshold: number;
  /** `limit` of each image list page (`IMAGE_LIST_PAGE_SIZE`); default 1000, Nova's usual maximum. */
  imageListPageSize: number;
  /** Maximum image list pages that one batch reads (`IMAGE_LIST_MAX_PAGES`); default 10. */
  imageListMaxPages: number;
  /** When set (`ROUTER_SECRET`), requests without it in {@link routerSecretHeader} are rejected. */
  routerSecret: string | null;
  /** Header that carries the router secret (`ROUTER_SECRET_HEADER`), in lower case; default `x-router-secret`. */
  routerSecretHeader: string;
  /**
   * Time from SIGTERM to closing the listener, in milliseconds
   * (`SHUTDOWN_DELAY_MS`); default 0. Meanwhile `/readyz` returns 503 while
   * requests are still served, so that load balancers can stop routing here.
   */
  shutdownDelayMs: number;
  /** Time that in-flight requests get to finish after the listener closes, in milliseconds (`SHUTDOWN_GRACE_MS`); default 10000. */
  shutdownGraceMs: number;
  /**
   * OTLP/HTTP endpoint for traces, from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
   * or `OTEL_EXPORTER_OTLP_ENDPOINT` plus `/v1/traces`; null turns tracing off.
   */
  otlpTracesEndpoint: string | null;
  /** `service.name` of the spans (`OTEL_SERVICE_NAME`); default the package name. */
  serviceName: string;
  /** pino log level (`LOG_LEVEL`); default `info`. */
  logLevel: LevelWithSilent;
  /** True unless `NODE_ENV` is `production`: includes stack traces in errors. */
  development: boolean;
  /** Serves Apollo Sandbox on GET (`LANDING_PAGE`: `sandbox` or `off`); default `sandbox` unless `NODE_ENV` is `production`. */
  landingPage: boolean;
}

/** Raised for a missing or invalid environment variable; its message names both. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LevelWithSilent[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

/**
 * Reads and validates every setting. This is the only place that reads the
 * environment; everything else takes a {@link Config}.
 *
 * @throws ConfigError naming the variable, its value and what is expected.
 */
export function loadConfig(env: Env = process.env): Config {
  return {
    imagesApiUrl: readUrl(env, "IMAGES_API_URL"),
    port: readInteger(env, "PORT", 4001, 0, 65535),
    host: env.HOST?.trim() || "0.0.0.0",
    upstreamTimeoutMs: readInteger(
      env,
      "UPSTREAM_TIMEOUT_MS",
      10_000,
      1,
      600_000,
    ),
    upstreamConcurrency: readInteger(env, "UPSTREAM_CONCURRENCY", 32, 1, 1024),
    upstreamMaxConnections: readInteger(
      env,
      "UPSTREAM_MAX_CONNECTIONS",
      256,
      1,
      4096,
    ),
    upstreamMaxBodyBytes: readInteger(
      env,
      "UPSTREAM_MAX_BODY_BYTES",
      1_048_576,
      1024,
      1_073_741_824,
    ),
    maxRequestBytes: readInteger(
      env,
      "MAX_REQUEST_BYTES",
      1_048_576,
      1024,
      1_073_741_824,
    ),
    requestDeadlineMs: readInteger(
      env,
      "REQUEST_DEADLINE_MS",
      15_000,
      1,
      600_000,
    ),
    upstreamMaxAttempts: readInteger(env, "UPSTREAM_MAX_ATTEMPTS", 3, 1, 10),
    upstreamRetryBaseMs: readInteger(
      env,
      "UPSTREAM_RETRY_BASE_MS",
      100,
      0,
      60_000,
    ),
    upstreamRetryMaxMs: readInteger(
      env,
      "UPSTREAM_RETRY_MAX_MS",
      2000,
      0,
      600_000,
    ),
    upstreamKeepAliveMs: readInteger(
      env,
      "UPSTREAM_KEEP_ALIVE_MS",
      4000,
      1,
      600_000,
    ),
    maxQueryDepth: readInteger(env, "MAX_QUERY_DEPTH", 10, 1, 1000),
    maxAliases: readInteger(env, "MAX_ALIASES", 50, 0, 100_000),
    maxQueryTokens: readInteger(env, "MAX_QUERY_TOKENS", 5000, 10, 1_000_000),
    maxEntityRepresentations: readInteger(
      env,
      "MAX_ENTITY_REPRESENTATIONS",
      1000,
      1,
      100_000,
    ),
    imageListThreshold: readInteger(
      env,
      "IMAGE_LIST_THRESHOLD",
      500,
      0,
      100_000,
    ),
    imageListPageSize: readInteger(
      env,
      "IMAGE_LIST_PAGE_SIZE",
      1000,
      1,
      10_000,
    ),
    imageListMaxPages: readInteger(env, "IMAGE_LIST_MAX_PAGES", 10, 1, 1000),
    routerSecret: readSecret(env, "ROUTER_SECRET"),
    routerSecretHeader: readHeaderName(
      env,
      "ROUTER_SECRET_HEADER",
      "x-router-secret",
    ),
    shutdownDelayMs: readInteger(env, "SHUTDOWN_DELAY_MS", 0, 0, 600_000),
    shutdownGraceMs: readInteger(env, "SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    otlpTracesEndpoint: readTracesEndpoint(env),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || PACKAGE_NAME,
    logLevel: readLogLevel(env),
    development: env.NODE_ENV !== "production",
    landingPage: readLandingPage(env),
  };
}

const IMAGES_API_EXAMPLE =
  "https://dfw.servers.api.rackspacecloud.com/v2/010101";

function readUrl(env: Env, name: string, example = IMAGES_API_EXAMPLE): URL {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(
      `${name} is missing: set it to the tenant-scoped images endpoint, such as ${example}.`,
    );
  }

  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(
      `${name} is invalid: ${showUrl(value)} is not a URL; expected an http or https URL such as ${example}.`,
    );
  }

  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `${name} is invalid: ${showUrl(value)} uses ${url.protocol}; expected an http or https URL.`,
    );
  }
  if (
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw new ConfigError(
      `${name} is invalid: ${showUrl(value)} has a query, fragment or credentials; expected only scheme, host, port and path.`,
    );
  }

  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

/**
 * Quotes a URL for an error message, with any password and query values in
 * it masked, because a signed URL carries its secret in the query.
 */
function showUrl(value: string): string {
  const masked = value
    .replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@")
    .replace(/([?&][^=&#]*)=[^&#]*/g, "$1=***");
  return JSON.stringify(masked);
}

function readInteger(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = env[name];
  if (value === undefined || value.trim() === "") return fallback;

  const number = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || number < min || number > max) {
    throw new ConfigError(
      `${name} is invalid: ${JSON.stringify(value)}; expected a whole number from ${min} to ${max}.`,
    );
  }
  return number;
}

/** Shortest router secret accepted, so that it cannot be guessed quickly. */
const MIN_SECRET_LENGTH = 16;

function readSecret(env: Env, name: string): string | null {
  const value = env[name];
  if (value === undefined || value === "") return null;

  if (value.trim().length < MIN_SECRET_LENGTH) {
    // The value is a secret, so the message shows only its length.
    throw new ConfigError(
      `${name} is invalid: it has ${value.trim().length} characters; expected at least ${MIN_SECRET_LENGTH}, or leave it unset to accept requests without a secret.`,
    );
  }
  return value.trim();
}

function readHeaderName(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === "") return fallback;

  // RFC 9110 token characters.
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw new ConfigError(
      `${name} is invalid: ${JSON.stringify(value)} is not an HTTP header name; expected letters, digits and - only, such as x-router-secret.`,
    );
  }
  return value.toLowerCase();
}

function readTracesEndpoint(env: Env): string | null {
  const example = "http://otel-collector:4318";
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()) {
    const url = readUrl(
      env,
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
      `${example}/v1/traces`,
    );
    return url.href;
  }
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) {
    const url = readUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT", example);
    return `${url.href.replace(/\/+$/, "")}/v1/traces`;
  }
  return null;
}

function readLandingPage(env: Env): boolean {
  const value = env.LANDING_PAGE?.trim();
  if (value === undefined || value === "") {
    return env.NODE_ENV !== "production";
  }
  if (value === "sandbox") return true;
  if (value === "off") return false;
  throw new ConfigError(
    `LANDING_PAGE is invalid: ${JSON.stringify(value)}; expected sandbox or off.`,
  );
}

function readLogLevel(env: Env): LevelWithSilent {
  const value = env.LOG_LEVEL?.trim();
  if (value === undefined || value === "") return "info";

  const level = LOG_LEVELS.find((candidate) => candidate === value);
  if (level === undefined) {
    throw new ConfigError(
      `LOG_LEVEL is invalid: ${JSON.stringify(value)}; expected one of ${LOG_LEVELS.join(", ")}.`,
    );
  }
  return level;
}
