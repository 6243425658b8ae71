import pino from "pino";
import type { Logger, LevelWithSilent } from "pino";
import { PACKAGE_NAME } from "./package-files";

/**
 * Creates the process's one logger: JSON lines on stdout. The redact paths
 * are a second line of defence, because no code logs request headers.
 */
export function createLogger(level: LevelWithSilent): Logger {
  return pino({
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
  });
}
