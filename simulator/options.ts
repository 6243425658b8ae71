import { isIPv4 } from "node:net";

import type { SeedImage } from "./images";
import { seedImages } from "./images";
import type { RateLimit } from "./rate-limit";
import { validateRateLimit } from "./rate-limit";

/** Fixed token of the default token table, for tests and the demo. */
export const DEMO_TOKEN = "demo-token-0123456789abcdef";

export const DEFAULT_TENANT_ID = "010101";

export interface SimulatorOptions {
  /** TCP port. The default 0 picks a free one. */
  port?: number;
  /** Loopback address to listen on, "127.0.0.1" by default. */
  host?: string;
  /** Tenant id of the default token and of `imagesApiUrl`. */
  tenantId?: string;
  /** Valid tokens, each mapped to its tenant id. Default: DEMO_TOKEN. */
  tokens?: Record<string, string>;
  /** Images to serve, in list order. Default: the seed set. */
  images?: SeedImage[];
  /** Delay in ms before every API response. Default 0. */
  latencyMs?: number;
  /** If set, GET requests beyond the limit get 413 overLimit. */
  rateLimit?: RateLimit;
  /**
   * Origin of the image service (Glance) that `alternate` image links point
   * to, as Nova writes them: `{imageServiceUrl}/images/{id}`. By default the
   * links take the form of Rackspace's documented samples,
   * `{origin}/{tenant}/images/{id}`. It is never contacted.
   */
  imageServiceUrl?: string;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  tenantId: string;
  tokens: Map<string, string>;
  images: SeedImage[];
  latencyMs: number;
  rateLimit?: RateLimit;
  imageServiceUrl?: string;
}

/**
 * Throws unless `host` is a loopback IP literal. The simulator and its
 * control API have no authentication, so they must not be reachable from
 * other hosts.
 */
function validateHost(host: string): void {
  const loopback = (isIPv4(host) && host.startsWith("127.")) || host === "::1";
  if (!loopback) {
    throw new Error(
      `Invalid simulator host "${host}": expected a loopback address such as 127.0.0.1 or ::1, because the simulator has no authentication.`,
    );
  }
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Invalid simulator port ${port}: expected an integer from 0 to 65535.`,
    );
  }
}

/** Throws unless `latencyMs` is a finite number of milliseconds >= 0. */
export function validateLatency(latencyMs: number): void {
  const valid =
    typeof latencyMs === "number" &&
    Number.isFinite(latencyMs) &&
    latencyMs >= 0;
  if (!valid) {
    throw new RangeError(
      `Invalid latency ${String(latencyMs)}: expected a non-negative number of milliseconds.`,
    );
  }
}

/** Returns the URL without a trailing slash; throws unless it is http(s). */
function validateImageServiceUrl(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !/^https?:$/.test(parsed.protocol)) {
    throw new TypeError(
      `Invalid imageServiceUrl "${url}": expected an http or https URL such as http://127.0.0.1:9292.`,
    );
  }
  return url.replace(/\/+$/, "");
}

function validateTenantId(tenantId: string, field: string): void {
  if (typeof tenantId !== "string" || tenantId === "") {
    throw new TypeError(`Invalid ${field}: expected a non-empty string.`);
  }
}

function resolveTokens(
  tokens: Record<string, string> | undefined,
  tenantId: string,
): Map<string, string> {
  if (tokens === undefined) {
    return new Map([[DEMO_TOKEN, tenantId]]);
  }

  const table = new Map<string, string>();
  for (const [token, tokenTenant] of Object.entries(tokens)) {
    if (token === "") {
      throw new TypeError("Invalid tokens: a token must not be empty.");
    }
    validateTenantId(tokenTenant, `tenant id of token "${token}"`);
    table.set(token, tokenTenant);
  }
  return table;
}

/** Applies the defaults and validates every option. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  const tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  const latencyMs = options.latencyMs ?? 0;

  validateHost(host);
  validatePort(port);
  validateTenantId(tenantId, "tenantId");
  validateLatency(latencyMs);
  if (options.rateLimit !== undefined) {
    validateRateLimit(options.rateLimit);
  }

  const resolved: ResolvedOptions = {
    port,
    host,
    tenantId,
    tokens: resolveTokens(options.tokens, tenantId),
    images: structuredClone(options.images ?? seedImages()),
    latencyMs,
  };
  if (options.rateLimit !== undefined) {
    resolved.rateLimit = { ...options.rateLimit };
  }
  if (options.imageServiceUrl !== undefined) {
    resolved.imageServiceUrl = validateImageServiceUrl(options.imageServiceUrl);
  }
  return resolved;
}
