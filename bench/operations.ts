import { DEMO_TOKEN } from "../simulator";

/** The request format of a contender. */
export type Protocol = "subgraph" | "mesh" | "raw";

export type ScenarioName = "single" | "entities" | "join" | "join-faults";

export const SCENARIOS: readonly ScenarioName[] = [
  "single",
  "entities",
  "join",
  "join-faults",
];

/**
 * The query of an operation: `image(id:)`, one `_entities` call as a
 * router sends it, or a query to the gateway that joins servers onto their
 * images.
 */
export type Shape = "single" | "entities" | "join";

/** The image ids that a scenario requests, duplicates included, in order. */
export interface Workload {
  ids: string[];
  shape: Shape;
  /** Images expected to resolve; the rest fail on purpose. */
  expectedImages: number;
}

/** One HTTP request of a contender, ready for the load generator. */
export interface Operation {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Counts the images that resolved in a response body. */
  countImages(body: unknown): number;
}

/** Fields that every contender's `Image` type has under the same name. */
const IMAGE_FIELDS = "id name status minRam minDisk";

const HEADERS = {
  "content-type": "application/json",
  "x-auth-token": DEMO_TOKEN,
};

/** Builds the request that makes `workload` on a contender. */
export function buildOperation(
  protocol: Protocol,
  workload: Workload,
  url: string,
): Operation {
  if (protocol === "raw") {
    return {
      url,
      body: JSON.stringify({ ids: workload.ids }),
      headers: HEADERS,
      countImages: (body) =>
        countResolved((body as { images?: unknown }).images),
    };
  }
  switch (workload.shape) {
    case "join":
      return joinOperation(url);
    case "single":
      return singleOperation(protocol, workload.ids[0]!, url);
    case "entities":
      return entitiesOperation(protocol, workload.ids, url);
  }
}

function singleOperation(
  protocol: Protocol,
  id: string,
  url: string,
): Operation {
  // Mesh types the path parameter of the OpenAPI document as String.
  const idType = protocol === "mesh" ? "String!" : "ID!";
  return graphql(
    url,
    `query ($id: ${idType}) { image(id: $id) { ${IMAGE_FIELDS} } }`,
    { id },
    (data) => countResolved([data.image]),
  );
}

function entitiesOperation(
  protocol: Protocol,
  ids: readonly string[],
  url: string,
): Operation {
  return graphql(
    url,
    `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Image { ${IMAGE_FIELDS} } } }`,
    { representations: ids.map((id) => ({ __typename: "Image", id })) },
    (data) => countResolved(data._entities),
  );
}

/** Builds the join through the gateway. The Servers subgraph contains the ids. */
function joinOperation(url: string): Operation {
  return graphql(
    url,
    `{ servers { id name image { ${IMAGE_FIELDS} } } }`,
    {},
    (data) =>
      countResolved(
        ((data.servers as { image: unknown }[] | null) ?? []).map(
          (server) => server.image,
        ),
      ),
  );
}

function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  count: (data: Record<string, unknown>) => number,
): Operation {
  return {
    url,
    body: JSON.stringify({ query, variables }),
    headers: HEADERS,
    countImages: (body) => {
      const data = (body as { data?: Record<string, unknown> | null }).data;
      return data == null ? 0 : count(data);
    },
  };
}

/**
 * Counts the images with a name. A gateway keeps the `id` that the Servers
 * subgraph returned when the images subgraph fails, so an image object
 * alone does not mean that the image resolved.
 */
function countResolved(values: unknown): number {
  if (!Array.isArray(values)) return 0;
  return values.filter(
    (value) =>
      typeof value === "object" &&
      value !== null &&
      (value as { name?: unknown }).name != null,
  ).length;
}
