import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";

import type { Fault, FaultName } from "./faults";
import {
  DEFAULT_FAULT_MESSAGES,
  DEFAULT_RETRY_AFTER_SECONDS,
  FAULT_STATUS,
  novaFaultBody,
} from "./faults";
import { pythonJson } from "./json";
import type { Microversion } from "./microversion";
import { MIN_MICROVERSION, formatMicroversion } from "./microversion";
import type { ApiVersion } from "./views";

/** A complete HTTP response, built before anything is written. */
export interface PreparedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type NovaFault = Extract<Fault, { kind: "fault" }>;

const HTML_MESSAGES: Record<number, string> = {
  502: "The server returned an invalid or incomplete response.",
  503: "No server is available to handle this request.",
  504: "The server didn't respond in time.",
};

function withLength(
  status: number,
  headers: Record<string, string>,
  body: Buffer,
): PreparedResponse {
  return {
    status,
    headers: { ...headers, "Content-Length": String(body.length) },
    body,
  };
}

/**
 * Returns the headers of a response from Nova itself: a fresh request id in
 * both id headers, and on v2.1 the microversion headers. Nova 26 sends no
 * `Vary` and no version headers on the legacy v2 endpoint.
 */
export function novaHeaders(
  version: ApiVersion,
  microversion: Microversion = MIN_MICROVERSION,
): Record<string, string> {
  const requestId = `req-${randomUUID()}`;
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Compute-Request-Id": requestId,
    "X-OpenStack-Request-Id": requestId,
  };

  if (version === "v2.1") {
    const number = formatMicroversion(microversion);
    headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version";
    headers["OpenStack-API-Version"] = `compute ${number}`;
    headers["X-OpenStack-Nova-API-Version"] = number;
  }

  return headers;
}

/**
 * Builds a JSON response from Nova with its request id headers, the body
 * written as Nova's Python writes it.
 */
export function novaJsonResponse(
  status: number,
  body: unknown,
  version: ApiVersion,
  extraHeaders: Record<string, string> = {},
): PreparedResponse {
  const headers = { ...novaHeaders(version), ...extraHeaders };
  return withLength(status, headers, Buffer.from(pythonJson(body)));
}

/**
 * Returns `prepared` with the microversion headers of `microversion`, as
 * Nova echoes the negotiated version on /v2.1. Other responses stay as
 * they are.
 */
export function withMicroversion(
  prepared: PreparedResponse,
  microversion: Microversion,
): PreparedResponse {
  if (prepared.headers["X-OpenStack-Nova-API-Version"] === undefined) {
    return prepared;
  }
  const number = formatMicroversion(microversion);
  return {
    ...prepared,
    headers: {
      ...prepared.headers,
      "OpenStack-API-Version": `compute ${number}`,
      "X-OpenStack-Nova-API-Version": number,
    },
  };
}

/**
 * Builds a Nova fault response. overLimit always carries `Retry-After` and the
 * body `retryAfter`, defaulting to {@link DEFAULT_RETRY_AFTER_SECONDS}.
 */
export function novaFaultResponse(
  fault: Omit<NovaFault, "kind">,
  version: ApiVersion,
  extraHeaders: Record<string, string> = {},
): PreparedResponse {
  const status = fault.status ?? FAULT_STATUS[fault.name];
  const message = fault.message ?? DEFAULT_FAULT_MESSAGES[fault.name];
  const retryAfter =
    fault.name === "overLimit"
      ? (fault.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS)
      : fault.retryAfterSeconds;

  const bodyRetryAfter = fault.name === "overLimit" ? retryAfter : undefined;
  const body = novaFaultBody(
    fault.name,
    status,
    message,
    fault.details,
    bodyRetryAfter,
  );

  // Nova 26 adds a charset to its fault bodies, not to its other bodies.
  const headers: Record<string, string> = {
    "Content-Type": "application/json; charset=UTF-8",
    ...extraHeaders,
  };
  if (retryAfter !== undefined) {
    headers["Retry-After"] = String(retryAfter);
  }
  return novaJsonResponse(status, body, version, headers);
}

/** Builds a Nova fault with `message`, or with the default one of `name`. */
export function novaFault(
  name: FaultName,
  version: ApiVersion,
  message?: string,
): PreparedResponse {
  return novaFaultResponse(
    message === undefined ? { name } : { name, message },
    version,
  );
}

/**
 * Builds the 401 of the authentication middleware in front of Nova. It has
 * its own body shape and no request id headers.
 */
export function keystoneUnauthorized(identityUri: string): PreparedResponse {
  const body = {
    error: {
      code: 401,
      title: "Unauthorized",
      message: "The request you have made requires authentication.",
    },
  };
  const headers = {
    "Content-Type": "application/json",
    "WWW-Authenticate": `Keystone uri="${identityUri}"`,
  };
  return withLength(401, headers, Buffer.from(JSON.stringify(body)));
}

/**
 * Builds the web framework's 404 for an unrouted path: a flat body with the
 * code as a string and HTML in the message. Under /v2 and /v2.1 (`version`
 * given) Nova's request id middleware adds its headers, but no microversion
 * headers.
 */
export function flatNotFound(version?: ApiVersion): PreparedResponse {
  const body = {
    message: "The resource could not be found.<br /><br />\n\n\n",
    code: "404 Not Found",
    title: "Not Found",
  };
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (version !== undefined) {
    const { "X-Compute-Request-Id": computeId, "X-OpenStack-Request-Id": id } =
      novaHeaders(version);
    headers["X-Compute-Request-Id"] = computeId!;
    headers["X-OpenStack-Request-Id"] = id!;
  }
  return withLength(404, headers, Buffer.from(pythonJson(body)));
}

function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? "Error";
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Builds a load balancer's HTML error page. */
export function htmlPage(status: number): PreparedResponse {
  const title = `${status} ${reasonPhrase(status)}`;
  const message = HTML_MESSAGES[status] ?? title;
  const html = `<html><body><h1>${title}</h1>\n${message}\n</body></html>\n`;
  const headers = { "Content-Type": "text/html" };
  return withLength(status, headers, Buffer.from(html));
}

/** Builds a proxy's redirect with a small HTML body. */
export function redirectResponse(
  status: number,
  location: string,
): PreparedResponse {
  const title = `${status} ${reasonPhrase(status)}`;
  const link = `<a href="${escapeHtml(location)}">${escapeHtml(location)}</a>`;
  const html = `<html><body><h1>${title}</h1>\n${link}\n</body></html>\n`;
  const headers = { "Content-Type": "text/html", Location: location };
  return withLength(status, headers, Buffer.from(html));
}

/**
 * Builds the response of a fixture file. Headers are sent as given, and
 * `Content-Length` is added only when the fixture has none.
 */
export function replayResponse(
  fault: Extract<Fault, { kind: "replay" }>,
): PreparedResponse {
  let body = Buffer.alloc(0);
  if (fault.text !== undefined) {
    body = Buffer.from(fault.text);
  } else if (fault.body !== undefined) {
    body = Buffer.from(JSON.stringify(fault.body));
  }

  const headers = { ...fault.headers };
  const hasLength = Object.keys(headers).some(
    (name) => name.toLowerCase() === "content-length",
  );
  if (!hasLength) {
    headers["Content-Length"] = String(body.length);
  }
  return { status: fault.status, headers, body };
}

/**
 * Returns `prepared` as a 200 whose body is cut in half. A proper prefix of a
 * JSON object never parses, because only the final `}` closes it.
 */
export function truncatedJson(prepared: PreparedResponse): PreparedResponse {
  const cut = Math.max(1, Math.floor(prepared.body.length / 2));
  const headers = { ...prepared.headers, "Content-Type": "application/json" };
  return withLength(200, headers, prepared.body.subarray(0, cut));
}
