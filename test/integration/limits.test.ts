import { request } from "undici";
import { SEED_IMAGE_IDS } from "../../simulator";
import { postGraphQL, startStack } from "../support/stack";
import type { Stack } from "../support/stack";

const ROUTER_SECRET = "router-secret-0123456789abcdef";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    env: {
      MAX_QUERY_DEPTH: "4",
      MAX_ALIASES: "5",
      MAX_QUERY_TOKENS: "400",
      MAX_ENTITY_REPRESENTATIONS: "10",
    },
  });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Image { id } }
}`;

function representations(count: number) {
  return Array.from({ length: count }, () => ({
    __typename: "Image",
    id: SEED_IMAGE_IDS.ubuntu,
  }));
}

test("query within limits passes", async () => {
  const { status, body } = await stack.query(
    `fragment A on Image { server { id } }
     fragment B on Query { image(id: "${SEED_IMAGE_IDS.snapshot}") { ...A } }
     query { ...B  other: image(id: "${SEED_IMAGE_IDS.snapshot}") { links { href } } }`,
  );

  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
});

test("nested fragments within depth pass", async () => {
  const { status, body } = await stack.query(
    `fragment S on Server { id }
     fragment I on Image { server { ...S } }
     query { _entities(representations: [{ __typename: "Image", id: "${SEED_IMAGE_IDS.snapshot}" }]) {
       ... on Image { ...I } __typename
     } image(id: "${SEED_IMAGE_IDS.snapshot}") { server { ... on Server { ... on Server { id } } } } }`,
  );

  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
});

test("deep fragments over limit are rejected", async () => {
  const { status, body } = await stack.query(
    `fragment T on __Type { ofType { ofType { ofType { name } } } }
     fragment F on __Type { fields { type { ...T } } }
     query { image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } t: __type(name: "Image") { ...F } }`,
  );

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query is too deep; the limit is 4 (MAX_QUERY_DEPTH).",
  );
  expect(stack.simulator.requests).toHaveLength(0);
});

test("too deep query names the limit", async () => {
  const { status, body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.snapshot}") { server { id } } a: __type(name: "Image") { fields { type { ofType { ofType { name } } } } } }`,
  );

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query is too deep; the limit is 4 (MAX_QUERY_DEPTH).",
  );
  expect(stack.simulator.requests).toHaveLength(0);
});

test("too many aliases names the limit", async () => {
  const aliases = Array.from(
    { length: 6 },
    (_, index) => `a${index}: image(id: "${SEED_IMAGE_IDS.ubuntu}") { id }`,
  ).join(" ");
  const { status, body } = await stack.query(`{ ${aliases} }`);

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query has too many aliases; the limit is 5 (MAX_ALIASES).",
  );
  expect(stack.simulator.requests).toHaveLength(0);
});

test("too many tokens names the limit", async () => {
  const fields = Array.from({ length: 500 }, () => "id").join(" ");
  const { status, body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { ${fields} } }`,
  );

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query has more than 400 tokens; the limit is 400 (MAX_QUERY_TOKENS).",
  );
  expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("too many representations names the limit", async () => {
  const { status, body } = await stack.query(ENTITIES, {
    variables: { representations: representations(11) },
  });

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The request asks for 11 _entities representations; the limit is 10 (MAX_ENTITY_REPRESENTATIONS).",
  );
  expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("representations at the limit pass", async () => {
  const { body } = await stack.query(ENTITIES, {
    variables: { representations: representations(10) },
  });

  expect(body.errors).toBeUndefined();
  expect(body.data?._entities).toHaveLength(10);
});

test("inline representations are counted", async () => {
  const inline = Array.from(
    { length: 11 },
    () => `{ __typename: "Image", id: "${SEED_IMAGE_IDS.ubuntu}" }`,
  ).join(", ");
  const { status } = await stack.query(
    `{ _entities(representations: [${inline}]) { ... on Image { id } } }`,
  );

  expect(status).toBe(400);
  expect(stack.simulator.requests).toHaveLength(0);
});

test.each([
  [
    "inline fragment",
    `query ($a: [_Any!]!) {
      ... on Query { _entities(representations: $a) { ... on Image { id } } }
    }`,
    11,
    11,
  ],
  [
    "named fragments",
    `fragment One on Query { one: _entities(representations: $a) { __typename } }
     fragment Two on Query { two: _entities(representations: $a) { __typename } }
     query ($a: [_Any!]!) { ...One ...Two }`,
    6,
    12,
  ],
  [
    "fragment beside field",
    `fragment More on Query { more: _entities(representations: $a) { __typename } }
     query ($a: [_Any!]!) { _entities(representations: $a) { __typename } ...More }`,
    6,
    12,
  ],
])("representations in %s are counted", async (_case, query, bound, asked) => {
  const { status, body } = await stack.query(query, {
    variables: { a: representations(bound) },
  });

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    `The request asks for ${asked} _entities representations; the limit is 10 (MAX_ENTITY_REPRESENTATIONS).`,
  );
  expect(stack.simulator.requests).toHaveLength(0);
});

test("default representations are counted", async () => {
  const inline = Array.from(
    { length: 11 },
    () => `{ __typename: "Image", id: "${SEED_IMAGE_IDS.ubuntu}" }`,
  ).join(", ");
  const { status, body } = await stack.query(
    `query ($a: [_Any!]! = [${inline}]) {
      _entities(representations: $a) { ... on Image { id } }
    }`,
  );

  expect(status).toBe(400);
  expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(stack.simulator.requests).toHaveLength(0);
});

test("merged fields count once", async () => {
  // graphql-js runs fields that share a response key once.
  const { body } = await stack.query(
    `query ($a: [_Any!]!) {
      _entities(representations: $a) { ... on Image { id } }
      ... on Query { _entities(representations: $a) { ... on Image { id } } }
    }`,
    { variables: { a: representations(8) } },
  );

  expect(body.errors).toBeUndefined();
  expect(body.data?._entities).toHaveLength(8);
});

test("service serves after rejections", async () => {
  const { body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`,
  );

  expect(body.data?.image).toEqual({ name: "Ubuntu 11.10" });
});

describe("router secret", () => {
  let locked: Stack;
  const query = `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`;

  beforeAll(async () => {
    locked = await startStack({ env: { ROUTER_SECRET } });
  });

  afterAll(() => locked.close());

  test("missing secret is rejected", async () => {
    const { status, body } = await locked.query(query);

    expect(status).toBe(401);
    expect(body.errors?.[0]?.message).toBe(
      "Missing or invalid x-router-secret header: this subgraph accepts requests only from its router.",
    );
    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(locked.simulator.requests).toHaveLength(0);
  });

  test("wrong secret is rejected", async () => {
    const { status } = await locked.query(query, {
      headers: { "x-router-secret": `${ROUTER_SECRET}x` },
    });

    expect(status).toBe(401);
  });

  test("matching secret is accepted", async () => {
    const { status, body } = await locked.query(query, {
      headers: { "x-router-secret": ROUTER_SECRET },
    });

    expect(status).toBe(200);
    expect(body.data?.image).toEqual({ name: "Ubuntu 11.10" });
  });

  test("health checks need no secret", async () => {
    const live = await request(new URL("/livez", locked.service.url));
    await live.body.text();
    const ready = await request(new URL("/readyz", locked.service.url));
    await ready.body.text();

    expect(live.statusCode).toBe(200);
    expect(ready.statusCode).toBe(200);
  });

  test("secret is not echoed", async () => {
    const result = await postGraphQL(locked.service.url, query, {
      headers: { "x-router-secret": "wrong-secret-value-123" },
    });

    expect(JSON.stringify(result)).not.toContain("wrong-secret-value-123");
    expect(locked.log.lines.join("\n")).not.toContain(ROUTER_SECRET);
  });
});
