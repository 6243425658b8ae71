import type { ErrorCode } from "../../src/errors";
import type { ResponseHeaders } from "../../src/upstream/faults";
import {
  MAX_RETRY_AFTER_SECONDS,
  parseFault,
  readRequestId,
} from "../../src/upstream/faults";
import { fixtureBodyText, readFixture } from "./fixtures";

const NOW = new Date("2015-10-21T07:27:00.000Z");

function parseFixtureFault(name: string) {
  const fixture = readFixture(name);
  return parseFault(
    fixture.status,
    fixture.headers,
    fixtureBodyText(fixture),
    NOW,
  );
}

/** Builds Nova's `{"<faultName>": {code, message}}` body. */
function novaBody(fault: string, code: number, message: string): string {
  return JSON.stringify({ [fault]: { code, message } });
}

describe("parseFault fixtures", () => {
  test("Keystone 401 error body", () => {
    expect(parseFixtureFault("fault-401-keystone")).toStrictEqual({
      code: "UNAUTHENTICATED",
      upstream: {
        status: 401,
        fault: "error",
        message: "The request you have made requires authentication.",
        requestId: null,
      },
      retryAfter: undefined,
    });
  });

  test("403 forbidden fault", () => {
    expect(parseFixtureFault("fault-403-forbidden")).toStrictEqual({
      code: "FORBIDDEN",
      upstream: {
        status: 403,
        fault: "forbidden",
        message: "Policy doesn't allow compute:get_image to be performed.",
        requestId: "req-00000000-0000-4000-a000-000000000008",
      },
      retryAfter: undefined,
    });
  });

  test("404 flat webob body", () => {
    expect(parseFixtureFault("fault-404-flat-webob")).toStrictEqual({
      code: "NOT_FOUND",
      upstream: {
        status: 404,
        fault: null,
        message: "The resource could not be found.",
        requestId: null,
      },
      retryAfter: undefined,
    });
  });

  test("404 itemNotFound fault", () => {
    expect(parseFixtureFault("fault-404-item-not-found")).toStrictEqual({
      code: "NOT_FOUND",
      upstream: {
        status: 404,
        fault: "itemNotFound",
        message: "Image not found.",
        requestId: "req-00000000-0000-4000-a000-000000000006",
      },
      retryAfter: undefined,
    });
  });

  test("413 overLimit fault", () => {
    expect(parseFixtureFault("fault-413-over-limit")).toStrictEqual({
      code: "OVER_LIMIT",
      upstream: {
        status: 413,
        fault: "overLimit",
        message: "This request was rate-limited.",
        requestId: "req-00000000-0000-4000-a000-000000000007",
      },
      retryAfter: 54,
    });
  });

  test("500 computeFault", () => {
    expect(parseFixtureFault("fault-500-compute-fault")).toStrictEqual({
      code: "UPSTREAM_ERROR",
      upstream: {
        status: 500,
        fault: "computeFault",
        message:
          "The server has either erred or is incapable of performing the requested operation.",
        requestId: "req-00000000-0000-4000-a000-000000000009",
      },
      retryAfter: undefined,
    });
  });

  test("503 proxy HTML page", () => {
    expect(parseFixtureFault("fault-503-proxy-html")).toStrictEqual({
      code: "SERVICE_UNAVAILABLE",
      upstream: {
        status: 503,
        fault: null,
        message: null,
        requestId: null,
      },
      retryAfter: undefined,
    });
  });
});

describe("parseFault Nova statuses", () => {
  const cases: [number, string, ErrorCode][] = [
    [400, "badRequest", "BAD_REQUEST"],
    [401, "unauthorized", "UNAUTHENTICATED"],
    [403, "forbidden", "FORBIDDEN"],
    [404, "itemNotFound", "NOT_FOUND"],
    [405, "badMethod", "METHOD_NOT_ALLOWED"],
    [409, "conflictingRequest", "CONFLICT"],
    [413, "overLimit", "OVER_LIMIT"],
    [429, "overLimit", "OVER_LIMIT"],
    [500, "computeFault", "UPSTREAM_ERROR"],
    [502, "computeFault", "UPSTREAM_ERROR"],
    [503, "serviceUnavailable", "SERVICE_UNAVAILABLE"],
    [504, "computeFault", "UPSTREAM_ERROR"],
    [418, "computeFault", "UPSTREAM_ERROR"],
  ];

  test.each(cases)("status %i %s is %s", (status, fault, code) => {
    const body = novaBody(fault, status, `Failure ${status}.`);
    const result = parseFault(status, {}, body, NOW);

    expect(result.code).toBe(code);
    expect(result.upstream.status).toBe(status);
    expect(result.upstream.fault).toBe(fault);
    expect(result.upstream.message).toBe(`Failure ${status}.`);
  });

  test.each([
    [502, "UPSTREAM_ERROR"],
    [503, "SERVICE_UNAVAILABLE"],
    [504, "UPSTREAM_ERROR"],
  ])("status %i HTML page is %s", (status, code) => {
    const html = `<html><body><h1>${status} Gateway</h1></body></html>`;

    expect(parseFault(status, {}, html, NOW).code).toBe(code);
  });
});

describe("parseFault bodies", () => {
  test("HTML body has no fault", () => {
    const html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    const result = parseFault(502, { "content-type": "text/html" }, html, NOW);

    expect(result.upstream.fault).toBeNull();
    expect(result.upstream.message).toBeNull();
  });

  test.each([[""], ["   "], ["null"], ["[]"], ['"Not found"'], ["42"], ["{"]])(
    "body %j has no fault",
    (text) => {
      const result = parseFault(404, {}, text, NOW);

      expect(result.code).toBe("NOT_FOUND");
      expect(result.upstream.fault).toBeNull();
      expect(result.upstream.message).toBeNull();
    },
  );

  test("empty object body has no fault", () => {
    const result = parseFault(500, {}, "{}", NOW);

    expect(result.upstream.fault).toBeNull();
    expect(result.upstream.message).toBeNull();
  });

  test("flat body with one key", () => {
    const result = parseFault(400, {}, '{"message": "Bad image ref."}', NOW);

    expect(result.upstream.fault).toBeNull();
    expect(result.upstream.message).toBe("Bad image ref.");
  });

  test("non-string message becomes null", () => {
    const body = JSON.stringify({ badRequest: { code: 400, message: 7 } });

    expect(parseFault(400, {}, body, NOW).upstream.message).toBeNull();
  });
});

describe("parseFault messages", () => {
  test("HTML tags stripped", () => {
    const body = novaBody(
      "badRequest",
      400,
      "<p>Invalid <b>imageRef</b> provided.</p>\n\n",
    );

    expect(parseFault(400, {}, body, NOW).upstream.message).toBe(
      "Invalid imageRef provided.",
    );
  });

  test("whitespace runs collapsed", () => {
    const body = novaBody("badRequest", 400, "  Invalid\n\t  request.  ");

    expect(parseFault(400, {}, body, NOW).upstream.message).toBe(
      "Invalid request.",
    );
  });

  test("tag-only message becomes null", () => {
    const body = novaBody("badRequest", 400, "<br /><br />\n");

    expect(parseFault(400, {}, body, NOW).upstream.message).toBeNull();
  });

  test("long message truncated", () => {
    const body = novaBody("computeFault", 500, "x".repeat(600));
    const message = parseFault(500, {}, body, NOW).upstream.message;

    expect(message).toBe(`${"x".repeat(500)}…`);
  });

  test("500-character message kept whole", () => {
    const body = novaBody("computeFault", 500, "y".repeat(500));
    const message = parseFault(500, {}, body, NOW).upstream.message;

    expect(message).toBe("y".repeat(500));
  });

  test("truncation counts the cleaned text", () => {
    const text = `<div>${"z".repeat(500)}</div>`;
    const body = novaBody("computeFault", 500, text);
    const message = parseFault(500, {}, body, NOW).upstream.message;

    expect(message).toBe("z".repeat(500));
  });

  test("truncation keeps surrogate pairs whole", () => {
    const body = novaBody("computeFault", 500, `${"a".repeat(499)}😀😀`);
    const message = parseFault(500, {}, body, NOW).upstream.message ?? "";
    const loneSurrogate =
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

    expect(message).not.toMatch(loneSurrogate);
  });
});

describe("parseFault request id", () => {
  test("X-Compute-Request-Id read", () => {
    const headers = { "x-compute-request-id": "req-compute" };

    expect(parseFault(404, headers, "", NOW).upstream.requestId).toBe(
      "req-compute",
    );
  });

  test("X-OpenStack-Request-Id fallback", () => {
    const headers = { "x-openstack-request-id": "req-openstack" };

    expect(parseFault(404, headers, "", NOW).upstream.requestId).toBe(
      "req-openstack",
    );
  });

  test("X-Compute-Request-Id wins over fallback", () => {
    const headers = {
      "x-openstack-request-id": "req-openstack",
      "x-compute-request-id": "req-compute",
    };

    expect(parseFault(404, headers, "", NOW).upstream.requestId).toBe(
      "req-compute",
    );
  });

  test("array request id uses first", () => {
    const headers = { "x-compute-request-id": ["req-first", "req-second"] };

    expect(parseFault(404, headers, "", NOW).upstream.requestId).toBe(
      "req-first",
    );
  });

  test("empty array request id falls back", () => {
    const headers: ResponseHeaders = {
      "x-compute-request-id": [],
      "x-openstack-request-id": "req-openstack",
    };

    expect(parseFault(404, headers, "", NOW).upstream.requestId).toBe(
      "req-openstack",
    );
  });

  test("no request id is null", () => {
    expect(parseFault(404, {}, "", NOW).upstream.requestId).toBeNull();
  });

  test("readRequestId on success headers", () => {
    const headers = { "x-openstack-request-id": "req-ok" };

    expect(readRequestId(headers)).toBe("req-ok");
  });
});

describe("parseFault Retry-After header", () => {
  function retryAfterOf(headers: ResponseHeaders, body = ""): unknown {
    return parseFault(503, headers, body, NOW).retryAfter;
  }

  test.each([
    ["54", 54],
    ["0", 0],
    [" 120 ", 120],
    ["1.5", 2],
    ["0.2", 1],
  ])("seconds %j become %i", (value, expected) => {
    expect(retryAfterOf({ "retry-after": value })).toBe(expected);
  });

  test("HTTP-date becomes seconds from now", () => {
    const value = "Wed, 21 Oct 2015 07:28:00 GMT";

    expect(retryAfterOf({ "retry-after": value })).toBe(60);
  });

  test("HTTP-date rounds partial seconds up", () => {
    const headers = { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" };
    const now = new Date("2015-10-21T07:27:00.500Z");

    expect(parseFault(429, headers, "", now).retryAfter).toBe(60);
  });

  test.each([
    ["99999999999999999999", {}],
    ["3601", {}],
    ["Wed, 21 Oct 2099 07:28:00 GMT", {}],
    ["soon", { overLimit: { retryAfter: 1e30 } }],
    ["soon", { overLimit: { retryAt: "2099-10-21T07:28:00Z" } }],
  ])("far wait %j %j is capped at an hour", (value, body) => {
    expect(retryAfterOf({ "retry-after": value }, JSON.stringify(body))).toBe(
      MAX_RETRY_AFTER_SECONDS,
    );
  });

  test("cap is one hour", () => {
    expect(MAX_RETRY_AFTER_SECONDS).toBe(3600);
    expect(retryAfterOf({ "retry-after": "3600" })).toBe(3600);
  });

  test("past HTTP-date becomes zero", () => {
    const value = "Wed, 21 Oct 2015 07:00:00 GMT";

    expect(retryAfterOf({ "retry-after": value })).toBe(0);
  });

  test.each([["soon"], [""], ["tomorrow"], ["-1"], ["+5"], ["later 2020"]])(
    "garbage %j is ignored",
    (value) => {
      expect(retryAfterOf({ "retry-after": value })).toBeUndefined();
    },
  );

  test("garbage header falls back to body", () => {
    const body = JSON.stringify({ overLimit: { retryAfter: "54" } });

    expect(retryAfterOf({ "retry-after": "soon" }, body)).toBe(54);
  });

  test("negative header falls back to body", () => {
    const body = JSON.stringify({ overLimit: { retryAfter: "54" } });

    expect(retryAfterOf({ "retry-after": "-1" }, body)).toBe(54);
  });

  test("header wins over body", () => {
    const body = JSON.stringify({ overLimit: { retryAfter: "54" } });

    expect(retryAfterOf({ "retry-after": "10" }, body)).toBe(10);
  });

  test("array header uses first", () => {
    expect(retryAfterOf({ "retry-after": ["5", "10"] })).toBe(5);
  });

  test("no header and body is undefined", () => {
    expect(retryAfterOf({})).toBeUndefined();
  });
});

describe("parseFault retry in body", () => {
  function retryAfterOf(detail: Record<string, unknown>): unknown {
    const body = JSON.stringify({ overLimit: { code: 413, ...detail } });
    return parseFault(413, {}, body, NOW).retryAfter;
  }

  test.each([
    [54, 54],
    [0, 0],
    [2.5, 3],
    ["54", 54],
    [" 54 ", 54],
    ["2.5", 3],
  ])("retryAfter %j becomes %i", (retryAfter, expected) => {
    expect(retryAfterOf({ retryAfter })).toBe(expected);
  });

  test.each([[-5], ["soon"], ["-5"], [null], [true]])(
    "retryAfter %j is ignored",
    (retryAfter) => {
      expect(retryAfterOf({ retryAfter })).toBeUndefined();
    },
  );

  test("retryAt becomes seconds from now", () => {
    expect(retryAfterOf({ retryAt: "2015-10-21T07:28:30Z" })).toBe(90);
  });

  test("past retryAt becomes zero", () => {
    expect(retryAfterOf({ retryAt: "2015-10-21T07:00:00Z" })).toBe(0);
  });

  test("retryAt garbage is ignored", () => {
    expect(retryAfterOf({ retryAt: "soon" })).toBeUndefined();
  });

  test("retryAfter wins over retryAt", () => {
    const detail = { retryAfter: 5, retryAt: "2015-10-21T07:28:30Z" };

    expect(retryAfterOf(detail)).toBe(5);
  });

  test("invalid retryAfter falls to retryAt", () => {
    const detail = { retryAfter: "soon", retryAt: "2015-10-21T07:28:30Z" };

    expect(retryAfterOf(detail)).toBe(90);
  });

  test("flat body retryAfter read", () => {
    const body = JSON.stringify({ message: "Slow down.", retryAfter: 7 });

    expect(parseFault(429, {}, body, NOW).retryAfter).toBe(7);
  });
});
