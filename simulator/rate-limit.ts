/** At most `requests` GET requests per token in any `perSeconds` window. */
export interface RateLimit {
  requests: number;
  perSeconds: number;
}

const WINDOW_NAMES: Record<number, string> = {
  1: "second",
  60: "minute",
  3600: "hour",
  86400: "day",
};

/** Describes the limit as Nova's overLimit `details` does. */
export function describeRateLimit(limit: RateLimit): string {
  const window =
    WINDOW_NAMES[limit.perSeconds] ?? `${limit.perSeconds} seconds`;
  return `Only ${limit.requests} GET request(s) can be made to '*' every ${window}.`;
}

export function validateRateLimit(limit: RateLimit): void {
  if (!Number.isInteger(limit.requests) || limit.requests < 1) {
    throw new RangeError(
      `Invalid rateLimit.requests ${limit.requests}: expected a positive integer.`,
    );
  }
  if (!Number.isFinite(limit.perSeconds) || limit.perSeconds <= 0) {
    throw new RangeError(
      `Invalid rateLimit.perSeconds ${limit.perSeconds}: expected a positive number of seconds.`,
    );
  }
}

/**
 * A sliding-window limiter keyed by token. Only accepted requests count, so
 * a client that keeps retrying too early is not locked out for longer.
 */
export class RateLimiter {
  private readonly accepted = new Map<string, number[]>();

  constructor(readonly limit: RateLimit) {
    validateRateLimit(limit);
  }

  /**
   * Records a request for `token` at `nowMs`. Returns undefined if it is
   * within the limit, otherwise the whole seconds until a slot frees up.
   */
  take(token: string, nowMs: number): number | undefined {
    const windowMs = this.limit.perSeconds * 1000;
    const times = (this.accepted.get(token) ?? []).filter(
      (time) => time > nowMs - windowMs,
    );

    const oldest = times[0];
    if (times.length >= this.limit.requests && oldest !== undefined) {
      this.accepted.set(token, times);
      return Math.max(1, Math.ceil((oldest + windowMs - nowMs) / 1000));
    }

    times.push(nowMs);
    this.accepted.set(token, times);
    return undefined;
  }

  reset(): void {
    this.accepted.clear();
  }
}
