/**
 * Contender 1, this service, started as `npm start` starts it: the
 * environment is its configuration, plus the upstream URL from the runner.
 */
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startService } from "../../src/server";
import { requireEnv, serveRunner } from "../child";

async function main(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    IMAGES_API_URL: requireEnv("BENCH_UPSTREAM_URL"),
    PORT: "0",
    HOST: "127.0.0.1",
  });
  const service = await startService({
    config,
    logger: createLogger(config.logLevel),
  });
  serveRunner(service.url, () => service.close());
}

main().catch((error: unknown) => {
  console.error(`The service contender failed to start: ${String(error)}`);
  process.exit(1);
});
