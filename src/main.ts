import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { startService } from "./server";

/** Starts the service from the environment and stops it on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }

  const logger = createLogger(config.logLevel);
  const service = await startService({ config, logger });
  logger.info({ url: service.url }, "GraphQL endpoint ready");

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, "shutting down");
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${String(error)}\n`);
  process.exit(1);
});
