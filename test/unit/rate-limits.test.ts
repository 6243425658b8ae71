import { createHash } from "node:crypto";
import { RateLimitWindows } from "../../src/upstream/rate-limits";

const TOKEN = "token-a-0123456789abcdef";
const OTHER_TOKEN = "token-b-0123456789abcdef";

/** A clock that the test moves by hand, in epoch milliseconds. */
function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

test("unknown token is not limited", () => {
  const windows = new RateLimitWindows();

  expect(windows.remainingMs(TOKEN)).toBe(0);
});

test("window counts down and ends", () => {
  const clock = manualClock();
  const windows = new RateLimitWindows(10, clock.now);
  windows.block(TOKEN, 30);

  expect(windows.remainingMs(TOKEN)).toBe(30_000);
  clock.advance(12_000);
  expect(windows.remainingMs(TOKEN)).toBe(18_000);
  clock.advance(18_000);
  expect(windows.remainingMs(TOKEN)).toBe(0);
});

test("window is per token", () => {
  const windows = new RateLimitWindows(10, manualClock().now);
  windows.block(TOKEN, 30);

  expect(windows.remainingMs(OTHER_TOKEN)).toBe(0);
});

test("shorter block keeps longer window", () => {
  const windows = new RateLimitWindows(10, manualClock().now);
  windows.block(TOKEN, 60);
  windows.block(TOKEN, 5);

  expect(windows.remainingMs(TOKEN)).toBe(60_000);
});

test("least recently used window is dropped", () => {
  const windows = new RateLimitWindows(2, manualClock().now);
  windows.block("token-1-0123456789", 60);
  windows.block("token-2-0123456789", 60);
  windows.block("token-3-0123456789", 60);

  expect(windows.remainingMs("token-1-0123456789")).toBe(0);
  expect(windows.remainingMs("token-3-0123456789")).toBe(60_000);
});

test("tokens are stored only as hashes", () => {
  const windows = new RateLimitWindows(10, manualClock().now);
  windows.block(TOKEN, 60);

  // Everything that the object holds, private fields included.
  const stored = JSON.stringify(
    Object.values(windows).map((field: unknown) =>
      field instanceof Map ||
      typeof (field as Map<unknown, unknown>)?.entries === "function"
        ? [...(field as Map<unknown, unknown>).entries()]
        : field,
    ),
  );
  // The check reaches the stored keys, which are SHA-256 digests.
  expect(stored).toContain(
    createHash("sha256").update(TOKEN).digest("base64url"),
  );
  expect(stored).not.toContain(TOKEN);
  expect(stored).not.toContain(Buffer.from(TOKEN).toString("base64"));
});
