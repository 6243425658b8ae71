/**
 * Runs the images API simulator until SIGINT or SIGTERM. Stdout gets exactly
 * two lines, the IMAGES_API_URL and the demo token, so that scripts can read
 * them. Everything else goes to stderr.
 */
import { readSimulatorEnv } from "./env";
import type { SimulatorEnv } from "./env";
import { DEMO_TOKEN } from "./options";
import { startSimulator } from "./server";
import type { Simulator } from "./server";

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stopOnSignals(simulator: Simulator): void {
  const stop = (signal: NodeJS.Signals): void => {
    console.error(`Received ${signal}, stopping the images API simulator.`);
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Failed to close the simulator: ${errorMessage(error)}`);
        process.exit(1);
      },
    );
  };

  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

async function run(settings: SimulatorEnv): Promise<void> {
  let simulator: Simulator;
  try {
    simulator = await startSimulator(settings);
  } catch (error) {
    console.error(
      `Failed to start the images API simulator on 127.0.0.1:${settings.port}: ${errorMessage(error)}. Set SIMULATOR_PORT to a free port, or 0 for any.`,
    );
    process.exitCode = 1;
    return;
  }

  console.log(`IMAGES_API_URL=${simulator.imagesApiUrl}`);
  console.log(`X-Auth-Token: ${DEMO_TOKEN}`);
  console.error(
    `Images API simulator listening on ${simulator.origin} (latency ${settings.latencyMs} ms). Press Ctrl+C to stop.`,
  );
  stopOnSignals(simulator);
}

function main(): void {
  let settings: SimulatorEnv;
  try {
    settings = readSimulatorEnv(process.env);
  } catch (error) {
    console.error(errorMessage(error));
    process.exitCode = 1;
    return;
  }

  void run(settings);
}

main();
