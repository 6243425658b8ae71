import { validateHeaderName, validateHeaderValue } from "node:http";

/** Fault names of Nova error bodies, with the status Nova sends for each. */
export const FAULT_STATUS = {
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  itemNotFound: 404,
  badMethod: 405,
  conflictingRequest: 409,
  overLimit: 413,
  computeFault: 500,
  serviceUnavailable: 503,
} as const;

export type FaultName = keyof typeof FAULT_STATUS;

/**
 * Default message of each fault. Where a real images API sample exists (see
 * test/fixtures/images/) it is that sample's message, otherwise it is the
 * default explanation of the webob exception that Nova wraps.
 */
export const DEFAULT_FAULT_MESSAGES: Record<FaultName, string> = {
  badRequest:
    "The server could not comply with the request since it is either malformed or otherwise incorrect.",
  unauthorized:
    "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.",
  forbidden: "Policy doesn't allow compute:get_image to be performed.",
  itemNotFound: "Image not found.",
  badMethod: "The method GET is not allowed for this resource.",
  conflictingRequest:
    "There was a conflict when trying to complete your request.",
  overLimit: "This request was rate-limited.",
  computeFault:
    "The server has either erred or is incapable of performing the requested operation.",
  serviceUnavailable:
    "The server is currently unavailable. Please try again at a later time.",
};

/** Seconds in `Retry-After` of an overLimit fault that gives none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

/** A fault that the simulator applies to matching image requests. */
export type Fault =
  /**
   * A Nova error body `{"<name>": {code, message, details?}}`. The status
   * comes from the name unless given, e.g. 429 for overLimit on newer Nova.
   * overLimit always gets `Retry-After` and a body `retryAfter`. Other
   * faults get the header only when `retryAfterSeconds` is given.
   */
  | {
      kind: "fault";
      name: FaultName;
      message?: string;
      details?: string;
      retryAfterSeconds?: number;
      status?: number;
    }
  /** A fixture `{status, headers, body | text}`, sent verbatim. */
  | {
      kind: "replay";
      status: number;
      headers?: Record<string, string>;
      body?: unknown;
      text?: string;
    }
  /** 203 Non-Authoritative Information in place of a 200, same body. */
  | { kind: "nonAuthoritative" }
  /** TCP reset before any response bytes. */
  | { kind: "reset" }
  /** Status, headers and part of the body, then the socket is destroyed. */
  | { kind: "resetMidBody" }
  /** No response until the simulator closes. */
  | { kind: "hang" }
  /** The normal response, with the body sent in `chunks` parts (default 4). */
  | { kind: "slowBody"; chunkDelayMs: number; chunks?: number }
  /** 200 with a JSON content type and a truncated JSON body. */
  | { kind: "malformedJson" }
  /** An HTML error page from a load balancer in front of the API. */
  | { kind: "html"; status: number }
  /** A redirect from a proxy in front of the API. */
  | { kind: "redirect"; status: 301 | 302 | 307; location: string }
  /**
   * The normal response, then the server closes the connection. If
   * `announce` is true the response carries `Connection: close`. If false
   * it advertises keep-alive and the server closes anyway, as uwsgi can.
   */
  | { kind: "closeAfterResponse"; announce: boolean };

export type FaultKind = Fault["kind"];

const FAULT_KINDS: readonly FaultKind[] = [
  "fault",
  "replay",
  "nonAuthoritative",
  "reset",
  "resetMidBody",
  "hang",
  "slowBody",
  "malformedJson",
  "html",
  "redirect",
  "closeAfterResponse",
];

/**
 * Fault kinds that model the network or a proxy in front of the API. They
 * apply before the token check, so they also hit requests without a token.
 */
const FRONT_FAULT_KINDS: ReadonlySet<FaultKind> = new Set([
  "reset",
  "hang",
  "html",
  "redirect",
]);

export function isFrontFault(fault: Fault): boolean {
  return FRONT_FAULT_KINDS.has(fault.kind);
}

/** Builds a Nova fault body such as `{"itemNotFound": {...}}`. */
export function novaFaultBody(
  name: FaultName,
  code: number,
  message: string,
  details?: string,
  retryAfterSeconds?: number,
): Record<string, unknown> {
  const fields: Record<string, unknown> = { code, message };
  if (details !== undefined) {
    fields["details"] = details;
  }
  if (retryAfterSeconds !== undefined) {
    fields["retryAfter"] = String(retryAfterSeconds);
  }
  return { [name]: fields };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function expectInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < min ||
    value > max
  ) {
    throw new TypeError(
      `Invalid ${field} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}.`,
    );
  }
  return value;
}

function expectOptionalString(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== "string") {
    throw new TypeError(
      `Invalid ${field} ${JSON.stringify(value)}: expected a string.`,
    );
  }
}

function validateNovaFault(fault: Record<string, unknown>): void {
  const name = fault["name"];
  if (typeof name !== "string" || !Object.hasOwn(FAULT_STATUS, name)) {
    const names = Object.keys(FAULT_STATUS).join(", ");
    throw new TypeError(
      `Invalid fault.name ${JSON.stringify(name)}: expected one of ${names}.`,
    );
  }

  expectOptionalString(fault["message"], "fault.message");
  expectOptionalString(fault["details"], "fault.details");
  if (fault["retryAfterSeconds"] !== undefined) {
    expectInteger(
      fault["retryAfterSeconds"],
      "fault.retryAfterSeconds",
      0,
      1e9,
    );
  }
  if (fault["status"] !== undefined) {
    expectInteger(fault["status"], "fault.status", 200, 599);
  }
}

function validateReplay(fault: Record<string, unknown>): void {
  expectInteger(fault["status"], "fault.status", 200, 599);
  expectOptionalString(fault["text"], "fault.text");
  if (fault["text"] !== undefined && fault["body"] !== undefined) {
    throw new TypeError(
      "Invalid replay fault: give either body or text, not both.",
    );
  }

  const headers = fault["headers"];
  if (headers === undefined) {
    return;
  }
  if (!isRecord(headers)) {
    throw new TypeError(
      "Invalid fault.headers: expected an object of strings.",
    );
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw new TypeError(`Invalid fault.headers.${name}: expected a string.`);
    }
    validateHeaderName(name);
    validateHeaderValue(name, value);
  }
}

function validateRedirect(fault: Record<string, unknown>): void {
  const status = fault["status"];
  if (status !== 301 && status !== 302 && status !== 307) {
    throw new TypeError(
      `Invalid fault.status ${JSON.stringify(status)}: expected 301, 302 or 307.`,
    );
  }

  const location = fault["location"];
  if (typeof location !== "string" || location === "") {
    throw new TypeError("Invalid fault.location: expected a non-empty string.");
  }
  validateHeaderValue("location", location);
}

function validateFields(kind: FaultKind, fault: Record<string, unknown>): void {
  switch (kind) {
    case "fault":
      return validateNovaFault(fault);
    case "replay":
      return validateReplay(fault);
    case "slowBody":
      expectInteger(fault["chunkDelayMs"], "fault.chunkDelayMs", 0, 600_000);
      if (fault["chunks"] !== undefined) {
        expectInteger(fault["chunks"], "fault.chunks", 1, 1_000_000);
      }
      return;
    case "html":
      expectInteger(fault["status"], "fault.status", 200, 599);
      return;
    case "redirect":
      return validateRedirect(fault);
    case "closeAfterResponse":
      if (typeof fault["announce"] !== "boolean") {
        throw new TypeError("Invalid fault.announce: expected true or false.");
      }
      return;
    default:
      return;
  }
}

/**
 * Checks that `value` is a well-formed {@link Fault}, as `inject()` and the
 * control API receive it. Throws a TypeError that names the invalid field.
 */
export function parseFault(value: unknown): Fault {
  if (!isRecord(value)) {
    throw new TypeError("Invalid fault: expected an object with a kind.");
  }

  const kind = value["kind"];
  if (typeof kind !== "string" || !FAULT_KINDS.includes(kind as FaultKind)) {
    throw new TypeError(
      `Invalid fault.kind ${JSON.stringify(kind)}: expected one of ${FAULT_KINDS.join(", ")}.`,
    );
  }

  validateFields(kind as FaultKind, value);
  return value as Fault;
}
