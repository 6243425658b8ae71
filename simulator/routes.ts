import type { ApiVersion } from "./views";

/** The Nova route that a request path maps to. */
export type Route =
  | {
      kind: "image";
      version: ApiVersion;
      tenantId: string;
      imageId: string;
    }
  | {
      kind: "list" | "detail";
      version: ApiVersion;
      tenantId: string;
      query: URLSearchParams;
    }
  /**
   * A path that no route matches. `version` is set when the path starts with
   * /v2/ or /v2.1/, where the authentication middleware runs first.
   */
  | { kind: "unrouted"; version?: ApiVersion };

const VERSIONS: ReadonlySet<string> = new Set<ApiVersion>(["v2", "v2.1"]);

/**
 * Percent-decodes one path segment. A malformed escape such as `%zz` stays as
 * it is, as Python's `unquote` leaves it.
 */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Maps a raw request target to a route. The path is split on `/` before
 * decoding, so an encoded slash (`%2F`) stays inside its segment.
 */
export function parseRoute(rawTarget: string): Route {
  const queryStart = rawTarget.indexOf("?");
  const path = queryStart === -1 ? rawTarget : rawTarget.slice(0, queryStart);
  const query = new URLSearchParams(
    queryStart === -1 ? "" : rawTarget.slice(queryStart + 1),
  );

  const segments = path.split("/");
  const [root, version, tenant, collection, item] = segments;
  if (root !== "" || version === undefined || !VERSIONS.has(version)) {
    return { kind: "unrouted" };
  }

  const apiVersion = version as ApiVersion;
  const tenantId = decodeSegment(tenant ?? "");
  if (tenantId === "" || collection !== "images" || segments.length > 5) {
    return { kind: "unrouted", version: apiVersion };
  }

  if (item === undefined) {
    return { kind: "list", version: apiVersion, tenantId, query };
  }

  const imageId = decodeSegment(item);
  if (imageId === "") {
    return { kind: "unrouted", version: apiVersion };
  }
  if (imageId === "detail") {
    return { kind: "detail", version: apiVersion, tenantId, query };
  }
  return { kind: "image", version: apiVersion, tenantId, imageId };
}
