import { randomUUID } from "node:crypto";
import type { SeedImage } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

/** Twelve images added to the simulator for this suite, in list order. */
const IMAGE_IDS: string[] = Array.from({ length: 12 }, () => randomUUID());

/** An id that no image of the simulator has. */
const MISSING_ID = randomUUID();

function testImage(id: string, index: number): SeedImage {
  return {
    id,
    name: `listed-image-${index}`,
    status: "ACTIVE",
    progress: 100,
    minDisk: 20,
    minRam: 1024,
    created: "2024-01-02T03:04:05Z",
    updated: "2024-01-02T03:04:05Z",
    metadata: { image_type: "snapshot" },
    server: { id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f" },
  };
}

const ENTITIES_QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Image { id name minRam type server { id } }
  }
}`;

function representations(ids: readonly string[]) {
  return ids.map((id) => ({ __typename: "Image", id }));
}

async function startWithThreshold(threshold: string): Promise<Stack> {
  const stack = await startStack({
    env: { IMAGE_LIST_THRESHOLD: threshold, IMAGE_LIST_PAGE_SIZE: "25" },
  });
  IMAGE_IDS.forEach((id, index) =>
    stack.simulator.addImage(testImage(id, index)),
  );
  return stack;
}

function listCalls(stack: Stack): number {
  return stack.simulator.requests.filter((entry) =>
    entry.path.includes("/images/detail"),
  ).length;
}

function perIdCalls(stack: Stack): string[] {
  return stack.simulator.requests.flatMap((entry) =>
    entry.imageId === undefined ? [] : [entry.imageId],
  );
}

describe("list strategy in the service", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startWithThreshold("3");
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.simulator.reset());

  it("resolves a large batch from list pages", async () => {
    // One page of 25 contains the seed images and every added one.
    const requested = IMAGE_IDS.slice(0, 4);
    const result = await stack.query(ENTITIES_QUERY, {
      variables: {
        representations: representations([...requested, ...requested]),
      },
    });

    expect(result.body.errors).toBeUndefined();
    const entities = result.body.data?._entities as { id: string }[];
    expect(entities.map((entity) => entity.id)).toEqual([
      ...requested,
      ...requested,
    ]);
    expect(entities[0]).toEqual({
      id: requested[0],
      name: "listed-image-0",
      minRam: 1024,
      type: "SNAPSHOT",
      server: { id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f" },
    });
    expect(perIdCalls(stack)).toEqual([]);
    expect(listCalls(stack)).toBe(1);
  });

  it("keeps a batch at the threshold per id", async () => {
    const requested = IMAGE_IDS.slice(0, 3);
    const result = await stack.query(ENTITIES_QUERY, {
      variables: { representations: representations(requested) },
    });

    expect(result.body.errors).toBeUndefined();
    expect(listCalls(stack)).toBe(0);
    expect(perIdCalls(stack).sort()).toEqual([...requested].sort());
  });

  it("fetches ids missing from the list one by one", async () => {
    const requested = [...IMAGE_IDS.slice(0, 3), MISSING_ID];
    const result = await stack.query(ENTITIES_QUERY, {
      variables: { representations: representations(requested) },
    });

    const entities = result.body.data?._entities as unknown[];
    expect(entities[3]).toBeNull();
    expect(result.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(perIdCalls(stack)).toContain(MISSING_ID);
  });

  it("never calls more than the distinct ids", async () => {
    const requested = IMAGE_IDS.slice(6, 10);
    await stack.query(ENTITIES_QUERY, {
      variables: { representations: representations(requested) },
    });

    const calls = listCalls(stack) + perIdCalls(stack).length;
    expect(calls).toBeLessThanOrEqual(requested.length + 1);
  });
});

describe("list strategy turned off", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startWithThreshold("0");
  });
  afterAll(() => stack.close());

  it("fetches every id one by one", async () => {
    const requested = IMAGE_IDS.slice(0, 8);
    const result = await stack.query(ENTITIES_QUERY, {
      variables: { representations: representations(requested) },
    });

    expect(result.body.errors).toBeUndefined();
    expect(listCalls(stack)).toBe(0);
    expect(perIdCalls(stack).sort()).toEqual([...requested].sort());
  });
});
