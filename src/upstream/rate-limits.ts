import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";

/**
 * The rate-limit windows that the upstream announced, per token. Tokens are
 * kept only as SHA-256 hashes, and at most `maxTokens` windows are kept, the
 * least recently used dropped first.
 */
export class RateLimitWindows {
  private readonly windows: LRUCache<string, number>;

  constructor(
    maxTokens = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.windows = new LRUCache<string, number>({ max: maxTokens });
  }

  /** Records that the upstream rejects `token` for `seconds` from now. */
  block(token: string, seconds: number): void {
    const until = this.now() + seconds * 1000;
    const key = hashToken(token);
    const current = this.windows.get(key);
    if (current === undefined || current < until) this.windows.set(key, until);
  }

  /** Milliseconds until the upstream accepts `token` again; 0 when it does now. */
  remainingMs(token: string): number {
    // Most of the time no token is limited, and the hash is then not needed.
    if (this.windows.size === 0) return 0;

    const key = hashToken(token);
    const until = this.windows.get(key);
    if (until === undefined) return 0;

    const remaining = until - this.now();
    if (remaining <= 0) {
      this.windows.delete(key);
      return 0;
    }
    return remaining;
  }
}

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
