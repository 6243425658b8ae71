import { DateTimeResolver } from "graphql-scalars";
import type {
  DiskConfig,
  ImageStatus,
  ImageType,
} from "../generated/resolvers-types";
import type {
  ImageModel,
  LinkModel,
  MetadataEntryModel,
} from "../images/model";

/** Raised when a 2xx body is not `{"image": {...}}` for the requested id. */
export class NotAnImageError extends Error {
  override name = "NotAnImageError";
}

type JsonObject = Record<string, unknown>;

/**
 * Upstream statuses and what they become. Nova maps Glance's statuses the
 * same way (nova/api/openstack/compute/views/images.py), and deployments
 * that pass Glance's raw status through still get the right value.
 */
const STATUS_BY_UPSTREAM: ReadonlyMap<string, ImageStatus> = new Map([
  ["ACTIVE", "ACTIVE"],
  ["SAVING", "SAVING"],
  ["QUEUED", "SAVING"],
  ["DELETED", "DELETED"],
  ["PENDING_DELETE", "DELETED"],
  ["ERROR", "ERROR"],
  ["KILLED", "ERROR"],
]);

const DISK_CONFIGS: ReadonlySet<string> = new Set(["AUTO", "MANUAL"]);
const IMAGE_TYPES: ReadonlySet<string> = new Set([
  "BASE",
  "SNAPSHOT",
  "BACKUP",
]);

/** Largest value of GraphQL's 32-bit `Int`. */
const MAX_GRAPHQL_INT = 2 ** 31 - 1;

/**
 * Builds the model of one image from a parsed 2xx body. A missing or odd
 * field nulls that field only. The whole body is rejected only when it is
 * not an image object or names another image.
 *
 * @throws NotAnImageError when the body is not `{"image": {...}}` for `requestedId`.
 */
export function parseImageBody(body: unknown, requestedId: string): ImageModel {
  if (!isObject(body) || !isObject(body.image)) {
    throw new NotAnImageError('the body has no "image" object');
  }
  const image = body.image;

  if (
    typeof image.id === "string" &&
    image.id.toLowerCase() !== requestedId.toLowerCase()
  ) {
    throw new NotAnImageError(`the body is for another image, "${image.id}"`);
  }

  const metadata = isObject(image.metadata) ? image.metadata : {};
  return {
    id: requestedId,
    name: typeof image.name === "string" ? image.name : null,
    status: parseStatus(image.status),
    progress: parseInteger(image.progress, 0, 100),
    minDisk: parseInteger(image.minDisk, 0, MAX_GRAPHQL_INT),
    minRam: parseInteger(image.minRam, 0, MAX_GRAPHQL_INT),
    sizeBytes: parseInteger(
      image["OS-EXT-IMG-SIZE:size"],
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    created: parseDateTime(image.created),
    updated: parseDateTime(image.updated),
    diskConfig: parseEnum<DiskConfig>(image["OS-DCF:diskConfig"], DISK_CONFIGS),
    type: parseEnum<ImageType>(metadata.image_type, IMAGE_TYPES),
    links: parseLinks(image.links),
    metadata: parseMetadata(metadata),
    server: parseServer(image.server),
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseStatus(value: unknown): ImageStatus {
  if (typeof value !== "string") return "UNKNOWN";
  return STATUS_BY_UPSTREAM.get(value.trim().toUpperCase()) ?? "UNKNOWN";
}

/**
 * Accepts an integer sent as a JSON number (also in exponent form, such as
 * `1.017415075e9`) or as a decimal string, within `[min, max]`.
 */
function parseInteger(value: unknown, min: number, max: number): number | null {
  let number: number;
  if (typeof value === "number") {
    number = value;
  } else if (typeof value === "string" && /^\s*\d+(\.0*)?\s*$/.test(value)) {
    number = Number(value);
  } else {
    return null;
  }

  if (!Number.isInteger(number) || number < min || number > max) return null;
  return number;
}

/** Accepts the RFC 3339 date-times that the `DateTime` scalar can serialize. */
function parseDateTime(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  try {
    const date: unknown = DateTimeResolver.parseValue(value);
    return date instanceof Date ? date : null;
  } catch {
    return null;
  }
}

function parseEnum<T extends string>(
  value: unknown,
  allowed: ReadonlySet<string>,
): T | null {
  if (typeof value !== "string") return null;
  const upper = value.trim().toUpperCase();
  return allowed.has(upper) ? (upper as T) : null;
}

function parseLinks(value: unknown): LinkModel[] {
  if (!Array.isArray(value)) return [];

  const links: LinkModel[] = [];
  for (const link of value) {
    if (!isObject(link)) continue;
    if (typeof link.href !== "string" || typeof link.rel !== "string") continue;
    links.push({
      href: link.href,
      rel: link.rel,
      type: typeof link.type === "string" ? link.type : null,
    });
  }
  return links;
}

/**
 * Lists the entries in the parsed object's order: JSON.parse keeps the text's
 * order, except that integer-like keys come first, in ascending order.
 */
function parseMetadata(metadata: JsonObject): MetadataEntryModel[] {
  return Object.entries(metadata).map(([key, value]) => ({
    key,
    value:
      value === null || typeof value === "string"
        ? value
        : JSON.stringify(value),
  }));
}

function parseServer(value: unknown): { id: string } | null {
  if (!isObject(value) || typeof value.id !== "string" || value.id === "") {
    return null;
  }
  return { id: value.id };
}
