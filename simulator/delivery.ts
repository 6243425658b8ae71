import type { ServerResponse } from "node:http";

import type { PreparedResponse } from "./responses";

/** Timers that `clear()` cancels together when the simulator closes. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  schedule(delayMs: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      callback();
    }, delayMs);
    this.pending.add(timer);
  }

  /**
   * Resolves after `delayMs`, or at once for 0. After `clear()` the promise
   * never settles, which ends the request handler that awaits it.
   */
  sleep(delayMs: number): Promise<void> {
    if (delayMs <= 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.schedule(delayMs, resolve));
  }

  clear(): void {
    for (const timer of this.pending) {
      clearTimeout(timer);
    }
    this.pending.clear();
  }
}

export function writeResponse(
  response: ServerResponse,
  prepared: PreparedResponse,
): void {
  response.writeHead(prepared.status, prepared.headers);
  response.end(prepared.body);
}

/**
 * Sends `prepared` with its body split into `chunks` writes, `delayMs` apart.
 */
export function sendSlowly(
  response: ServerResponse,
  prepared: PreparedResponse,
  delayMs: number,
  chunks: number,
  timers: Timers,
): void {
  const size = Math.max(1, Math.ceil(prepared.body.length / chunks));
  const parts: Buffer[] = [];
  for (let start = 0; start < prepared.body.length; start += size) {
    parts.push(prepared.body.subarray(start, start + size));
  }

  response.writeHead(prepared.status, prepared.headers);
  const writeNext = (index: number): void => {
    const part = parts[index];
    if (response.destroyed || part === undefined) {
      response.end();
      return;
    }

    response.write(part);
    timers.schedule(delayMs, () => writeNext(index + 1));
  };
  writeNext(0);
}

/**
 * Sends the status line, the headers (with the full `Content-Length`) and
 * the first half of the body, then destroys the socket once that is flushed.
 * The close is a FIN, not an RST, because an RST can make the client's
 * kernel drop the bytes it has not read yet, headers included.
 */
export function sendThenDestroy(
  response: ServerResponse,
  prepared: PreparedResponse,
): void {
  const cut = Math.max(1, Math.floor(prepared.body.length / 2));
  response.writeHead(prepared.status, prepared.headers);
  response.write(prepared.body.subarray(0, cut), () => {
    response.req.socket.destroy();
  });
}

/**
 * Sends `prepared` and closes the connection. With `announce` the response
 * carries `Connection: close`. Without it the response keeps Node's keep-alive
 * headers
 * and the socket is ended after the last byte, so a client that pools the
 * connection learns of the close only from the FIN.
 */
export function sendThenClose(
  response: ServerResponse,
  prepared: PreparedResponse,
  announce: boolean,
): void {
  if (announce) {
    writeResponse(response, {
      ...prepared,
      headers: { ...prepared.headers, Connection: "close" },
    });
    return;
  }

  // From the request, because the response may not have its socket yet.
  const socket = response.req.socket;
  response.writeHead(prepared.status, prepared.headers);
  response.end(prepared.body, () => {
    socket?.end();
  });
}

/**
 * Resets the TCP connection (RST) before any response bytes. The socket is
 * taken from the request, because Node assigns it to the response only once
 * the previous response on the connection has finished, and a keep-alive
 * client can send its next request before that.
 */
export function resetConnection(response: ServerResponse): void {
  response.req.socket.resetAndDestroy();
}
