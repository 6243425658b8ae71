import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createGatewayRuntime } from "@graphql-hive/gateway";
import { AUTH_TOKEN_HEADER } from "./apollo-gateway";
import type { RunningGateway } from "./apollo-gateway";

export interface HiveGatewayOptions {
  /** A composed supergraph SDL, as `rover supergraph compose` writes it. */
  supergraphSdl: string;
  /** Default 0, which picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Hive Gateway's error masking (`maskedErrors`); default true, as in Hive
   * Gateway itself.
   */
  maskedErrors?: boolean;
  /** Headers added to every subgraph request, such as a router secret. */
  subgraphHeaders?: Record<string, string>;
}

/**
 * Starts Hive Gateway in this process in front of the supergraph's
 * subgraphs. It copies the caller's `X-Auth-Token` onto every subgraph
 * request. Nothing is reported to any registry: usage reporting is off
 * unless `reporting` is configured, and it is not.
 */
export async function startHiveGateway(
  options: HiveGatewayOptions,
): Promise<RunningGateway> {
  const gateway = createGatewayRuntime({
    supergraph: options.supergraphSdl,
    logging: false,
    landingPage: false,
    graphiql: false,
    maskedErrors: options.maskedErrors ?? true,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) => {
        const token = request.headers.get(AUTH_TOKEN_HEADER);
        return {
          ...options.subgraphHeaders,
          ...(token !== null && { [AUTH_TOKEN_HEADER]: token }),
        };
      },
    },
  });

  const server = createServer(gateway);
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${host}:${port}/graphql`,
    stop: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await gateway.dispose();
    },
  };
}
