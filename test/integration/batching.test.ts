import { randomUUID } from "node:crypto";
import { SEED_IMAGE_IDS } from "../../simulator";
import type { SeedImage } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

/** Ten images of the simulator, added for this suite. */
const IMAGE_IDS: string[] = Array.from({ length: 10 }, () => randomUUID());

function testImage(id: string, index: number): SeedImage {
  return {
    id,
    name: `batch-image-${index}`,
    status: "ACTIVE",
    progress: 100,
    minDisk: 10 + index,
    minRam: 512,
    created: "2024-01-02T03:04:05Z",
    updated: "2024-01-02T03:04:05Z",
    metadata: { image_type: "base" },
  };
}

const ENTITIES_QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Image { id name }
  }
}`;

function representations(ids: readonly string[]) {
  return ids.map((id) => ({ __typename: "Image", id }));
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  IMAGE_IDS.forEach((id, index) =>
    stack.simulator.addImage(testImage(id, index)),
  );
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

test("30 representations of 10 images make 10 calls", async () => {
  const ids = Array.from({ length: 30 }, (_, index) => IMAGE_IDS[index % 10]!);
  const { body } = await stack.query(ENTITIES_QUERY, {
    variables: { representations: representations(ids) },
  });

  expect(body.errors).toBeUndefined();
  const entities = body.data?._entities as { id: string; name: string }[];
  expect(entities.map((entity) => entity.id)).toEqual(ids);
  const calls = stack.simulator.imageRequests();
  expect(calls).toHaveLength(10);
  expect(new Set(calls.map((call) => call.imageId))).toEqual(
    new Set(IMAGE_IDS),
  );
});

test("entities keep order under uneven latency", async () => {
  // The first ids answer last, so answers arrive in reverse order.
  stack.simulator.setLatency((id) => {
    const index = IMAGE_IDS.indexOf(id);
    return index === -1 ? 0 : (IMAGE_IDS.length - index) * 15;
  });
  const ids = [...IMAGE_IDS, ...IMAGE_IDS.slice().reverse()];
  const { body } = await stack.query(ENTITIES_QUERY, {
    variables: { representations: representations(ids) },
  });

  const entities = body.data?._entities as { id: string; name: string }[];
  expect(entities.map((entity) => entity.id)).toEqual(ids);
  expect(entities.map((entity) => entity.name)).toEqual(
    ids.map((id) => `batch-image-${IMAGE_IDS.indexOf(id)}`),
  );
});

test("one failing image nulls only its entries", async () => {
  const failing = IMAGE_IDS[3]!;
  stack.simulator.inject(failing, { kind: "fault", name: "computeFault" });
  const ids = [IMAGE_IDS[0]!, failing, IMAGE_IDS[5]!, failing];
  const { body } = await stack.query(ENTITIES_QUERY, {
    variables: { representations: representations(ids) },
  });

  const entities = body.data?._entities as ({ id: string } | null)[];
  expect(entities[0]?.id).toBe(IMAGE_IDS[0]);
  expect(entities[1]).toBeNull();
  expect(entities[2]?.id).toBe(IMAGE_IDS[5]);
  expect(entities[3]).toBeNull();
  expect(body.errors?.map((error) => error.path)).toEqual([
    ["_entities", 1],
    ["_entities", 3],
  ]);
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual([
    "UPSTREAM_ERROR",
    "UPSTREAM_ERROR",
  ]);
  expect(stack.simulator.imageRequests(failing)).toHaveLength(1);
});

test("image and entities share one loader", async () => {
  const { body } = await stack.query(
    `query ($representations: [_Any!]!) {
      a: image(id: "${SEED_IMAGE_IDS.ubuntu}") { name }
      b: image(id: "${SEED_IMAGE_IDS.ubuntu}") { minRam }
      _entities(representations: $representations) { ... on Image { name } }
    }`,
    {
      variables: {
        representations: representations([
          SEED_IMAGE_IDS.ubuntu,
          SEED_IMAGE_IDS.debian,
        ]),
      },
    },
  );

  expect(body.errors).toBeUndefined();
  expect(stack.simulator.imageRequests(SEED_IMAGE_IDS.ubuntu)).toHaveLength(1);
  expect(stack.simulator.imageRequests(SEED_IMAGE_IDS.debian)).toHaveLength(1);
});

test("ids differing in case share a call", async () => {
  const upper = SEED_IMAGE_IDS.ubuntu.toUpperCase();
  const lower = SEED_IMAGE_IDS.ubuntu.toLowerCase();
  const { body } = await stack.query(
    `{ a: image(id: "${upper}") { id name } b: image(id: "${lower}") { id name } }`,
  );

  expect(body.errors).toBeUndefined();
  expect(body.data?.a).toEqual({ id: upper, name: "Ubuntu 11.10" });
  expect(body.data?.b).toEqual({ id: lower, name: "Ubuntu 11.10" });
  expect(stack.simulator.imageRequests(SEED_IMAGE_IDS.ubuntu)).toHaveLength(1);
});

test("nothing is cached across requests", async () => {
  const query = `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`;
  await stack.query(query);
  await stack.query(query);

  expect(stack.simulator.imageRequests(SEED_IMAGE_IDS.ubuntu)).toHaveLength(2);
});

test("a changed image is seen by the next request", async () => {
  const id = IMAGE_IDS[9]!;
  const query = `{ image(id: "${id}") { name } }`;
  const before = await stack.query(query);
  stack.simulator.removeImage(id);
  const after = await stack.query(query);
  stack.simulator.addImage(testImage(id, 9));

  expect(before.body.data?.image).toEqual({ name: "batch-image-9" });
  expect(after.body.data?.image).toBeNull();
  expect(after.body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
});

test("upstream fan-out stays within concurrency", async () => {
  const bounded = await startStack({ env: { UPSTREAM_CONCURRENCY: "3" } });
  try {
    IMAGE_IDS.forEach((id, index) =>
      bounded.simulator.addImage(testImage(id, index)),
    );
    bounded.simulator.setLatency(40);
    const { body } = await bounded.query(ENTITIES_QUERY, {
      variables: { representations: representations(IMAGE_IDS) },
    });

    expect(body.errors).toBeUndefined();
    expect(maxInFlight(bounded.simulator.imageRequests())).toBeLessThanOrEqual(
      3,
    );
    expect(maxInFlight(bounded.simulator.imageRequests())).toBeGreaterThan(1);
  } finally {
    await bounded.close();
  }
});

/** Counts the most requests the simulator had open at once, from its log. */
function maxInFlight(
  calls: readonly { receivedAt: number; answeredAt?: number }[],
): number {
  const events = calls.flatMap((call) => [
    { time: call.receivedAt, delta: 1 },
    { time: call.answeredAt ?? Infinity, delta: -1 },
  ]);
  events.sort((a, b) => a.time - b.time || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const event of events) {
    open += event.delta;
    max = Math.max(max, open);
  }
  return max;
}
