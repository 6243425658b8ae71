import { ConfigError, loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { startService } from "../src/server";
import { DEMO_TOKEN, SEED_IMAGE_IDS, startSimulator } from "../simulator";
import { readSimulatorEnv } from "../simulator/env";

/**
 * Starts the simulator with its seed images and the subgraph in front of it,
 * then prints what a newcomer needs to query them. Settings other than
 * IMAGES_API_URL come from the environment, as for `npm start`.
 */
async function main(): Promise<void> {
  let simulatorPort;
  try {
    // Unlike `npm run simulator`, the demo picks a free port by default.
    simulatorPort = readSimulatorEnv({
      ...process.env,
      SIMULATOR_PORT: process.env.SIMULATOR_PORT?.trim() || "0",
    }).port;
  } catch (error) {
    process.stderr.write(
      `Configuration error: ${String((error as Error).message)}\n`,
    );
    process.exit(1);
  }
  const simulator = await startSimulator({ port: simulatorPort });

  let config;
  try {
    config = loadConfig({
      ...process.env,
      IMAGES_API_URL: simulator.imagesApiUrl,
      HOST: process.env.HOST ?? "127.0.0.1",
    });
  } catch (error) {
    await simulator.close();
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }

  const logger = createLogger(config.logLevel);
  const service = await startService({
    config,
    logger,
    sandboxToken: DEMO_TOKEN,
  });

  process.stdout.write(banner(service.url, simulator.imagesApiUrl));

  const stop = () => {
    service
      .close()
      .then(() => simulator.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function banner(url: string, upstreamUrl: string): string {
  const query = `{ image(id: \\"${SEED_IMAGE_IDS.ubuntu}\\") { name status minRam } }`;
  return [
    "",
    "Images subgraph demo",
    `  GraphQL endpoint:   ${url}  (open it in a browser for Apollo Sandbox)`,
    `  X-Auth-Token:       ${DEMO_TOKEN}`,
    `  Simulated upstream: ${upstreamUrl}`,
    "  Example image ids:",
    ...Object.entries(SEED_IMAGE_IDS).map(
      ([name, id]) => `    ${name.padEnd(18)} ${id}`,
    ),
    "  Try:",
    `    curl -s ${url} -H 'content-type: application/json' -H 'x-auth-token: ${DEMO_TOKEN}' \\`,
    `      -d '{"query": "${query}"}'`,
    "  Press Ctrl+C to stop.",
    "",
    "",
  ].join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`Demo failed to start: ${String(error)}\n`);
  process.exit(1);
});
