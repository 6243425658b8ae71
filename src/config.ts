import type { LevelWithSilent } from "pino";

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
  /** Maximum upstream calls in flight for one GraphQL request (`UPSTREAM_CONCURRENCY`); default 16. */
  upstreamConcurrency: number;
  /** Maximum upstream connections of the process (`UPSTREAM_MAX_CONNECTIONS`); default 64. */
  upstreamMaxConnections: number;
  /** Maximum size of an upstream body in bytes (`UPSTREAM_MAX_BODY_BYTES`); default 1 MiB. */
  upstreamMaxBodyBytes: number;
  /** Maximum size of a GraphQL request body in bytes (`MAX_REQUEST_BYTES`); default 1 MiB. */
  maxRequestBytes: number;
  /** pino log level (`LOG_LEVEL`); default `info`. */
  logLevel: LevelWithSilent;
  /** True unless `NODE_ENV` is `production`: serves Apollo Sandbox and error stacks. */
  development: boolean;
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
    upstreamConcurrency: readInteger(env, "UPSTREAM_CONCURRENCY", 16, 1, 1024),
    upstreamMaxConnections: readInteger(
      env,
      "UPSTREAM_MAX_CONNECTIONS",
      64,
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
    logLevel: readLogLevel(env),
    development: env.NODE_ENV !== "production",
  };
}

function readUrl(env: Env, name: string): URL {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigError(
      `${name} is missing: set it to the tenant-scoped images endpoint, such as https://dfw.servers.api.rackspacecloud.com/v2/010101.`,
    );
  }

  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(
      `${name} is invalid: ${showUrl(value)} is not a URL; expected an http or https URL such as https://dfw.servers.api.rackspacecloud.com/v2/010101.`,
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

/** Quotes a URL for an error message, with any password in it masked. */
function showUrl(value: string): string {
  return JSON.stringify(value.replace(/\/\/([^/@:]*):[^/@]*@/, "//$1:***@"));
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
