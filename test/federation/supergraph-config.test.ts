import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { composeServices } from "@apollo/composition";
import { parse as parseGraphQL } from "graphql";
import { parse as parseYaml } from "yaml";
import { ImageError } from "../../src/errors";

const ROOT = join(__dirname, "..", "..");
const SUPERGRAPH_YAML = join(ROOT, "supergraph", "supergraph.yaml");
const ROUTER_YAML = join(ROOT, "supergraph", "router.yaml");

/** The parts of rover's supergraph.yaml that this repository uses. */
interface SupergraphConfig {
  federation_version: string;
  subgraphs: Record<
    string,
    { routing_url: string; schema: { file?: string; subgraph_url?: string } }
  >;
}

interface HeaderRule {
  propagate?: { named?: string };
}

interface ErrorInclusion {
  redact_message?: boolean;
  allow_extensions_keys?: string[];
}

/** The parts of Apollo Router's router.yaml that this repository sets. */
interface RouterConfig {
  headers: { all: { request: { operations: HeaderRule[] } } };
  include_subgraph_errors: {
    all: ErrorInclusion;
    subgraphs: Record<string, ErrorInclusion>;
  };
}

function readYaml<T>(path: string): T {
  return parseYaml(readFileSync(path, "utf8")) as T;
}

describe("supergraph.yaml", () => {
  const config = readYaml<SupergraphConfig>(SUPERGRAPH_YAML);

  test("pins the tested composition version", () => {
    const { version } = JSON.parse(
      readFileSync(
        join(ROOT, "node_modules", "@apollo", "composition", "package.json"),
        "utf8",
      ),
    ) as { version: string };
    expect(config.federation_version).toBe(`=${version}`);
  });

  test("subgraph files compose without errors", () => {
    expect(Object.keys(config.subgraphs)).toEqual(["images", "servers"]);

    const result = composeServices(
      Object.entries(config.subgraphs).map(([name, subgraph]) => ({
        name,
        url: subgraph.routing_url,
        // Rover reads schema.file relative to the configuration file.
        typeDefs: parseGraphQL(
          readFileSync(
            join(dirname(SUPERGRAPH_YAML), subgraph.schema.file ?? ""),
            "utf8",
          ),
        ),
      })),
    );
    expect((result.errors ?? []).map((error) => error.message)).toEqual([]);
  });

  test("images routes to the GraphQL path", () => {
    expect(config.subgraphs.images?.routing_url).toBe(
      "http://localhost:4001/graphql",
    );
  });
});

describe("router.yaml", () => {
  const config = readYaml<RouterConfig>(ROUTER_YAML);

  test("propagates X-Auth-Token to all subgraphs", () => {
    expect(config.headers.all.request.operations).toContainEqual({
      propagate: { named: "x-auth-token" },
    });
  });

  test("keeps images error messages", () => {
    expect(
      config.include_subgraph_errors.subgraphs.images?.redact_message,
    ).toBe(false);
  });

  test("allows every images extension key", () => {
    // An error with every option set carries every key this service sends.
    const error = new ImageError("OVER_LIMIT", "Rate limit exceeded.", {
      imageId: "00000000-0000-4000-8000-000000000000",
      upstream: {
        status: 429,
        fault: "overLimit",
        message: null,
        requestId: null,
      },
      retryAfter: 30,
    });
    // A subgraph's list adds to the list for all subgraphs (Apollo Router
    // v2 `include_subgraph_errors`, without `exclude_global_keys`).
    const allowed = new Set([
      ...(config.include_subgraph_errors.all.allow_extensions_keys ?? []),
      ...(config.include_subgraph_errors.subgraphs.images
        ?.allow_extensions_keys ?? []),
    ]);
    expect([...allowed].sort()).toEqual(Object.keys(error.extensions).sort());
  });
});
