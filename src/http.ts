import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { HTTPGraphQLResponse } from "@apollo/server";
import { HeaderMap } from "@apollo/server";

/** Raised when a request body is larger than the limit. */
export class RequestTooLargeError extends Error {
  override name = "RequestTooLargeError";
}

/** Raised when the client closes its connection before the end of its body. */
export class RequestAbortedError extends Error {
  override name = "RequestAbortedError";
}

/**
 * Reads a JSON request body of at most `maxBytes`. Returns the raw text for
 * other content types, which Apollo Server then rejects with its own message.
 *
 * @throws RequestTooLargeError, RequestAbortedError, or SyntaxError for
 *   invalid JSON.
 */
export async function readJsonBody(
  request: IncomingMessage,
  maxBytes: number,
): Promise<unknown> {
  const tooLarge = () =>
    new RequestTooLargeError(
      `The request body is larger than the limit of ${maxBytes} bytes (MAX_REQUEST_BYTES).`,
    );
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    request.resume();
    throw tooLarge();
  }

  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        request.resume();
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ECONNRESET") {
      throw new RequestAbortedError(
        "the client closed the connection before the end of its request body",
        { cause: error },
      );
    }
    throw error;
  }
  if (size === 0) return undefined;

  const text = Buffer.concat(chunks).toString("utf8");
  const contentType = request.headers["content-type"] ?? "";
  return /\bjson\b/i.test(contentType) ? JSON.parse(text) : text;
}

/** Copies the request headers into the map that Apollo Server reads. */
export function toHeaderMap(request: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

export async function writeGraphQLResponse(
  response: ServerResponse,
  result: HTTPGraphQLResponse,
): Promise<void> {
  for (const [name, value] of result.headers) response.setHeader(name, value);
  response.statusCode = result.status ?? 200;

  if (result.body.kind === "complete") {
    response.end(result.body.string);
    return;
  }
  for await (const chunk of result.body.asyncIterator) response.write(chunk);
  response.end();
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
  });
  response.end(JSON.stringify(body));
}

/** Sends a GraphQL response that has only a request error. */
export function sendGraphQLError(
  response: ServerResponse,
  status: number,
  message: string,
  code: string,
): void {
  sendJson(response, status, { errors: [{ message, extensions: { code } }] });
}

export function listen(
  server: Server,
  port: number,
  host: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      reject(
        new Error(
          `Listening on HOST ${JSON.stringify(host)}, PORT ${port} failed: ${error.message}. Set HOST to a local address and PORT to a free port.`,
          { cause: error },
        ),
      );
    };
    server.once("error", fail);
    server.listen(port, host, () => {
      server.off("error", fail);
      resolve();
    });
  });
}

export interface CloseResult {
  /** Connections still open when the grace period ended, closed without waiting. */
  cutConnections: number;
}

/**
 * Stops accepting connections and resolves when every open one has closed,
 * or after `graceMs`, when the remaining connections are cut.
 */
export function closeServer(
  server: Server,
  graceMs: number,
): Promise<CloseResult> {
  return new Promise((resolve) => {
    let cutConnections = 0;
    const cut = setTimeout(() => {
      server.getConnections((error, count) => {
        cutConnections = error === null ? count : 0;
        server.closeAllConnections();
      });
    }, graceMs);
    // Keep-alive connections turn idle as their last responses finish.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(cut);
      clearInterval(sweep);
      resolve({ cutConnections });
    });
    server.closeIdleConnections();
  });
}
