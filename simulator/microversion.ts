/**
 * Compute API microversions as Nova 26 (Zed) negotiates them on /v2.1. The
 * legacy /v2 endpoint ignores the version headers.
 */

/** A microversion such as 2.36, as major and minor numbers. */
export interface Microversion {
  major: number;
  minor: number;
}

/** The versions that Nova 26 supports: 2.1 to 2.93. */
export const MIN_MICROVERSION: Microversion = { major: 2, minor: 1 };
export const MAX_MICROVERSION: Microversion = { major: 2, minor: 93 };

/**
 * The first microversion without the image proxy API: from 2.36 on, Nova
 * responds to every `/images` route with 404.
 */
export const IMAGES_REMOVED_IN: Microversion = { major: 2, minor: 36 };

/** The outcome of reading the version headers of a /v2.1 request. */
export type Negotiation =
  | { ok: true; version: Microversion }
  | { ok: false; status: 400 | 406; message: string; version?: Microversion };

export function formatMicroversion(version: Microversion): string {
  return `${version.major}.${version.minor}`;
}

export function compareMicroversions(a: Microversion, b: Microversion): number {
  return a.major - b.major || a.minor - b.minor;
}

/**
 * Finds the requested version: `OpenStack-API-Version: compute X.Y` first,
 * then `X-OpenStack-Nova-API-Version: X.Y`; "latest" is the maximum and no
 * header at all is the minimum. `headers` has lower-case names.
 */
function requestedVersion(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const generic = headers["openstack-api-version"];
  for (const entry of [generic].flat().join(",").split(",")) {
    const [service, version] = entry.trim().split(/\s+/, 2);
    if (service?.toLowerCase() === "compute" && version !== undefined) {
      return version;
    }
  }
  const legacy = headers["x-openstack-nova-api-version"];
  return Array.isArray(legacy) ? legacy[0] : legacy;
}

/** Negotiates the microversion of a /v2.1 request as Nova 26 does. */
export function negotiateMicroversion(
  headers: Record<string, string | string[] | undefined>,
): Negotiation {
  const requested = requestedVersion(headers)?.trim();
  if (requested === undefined) return { ok: true, version: MIN_MICROVERSION };
  if (requested.toLowerCase() === "latest") {
    return { ok: true, version: MAX_MICROVERSION };
  }

  const match = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(requested);
  if (match === null) {
    return {
      ok: false,
      status: 400,
      message: `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
    };
  }

  const version = { major: Number(match[1]), minor: Number(match[2]) };
  const supported =
    compareMicroversions(version, MIN_MICROVERSION) >= 0 &&
    compareMicroversions(version, MAX_MICROVERSION) <= 0;
  if (!supported) {
    return {
      ok: false,
      status: 406,
      version,
      message: `Version ${formatMicroversion(version)} is not supported by the API. Minimum is ${formatMicroversion(MIN_MICROVERSION)} and maximum is ${formatMicroversion(MAX_MICROVERSION)}.`,
    };
  }
  return { ok: true, version };
}
