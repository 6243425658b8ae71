// An error that is not an ImageError is a bug: the caller gets only
// INTERNAL_SERVER_ERROR, and the log gets one line with the real error.

import { createApolloServer } from "../../src/apollo";
import { Deadline } from "../../src/deadline";
import { createImageLoader } from "../../src/images/loader";
import { Metrics } from "../../src/observability/metrics";
import { captureLogger } from "../support/stack";

const IMAGE_ID = "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001";
const BUG_MESSAGE = "Cannot read properties of undefined (reading 'links')";

test("bug is masked and logged once", async () => {
  const { logger, lines } = captureLogger("info");
  const metrics = new Metrics();
  const apollo = createApolloServer({
    logger,
    development: false,
    metrics,
    limits: {
      maxDepth: 10,
      maxAliases: 50,
      maxTokens: 5000,
      maxEntityRepresentations: 1000,
    },
  });
  await apollo.start();
  const upstreamCall = { deadline: new Deadline(5000) };
  const images = createImageLoader({
    // A source with a bug, in place of the upstream client.
    source: {
      fetchImage: async () => {
        throw new TypeError(BUG_MESSAGE);
      },
    },
    token: "token-0123456789",
    concurrency: 4,
    call: upstreamCall,
  });

  try {
    const response = await apollo.executeOperation(
      { query: `{ image(id: "${IMAGE_ID}") { id } }` },
      {
        contextValue: {
          token: "token-0123456789",
          images,
          logger,
          upstreamCall,
          metricsState: { counted: false },
        },
      },
    );

    const result =
      response.body.kind === "single" ? response.body.singleResult : undefined;
    expect(result?.data).toEqual({ image: null });
    expect(result?.errors).toEqual([
      {
        message: "Internal server error.",
        locations: [{ line: 1, column: 3 }],
        path: ["image"],
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      },
    ]);

    const logged = lines
      .map((line) => JSON.parse(line) as Record<string, any>)
      .filter((entry) => entry.level === 50);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.msg).toBe(
      "unexpected error while resolving; masked as INTERNAL_SERVER_ERROR",
    );
    expect(logged[0]?.err?.message).toBe(BUG_MESSAGE);
    expect(logged[0]?.path).toEqual(["image"]);

    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'graphql_errors_total{code="INTERNAL_SERVER_ERROR"} 1',
    );
  } finally {
    await apollo.stop();
  }
});
