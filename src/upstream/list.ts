import type { Dispatcher } from "undici";
import type { Logger } from "pino";
import type { Deadline } from "../deadline";
import { ImageError } from "../errors";
import { BodyTooLargeError, readBoundedBody } from "./body";
import { parseFault, readRequestId } from "./faults";
import type { ResponseHeaders } from "./faults";
import { describeTransportError } from "./messages";
import { classifyTransportError, startAttemptTimeout } from "./transport";

/** Settings of the list call, taken from the client that owns the pool. */
export interface ImagesListOptions {
  /** The connection pool of the images client, so that list pages reuse its connections. */
  dispatcher: Dispatcher;
  /** Path of the tenant-scoped endpoint without a trailing slash, such as `/v2/010101`. */
  basePath: string;
  /** Maximum time of one page call, from connecting to the last body byte, in milliseconds. */
  timeoutMs: number;
  /** Maximum size of one page body in bytes; a larger body is not read further. */
  maxBodyBytes: number;
  /** Sent as `User-Agent`. */
  userAgent: string;
  logger: Logger;
}

/** Which page to request: `limit` images after the image `marker` (exclusive). */
export interface PageRequest {
  limit: number;
  /** The id of the last image of the previous page, or null for the first page. */
  marker: string | null;
}

/** One page of `GET {base}/images/detail`. */
export interface ImagesPage {
  /** The image objects of the page that have a string `id`, in list order. */
  images: ListedImage[];
  /** The marker of the next page, from the `rel: next` link, or null on the last page. */
  nextMarker: string | null;
  /** The upstream's `X-Compute-Request-Id`. */
  requestId: string | null;
}

/** One entry of a list page, as the upstream sent it. */
export interface ListedImage {
  id: string;
  /** The same object that `GET {base}/images/{id}` wraps in `{"image": ...}`. */
  body: Record<string, unknown>;
}

const LIST_PATH = "/images/detail";

/**
 * Fetches one page of the detailed image list with the caller's token, in
 * one attempt that ends by the request's deadline. Redirects are not
 * followed. The next page is requested by its marker on the configured
 * endpoint, never at the `href` of the next link, because a proxy can write
 * links to another host and the token must not go there.
 *
 * @throws ImageError without an `imageId` for every upstream or transport failure.
 */
export async function fetchImagesPage(
  options: ImagesListOptions,
  token: string,
  page: PageRequest,
  deadline: Deadline,
): Promise<ImagesPage> {
  const started = performance.now();
  const timeoutMs = Math.min(options.timeoutMs, deadline.remainingMs());
  const timeout = startAttemptTimeout(timeoutMs);
  const { signal } = timeout;
  const log = options.logger.child({ marker: page.marker, limit: page.limit });

  let response: Dispatcher.ResponseData;
  let bodyText: string;
  try {
    response = await options.dispatcher.request({
      method: "GET",
      path: pagePath(options.basePath, page),
      headers: {
        accept: "application/json",
        "user-agent": options.userAgent,
        "x-auth-token": token,
      },
      signal,
    });
    bodyText = await readBoundedBody(response, options.maxBodyBytes);
  } catch (error) {
    const failure = transportFailure(error, signal, timeoutMs, deadline);
    log.warn(
      { err: error, code: failure.code, durationMs: elapsed(started) },
      "upstream list call failed",
    );
    throw failure;
  } finally {
    timeout.clear();
  }

  const status = response.statusCode;
  const headers = response.headers as ResponseHeaders;
  const outcome = { status, requestId: readRequestId(headers) };
  try {
    const result = interpret(status, headers, bodyText);
    log.debug(
      {
        ...outcome,
        images: result.images.length,
        durationMs: elapsed(started),
      },
      "upstream list call",
    );
    return result;
  } catch (error) {
    if (error instanceof ImageError) {
      log.warn(
        { ...outcome, code: error.code, durationMs: elapsed(started) },
        "upstream list call failed",
      );
    }
    throw error;
  }
}

function pagePath(basePath: string, page: PageRequest): string {
  const query = new URLSearchParams({ limit: String(page.limit) });
  if (page.marker !== null) query.set("marker", page.marker);
  return `${basePath}${LIST_PATH}?${query.toString()}`;
}

function interpret(
  status: number,
  headers: ResponseHeaders,
  bodyText: string,
): ImagesPage {
  const requestId = readRequestId(headers);
  if (status >= 200 && status < 300) {
    return parsePage(status, requestId, bodyText);
  }

  if (status >= 300 && status < 400) {
    throw new ImageError(
      "UPSTREAM_ERROR",
      `The images API returned a redirect (status ${status}) for the image list; redirects are not followed.`,
      { upstream: { status, fault: null, message: null, requestId } },
    );
  }

  const fault = parseFault(status, headers, bodyText);
  throw new ImageError(fault.code, faultMessage(fault), {
    upstream: fault.upstream,
    ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
  });
}

/**
 * Uses the sentences of the per-id call for the codes that the list
 * strategy passes on to every id of a batch.
 */
function faultMessage(fault: ReturnType<typeof parseFault>): string {
  const status = fault.upstream.status;
  switch (fault.code) {
    case "UNAUTHENTICATED":
      return `The images API rejected the X-Auth-Token (status ${status}); send a valid, unexpired token.`;
    case "OVER_LIMIT":
      return fault.retryAfter === undefined
        ? `The images API rate limit was exceeded (status ${status}).`
        : `The images API rate limit was exceeded (status ${status}); retry after ${fault.retryAfter} s.`;
    default:
      return `The images API image list failed with status ${status}.`;
  }
}

/**
 * Reads `{"images": [...], "images_links": [...]}`. Entries that are not
 * objects with a string id are skipped, so their ids fall back to the
 * per-id call. A body without an `images` array is rejected.
 */
function parsePage(
  status: number,
  requestId: string | null,
  bodyText: string,
): ImagesPage {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch (error) {
    throw badPage(status, requestId, "invalid JSON", error);
  }
  if (!isObject(body) || !Array.isArray(body.images)) {
    throw badPage(status, requestId, 'the body has no "images" array');
  }

  const images: ListedImage[] = [];
  for (const entry of body.images) {
    if (isObject(entry) && typeof entry.id === "string" && entry.id !== "") {
      images.push({ id: entry.id, body: entry });
    }
  }
  return { images, nextMarker: readNextMarker(body.images_links), requestId };
}

function badPage(
  status: number,
  requestId: string | null,
  reason: string,
  cause?: unknown,
): ImageError {
  return new ImageError(
    "BAD_UPSTREAM_RESPONSE",
    `The images API returned status ${status} for the image list, but the body is not an image list: ${reason}.`,
    {
      upstream: { status, fault: null, message: null, requestId },
      cause,
    },
  );
}

/**
 * Returns the `marker` query parameter of the `rel: next` link. A missing
 * link, or one without a marker, means this is the last page.
 */
function readNextMarker(links: unknown): string | null {
  if (!Array.isArray(links)) return null;

  for (const link of links) {
    if (!isObject(link) || link.rel !== "next") continue;
    if (typeof link.href !== "string") continue;
    try {
      // A relative href is resolved against a placeholder: only its query matters.
      const marker = new URL(link.href, "http://localhost").searchParams.get(
        "marker",
      );
      return marker === null || marker === "" ? null : marker;
    } catch {
      return null;
    }
  }
  return null;
}

function transportFailure(
  error: unknown,
  signal: AbortSignal,
  timeoutMs: number,
  deadline: Deadline,
): ImageError {
  if (error instanceof BodyTooLargeError) {
    return new ImageError(
      "BAD_UPSTREAM_RESPONSE",
      `The images API returned an image list page that is too large: ${error.message}.`,
      { cause: error },
    );
  }

  const kind = signal.aborted ? "timeout" : classifyTransportError(error);
  switch (kind) {
    case "timeout":
      return new ImageError(
        "UPSTREAM_TIMEOUT",
        deadline.expired()
          ? `The images API image list request did not finish within the request deadline of ${deadline.budgetMs} ms.`
          : `The images API image list request timed out after ${timeoutMs} ms.`,
        { cause: error },
      );
    // The list strategy falls back to the per-id calls, which retry resets.
    case "reset":
    case "unavailable":
      return new ImageError(
        "UPSTREAM_UNAVAILABLE",
        `The images API could not be reached for the image list: ${describeTransportError(error)}.`,
        { cause: error },
      );
    case "malformed":
      return new ImageError(
        "BAD_UPSTREAM_RESPONSE",
        `The images API returned a malformed HTTP response for the image list: ${describeTransportError(error)}.`,
        { cause: error },
      );
    case "unknown":
      throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
