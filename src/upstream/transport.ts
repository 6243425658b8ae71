/** What a failed upstream call means for the caller. */
export type TransportFailure =
  "timeout" | "unavailable" | "malformed" | "unknown";

/** Error codes of undici 7 and of Node's network stack, by what they mean. */
const FAILURE_BY_CODE: ReadonlyMap<string, TransportFailure> = new Map([
  ["UND_ERR_CONNECT_TIMEOUT", "timeout"],
  ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
  ["UND_ERR_BODY_TIMEOUT", "timeout"],
  ["ETIMEDOUT", "timeout"],
  ["UND_ERR_SOCKET", "unavailable"],
  ["UND_ERR_CLOSED", "unavailable"],
  ["UND_ERR_DESTROYED", "unavailable"],
  ["ECONNREFUSED", "unavailable"],
  ["ECONNRESET", "unavailable"],
  ["EPIPE", "unavailable"],
  ["ENOTFOUND", "unavailable"],
  ["EAI_AGAIN", "unavailable"],
  ["EHOSTUNREACH", "unavailable"],
  ["ENETUNREACH", "unavailable"],
  ["EADDRNOTAVAIL", "unavailable"],
  ["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "malformed"],
  ["UND_ERR_RES_EXCEEDED_MAX_SIZE", "malformed"],
]);

/**
 * Classifies a failed call by its stable error code, never by message text.
 * Looks through `cause` chains, because undici wraps system errors.
 */
export function classifyTransportError(error: unknown): TransportFailure {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") {
      const failure = FAILURE_BY_CODE.get(code);
      if (failure !== undefined) return failure;
      // llhttp's parser errors all start with HPE_.
      if (code.startsWith("HPE_")) return "malformed";
    }
    current = current.cause;
  }
  return "unknown";
}
