import pino from "pino";
import type { Logger, LevelWithSilent } from "pino";
import { PACKAGE_NAME } from "./package-files";

/**
 * Creates the process's one logger: JSON lines on stdout. The redact paths
 * are a second line of defence, because no code logs request headers.
 *
 * Lines are written synchronously. With pino's default asynchronous stdout,
 * a line still queued at `process.exit` is flushed by sonic-boom 4's
 * `flushSync`, which retries a write that fails with EPIPE forever, so the
 * process would hang at shutdown once its log reader is gone. A synchronous
 * write that fails reaches pino's EPIPE handler, which stops logging.
 */
export function createLogger(level: LevelWithSilent): Logger {
  return pino(
    {
      level,
      base: { service: PACKAGE_NAME },
      redact: {
        paths: [
          'headers["x-auth-token"]',
          '*.headers["x-auth-token"]',
          "token",
          "*.token",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
