/**
 * The router of the join scenarios: `@apollo/gateway` over a Servers
 * subgraph and one contender's images subgraph. The gateway and the
 * Servers subgraph run in this process, apart from the contender, so the
 * contender's CPU time and RSS stay its own.
 */
import { startApolloGateway } from "../examples/gateways/apollo-gateway";
import { composeSupergraph } from "../examples/gateways/compose";
import { startServersSubgraph } from "../examples/servers-subgraph";
import { requireEnv, serveRunner } from "./child";

async function main(): Promise<void> {
  const imageIds = JSON.parse(requireEnv("BENCH_SERVER_IMAGE_IDS")) as string[];
  const servers = await startServersSubgraph({
    servers: imageIds.map((imageId, index) => ({
      id: `5e7e0000-0000-4000-8000-${String(index).padStart(12, "0")}`,
      name: `server-${index}`,
      imageId,
    })),
  });
  const supergraphSdl = await composeSupergraph([
    { name: "servers", url: servers.url },
    { name: "images", url: requireEnv("BENCH_SUBGRAPH_URL") },
  ]);
  const gateway = await startApolloGateway({ supergraphSdl });

  serveRunner(gateway.url, async () => {
    await gateway.stop();
    await servers.stop();
  });
}

main().catch((error: unknown) => {
  console.error(`The benchmark gateway failed to start: ${String(error)}`);
  process.exit(1);
});
