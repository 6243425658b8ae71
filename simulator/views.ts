import type { JsonValue, SeedImage } from "./images";

/** The URL prefix of a Nova API version, as the first path segment. */
export type ApiVersion = "v2" | "v2.1";

/** The parts of the request URL that Nova builds links from. */
export interface LinkBase {
  origin: string;
  version: ApiVersion;
  tenantId: string;
  /**
   * Origin of the image service that `alternate` links point to, as Nova
   * writes `{glance}/images/{id}`. Undefined gives the form of Rackspace's
   * documented samples, `{origin}/{tenant}/images/{id}`.
   */
  imageServiceUrl?: string;
}

type JsonObject = { [key: string]: JsonValue };

const TRUE_STRINGS = new Set(["1", "t", "true", "on", "y", "yes"]);

/** Page size of the list routes when the request has no `limit`: Glance's `limit_param_default`. */
export const DEFAULT_PAGE_SIZE = 25;

/** Largest page size: the default of Nova's `[api] max_limit` and Glance's `api_limit_max`. */
export const MAX_PAGE_SIZE = 1000;

/**
 * Derives `OS-DCF:diskConfig` from the `auto_disk_config` property as Nova's
 * disk config extension does. The attribute exists only when the property
 * does. Its value goes through oslo's `bool_from_string`, so "disabled"
 * becomes MANUAL.
 */
export function diskConfigOf(
  metadata: SeedImage["metadata"],
): "AUTO" | "MANUAL" | undefined {
  if (!Object.hasOwn(metadata, "auto_disk_config")) {
    return undefined;
  }

  const value = metadata["auto_disk_config"];
  const enabled =
    typeof value === "boolean"
      ? value
      : TRUE_STRINGS.has(String(value).trim().toLowerCase());
  return enabled ? "AUTO" : "MANUAL";
}

function resourceLinks(
  base: LinkBase,
  collection: "images" | "servers",
  id: string,
): { self: string; bookmark: string } {
  const tail = `${encodeURIComponent(base.tenantId)}/${collection}/${encodeURIComponent(id)}`;
  return {
    self: `${base.origin}/${base.version}/${tail}`,
    bookmark: `${base.origin}/${tail}`,
  };
}

function imageLinks(base: LinkBase, id: string): JsonValue[] {
  const { self, bookmark } = resourceLinks(base, "images", id);
  const alternate =
    base.imageServiceUrl === undefined
      ? bookmark
      : `${base.imageServiceUrl}/images/${encodeURIComponent(id)}`;
  return [
    { rel: "self", href: self },
    { rel: "bookmark", href: bookmark },
    {
      rel: "alternate",
      type: "application/vnd.openstack.image",
      href: alternate,
    },
  ];
}

function serverReference(
  base: LinkBase,
  server: NonNullable<SeedImage["server"]>,
): JsonObject {
  if (server.emptyLinks === true) {
    return { id: server.id, links: [] };
  }

  const { self, bookmark } = resourceLinks(base, "servers", server.id);
  return {
    id: server.id,
    links: [
      { rel: "self", href: self },
      { rel: "bookmark", href: bookmark },
    ],
  };
}

/**
 * Renders the full image object of `GET /images/{id}` and the detail list,
 * with its fields in the order of Nova 26's image view.
 */
export function renderImage(image: SeedImage, base: LinkBase): JsonObject {
  const rendered: JsonObject = {
    id: image.id,
    name: image.name,
    minRam: image.minRam,
    minDisk: image.minDisk,
    metadata: image.metadata,
    created: image.created,
    updated: image.updated,
    status: image.status,
    progress: image.progress,
  };
  if (image.size !== undefined) {
    rendered["OS-EXT-IMG-SIZE:size"] = image.size;
  }
  rendered["links"] = imageLinks(base, image.id);
  if (image.server !== undefined) {
    rendered["server"] = serverReference(base, image.server);
  }

  const diskConfig = diskConfigOf(image.metadata);
  if (diskConfig !== undefined) {
    rendered["OS-DCF:diskConfig"] = diskConfig;
  }
  return rendered;
}

/** Renders the summary that `GET /images` lists. */
export function renderImageSummary(
  image: SeedImage,
  base: LinkBase,
): JsonObject {
  return {
    id: image.id,
    name: image.name,
    links: imageLinks(base, image.id),
  };
}

/** One page of a list route, or the Nova error message for bad paging input. */
export type PageResult =
  | {
      ok: true;
      images: SeedImage[];
      /** True when Nova would add a `next` link: see {@link pageImages}. */
      nextLink: boolean;
      /** The request's query, which the `next` link repeats. */
      query: URLSearchParams;
    }
  | { ok: false; message: string };

/** The `limit` parameter as a number, or Nova 26's message for a bad one. */
function parseLimit(raw: string | null): number | null | string {
  if (raw === null) {
    return null;
  }
  if (!/^[-+]?\d+$/.test(raw.trim())) {
    return "Invalid input received: limit must be an integer";
  }

  const limit = Number(raw);
  if (limit < 0) {
    return "Invalid input received: limit must be >= 0";
  }
  return limit;
}

/**
 * Selects the page after `marker` (an image id, exclusive), in storage
 * order. An empty marker counts as no marker. Without `limit` a page has
 * {@link DEFAULT_PAGE_SIZE} images, Glance's default; `limit=0` means the
 * maximum.
 *
 * The `next` link follows Nova 26's rule: it exists when the page contains
 * exactly min(limit, {@link MAX_PAGE_SIZE}) images, with that maximum when
 * the request has no `limit`. So a full last page has a link to an empty
 * page, and a request without `limit` gets 25 images and no link even when
 * more remain.
 */
export function pageImages(
  images: SeedImage[],
  query: URLSearchParams,
): PageResult {
  const limit = parseLimit(query.get("limit"));
  if (typeof limit === "string") {
    return { ok: false, message: limit };
  }

  const marker = query.get("marker") ?? "";
  let start = 0;
  if (marker !== "") {
    const markerIndex = images.findIndex((image) => image.id === marker);
    if (markerIndex === -1) {
      return {
        ok: false,
        message: `HTTP 400 Bad Request: No image found with ID ${marker}`,
      };
    }
    start = markerIndex + 1;
  }

  const pageSize =
    limit === null
      ? DEFAULT_PAGE_SIZE
      : Math.min(limit === 0 ? MAX_PAGE_SIZE : limit, MAX_PAGE_SIZE);
  const page = images.slice(start, start + pageSize);
  const linkSize = Math.min(limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  return {
    ok: true,
    images: page,
    nextLink: linkSize > 0 && page.length === linkSize,
    query,
  };
}

/**
 * Returns the query of a `next` link as Nova 26 writes it: the request's
 * parameters sorted by name (a repeated one once, with its last value) and
 * `marker` set to the last image id.
 */
function nextQuery(query: URLSearchParams, marker: string): string {
  const sorted = [...query].sort(
    ([nameA, valueA], [nameB, valueB]) =>
      compareText(nameA, nameB) || compareText(valueA, valueB),
  );
  const params = new Map(sorted);
  params.set("marker", marker);
  return new URLSearchParams([...params]).toString();
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Renders `{"images": [...], "images_links": [...]}`. */
export function renderImageCollection(
  page: Extract<PageResult, { ok: true }>,
  base: LinkBase,
  detail: boolean,
): JsonObject {
  const images = page.images.map((image) =>
    detail ? renderImage(image, base) : renderImageSummary(image, base),
  );
  const collection: JsonObject = { images };

  const last = page.images[page.images.length - 1];
  if (page.nextLink && last !== undefined) {
    const path = detail ? "images/detail" : "images";
    const href =
      `${base.origin}/${base.version}/${encodeURIComponent(base.tenantId)}/${path}` +
      `?${nextQuery(page.query, last.id)}`;
    collection["images_links"] = [{ rel: "next", href }];
  }

  return collection;
}
