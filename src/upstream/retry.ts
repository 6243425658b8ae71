/** Settings of the retry loop for the idempotent image GET. */
export interface RetryPolicy {
  /** Maximum attempts of one call, the first included. */
  maxAttempts: number;
  /** Backoff ceiling of the first retry, in milliseconds; doubled per retry. */
  baseDelayMs: number;
  /** Maximum backoff of one retry, in milliseconds. */
  maxDelayMs: number;
}

/**
 * Upstream statuses worth another attempt: a proxy or the API is briefly
 * unable to answer. Other 4xx and 5xx would fail the same way again.
 */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/**
 * Returns the delay before retry number `retry` (from 1): exponential backoff
 * with full jitter, so that callers that failed together do not retry
 * together.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** (retry - 1),
  );
  return Math.round(random() * ceiling);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
