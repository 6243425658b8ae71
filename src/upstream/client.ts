import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Context, Span } from "@opentelemetry/api";
import type { Logger } from "pino";
import { Pool } from "undici";
import type { Dispatcher } from "undici";
import type { Deadline } from "../deadline";
import { ImageError } from "../errors";
import type { ImageModel } from "../images/model";
import type { Metrics } from "../observability/metrics";
import { getTracer, injectTraceContext } from "../observability/tracing";
import { BodyTooLargeError, readBoundedBody } from "./body";
import { parseFault, readRequestId } from "./faults";
import type { ResponseHeaders } from "./faults";
import { NotAnImageError, parseImageBody } from "./image";
import { fetchImagesPage } from "./list";
import type { ImagesPage, PageRequest } from "./list";
import { RateLimitWindows } from "./rate-limits";
import { backoffDelayMs, isRetryableStatus, sleep } from "./retry";
import type { RetryPolicy } from "./retry";
import {
  describeTransportError,
  faultMessage,
  timeoutError,
  unavailableError,
} from "./messages";
import { classifyTransportError, startAttemptTimeout } from "./transport";

export interface ImagesApiOptions {
  /** The tenant-scoped endpoint, such as `https://dfw.servers.api.rackspacecloud.com/v2/010101`. */
  baseUrl: URL;
  /** Maximum time of one attempt, from connecting to the last body byte, in milliseconds. */
  timeoutMs: number;
  /** Maximum open connections to the upstream, shared by all requests. */
  maxConnections: number;
  /** How long an idle keep-alive connection stays open, in milliseconds. */
  keepAliveMs: number;
  /** Maximum size of an upstream body in bytes; a larger body is not read further. */
  maxBodyBytes: number;
  retry: RetryPolicy;
  /** Sent as `User-Agent`. */
  userAgent: string;
  logger: Logger;
  metrics: Metrics;
}

/** What one upstream call of a GraphQL request needs from that request. */
export interface CallOptions {
  deadline: Deadline;
  /** The OpenTelemetry context of the GraphQL operation, parent of the call's span. */
  traceContext?: Context;
}

/** The result of one attempt: an image, or an error and whether to try again. */
type AttemptResult =
  | { kind: "image"; image: ImageModel }
  | { kind: "error"; error: ImageError; retry: RetryAdvice };

type RetryAdvice =
  | { retry: false }
  | { retry: true; reason: string; afterMs: number | undefined };

/**
 * Client of `GET {baseUrl}/images/{id}` over one keep-alive connection pool,
 * shared by every GraphQL request. Redirects are not followed, and every
 * body is read or discarded so that its connection can be reused. Resets,
 * 502, 503 and 504 are retried with backoff inside the request's deadline.
 */
export class ImagesApiClient {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly rateLimits = new RateLimitWindows();

  constructor(private readonly options: ImagesApiOptions) {
    this.pool = new Pool(options.baseUrl.origin, {
      connections: options.maxConnections,
      keepAliveTimeout: options.keepAliveMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
    });
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, "");
  }

  /**
   * Fetches one image with the caller's token, retrying transient failures
   * while the deadline allows.
   *
   * @param id an image id already checked to be a UUID; it is encoded as
   *   one path segment all the same.
   * @throws ImageError with the code for every upstream or transport failure.
   */
  async fetchImage(
    id: string,
    token: string,
    call: CallOptions,
  ): Promise<ImageModel> {
    const { maxAttempts } = this.options.retry;
    for (let attempt = 1; ; attempt++) {
      await this.waitForRateLimit(id, token, call.deadline);

      const result = await this.traced(id, attempt, call, (headers, span) =>
        this.attempt(id, token, attempt, call.deadline, headers, span),
      );
      if (result.kind === "image") return result.image;

      const { error, retry } = result;
      if (error.code === "OVER_LIMIT" && error.retryAfter !== undefined) {
        this.rateLimits.block(token, error.retryAfter);
      }
      if (!retry.retry || attempt >= maxAttempts) throw error;

      const delayMs =
        retry.afterMs ?? backoffDelayMs(this.options.retry, attempt);
      if (delayMs >= call.deadline.remainingMs()) throw error;

      this.options.metrics.upstreamRetries.inc({ reason: retry.reason });
      this.options.logger.warn(
        { imageId: id, attempt, reason: retry.reason, delayMs },
        "retrying upstream call",
      );
      await sleep(delayMs);
    }
  }

  /**
   * Fetches one page of `GET {baseUrl}/images/detail` over the same pool, in
   * one attempt without retries.
   *
   * @throws ImageError without an `imageId` for every upstream or transport failure.
   */
  listImages(
    token: string,
    page: PageRequest,
    call: CallOptions,
  ): Promise<ImagesPage> {
    return fetchImagesPage(
      {
        dispatcher: this.pool,
        basePath: this.basePath,
        timeoutMs: this.options.timeoutMs,
        maxBodyBytes: this.options.maxBodyBytes,
        userAgent: this.options.userAgent,
        logger: this.options.logger,
      },
      token,
      page,
      call.deadline,
    );
  }

  /** Closes idle connections and waits for those in use. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Closes every connection at once and fails the calls still in flight. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  /**
   * Fails fast while the upstream rate-limits `token`, unless the window
   * ends inside the deadline: then it waits for the window instead.
   */
  private async waitForRateLimit(
    id: string,
    token: string,
    deadline: Deadline,
  ): Promise<void> {
    const remainingMs = this.rateLimits.remainingMs(token);
    if (remainingMs === 0) return;
    if (remainingMs < deadline.remainingMs()) {
      await sleep(remainingMs);
      return;
    }

    this.options.metrics.upstreamRateLimited.inc();
    const retryAfter = Math.ceil(remainingMs / 1000);
    throw new ImageError(
      "OVER_LIMIT",
      `The images API rate limit for this token is in effect; retry after ${retryAfter} s.`,
      { imageId: id, retryAfter },
    );
  }

  /** Runs one attempt in a client span, with the trace context in its headers. */
  private async traced(
    id: string,
    attempt: number,
    call: CallOptions,
    run: (
      headers: Record<string, string>,
      span: Span,
    ) => Promise<AttemptResult>,
  ): Promise<AttemptResult> {
    const span = getTracer().startSpan(
      "GET /images/{image_id}",
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": "GET",
          "images.image_id": id,
          "http.request.resend_count": attempt - 1,
        },
      },
      call.traceContext,
    );
    const headers: Record<string, string> = {};
    if (call.traceContext !== undefined) {
      injectTraceContext(trace.setSpan(call.traceContext, span), headers);
    }

    try {
      const result = await run(headers, span);
      if (result.kind === "error") {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: result.error.message,
        });
        span.setAttribute("error.type", result.error.code);
      }
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Makes one request and turns its answer into an image or a coded error. */
  private async attempt(
    id: string,
    token: string,
    attempt: number,
    deadline: Deadline,
    traceHeaders: Record<string, string>,
    span: Span,
  ): Promise<AttemptResult> {
    const started = performance.now();
    const timeoutMs = Math.min(this.options.timeoutMs, deadline.remainingMs());
    const timeout = startAttemptTimeout(timeoutMs);
    const { signal } = timeout;
    const bindings = { imageId: id, attempt };
    const logger = this.options.logger;

    let response: Dispatcher.ResponseData;
    let bodyText: string;
    try {
      response = await this.pool.request({
        method: "GET",
        // UUIDs are case-insensitive, and Nova stores them in lower case.
        path: `${this.basePath}/images/${encodeURIComponent(id.toLowerCase())}`,
        headers: {
          accept: "application/json",
          "user-agent": this.options.userAgent,
          "x-auth-token": token,
          ...traceHeaders,
        },
        signal,
      });
      bodyText = await readBoundedBody(response, this.options.maxBodyBytes);
    } catch (error) {
      const result = signal.aborted
        ? {
            kind: "error" as const,
            error: timeoutError(id, timeoutMs, deadline, error),
            retry: { retry: false as const },
          }
        : this.transportFailure(error, id, timeoutMs, deadline);
      this.record(started, "none", result.error.code);
      logger.warn(
        {
          ...bindings,
          err: error,
          code: result.error.code,
          durationMs: elapsed(started),
        },
        "upstream call failed",
      );
      return result;
    } finally {
      timeout.clear();
    }

    const status = response.statusCode;
    span.setAttribute("http.response.status_code", status);
    const requestId = readRequestId(response.headers);
    const result = this.interpret(id, response, bodyText);
    const outcome = result.kind === "image" ? "ok" : result.error.code;
    this.record(started, String(status), outcome);
    if (result.kind === "image") {
      logger.debug(
        { ...bindings, status, requestId, durationMs: elapsed(started) },
        "upstream call",
      );
    } else {
      // A missing image is an outcome of the caller's request rather than an
      // upstream problem, and one request can ask for a thousand of them.
      const level = outcome === "NOT_FOUND" ? "debug" : "warn";
      logger[level](
        {
          ...bindings,
          status,
          requestId,
          code: outcome,
          durationMs: elapsed(started),
        },
        "upstream call failed",
      );
    }
    return result;
  }

  private record(started: number, status: string, outcome: string): void {
    this.options.metrics.upstreamDuration.observe(
      { status, outcome },
      (performance.now() - started) / 1000,
    );
  }

  private interpret(
    id: string,
    response: Dispatcher.ResponseData,
    bodyText: string,
  ): AttemptResult {
    const status = response.statusCode;
    const headers = response.headers as ResponseHeaders;

    if (status >= 200 && status < 300) {
      return this.parseImage(id, status, headers, bodyText);
    }
    if (status >= 300 && status < 400) {
      const error = new ImageError(
        "UPSTREAM_ERROR",
        `The images API returned a redirect (status ${status}) for image ${id}; redirects are not followed.`,
        { imageId: id, upstream: this.details(status, headers) },
      );
      return { kind: "error", error, retry: { retry: false } };
    }
    return this.faultResult(id, status, headers, bodyText);
  }

  private parseImage(
    id: string,
    status: number,
    headers: ResponseHeaders,
    bodyText: string,
  ): AttemptResult {
    try {
      return { kind: "image", image: parseImageBody(JSON.parse(bodyText), id) };
    } catch (error) {
      const reason =
        error instanceof NotAnImageError ? error.message : "invalid JSON";
      const imageError = new ImageError(
        "BAD_UPSTREAM_RESPONSE",
        `The images API returned status ${status} for image ${id}, but the body is not an image: ${reason}.`,
        { imageId: id, upstream: this.details(status, headers), cause: error },
      );
      return { kind: "error", error: imageError, retry: { retry: false } };
    }
  }

  /**
   * Builds the error of a 4xx or 5xx. A `Retry-After` on a retryable status or
   * a rate limit is followed only if it ends inside the deadline, which the
   * retry loop checks.
   */
  private faultResult(
    id: string,
    status: number,
    headers: ResponseHeaders,
    bodyText: string,
  ): AttemptResult {
    const fault = parseFault(status, headers, bodyText);
    const error = new ImageError(fault.code, faultMessage(id, fault), {
      imageId: id,
      upstream: fault.upstream,
      ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
    });

    const afterMs =
      fault.retryAfter === undefined ? undefined : fault.retryAfter * 1000;
    if (isRetryableStatus(status)) {
      return {
        kind: "error",
        error,
        retry: { retry: true, reason: String(status), afterMs },
      };
    }
    if (fault.code === "OVER_LIMIT" && afterMs !== undefined) {
      return {
        kind: "error",
        error,
        retry: { retry: true, reason: "rate_limited", afterMs },
      };
    }
    return { kind: "error", error, retry: { retry: false } };
  }

  private details(status: number, headers: ResponseHeaders) {
    return {
      status,
      fault: null,
      message: null,
      requestId: readRequestId(headers),
    };
  }

  private transportFailure(
    error: unknown,
    id: string,
    timeoutMs: number,
    deadline: Deadline,
  ): Extract<AttemptResult, { kind: "error" }> {
    const fail = (
      imageError: ImageError,
      retry: RetryAdvice = { retry: false },
    ) => ({ kind: "error", error: imageError, retry }) as const;

    if (error instanceof BodyTooLargeError) {
      return fail(
        new ImageError(
          "BAD_UPSTREAM_RESPONSE",
          `The images API returned a body for image ${id} that is too large: ${error.message}.`,
          { imageId: id, cause: error },
        ),
      );
    }

    switch (classifyTransportError(error)) {
      case "timeout":
        return fail(timeoutError(id, timeoutMs, deadline, error));
      case "reset":
        return fail(unavailableError(id, error), {
          retry: true,
          reason: "reset",
          afterMs: undefined,
        });
      case "unavailable":
        return fail(unavailableError(id, error));
      case "malformed":
        return fail(
          new ImageError(
            "BAD_UPSTREAM_RESPONSE",
            `The images API returned a malformed HTTP response for image ${id}: ${describeTransportError(error)}.`,
            { imageId: id, cause: error },
          ),
        );
      case "unknown":
        throw error;
    }
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
