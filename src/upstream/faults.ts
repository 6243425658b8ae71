import type { ErrorCode, UpstreamDetails } from "../errors";
import { codeForUpstreamStatus } from "../errors";

/** An upstream error response, reduced to what the service reports. */
export interface UpstreamFault {
  code: ErrorCode;
  upstream: UpstreamDetails;
  /** Whole seconds to wait, from `Retry-After` or the body's `retryAfter` or `retryAt`. */
  retryAfter: number | undefined;
}

/** Headers as undici returns them: lower-case names. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Longest fault message kept, in characters; longer ones are cut. */
const MAX_MESSAGE_LENGTH = 500;

/**
 * Maximum wait taken from an upstream response, in seconds. A larger
 * `Retry-After`, from a proxy's bug or a far-off date, would otherwise lock
 * the token out of this process until it restarts, so the service tries the
 * upstream again after an hour at the latest.
 */
export const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * Parses an error response of the images API or of a proxy in front of
 * it. Understands Nova's `{"<faultName>": {code, message, details?}}`, the
 * `{"error": {...}}` of authentication middleware, a flat `{message, code}`
 * body, and bodies that are not JSON at all, such as a proxy's HTML page.
 */
export function parseFault(
  status: number,
  headers: ResponseHeaders,
  bodyText: string,
  now: Date = new Date(),
): UpstreamFault {
  const { fault, detail } = findFaultObject(parseJson(bodyText));

  return {
    code: codeForUpstreamStatus(status),
    upstream: {
      status,
      fault,
      message: cleanMessage(detail?.message),
      requestId: readRequestId(headers),
    },
    retryAfter: capRetryAfter(
      parseRetryAfterHeader(firstHeader(headers, "retry-after"), now) ??
        parseRetryAfterBody(detail, now),
    ),
  };
}

function capRetryAfter(seconds: number | undefined): number | undefined {
  return seconds === undefined
    ? undefined
    : Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}

/** Returns the upstream request id of any response, error or not. */
export function readRequestId(headers: ResponseHeaders): string | null {
  return (
    firstHeader(headers, "x-compute-request-id") ??
    firstHeader(headers, "x-openstack-request-id") ??
    null
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Finds the object that describes the fault: the value of the single wrapper
 * key in Nova's shape, or the body itself when it is flat.
 */
function findFaultObject(body: unknown): {
  fault: string | null;
  detail: Record<string, unknown> | null;
} {
  if (!isObject(body)) return { fault: null, detail: null };

  const keys = Object.keys(body);
  const wrapped = keys.length === 1 ? body[keys[0]!] : undefined;
  if (isObject(wrapped)) return { fault: keys[0]!, detail: wrapped };

  return { fault: null, detail: body };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Removes HTML tags and runs of whitespace, which web frameworks add. */
function cleanMessage(message: unknown): string | null {
  if (typeof message !== "string") return null;

  const text = message
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  if (text === "") return null;
  // Cut by code points, so that no surrogate pair is split.
  const codePoints = Array.from(text);
  return codePoints.length > MAX_MESSAGE_LENGTH
    ? `${codePoints.slice(0, MAX_MESSAGE_LENGTH).join("")}…`
    : text;
}

function firstHeader(
  headers: ResponseHeaders,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses `Retry-After` as delay-seconds or an HTTP-date (RFC 9110, 10.2.3). */
function parseRetryAfterHeader(
  value: string | undefined,
  now: Date,
): number | undefined {
  if (value === undefined) return undefined;
  return parseSeconds(value.trim()) ?? secondsUntil(value.trim(), now);
}

function parseRetryAfterBody(
  detail: Record<string, unknown> | null,
  now: Date,
): number | undefined {
  if (detail === null) return undefined;

  const { retryAfter, retryAt } = detail;
  if (typeof retryAfter === "number" && retryAfter >= 0) {
    return Math.ceil(retryAfter);
  }
  if (typeof retryAfter === "string") {
    const seconds = parseSeconds(retryAfter.trim());
    if (seconds !== undefined) return seconds;
  }
  if (typeof retryAt === "string") return secondsUntil(retryAt, now);
  return undefined;
}

function parseSeconds(text: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  return Math.ceil(Number(text));
}

/**
 * HTTP-date forms that RFC 9110 (5.6.7) asks recipients to accept:
 * IMF-fixdate, the obsolete RFC 850 form and asctime.
 */
const HTTP_DATE_PATTERNS = [
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^[A-Z][a-z]+day, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/** An RFC 3339 date-time, the form of the body's `retryAt`. */
const ISO_DATE_TIME_PATTERN =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function isDateText(text: string): boolean {
  return (
    ISO_DATE_TIME_PATTERN.test(text) ||
    HTTP_DATE_PATTERNS.some((pattern) => pattern.test(text))
  );
}

function secondsUntil(dateText: string, now: Date): number | undefined {
  if (!isDateText(dateText.trim())) return undefined;
  const time = Date.parse(dateText.trim());
  if (Number.isNaN(time)) return undefined;
  return Math.max(0, Math.ceil((time - now.getTime()) / 1000));
}
