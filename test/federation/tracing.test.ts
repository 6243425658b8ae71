import { Trace } from "@apollo/usage-reporting-protobuf";
import { SEED_IMAGE_IDS } from "../../simulator";
import { postGraphQL, startStack } from "../support/stack";
import type { GraphQLResult, Stack } from "../support/stack";

/** The header with which a router requests an inline trace from a subgraph. */
const TRACE_HEADER = { "apollo-federation-include-trace": "ftv1" };

const MISSING_IMAGE_ID = "00000000-0000-4000-8000-000000000404";

/** The `_entities` call that a router makes to join images onto servers. */
const ENTITIES_QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Image { id name }
  }
}`;

function representations(...ids: string[]) {
  return ids.map((id) => ({ __typename: "Image", id }));
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.close();
});

function decodeTrace(result: GraphQLResult): Trace {
  const ftv1 = (result.body as { extensions?: { ftv1?: unknown } }).extensions
    ?.ftv1;
  if (typeof ftv1 !== "string") {
    throw new Error(
      `the response has no ftv1 trace: ${JSON.stringify(result.body)}`,
    );
  }
  return Trace.decode(Buffer.from(ftv1, "base64"));
}

interface TracedError {
  path: (string | number)[];
  message: string;
  json: Record<string, unknown>;
}

/** Collects the errors of every node of a trace, with the node's path. */
function traceErrors(trace: Trace): TracedError[] {
  return (trace.root?.child ?? []).flatMap((child) => nodeErrors(child, []));
}

/** Collects the errors of a node and its children. A field node has a response name, and a list item an index. */
function nodeErrors(
  node: Trace.INode,
  path: (string | number)[],
): TracedError[] {
  const nodePath = [...path, node.responseName || (node.index ?? 0)];
  const own = (node.error ?? []).map((error) => ({
    path: nodePath,
    message: error.message ?? "",
    json: JSON.parse(error.json ?? "{}") as Record<string, unknown>,
  }));
  return [
    ...own,
    ...(node.child ?? []).flatMap((child) => nodeErrors(child, nodePath)),
  ];
}

test("no trace without the ftv1 header", async () => {
  const result = await postGraphQL(stack.service.url, ENTITIES_QUERY, {
    variables: { representations: representations(SEED_IMAGE_IDS.ubuntu) },
  });

  expect(result.body.data).toBeDefined();
  expect(
    (result.body as { extensions?: Record<string, unknown> }).extensions?.ftv1,
  ).toBeUndefined();
});

test("ftv1 trace covers the _entities call", async () => {
  const result = await postGraphQL(stack.service.url, ENTITIES_QUERY, {
    variables: { representations: representations(SEED_IMAGE_IDS.ubuntu) },
    headers: TRACE_HEADER,
  });

  const trace = decodeTrace(result);
  expect(trace.root?.child?.[0]?.responseName).toBe("_entities");
  expect(traceErrors(trace)).toEqual([]);
});

test("ftv1 trace keeps NOT_FOUND unmasked", async () => {
  const result = await postGraphQL(stack.service.url, ENTITIES_QUERY, {
    variables: {
      representations: representations(SEED_IMAGE_IDS.ubuntu, MISSING_IMAGE_ID),
    },
    headers: TRACE_HEADER,
  });

  const errors = traceErrors(decodeTrace(result));
  expect(errors).toHaveLength(1);
  expect(errors[0]?.path).toEqual(["_entities", 1]);
  expect(errors[0]?.message).toBe(`Image ${MISSING_IMAGE_ID} not found.`);
  expect(errors[0]?.json.extensions).toEqual({
    code: "NOT_FOUND",
    imageId: MISSING_IMAGE_ID,
    upstream: {
      status: 404,
      fault: "itemNotFound",
      message: "Image not found.",
      requestId: expect.stringMatching(/^req-[0-9a-f-]{36}$/),
    },
  });
});

test("ftv1 trace keeps UNAUTHENTICATED unmasked", async () => {
  const result = await postGraphQL(
    stack.service.url,
    `{ image(id: "${SEED_IMAGE_IDS.ubuntu}") { id } }`,
    { token: null, headers: TRACE_HEADER },
  );

  const errors = traceErrors(decodeTrace(result));
  expect(errors).toHaveLength(1);
  expect(errors[0]?.path).toEqual(["image"]);
  expect(errors[0]?.message).toBe(
    result.body.errors?.[0]?.message ?? "no error in the response",
  );
  expect(errors[0]?.json.extensions).toEqual({ code: "UNAUTHENTICATED" });
});
