import { errors } from "undici";

/**
 * What a failed upstream call means for the caller. A `reset` connection
 * failed after it was open, which a retry of the idempotent GET can fix.
 */
export type TransportFailure =
  "timeout" | "reset" | "unavailable" | "malformed" | "unknown";

/** Error codes of undici 7 and of Node's network stack, by what they mean. */
const FAILURE_BY_CODE: ReadonlyMap<string, TransportFailure> = new Map([
  ["UND_ERR_CONNECT_TIMEOUT", "timeout"],
  ["UND_ERR_HEADERS_TIMEOUT", "timeout"],
  ["UND_ERR_BODY_TIMEOUT", "timeout"],
  ["ETIMEDOUT", "timeout"],
  ["UND_ERR_SOCKET", "reset"],
  ["UND_ERR_CLOSED", "unavailable"],
  ["UND_ERR_DESTROYED", "unavailable"],
  ["ECONNREFUSED", "unavailable"],
  ["ECONNRESET", "reset"],
  ["EPIPE", "reset"],
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
 * Looks through `cause` chains, because undici wraps system errors. Errors
 * are duck-typed: Node's system errors can come from another realm (as under
 * jest), where `instanceof Error` is false.
 */
export function classifyTransportError(error: unknown): TransportFailure {
  // undici 7 sets no string code on HTTPParserError, so its class decides.
  if (error instanceof errors.HTTPParserError) return "malformed";

  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const code = current.code;
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** An abort signal that fires after a time, and stops its timer on `clear`. */
export interface AttemptTimeout {
  signal: AbortSignal;
  clear(): void;
}

/**
 * Starts the timeout of one upstream attempt. With `AbortSignal.timeout`,
 * each call's timer would stay scheduled until the garbage collector frees
 * its signal or the time passes, long after the response arrived.
 */
export function startAttemptTimeout(timeoutMs: number): AttemptTimeout {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), Math.max(1, timeoutMs));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
