import type { JsonValue, SeedImage } from "./images";

/** The URL prefix of a Nova API version, as the first path segment. */
export type ApiVersion = "v2" | "v2.1";

/** The parts of the request URL that Nova builds links from. */
export interface LinkBase {
  origin: string;
  version: ApiVersion;
  tenantId: string;
}

type JsonObject = { [key: string]: JsonValue };

const TRUE_STRINGS = new Set(["1", "t", "true", "on", "y", "yes"]);

/** Page size of the list routes when the request has no `limit`. */
export const DEFAULT_PAGE_SIZE = 25;

/** Largest page size. It matches the default of Nova's `[api] max_limit`. */
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
  return [
    { href: self, rel: "self" },
    { href: bookmark, rel: "bookmark" },
    {
      href: bookmark,
      rel: "alternate",
      type: "application/vnd.openstack.image",
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
      { href: self, rel: "self" },
      { href: bookmark, rel: "bookmark" },
    ],
  };
}

/** Renders the full image object of `GET /images/{id}` and the detail list. */
export function renderImage(image: SeedImage, base: LinkBase): JsonObject {
  const rendered: JsonObject = {};
  const diskConfig = diskConfigOf(image.metadata);
  if (diskConfig !== undefined) {
    rendered["OS-DCF:diskConfig"] = diskConfig;
  }
  if (image.size !== undefined) {
    rendered["OS-EXT-IMG-SIZE:size"] = image.size;
  }

  rendered["created"] = image.created;
  rendered["id"] = image.id;
  rendered["links"] = imageLinks(base, image.id);
  rendered["metadata"] = image.metadata;
  rendered["minDisk"] = image.minDisk;
  rendered["minRam"] = image.minRam;
  rendered["name"] = image.name;
  rendered["progress"] = image.progress;
  if (image.server !== undefined) {
    rendered["server"] = serverReference(base, image.server);
  }
  rendered["status"] = image.status;
  rendered["updated"] = image.updated;
  return rendered;
}

/** Renders the summary that `GET /images` lists. */
export function renderImageSummary(
  image: SeedImage,
  base: LinkBase,
): JsonObject {
  return {
    id: image.id,
    links: imageLinks(base, image.id),
    name: image.name,
  };
}

/** One page of a list route, or the Nova error message for bad paging input. */
export type PageResult =
  | { ok: true; images: SeedImage[]; limit: number; hasMore: boolean }
  | { ok: false; message: string };

function parseLimit(raw: string | null): number | string {
  if (raw === null) {
    return DEFAULT_PAGE_SIZE;
  }
  if (!/^-?\d+$/.test(raw.trim())) {
    return "limit param must be an integer";
  }

  const limit = Number(raw);
  if (limit < 0) {
    return "limit param must be positive";
  }

  // Nova's `limited()` reads limit=0 as "no limit", which is the maximum.
  return limit === 0 ? MAX_PAGE_SIZE : Math.min(limit, MAX_PAGE_SIZE);
}

/**
 * Selects the page after `marker` (an image id, exclusive) of at most `limit`
 * images, in storage order. An empty marker counts as no marker.
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
      return { ok: false, message: `marker [${marker}] not found` };
    }
    start = markerIndex + 1;
  }

  const page = images.slice(start, start + limit);
  return {
    ok: true,
    images: page,
    limit,
    hasMore: start + page.length < images.length,
  };
}

/**
 * Renders `{"images": [...], "images_links": [...]}`. The next link exists
 * only when images remain after this page.
 *
 * NOTE: Nova itself adds a next link whenever a page is full, even the last
 * one, so a real client can receive one final empty page.
 */
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
  if (page.hasMore && last !== undefined) {
    const path = detail ? "images/detail" : "images";
    const href =
      `${base.origin}/${base.version}/${encodeURIComponent(base.tenantId)}/${path}` +
      `?limit=${page.limit}&marker=${encodeURIComponent(last.id)}`;
    collection["images_links"] = [{ rel: "next", href }];
  }

  return collection;
}
