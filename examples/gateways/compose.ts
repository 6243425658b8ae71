import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

/** A subgraph as a gateway routes to it. */
export interface SubgraphEndpoint {
  /** The subgraph's name in the supergraph, such as `images`. */
  name: string;
  /** Its GraphQL endpoint. */
  url: string;
}

/** Raised when the subgraphs do not compose; the message lists every error. */
export class CompositionError extends Error {
  override name = "CompositionError";
}

/**
 * Fetches a subgraph's SDL through the federation query `{ _service { sdl } }`,
 * as `rover subgraph introspect` does. `headers` go with the request, such as
 * a router secret that the subgraph requires.
 */
export async function fetchSubgraphSdl(
  url: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ query: "{ _service { sdl } }" }),
  });
  if (!response.ok) {
    throw new Error(
      `Fetching the SDL of ${url} failed with HTTP ${response.status}.`,
    );
  }
  const body = (await response.json()) as {
    data?: { _service?: { sdl?: string } };
  };
  const sdl = body.data?._service?.sdl;
  if (typeof sdl !== "string") {
    throw new Error(
      `${url} returned no _service.sdl; is it a federation subgraph?`,
    );
  }
  return sdl;
}

/**
 * Composes a supergraph from subgraph SDL with the same composition library
 * as `rover supergraph compose`, and returns the supergraph SDL.
 *
 * @throws CompositionError listing every composition error.
 */
export function composeSupergraphSdl(
  subgraphs: readonly (SubgraphEndpoint & { sdl: string })[],
): string {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({
      name,
      url,
      typeDefs: parse(sdl),
    })),
  );
  if (result.errors !== undefined) {
    const details = result.errors.map((error) => `  - ${error.message}`);
    throw new CompositionError(
      `The subgraphs do not compose:\n${details.join("\n")}`,
    );
  }
  return result.supergraphSdl;
}

/** Fetches each running subgraph's SDL and composes the supergraph SDL. */
export async function composeSupergraph(
  subgraphs: readonly SubgraphEndpoint[],
  headers: Record<string, string> = {},
): Promise<string> {
  const withSdl = await Promise.all(
    subgraphs.map(async (subgraph) => ({
      ...subgraph,
      sdl: await fetchSubgraphSdl(subgraph.url, headers),
    })),
  );
  return composeSupergraphSdl(withSdl);
}
