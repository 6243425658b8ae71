import { ConfigError, loadConfig } from "../src/config";
import type { Config } from "../src/config";
import { createLogger } from "../src/logger";
import { SEED_IMAGE_IDS } from "../simulator";
import {
  SUPERGRAPH_EXAMPLE_OPERATION,
  startLocalSupergraph,
} from "../examples/supergraph";
import type { LocalSupergraph } from "../examples/supergraph";

/**
 * Starts the simulator, the images subgraph, the example Servers subgraph
 * and Apollo Gateway, then prints what a newcomer needs to query the
 * supergraph. The images subgraph reads its settings from the environment,
 * as for `npm start`, except IMAGES_API_URL, which is the simulator's.
 */
async function main(): Promise<void> {
  let config: Config;
  let ports: { gateway: number; servers: number; simulator: number };
  try {
    config = loadConfig({
      ...process.env,
      IMAGES_API_URL: "http://127.0.0.1/replaced-by-the-simulator",
      HOST: process.env.HOST ?? "127.0.0.1",
    });
    ports = {
      gateway: readPort("GATEWAY_PORT", 4000),
      servers: readPort("SERVERS_PORT", 4002),
      simulator: readPort("SIMULATOR_PORT", 0),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }

  const logger = createLogger(config.logLevel);
  const supergraph = await startLocalSupergraph({
    config,
    logger,
    gatewayPort: ports.gateway,
    serversPort: ports.servers,
    simulatorPort: ports.simulator,
  });
  process.stdout.write(banner(supergraph));

  const stop = () => {
    supergraph.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

function readPort(name: string, fallback: number): number {
  const value = process.env[name]?.trim();
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new ConfigError(
      `${name} is invalid: ${JSON.stringify(value)}; expected a port from 0 to 65535.`,
    );
  }
  return port;
}

function banner(supergraph: LocalSupergraph): string {
  const url = supergraph.gateway.url;
  const query = SUPERGRAPH_EXAMPLE_OPERATION.replace(/\s+/g, " ").trim();
  return [
    "",
    "Supergraph with the images subgraph",
    `  Gateway (Apollo Gateway): ${url}  (open it in a browser for Apollo Sandbox)`,
    `  X-Auth-Token:             ${supergraph.token}`,
    `  Images subgraph:          ${supergraph.images.url}`,
    `  Servers subgraph:         ${supergraph.servers.url}`,
    `  Simulated upstream:       ${supergraph.simulator.imagesApiUrl}`,
    "  Try:",
    `    curl -s ${url} -H 'content-type: application/json' -H 'x-auth-token: ${supergraph.token}' \\`,
    `      -d '{"query": "${query}"}'`,
    `  The servers web-02 and web-03 run the snapshot ${SEED_IMAGE_IDS.snapshot}:`,
    "  its image.server leads back to web-01 in the Servers subgraph.",
    "  Press Ctrl+C to stop.",
    "",
    "",
  ].join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`Supergraph failed to start: ${String(error)}\n`);
  process.exit(1);
});
