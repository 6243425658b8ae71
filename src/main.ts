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

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal, such as a second Ctrl-C, skips the drain.
    if (stopping) {
      logger.warn({ signal }, "second signal; exiting without draining");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "shutting down");
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  // Node exits on these anyway; this puts the error in the JSON log first.
  const crash = (error: unknown, origin: string) => {
    logger.fatal({ err: error, origin }, "unhandled error; exiting");
    process.exit(1);
  };
  process.on("uncaughtException", (error, origin) => crash(error, origin));
  process.on("unhandledRejection", (reason) =>
    crash(reason, "unhandledRejection"),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`Start-up failed: ${String(error)}\n`);
  process.exit(1);
});
