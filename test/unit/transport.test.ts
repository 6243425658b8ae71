import net from "node:net";
import type { AddressInfo } from "node:net";
import vm from "node:vm";
import { Client, errors } from "undici";
import type { TransportFailure } from "../../src/upstream/transport";
import { classifyTransportError } from "../../src/upstream/transport";

/** Node's shape of a system error, as `net` and `dns` raise it. */
function systemError(code: string, syscall: string, message: string): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall });
}

function withCode(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/** Open sockets of each server from `startServer`, which `stopServer` destroys. */
const openSockets = new Map<net.Server, Set<net.Socket>>();

/** Starts a TCP server on 127.0.0.1 that hands each socket to `onSocket`. */
async function startServer(
  onSocket: (socket: net.Socket) => void,
): Promise<net.Server> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  openSockets.set(server, sockets);
  await new Promise<void>((resolve) => {
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
}

function originOf(server: net.Server): string {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Closes the server, destroying sockets that a silent handler left open. */
async function stopServer(server: net.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => resolve());
  });
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
  openSockets.delete(server);
  await closed;
}

/** Returns an origin on 127.0.0.1 whose port was just released. */
async function closedOrigin(): Promise<string> {
  const server = await startServer(() => undefined);
  const origin = originOf(server);
  await stopServer(server);
  return origin;
}

/** Sends one GET through a fresh undici Client and returns its error. */
async function requestError(
  origin: string,
  options: ConstructorParameters<typeof Client>[1] = {},
): Promise<unknown> {
  const client = new Client(origin, options);
  try {
    return await rejectionOf(
      client
        .request({ method: "GET", path: "/images/x" })
        .then((response) => response.body.text()),
    );
  } finally {
    await client.destroy();
  }
}

/** Starts a server that writes `raw` once the request arrives. */
async function serverAnswering(raw: string, end: boolean): Promise<net.Server> {
  return startServer((socket) => {
    socket.once("data", () => {
      if (end) socket.end(raw);
      else socket.write(raw);
    });
    socket.on("error", () => undefined);
  });
}

describe("classifyTransportError undici classes", () => {
  const cases: [string, Error, TransportFailure][] = [
    ["SocketError", new errors.SocketError("other side closed"), "reset"],
    [
      "HeadersTimeoutError",
      new errors.HeadersTimeoutError("Headers Timeout Error"),
      "timeout",
    ],
    [
      "BodyTimeoutError",
      new errors.BodyTimeoutError("Body Timeout"),
      "timeout",
    ],
    [
      "ConnectTimeoutError",
      new errors.ConnectTimeoutError("Connect Timeout"),
      "timeout",
    ],
    [
      "ClientDestroyedError",
      new errors.ClientDestroyedError("The client is destroyed"),
      "unavailable",
    ],
    [
      "ClientClosedError",
      new errors.ClientClosedError("The client is closed"),
      "unavailable",
    ],
    [
      "ResponseContentLengthMismatchError",
      new errors.ResponseContentLengthMismatchError("length mismatch"),
      "malformed",
    ],
    [
      "ResponseExceededMaxSizeError",
      new errors.ResponseExceededMaxSizeError("too large"),
      "malformed",
    ],
  ];

  test.each(cases)("%s is classified", (_name, error, expected) => {
    expect(classifyTransportError(error)).toBe(expected);
  });

  test("generic UndiciError is unknown", () => {
    expect(classifyTransportError(new errors.UndiciError("x"))).toBe("unknown");
  });
});

describe("classifyTransportError system errors", () => {
  test.each([
    ["ECONNREFUSED", "connect", "unavailable"],
    ["ECONNRESET", "read", "reset"],
    ["ENOTFOUND", "getaddrinfo", "unavailable"],
    ["EAI_AGAIN", "getaddrinfo", "unavailable"],
    ["EPIPE", "write", "reset"],
    ["EHOSTUNREACH", "connect", "unavailable"],
    ["ETIMEDOUT", "connect", "timeout"],
  ])("%s is %s", (code, syscall, expected) => {
    const error = systemError(code, syscall, `${syscall} ${code}`);

    expect(classifyTransportError(error)).toBe(expected);
  });

  test("ENOTFOUND lookup error", () => {
    const error = Object.assign(
      new Error("getaddrinfo ENOTFOUND images.example.test"),
      {
        code: "ENOTFOUND",
        errno: -3008,
        syscall: "getaddrinfo",
        hostname: "images.example.test",
      },
    );

    expect(classifyTransportError(error)).toBe("unavailable");
  });
});

describe("classifyTransportError cause chains", () => {
  test("cause with code found", () => {
    const cause = systemError("ECONNRESET", "read", "read ECONNRESET");
    const error = new TypeError("fetch failed", { cause });

    expect(classifyTransportError(error)).toBe("reset");
  });

  test("two-level cause found", () => {
    const root = systemError("ECONNREFUSED", "connect", "connect ECONNREFUSED");
    const middle = new Error("connect failed", { cause: root });
    const error = new Error("request failed", { cause: middle });

    expect(classifyTransportError(error)).toBe("unavailable");
  });

  test("outer code wins over cause", () => {
    const cause = systemError("ECONNRESET", "read", "read ECONNRESET");
    const error = withCode("Headers Timeout", "UND_ERR_HEADERS_TIMEOUT", cause);

    expect(classifyTransportError(error)).toBe("timeout");
  });

  test("unknown outer code looks deeper", () => {
    const cause = withCode("timed out", "UND_ERR_BODY_TIMEOUT");
    const error = withCode("wrapped", "ERR_SOMETHING_ELSE", cause);

    expect(classifyTransportError(error)).toBe("timeout");
  });

  test("cyclic cause ends as unknown", () => {
    const error = new Error("loop");
    error.cause = error;

    expect(classifyTransportError(error)).toBe("unknown");
  });

  test("error from another realm", () => {
    // Node creates its system errors in the main realm, so in a vm context
    // (as under Jest) they fail `instanceof Error`.
    const error: unknown = vm.runInNewContext(
      'Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })',
    );

    expect(classifyTransportError(error)).toBe("unavailable");
  });

  test("plain object cause is read", () => {
    const error = new Error("wrapped", { cause: { code: "ECONNRESET" } });

    expect(classifyTransportError(error)).toBe("reset");
  });
});

describe("classifyTransportError parser codes", () => {
  test.each([
    ["HPE_INVALID_CONSTANT"],
    ["HPE_INVALID_CHUNK_SIZE"],
    ["HPE_UNEXPECTED_CONTENT_LENGTH"],
  ])("%s is malformed", (code) => {
    const error = withCode("Parse Error", code);

    expect(classifyTransportError(error)).toBe("malformed");
  });

  test("HPE_ code in cause", () => {
    const cause = withCode("Parse Error", "HPE_INVALID_STATUS");
    const error = new Error("request failed", { cause });

    expect(classifyTransportError(error)).toBe("malformed");
  });
});

describe("classifyTransportError unknown errors", () => {
  test.each([
    ["plain Error", new Error("boom")],
    ["Node code", withCode("bad argument", "ERR_INVALID_ARG_TYPE")],
    ["numeric code", Object.assign(new Error("x"), { code: 23 })],
    ["lower-case code", withCode("x", "econnreset")],
    ["abort", new DOMException("This operation was aborted", "AbortError")],
  ])("%s is unknown", (_label, error) => {
    expect(classifyTransportError(error)).toBe("unknown");
  });

  test.each([
    ["string", "ECONNRESET"],
    ["null", null],
    ["undefined", undefined],
    ["number", 104],
  ])("non-Error %s is unknown", (_label, value) => {
    expect(classifyTransportError(value)).toBe("unknown");
  });
});

describe("classifyTransportError plain objects", () => {
  test("object with code classified", () => {
    expect(classifyTransportError({ code: "ECONNRESET" })).toBe("reset");
  });

  test("object without code is unknown", () => {
    expect(classifyTransportError({ message: "boom" })).toBe("unknown");
  });
});

describe("classifyTransportError over loopback", () => {
  test("refused connection is unavailable", async () => {
    const error = await requestError(await closedOrigin());

    expect((error as { code?: unknown }).code).toBe("ECONNREFUSED");
    expect(classifyTransportError(error)).toBe("unavailable");
  });

  test("closed mid-body is reset", async () => {
    const raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    const server = await serverAnswering(raw, true);
    try {
      const error = await requestError(originOf(server));

      expect(error).toBeInstanceOf(errors.SocketError);
      expect(classifyTransportError(error)).toBe("reset");
    } finally {
      await stopServer(server);
    }
  });

  test("silent server headers timeout", async () => {
    const server = await startServer(() => undefined);
    try {
      const error = await requestError(originOf(server), {
        headersTimeout: 50,
      });

      expect(error).toBeInstanceOf(errors.HeadersTimeoutError);
      expect(classifyTransportError(error)).toBe("timeout");
    } finally {
      await stopServer(server);
    }
  });

  test("stalled body times out", async () => {
    const raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
    const server = await serverAnswering(raw, false);
    try {
      const error = await requestError(originOf(server), { bodyTimeout: 50 });

      expect(error).toBeInstanceOf(errors.BodyTimeoutError);
      expect(classifyTransportError(error)).toBe("timeout");
    } finally {
      await stopServer(server);
    }
  });

  test("204 with length is malformed", async () => {
    const raw = "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n";
    const server = await serverAnswering(raw, true);
    try {
      const error = await requestError(originOf(server));

      expect(error).toBeInstanceOf(errors.ResponseContentLengthMismatchError);
      expect(classifyTransportError(error)).toBe("malformed");
    } finally {
      await stopServer(server);
    }
  });

  test("destroyed client is unavailable", async () => {
    const client = new Client(await closedOrigin());
    await client.destroy();
    const error = await rejectionOf(
      client.request({ method: "GET", path: "/images/x" }),
    );

    expect(error).toBeInstanceOf(errors.ClientDestroyedError);
    expect(classifyTransportError(error)).toBe("unavailable");
  });

  test("closed client is unavailable", async () => {
    const client = new Client(await closedOrigin());
    const closing = client.close();
    const error = await rejectionOf(
      client.request({ method: "GET", path: "/images/x" }),
    );
    await closing;

    expect(error).toBeInstanceOf(errors.ClientClosedError);
    expect(classifyTransportError(error)).toBe("unavailable");
  });

  test.each([
    ["status line", "garbage\r\n\r\n"],
    ["Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"],
    [
      "chunk size",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
  ])("invalid %s is malformed", async (_part, raw) => {
    const server = await serverAnswering(raw, true);
    try {
      const error = await requestError(originOf(server));

      expect(error).toBeInstanceOf(errors.HTTPParserError);
      expect(classifyTransportError(error)).toBe("malformed");
    } finally {
      await stopServer(server);
    }
  });
});
