import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";

/** One request as the simulator received it. */
export interface ReceivedRequest {
  method: string;
  /** The request target as received, percent-encoding and query included. */
  path: string;
  /** Lower-case names with values as received, repeats joined by ", ". */
  headers: Record<string, string>;
  /** The decoded image id, on `/images/{id}` routes of any method. */
  imageId?: string;
  /**
   * The status sent, "reset" if the socket was destroyed before a complete
   * response, "hang" if no response will come. Undefined while pending.
   */
  status?: number | "reset" | "hang";
  /** Epoch milliseconds, with sub-millisecond precision. */
  receivedAt: number;
  /**
   * Epoch milliseconds when the last byte of the response was handed to the
   * socket, or when the socket was destroyed. Undefined while pending and
   * for "hang".
   */
  answeredAt?: number;
  /** Serial number of the TCP connection, from 1, to observe keep-alive. */
  connection: number;
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function receivedHeaders(
  request: IncomingMessage,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] ?? "").toLowerCase();
    const value = raw[index + 1] ?? "";
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
  return headers;
}

/** Records `status` now and `answeredAt` once the response has finished. */
export function markResponse(
  entry: ReceivedRequest,
  response: ServerResponse,
  status: number,
): void {
  entry.status = status;
  response.once("finish", () => {
    entry.answeredAt = now();
  });
}

export function markDestroyed(entry: ReceivedRequest): void {
  entry.status = "reset";
  entry.answeredAt = now();
}
