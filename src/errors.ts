import { GraphQLError } from "graphql";

/**
 * The codes this service puts in `extensions.code`. Clients and routers match
 * on these strings, so they are part of the public contract.
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "BAD_REQUEST"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CONFLICT"
  | "OVER_LIMIT"
  | "SERVICE_UNAVAILABLE"
  | "UPSTREAM_ERROR"
  | "UPSTREAM_TIMEOUT"
  | "UPSTREAM_UNAVAILABLE"
  | "BAD_UPSTREAM_RESPONSE"
  | "INTERNAL_SERVER_ERROR";

/** What the upstream response revealed about a failure. */
export interface UpstreamDetails {
  /** HTTP status of the upstream response. */
  status: number;
  /** Name of the fault wrapper, such as `itemNotFound`, when the body has one. */
  fault: string | null;
  /** The fault's message, with any HTML removed. */
  message: string | null;
  /** The upstream's `X-Compute-Request-Id`, for the operator's support ticket. */
  requestId: string | null;
}

export interface ImageErrorOptions {
  imageId?: string;
  upstream?: UpstreamDetails;
  /** Whole seconds until the upstream accepts requests again. */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * A deliberate error of this service: its message and extensions reach the
 * client unmasked. Any other error thrown while resolving is masked as
 * INTERNAL_SERVER_ERROR.
 */
export class ImageError extends GraphQLError {
  readonly code: ErrorCode;
  readonly upstream: UpstreamDetails | undefined;
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: ImageErrorOptions = {},
  ) {
    super(message, {
      originalError: options.cause instanceof Error ? options.cause : undefined,
      extensions: {
        code,
        ...(options.imageId !== undefined && { imageId: options.imageId }),
        ...(options.upstream !== undefined && { upstream: options.upstream }),
        ...(options.retryAfter !== undefined && {
          retryAfter: options.retryAfter,
        }),
      },
    });
    this.name = "ImageError";
    this.code = code;
    this.upstream = options.upstream;
    this.retryAfter = options.retryAfter;
  }
}

/** Upstream statuses with a code of their own; every other status is UPSTREAM_ERROR. */
const CODE_BY_STATUS: ReadonlyMap<number, ErrorCode> = new Map([
  [400, "BAD_REQUEST"],
  [401, "UNAUTHENTICATED"],
  [403, "FORBIDDEN"],
  [404, "NOT_FOUND"],
  [405, "METHOD_NOT_ALLOWED"],
  [409, "CONFLICT"],
  [413, "OVER_LIMIT"],
  [429, "OVER_LIMIT"],
  [503, "SERVICE_UNAVAILABLE"],
]);

export function codeForUpstreamStatus(status: number): ErrorCode {
  return CODE_BY_STATUS.get(status) ?? "UPSTREAM_ERROR";
}
