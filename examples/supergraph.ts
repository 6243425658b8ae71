import type { Logger } from "pino";
import type { Config } from "../src/config";
import { startService } from "../src/server";
import type { RunningService } from "../src/server";
import { DEMO_TOKEN, startSimulator } from "../simulator";
import type { Simulator } from "../simulator";
import { startApolloGateway } from "./gateways/apollo-gateway";
import type { RunningGateway } from "./gateways/apollo-gateway";
import { composeSupergraph } from "./gateways/compose";
import { startServersSubgraph } from "./servers-subgraph";
import type { RunningSubgraph } from "./servers-subgraph";

/**
 * The operation that Sandbox opens with on the gateway: every server with
 * its image from the images subgraph, and for a snapshot the server it was
 * taken from, back from the Servers subgraph.
 */
export const SUPERGRAPH_EXAMPLE_OPERATION = `query ServersWithImages {
  servers {
    name
    image {
      name
      minRam
      type
      metadata {
        key
        value
      }
      server {
        name
      }
    }
  }
}
`;

export interface LocalSupergraphOptions {
  /**
   * Settings of the images subgraph. Its `imagesApiUrl` is replaced by the
   * simulator's.
   */
  config: Config;
  logger: Logger;
  /** Port of the gateway; 0 picks a free port. */
  gatewayPort: number;
  /** Port of the example Servers subgraph; 0 picks a free port. */
  serversPort: number;
  /** Port of the simulator; 0 picks a free port. */
  simulatorPort: number;
}

export interface LocalSupergraph {
  simulator: Simulator;
  images: RunningService;
  servers: RunningSubgraph;
  gateway: RunningGateway;
  /** The supergraph SDL that the gateway runs. */
  supergraphSdl: string;
  /** A token that the simulator accepts. */
  token: string;
  /** Stops the gateway, the subgraphs and the simulator, in that order. */
  close(): Promise<void>;
}

/**
 * Starts a whole supergraph on this machine: the simulator as the Cloud
 * Servers API, the images subgraph in front of it, the example Servers
 * subgraph, and Apollo Gateway with Sandbox. The gateway copies the caller's
 * `X-Auth-Token` to both subgraphs, and the router secret to the images
 * subgraph when `config.routerSecret` is set.
 */
export async function startLocalSupergraph(
  options: LocalSupergraphOptions,
): Promise<LocalSupergraph> {
  const stack = new Stopper();
  try {
    const simulator = await startSimulator({ port: options.simulatorPort });
    stack.push(() => simulator.close());

    const config = {
      ...options.config,
      imagesApiUrl: new URL(simulator.imagesApiUrl),
    };
    const images = await startService({
      config,
      logger: options.logger,
      sandboxToken: DEMO_TOKEN,
    });
    stack.push(() => images.close());

    const servers = await startServersSubgraph({
      port: options.serversPort,
      host: config.host,
    });
    stack.push(() => servers.stop());

    const subgraphHeaders =
      config.routerSecret === null
        ? {}
        : { [config.routerSecretHeader]: config.routerSecret };
    const supergraphSdl = await composeSupergraph(
      [
        { name: "images", url: images.url },
        { name: "servers", url: servers.url },
      ],
      subgraphHeaders,
    );
    const gateway = await startApolloGateway({
      supergraphSdl,
      port: options.gatewayPort,
      host: config.host,
      subgraphHeaders,
      sandbox: {
        document: SUPERGRAPH_EXAMPLE_OPERATION,
        headers: { "X-Auth-Token": DEMO_TOKEN },
      },
    });
    stack.push(() => gateway.stop());

    return {
      simulator,
      images,
      servers,
      gateway,
      supergraphSdl,
      token: DEMO_TOKEN,
      close: () => stack.stopAll(),
    };
  } catch (error) {
    await stack.stopAll();
    throw error;
  }
}

/** Stops what was started, last started first. */
class Stopper {
  private readonly stops: (() => Promise<void>)[] = [];

  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  async stopAll(): Promise<void> {
    for (const stop of this.stops.reverse()) {
      await stop();
    }
    this.stops.length = 0;
  }
}
