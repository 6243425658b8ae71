import DataLoader from "dataloader";
import { Deadline } from "../deadline";
import { ImageError } from "../errors";
import type { Metrics } from "../observability/metrics";
import type { CallOptions } from "../upstream/client";
import { resolveFromList } from "./list-strategy";
import type { ListStrategy } from "./list-strategy";
import type { ImageModel } from "./model";

/** The part of the upstream client that the loader uses. */
export interface ImageSource {
  fetchImage(id: string, token: string, call: CallOptions): Promise<ImageModel>;
}

export interface ImageLoaderOptions {
  source: ImageSource;
  /** The caller's `X-Auth-Token`, or null when the request had none. */
  token: string | null;
  /** Maximum upstream calls in flight for one GraphQL request. */
  concurrency: number;
  /** The request's deadline and trace context; default: no deadline. */
  call?: CallOptions;
  metrics?: Metrics;
  /**
   * The large-batch strategy; default: none, so every id is fetched one by
   * one. It also stays off while its threshold is 0.
   */
  list?: ListStrategy;
}

export type ImageLoader = DataLoader<string, ImageModel>;

const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Longest part of a rejected id that an error message repeats. */
const MAX_ECHOED_ID_LENGTH = 64;

/**
 * Creates the image loader of one GraphQL request. DataLoader merges the
 * loads of one tick into one batch and dedupes their ids, so `Query.image`
 * and every `_entities` representation share upstream calls. Its cache lives
 * as long as the request, so nothing is cached across requests or tokens.
 */
export function createImageLoader(options: ImageLoaderOptions): ImageLoader {
  const { metrics } = options;
  const call = options.call ?? { deadline: new Deadline(Infinity) };
  const loader = new DataLoader<string, ImageModel, string>(
    (ids) => {
      metrics?.loaderBatchSize.observe(ids.length);
      metrics?.loaderKeys.inc(ids.length);
      return loadBatch(ids, options, call);
    },
    // UUIDs are case-insensitive, so ids that differ in case share a call.
    { cacheKeyFn: (id) => id.toLowerCase() },
  );

  const load = loader.load.bind(loader);
  loader.load = async (id) => {
    // Counts every load, duplicates included, for the dedupe ratio.
    metrics?.loaderLoads.inc();
    const image = await load(id);
    // Each caller gets its id back as it wrote it.
    return image.id === id ? image : { ...image, id };
  };
  return loader;
}

/**
 * Returns one result per id, in the order of `ids`, with an error in the slot
 * of each id that failed, so one bad image nulls only its own entry. An error
 * that is not an ImageError is a bug; it stays in its slot, and Apollo Server
 * masks it as INTERNAL_SERVER_ERROR.
 */
async function loadBatch(
  ids: readonly string[],
  { source, token, concurrency, list }: ImageLoaderOptions,
  call: CallOptions,
): Promise<(ImageModel | Error)[]> {
  if (token === null) return ids.map(() => missingTokenError());

  const results = new Array<ImageModel | Error>(ids.length);
  let pending: number[] = [];
  ids.forEach((id, index) => {
    if (UUID_PATTERN.test(id)) pending.push(index);
    else results[index] = invalidIdError(id);
  });

  // Only batches above the threshold read the list; the ids that the list
  // does not resolve come back for the per-id calls below.
  if (list !== undefined && list.threshold > 0) {
    pending = await resolveFromList(list, ids, pending, token, call, results);
  }

  await forEachConcurrently(pending, concurrency, async (index) => {
    const id = ids[index]!;
    try {
      results[index] = await source.fetchImage(id, token, call);
    } catch (error) {
      results[index] =
        error instanceof Error ? error : new Error(String(error));
    }
  });
  return results;
}

/** Runs `task` on every item with at most `limit` tasks in flight. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await task(item);
    }
  };
  const workers = Math.min(limit, items.length);
  await Promise.all(Array.from({ length: workers }, worker));
}

function missingTokenError(): ImageError {
  return new ImageError(
    "UNAUTHENTICATED",
    "Missing X-Auth-Token header: send the caller's Cloud Servers API token in it.",
  );
}

function invalidIdError(id: string): ImageError {
  const shown =
    id.length > MAX_ECHOED_ID_LENGTH
      ? `${id.slice(0, MAX_ECHOED_ID_LENGTH)}…`
      : id;
  return new ImageError(
    "BAD_USER_INPUT",
    `Invalid image id ${JSON.stringify(shown)}: expected a UUID such as "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001".`,
  );
}
