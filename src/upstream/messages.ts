import type { Deadline } from "../deadline";
import { ImageError } from "../errors";
import type { UpstreamFault } from "./faults";

// Error messages of the upstream client, one sentence each, so that clients
// can show them as they are.

export function timeoutError(
  id: string,
  timeoutMs: number,
  deadline: Deadline,
  cause: unknown,
): ImageError {
  const message = deadline.expired()
    ? `The images API request for image ${id} did not finish within the request deadline of ${deadline.budgetMs} ms.`
    : `The images API request for image ${id} timed out after ${timeoutMs} ms.`;
  return new ImageError("UPSTREAM_TIMEOUT", message, { imageId: id, cause });
}

export function unavailableError(id: string, cause: unknown): ImageError {
  return new ImageError(
    "UPSTREAM_UNAVAILABLE",
    `The images API could not be reached for image ${id}: ${describeTransportError(cause)}.`,
    { imageId: id, cause },
  );
}

export function faultMessage(id: string, fault: UpstreamFault): string {
  const status = fault.upstream.status;
  switch (fault.code) {
    case "NOT_FOUND":
      return `Image ${id} not found.`;
    case "UNAUTHENTICATED":
      return `The images API rejected the X-Auth-Token (status ${status}); send a valid, unexpired token.`;
    case "FORBIDDEN":
      return `The images API denied access to image ${id} (status ${status}).`;
    case "OVER_LIMIT":
      return fault.retryAfter === undefined
        ? `The images API rate limit was exceeded (status ${status}).`
        : `The images API rate limit was exceeded (status ${status}); retry after ${fault.retryAfter} s.`;
    case "SERVICE_UNAVAILABLE":
      return `The images API is unavailable (status ${status}); retry later.`;
    case "BAD_REQUEST":
      return `The images API rejected the request for image ${id} as invalid (status ${status}).`;
    case "METHOD_NOT_ALLOWED":
      return `The images API does not allow this method for image ${id} (status ${status}).`;
    case "CONFLICT":
      return `The images API reported a conflict for image ${id} (status ${status}).`;
    default:
      return `The images API failed for image ${id} with status ${status}.`;
  }
}

export function describeTransportError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);

  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : String(error);
  return typeof code === "string" ? `${code} (${text})` : text;
}
