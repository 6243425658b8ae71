import { request } from "undici";
import { SEED_IMAGE_IDS } from "../../simulator";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_REQUEST_BYTES: "262144" } });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

const HOSTILE_IDS = [
  "",
  " ",
  "../../servers",
  "..%2F..%2Fservers",
  `${SEED_IMAGE_IDS.ubuntu}/../../servers`,
  `${SEED_IMAGE_IDS.ubuntu}?limit=1`,
  `${SEED_IMAGE_IDS.ubuntu}#x`,
  `${SEED_IMAGE_IDS.ubuntu}\n`,
  `${SEED_IMAGE_IDS.ubuntu}\u0000`,
  ` ${SEED_IMAGE_IDS.ubuntu}`,
  "detail",
  "3afe97b2-26dc-49c5-a2cc-a2fc8d80c00g",
  "3afe97b226dc49c5a2cca2fc8d80c001",
  "ｓｅｒｖｅｒｓ",
  "%00",
  "a".repeat(20_000),
];

test.each(HOSTILE_IDS.map((id) => [JSON.stringify(id).slice(0, 60), id]))(
  "hostile id %s is BAD_USER_INPUT",
  async (_label, id) => {
    const { status, body } = await stack.query(
      `query ($id: ID!) { image(id: $id) { id } }`,
      { variables: { id } },
    );

    expect(status).toBe(200);
    expect(body.data).toEqual({ image: null });
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(body.errors?.[0]?.message.length).toBeLessThan(200);
    expect(stack.simulator.requests).toHaveLength(0);
  },
);

test("invalid id message is exact", async () => {
  const { body } = await stack.query(`{ image(id: "../x") { id } }`);

  expect(body.errors?.[0]?.message).toBe(
    'Invalid image id "../x": expected a UUID such as "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001".',
  );
});

test("hostile entity ids are rejected one by one", async () => {
  const { body } = await stack.query(
    `query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Image { id } }
    }`,
    {
      variables: {
        representations: [
          { __typename: "Image", id: "../../servers" },
          { __typename: "Image", id: SEED_IMAGE_IDS.ubuntu },
        ],
      },
    },
  );

  expect(body.data?._entities).toEqual([null, { id: SEED_IMAGE_IDS.ubuntu }]);
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual([
    "BAD_USER_INPUT",
  ]);
  expect(stack.simulator.imageRequests()).toHaveLength(1);
});

const ENTITIES_QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Image { id name } }
}`;

const MALFORMED_REPRESENTATIONS: [string, unknown][] = [
  ["missing id", { __typename: "Image" }],
  ["null id", { __typename: "Image", id: null }],
  ["numeric id", { __typename: "Image", id: 42 }],
  ["array id", { __typename: "Image", id: [SEED_IMAGE_IDS.ubuntu] }],
  ["missing __typename", { id: SEED_IMAGE_IDS.ubuntu }],
  ["numeric __typename", { __typename: 5, id: SEED_IMAGE_IDS.ubuntu }],
  ["unknown type", { __typename: "Flavor", id: "x" }],
  ["root type", { __typename: "Query" }],
  ["unresolvable Server", { __typename: "Server", id: "s-1" }],
  ["string", "Image"],
  ["array", [SEED_IMAGE_IDS.ubuntu]],
];

test.each(MALFORMED_REPRESENTATIONS)(
  "representation with %s fails alone",
  async (_label, representation) => {
    const { status, body } = await stack.query(ENTITIES_QUERY, {
      variables: {
        representations: [
          { __typename: "Image", id: SEED_IMAGE_IDS.ubuntu },
          representation,
          { __typename: "Image", id: "not-a-uuid" },
        ],
      },
    });

    expect(status).toBe(200);
    expect(body.data?._entities).toEqual([
      { id: SEED_IMAGE_IDS.ubuntu, name: "Ubuntu 11.10" },
      null,
      null,
    ]);
    expect(body.errors?.map((error) => error.path)).toEqual([
      ["_entities", 1],
      ["_entities", 2],
    ]);
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual([
      "BAD_USER_INPUT",
      "BAD_USER_INPUT",
    ]);
    expect(body.errors?.[0]?.message).toMatch(
      /^Invalid entity representation at index 1: /,
    );
    expect(stack.simulator.imageRequests()).toHaveLength(1);
    const errorLines = stack.log.lines
      .map((line) => JSON.parse(line) as { level: number; msg: string })
      .filter((line) => line.level >= 50);
    expect(errorLines).toEqual([]);
  },
);

test("malformed representation without token", async () => {
  const { body } = await stack.query(ENTITIES_QUERY, {
    token: null,
    variables: {
      representations: [
        { __typename: "Image", id: SEED_IMAGE_IDS.ubuntu },
        { __typename: "Image" },
      ],
    },
  });

  const codeByPath = new Map(
    body.errors?.map((error) => [
      JSON.stringify(error.path),
      error.extensions?.code,
    ]),
  );
  expect(body.data?._entities).toEqual([null, null]);
  expect(codeByPath.get('["_entities",0]')).toBe("UNAUTHENTICATED");
  expect(codeByPath.get('["_entities",1]')).toBe("BAD_USER_INPUT");
});

test("mutation is rejected in validation", async () => {
  const { status, body } = await stack.query("mutation { __typename }");

  expect(status).toBe(400);
  expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  expect(body.errors?.[0]?.message).toBe(
    "This subgraph serves queries only; it has no mutation type.",
  );
});

test("upper-case UUID is accepted", async () => {
  const id = SEED_IMAGE_IDS.ubuntu.toUpperCase();
  const { body } = await stack.query(`{ image(id: "${id}") { id name } }`);

  expect(body.errors).toBeUndefined();
  expect(body.data?.image).toEqual({ id, name: "Ubuntu 11.10" });
});

test("upstream path has one encoded segment", async () => {
  await stack.query(`{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`);

  const [call] = stack.simulator.imageRequests();
  expect(call?.path).toBe(`/v2/010101/images/${SEED_IMAGE_IDS.ubuntu}`);
});

test("request body over limit is 413", async () => {
  const response = await request(stack.service.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: `{ __typename }`, pad: "x".repeat(270_000) }),
  });
  const body = (await response.body.json()) as {
    errors: { message: string; extensions: { code: string } }[];
  };

  expect(response.statusCode).toBe(413);
  expect(body.errors[0]?.message).toBe(
    "The request body is larger than the limit of 262144 bytes (MAX_REQUEST_BYTES).",
  );
  expect(body.errors[0]?.extensions.code).toBe("PAYLOAD_TOO_LARGE");
});

test("invalid JSON body is 400", async () => {
  const response = await request(stack.service.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"query": "{ __typename }"',
  });
  const body = (await response.body.json()) as {
    errors: { message: string; extensions: { code: string } }[];
  };

  expect(response.statusCode).toBe(400);
  expect(body.errors[0]?.message).toMatch(
    /^The request body is not valid JSON/,
  );
  expect(body.errors[0]?.extensions.code).toBe("BAD_REQUEST");
});

test("fifty aliases of one image make one call", async () => {
  const aliases = Array.from(
    { length: 50 },
    (_, index) => `a${index}: image(id: "${SEED_IMAGE_IDS.ubuntu}") { id }`,
  ).join("\n");
  const { body } = await stack.query(`{ ${aliases} }`);

  expect(body.errors).toBeUndefined();
  expect(Object.keys(body.data ?? {})).toHaveLength(50);
  expect(stack.simulator.imageRequests()).toHaveLength(1);
});

test("service keeps serving after hostile input", async () => {
  const { body } = await stack.query(
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { name } }`,
  );

  expect(body.data?.image).toEqual({ name: "Ubuntu 11.10" });
});

test("too many repeated fields names the cause", async () => {
  const fields = Array.from({ length: 1000 }, () => "__typename").join(" ");
  const { status, body } = await stack.query(`{ ${fields} }`);

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query repeats too many fields to validate; send fewer repeated fields or aliases in one operation.",
  );
  expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
});

test("too many directives names the limit", async () => {
  const directives = Array.from({ length: 51 }, () => "@include(if: true)");
  const { status, body } = await stack.query(
    `{ __typename ${directives.join(" ")} }`,
  );

  expect(status).toBe(400);
  expect(body.errors?.[0]?.message).toBe(
    "The query has 51 directives; the limit is 50.",
  );
});
