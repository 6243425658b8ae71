import type { Logger } from "pino";
import { ImageError } from "../errors";
import type { ErrorCode } from "../errors";
import type { CallOptions } from "../upstream/client";
import { parseImageBody } from "../upstream/image";
import type { ImagesPage, PageRequest } from "../upstream/list";
import type { ImageModel } from "./model";

/** The part of the upstream client that the list strategy uses. */
export interface ImageLister {
  listImages(
    token: string,
    page: PageRequest,
    call: CallOptions,
  ): Promise<ImagesPage>;
}

/**
 * The large-batch strategy: a batch with more distinct ids than `threshold`
 * first pages through `GET {base}/images/detail`, and only the ids that the
 * list does not contain are fetched one by one.
 */
export interface ListStrategy {
  lister: ImageLister;
  /** A batch with more distinct ids than this reads the list; 0 turns the strategy off. */
  threshold: number;
  /** `limit` of each page request. The upstream may cap it lower, which costs more pages. */
  pageSize: number;
  /** Maximum pages that one batch reads, which bounds the latency of the sequential paging. */
  maxPages: number;
  logger: Logger;
}

/**
 * Codes of a failed list call that every per-id call with the same token
 * would get as well, so the batch fails at once instead of making one more
 * call per id. Any other failure falls back to the per-id calls.
 */
const BATCH_WIDE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "UNAUTHENTICATED",
  "OVER_LIMIT",
]);

/** Returns true when a batch of `distinctIds` ids should read the list. */
export function shouldUseList(distinctIds: number, threshold: number): boolean {
  return threshold > 0 && distinctIds > threshold;
}

/**
 * Resolves the ids at `pending` from the image list when the batch is
 * larger than the threshold. Writes each image found, and each batch-wide
 * error, into `results`, and returns the indexes left for the per-id path.
 * Ids are compared in lower case, as the per-id path sends them.
 */
export async function resolveFromList(
  strategy: ListStrategy,
  ids: readonly string[],
  pending: readonly number[],
  token: string,
  call: CallOptions,
  results: (ImageModel | Error)[],
): Promise<number[]> {
  const unresolved = new Map<string, number[]>();
  for (const index of pending) {
    const key = ids[index]!.toLowerCase();
    const indexes = unresolved.get(key);
    if (indexes === undefined) unresolved.set(key, [index]);
    else indexes.push(index);
  }
  if (!shouldUseList(unresolved.size, strategy.threshold)) return [...pending];

  const distinct = unresolved.size;
  const progress = { pages: 0 };
  let failure: ImageError | null = null;
  try {
    await readPages(strategy, token, call, ids, unresolved, results, progress);
  } catch (error) {
    if (!(error instanceof ImageError)) {
      strategy.logger.error(
        { err: error, ids: distinct },
        "image list lookup failed unexpectedly; fetching the ids one by one",
      );
      return [...unresolved.values()].flat();
    }
    failure = error;
  }

  const remaining = [...unresolved.values()].flat();
  if (failure !== null && BATCH_WIDE_CODES.has(failure.code)) {
    for (const index of remaining) {
      results[index] = batchWideError(failure, ids[index]!);
    }
    return [];
  }
  if (failure !== null) {
    strategy.logger.warn(
      { code: failure.code, pages: progress.pages, remaining: unresolved.size },
      "image list failed; fetching the remaining ids one by one",
    );
  } else {
    strategy.logger.debug(
      { pages: progress.pages, ids: distinct, remaining: unresolved.size },
      "image list lookup",
    );
  }
  return remaining;
}

/**
 * Reads pages until every unresolved id is found, the list ends, `maxPages` is
 * reached, or one more page could make the batch cost more calls than one
 * call per id. That last rule keeps the calls of a batch at or below its
 * distinct ids, except that a first page with none of them costs one extra.
 * Found ids are removed from `unresolved`, and `progress.pages` counts the
 * pages read.
 *
 * @throws ImageError when a page call fails; images of earlier pages stay in `results`.
 */
async function readPages(
  strategy: ListStrategy,
  token: string,
  call: CallOptions,
  ids: readonly string[],
  unresolved: Map<string, number[]>,
  results: (ImageModel | Error)[],
  progress: { pages: number },
): Promise<void> {
  const distinct = unresolved.size;
  const seenMarkers = new Set<string>();
  let marker: string | null = null;

  for (;;) {
    const page: ImagesPage = await strategy.lister.listImages(
      token,
      { limit: strategy.pageSize, marker },
      call,
    );
    progress.pages += 1;
    resolveListedImages(page, ids, unresolved, results);

    const next = page.nextMarker;
    const budgetLeft = progress.pages + 1 + unresolved.size <= distinct;
    if (
      next === null ||
      page.images.length === 0 ||
      unresolved.size === 0 ||
      progress.pages >= strategy.maxPages ||
      !budgetLeft
    ) {
      return;
    }
    if (seenMarkers.has(next)) {
      strategy.logger.warn(
        { marker: next, pages: progress.pages },
        "image list repeated a page marker; stopped paging",
      );
      return;
    }
    seenMarkers.add(next);
    marker = next;
  }
}

function resolveListedImages(
  page: ImagesPage,
  ids: readonly string[],
  unresolved: Map<string, number[]>,
  results: (ImageModel | Error)[],
): void {
  for (const listed of page.images) {
    const key = listed.id.toLowerCase();
    const indexes = unresolved.get(key);
    if (indexes === undefined) continue;

    try {
      for (const index of indexes) {
        results[index] = parseImageBody({ image: listed.body }, ids[index]!);
      }
      unresolved.delete(key);
    } catch {
      // Left in `unresolved`, so the per-id call reports what is wrong with it.
    }
  }
}

function batchWideError(failure: ImageError, id: string): ImageError {
  const retryAfter = failure.extensions.retryAfter;
  return new ImageError(failure.code, failure.message, {
    imageId: id,
    ...(failure.upstream !== undefined && { upstream: failure.upstream }),
    ...(typeof retryAfter === "number" && { retryAfter }),
  });
}
