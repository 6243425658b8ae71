import { Pool } from "undici";
import type { Dispatcher } from "undici";
import type { Logger } from "pino";
import { ImageError } from "../errors";
import type { ImageModel } from "../images/model";
import { parseFault, readRequestId } from "./faults";
import type { ResponseHeaders } from "./faults";
import { NotAnImageError, parseImageBody } from "./image";
import { classifyTransportError } from "./transport";

export interface ImagesApiOptions {
  /** The tenant-scoped endpoint, such as `https://dfw.servers.api.rackspacecloud.com/v2/010101`. */
  baseUrl: URL;
  /** Maximum time one call may take, from connecting to the last body byte, in milliseconds. */
  timeoutMs: number;
  /** Maximum open connections to the upstream, shared by all requests. */
  maxConnections: number;
  /** Maximum size of an upstream body in bytes; a larger body is not read further. */
  maxBodyBytes: number;
  /** Sent as `User-Agent`. */
  userAgent: string;
  logger: Logger;
}

class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * Client of `GET {baseUrl}/images/{id}` over one keep-alive connection pool,
 * shared by every GraphQL request. Redirects are not followed, and every
 * body is read or discarded so that its connection can be reused.
 */
export class ImagesApiClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: ImagesApiOptions) {
    this.pool = new Pool(options.baseUrl.origin, {
      connections: options.maxConnections,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: options.timeoutMs,
    });
    this.basePath = options.baseUrl.pathname.replace(/\/+$/, "");
  }

  /**
   * Fetches one image with the caller's token.
   *
   * @param id an image id already checked to be a UUID; it is encoded as
   *   one path segment all the same.
   * @throws ImageError with the code for every upstream or transport failure.
   */
  async fetchImage(id: string, token: string): Promise<ImageModel> {
    const started = performance.now();
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const log = this.options.logger.child({ imageId: id });

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
        },
        signal,
      });
      bodyText = await this.readBody(response);
    } catch (error) {
      const failure = this.transportFailure(error, id, signal);
      log.warn(
        { err: error, code: failure.code, durationMs: elapsed(started) },
        "upstream call failed",
      );
      throw failure;
    }

    const requestId = readRequestId(response.headers);
    const outcome = { status: response.statusCode, requestId };
    try {
      const image = this.interpret(id, response, bodyText);
      log.debug({ ...outcome, durationMs: elapsed(started) }, "upstream call");
      return image;
    } catch (error) {
      if (error instanceof ImageError) {
        log.warn(
          { ...outcome, code: error.code, durationMs: elapsed(started) },
          "upstream call failed",
        );
      }
      throw error;
    }
  }

  /** Closes idle connections and waits for those in use. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Reads the body as text, or discards it when its content does not matter. */
  private async readBody(response: Dispatcher.ResponseData): Promise<string> {
    const { statusCode, body } = response;
    if (statusCode >= 300 && statusCode < 400) {
      await body.dump();
      return "";
    }

    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > this.options.maxBodyBytes) {
        body.destroy();
        throw new BodyTooLargeError(
          `the body is larger than ${this.options.maxBodyBytes} bytes`,
        );
      }
      chunks.push(buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private interpret(
    id: string,
    response: Dispatcher.ResponseData,
    bodyText: string,
  ): ImageModel {
    const status = response.statusCode;
    const headers = response.headers as ResponseHeaders;

    if (status >= 200 && status < 300) {
      return this.parseImage(id, status, headers, bodyText);
    }
    if (status >= 300 && status < 400) {
      throw new ImageError(
        "UPSTREAM_ERROR",
        `The images API returned a redirect (status ${status}) for image ${id}; redirects are not followed.`,
        { imageId: id, upstream: this.details(status, headers) },
      );
    }
    throw this.faultError(id, status, headers, bodyText);
  }

  private parseImage(
    id: string,
    status: number,
    headers: ResponseHeaders,
    bodyText: string,
  ): ImageModel {
    try {
      return parseImageBody(JSON.parse(bodyText), id);
    } catch (error) {
      const reason =
        error instanceof NotAnImageError ? error.message : "invalid JSON";
      throw new ImageError(
        "BAD_UPSTREAM_RESPONSE",
        `The images API returned status ${status} for image ${id}, but the body is not an image: ${reason}.`,
        { imageId: id, upstream: this.details(status, headers), cause: error },
      );
    }
  }

  private faultError(
    id: string,
    status: number,
    headers: ResponseHeaders,
    bodyText: string,
  ): ImageError {
    const fault = parseFault(status, headers, bodyText);
    const options = {
      imageId: id,
      upstream: fault.upstream,
      ...(fault.retryAfter !== undefined && { retryAfter: fault.retryAfter }),
    };
    return new ImageError(fault.code, faultMessage(id, fault), options);
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
    signal: AbortSignal,
  ): ImageError {
    if (error instanceof BodyTooLargeError) {
      return new ImageError(
        "BAD_UPSTREAM_RESPONSE",
        `The images API returned a body for image ${id} that is too large: ${error.message}.`,
        { imageId: id, cause: error },
      );
    }

    const kind = signal.aborted ? "timeout" : classifyTransportError(error);
    switch (kind) {
      case "timeout":
        return new ImageError(
          "UPSTREAM_TIMEOUT",
          `The images API request for image ${id} timed out after ${this.options.timeoutMs} ms.`,
          { imageId: id, cause: error },
        );
      case "unavailable":
        return new ImageError(
          "UPSTREAM_UNAVAILABLE",
          `The images API could not be reached for image ${id}: ${describeTransportError(error)}.`,
          { imageId: id, cause: error },
        );
      case "malformed":
        return new ImageError(
          "BAD_UPSTREAM_RESPONSE",
          `The images API returned a malformed HTTP response for image ${id}: ${describeTransportError(error)}.`,
          { imageId: id, cause: error },
        );
      case "unknown":
        throw error;
    }
  }
}

/** One sentence per code, so that clients can show the message as it is. */
function faultMessage(
  id: string,
  fault: ReturnType<typeof parseFault>,
): string {
  const status = fault.upstream.status;
  switch (fault.code) {
    case "NOT_FOUND":
      return `Image ${id} not found.`;
    case "UNAUTHENTICATED":
      return `The images API rejected the X-Auth-Token (status ${status}); send a valid, unexpired token.`;
    case "FORBIDDEN":
      return `The images API denied access to image ${id} (status ${status}).`;
    case "OVER_LIMIT":
      return fault.retryAfter === undefined
        ? `The images API rate limit was exceeded (status ${status}).`
        : `The images API rate limit was exceeded (status ${status}); retry after ${fault.retryAfter} s.`;
    case "SERVICE_UNAVAILABLE":
      return `The images API is unavailable (status ${status}); retry later.`;
    case "BAD_REQUEST":
      return `The images API rejected the request for image ${id} as invalid (status ${status}).`;
    case "METHOD_NOT_ALLOWED":
      return `The images API does not allow this method for image ${id} (status ${status}).`;
    case "CONFLICT":
      return `The images API reported a conflict for image ${id} (status ${status}).`;
    default:
      return `The images API failed for image ${id} with status ${status}.`;
  }
}

function describeTransportError(error: unknown): string {
  if (typeof error !== "object" || error === null) return String(error);

  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : String(error);
  return typeof code === "string" ? `${code} (${text})` : text;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
