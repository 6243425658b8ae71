import type { IncomingMessage, ServerResponse } from "node:http";

import type { Fault } from "./faults";
import type { Simulator } from "./server";

/**
 * Path prefix of the control API. It takes no token, because the simulator
 * listens only on loopback, where only processes on this host reach it.
 */
export const CONTROL_PREFIX = "/_simulator";

const MAX_BODY_BYTES = 1024 * 1024;

const ENDPOINTS: Record<string, readonly string[]> = {
  [`${CONTROL_PREFIX}/requests`]: ["GET"],
  [`${CONTROL_PREFIX}/reset`]: ["POST"],
  [`${CONTROL_PREFIX}/faults`]: ["POST", "DELETE"],
  [`${CONTROL_PREFIX}/latency`]: ["POST"],
};

/** An invalid control request, sent back as its status and message. */
class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function isControlPath(rawTarget: string): boolean {
  const path = rawTarget.split("?", 1)[0] ?? "";
  return path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
  });
  response.end(text);
}

function sendNoContent(response: ServerResponse): void {
  response.writeHead(204);
  response.end();
}

async function readJsonObject(
  request: IncomingMessage,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new ControlError(
        413,
        `Request body exceeds ${MAX_BODY_BYTES} bytes.`,
      );
    }
    chunks.push(buffer);
  }

  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new ControlError(
      400,
      `Invalid JSON body: ${(error as Error).message}`,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ControlError(400, "Invalid body: expected a JSON object.");
  }
  return body as Record<string, unknown>;
}

/** Runs a validating call and turns its TypeError or RangeError into a 400. */
function rejectInvalid(call: () => void): void {
  try {
    call();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new ControlError(400, error.message);
    }
    throw error;
  }
}

async function injectFault(
  request: IncomingMessage,
  simulator: Simulator,
): Promise<void> {
  const body = await readJsonObject(request);
  const times = body["times"];
  if (times !== undefined && typeof times !== "number") {
    throw new ControlError(400, "Invalid times: expected a positive integer.");
  }

  // inject() validates the id, the fault and the count.
  const options = times === undefined ? {} : { times };
  rejectInvalid(() =>
    simulator.inject(
      body["imageId"] as string,
      body["fault"] as Fault,
      options,
    ),
  );
}

async function setLatency(
  request: IncomingMessage,
  simulator: Simulator,
): Promise<void> {
  const body = await readJsonObject(request);
  rejectInvalid(() => simulator.setLatency(body["ms"] as number));
}

async function dispatch(
  endpoint: string,
  request: IncomingMessage,
  response: ServerResponse,
  simulator: Simulator,
): Promise<void> {
  switch (endpoint) {
    case `GET ${CONTROL_PREFIX}/requests`:
      return sendJson(response, 200, simulator.requests);
    case `POST ${CONTROL_PREFIX}/reset`:
      simulator.reset();
      return sendNoContent(response);
    case `POST ${CONTROL_PREFIX}/faults`:
      await injectFault(request, simulator);
      return sendNoContent(response);
    case `DELETE ${CONTROL_PREFIX}/faults`:
      simulator.clearFaults();
      return sendNoContent(response);
    case `POST ${CONTROL_PREFIX}/latency`:
      await setLatency(request, simulator);
      return sendNoContent(response);
  }

  const [method, path = ""] = endpoint.split(" ");
  const allowed = ENDPOINTS[path];
  if (allowed === undefined) {
    const known = Object.keys(ENDPOINTS).join(", ");
    throw new ControlError(
      404,
      `No control endpoint ${path}. Endpoints: ${known}.`,
    );
  }
  throw new ControlError(
    405,
    `Method ${method} is not allowed on ${path}. Allowed: ${allowed.join(", ")}.`,
  );
}

/**
 * Serves the control API: `GET /requests` (the request log), `POST /reset`,
 * `POST /faults` with `{imageId, fault, times?}`, `DELETE /faults` and
 * `POST /latency` with `{ms}`. Invalid requests get `{"error": message}`.
 */
export async function handleControl(
  request: IncomingMessage,
  response: ServerResponse,
  simulator: Simulator,
): Promise<void> {
  const path = (request.url ?? "").split("?", 1)[0] ?? "";
  const endpoint = `${request.method ?? "GET"} ${path}`;

  try {
    await dispatch(endpoint, request, response, simulator);
  } catch (error) {
    if (error instanceof ControlError) {
      const allow = ENDPOINTS[path];
      const headers: Record<string, string> =
        error.status === 405 && allow ? { Allow: allow.join(", ") } : {};
      sendJson(response, error.status, { error: error.message }, headers);
      return;
    }
    throw error;
  }
}
