/**
 * The upstream of the benchmark: the images API simulator in its own
 * process, with the seed images and BENCH_TENANT_IMAGES generated ones.
 * The runner sets latency and faults and reads the call count over IPC.
 */
import { seedImages, startSimulator } from "../simulator";
import type { Fault } from "../simulator";
import { requireEnv, serveRunner } from "./child";
import { benchImage } from "./tenant";

async function main(): Promise<void> {
  const tenantSize = Number(requireEnv("BENCH_TENANT_IMAGES"));
  const images = [
    ...seedImages(),
    ...Array.from({ length: tenantSize }, (_, index) => benchImage(index)),
  ];
  const simulator = await startSimulator({
    images,
    latencyMs: Number(requireEnv("BENCH_LATENCY_MS")),
  });

  serveRunner(simulator.imagesApiUrl, () => simulator.close(), {
    // Counts every API request since the last reset, control calls excluded.
    calls: () => simulator.requests.length,
    reset: () => {
      simulator.reset();
    },
    latency: (ms) => simulator.setLatency(ms as number),
    fault: (argument) => {
      const { imageId, fault } = argument as { imageId: string; fault: Fault };
      simulator.inject(imageId, fault);
    },
  });
}

main().catch((error: unknown) => {
  console.error(`The benchmark simulator failed to start: ${String(error)}`);
  process.exit(1);
});
