import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startStack } from "../support/stack";
import type { Stack } from "../support/stack";
import { FULL_QUERY } from "../support/queries";

/** A recorded upstream response: `{status, headers, body | text, note?}`. */
interface Fixture {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  text?: string;
}

const FIXTURE_DIR = join(__dirname, "..", "fixtures", "images");

function readFixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, name), "utf8")) as Fixture;
}

const FIXTURE_NAMES = readdirSync(FIXTURE_DIR).filter((name) =>
  name.endsWith(".json"),
);

/** Any valid id: the replayed response decides what comes back. */
const REQUESTED_ID = "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001";

let stack: Stack;

beforeAll(async () => {
  // One attempt per call, so that replayed 503s are not retried.
  stack = await startStack({
    env: { UPSTREAM_MAX_ATTEMPTS: "1" },
    simulator: {
      tokens: Object.fromEntries(
        FIXTURE_NAMES.map((name) => [`fixture-token-${name}`, "010101"]),
      ),
    },
  });
});

afterAll(() => stack.close());

beforeEach(() => stack.simulator.reset());

/** Replays a fixture for the image its body names, or for REQUESTED_ID. */
async function replay(name: string) {
  const fixture = readFixture(name);
  const image = (fixture.body as { image?: { id?: string } } | undefined)
    ?.image;
  const id = image?.id ?? REQUESTED_ID;

  stack.simulator.inject(id, { kind: "replay", ...fixture });
  // A token of its own, because a rate-limit answer blocks its token.
  const token = `fixture-token-${name}`;
  const result = await stack.query(FULL_QUERY, { variables: { id }, token });
  return { fixture, result };
}

test("every fixture has a case below", () => {
  expect(FIXTURE_NAMES.sort()).toEqual(
    [...Object.keys(IMAGE_CASES), ...Object.keys(FAULT_CASES)].sort(),
  );
});

const IMAGE_CASES: Record<string, Record<string, unknown>> = {
  "seed-ubuntu-base.json": {
    id: "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001",
    name: "Ubuntu 11.10",
    status: "ACTIVE",
    progress: 100,
    minDisk: 10,
    minRam: 256,
    sizeBytes: null,
    created: "2012-02-28T19:38:57.000Z",
    updated: "2012-02-28T19:39:05.000Z",
    diskConfig: "AUTO",
    type: "BASE",
    server: null,
  },
  "snapshot-with-server.json": {
    status: "ACTIVE",
    sizeBytes: 242841600,
    diskConfig: "AUTO",
    type: "SNAPSHOT",
    server: { id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f" },
  },
  "saving-snapshot-203.json": {
    name: "db-02 before upgrade",
    status: "SAVING",
    progress: 50,
    updated: null,
    diskConfig: null,
    type: "SNAPSHOT",
    server: { id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f" },
  },
  "windows-large-offset-dates.json": {
    sizeBytes: 5562828800,
    created: "2015-08-27T14:49:58.000Z",
    updated: "2015-08-27T15:02:11.000Z",
    diskConfig: "MANUAL",
    type: "BASE",
  },
  "openstack-nonstring-metadata.json": {
    name: "fedora-cloud",
    sizeBytes: 1017415075,
    diskConfig: null,
    type: null,
    server: null,
  },
};

describe("image fixtures", () => {
  test.each(Object.entries(IMAGE_CASES))("%s", async (name, expected) => {
    const { fixture, result } = await replay(name);
    const upstream = (fixture.body as { image: Record<string, unknown> }).image;

    expect(result.status).toBe(200);
    expect(result.body.errors).toBeUndefined();
    const image = result.body.data?.image as Record<string, unknown>;
    expect(image).toMatchObject(expected);
    expect(image.links).toEqual(
      (upstream.links as { href: string; rel: string; type?: string }[]).map(
        (link) => ({ href: link.href, rel: link.rel, type: link.type ?? null }),
      ),
    );
    expect((image.metadata as unknown[]).length).toBe(
      Object.keys(upstream.metadata as object).length,
    );
  });

  test("metadata keeps every entry in order", async () => {
    const { result } = await replay("openstack-nonstring-metadata.json");

    const image = result.body.data?.image as { metadata: unknown[] };
    expect(image.metadata).toEqual([
      { key: "architecture", value: "x86_64" },
      {
        key: "block_device_mapping",
        value:
          '[{"boot_index":0,"device_name":"/dev/vda","guest_format":null,"delete_on_termination":false}]',
      },
      { key: "kernel_id", value: "nokernel" },
      { key: "ramdisk_id", value: null },
      { key: "hw_ephemeral_encryption", value: "True" },
      { key: "min_ram", value: "0" },
    ]);
  });
});

const FAULT_CASES: Record<string, Record<string, unknown>> = {
  "fault-401-keystone.json": {
    code: "UNAUTHENTICATED",
    upstream: {
      status: 401,
      fault: "error",
      message: "The request you have made requires authentication.",
      requestId: null,
    },
  },
  "fault-403-forbidden.json": {
    code: "FORBIDDEN",
    upstream: {
      status: 403,
      fault: "forbidden",
      message: "Policy doesn't allow compute:get_image to be performed.",
      requestId: "req-00000000-0000-4000-a000-000000000008",
    },
  },
  "fault-404-flat-webob.json": {
    code: "NOT_FOUND",
    upstream: {
      status: 404,
      fault: null,
      message: "The resource could not be found.",
      requestId: null,
    },
  },
  "fault-404-item-not-found.json": {
    code: "NOT_FOUND",
    upstream: {
      status: 404,
      fault: "itemNotFound",
      message: "Image not found.",
      requestId: "req-00000000-0000-4000-a000-000000000006",
    },
  },
  "fault-413-over-limit.json": {
    code: "OVER_LIMIT",
    retryAfter: 54,
    upstream: {
      status: 413,
      fault: "overLimit",
      message: "This request was rate-limited.",
      requestId: "req-00000000-0000-4000-a000-000000000007",
    },
  },
  "fault-500-compute-fault.json": {
    code: "UPSTREAM_ERROR",
    upstream: {
      status: 500,
      fault: "computeFault",
      message:
        "The server has either erred or is incapable of performing the requested operation.",
      requestId: "req-00000000-0000-4000-a000-000000000009",
    },
  },
  "fault-503-proxy-html.json": {
    code: "SERVICE_UNAVAILABLE",
    upstream: { status: 503, fault: null, message: null, requestId: null },
  },
};

describe("fault fixtures", () => {
  test.each(Object.entries(FAULT_CASES))("%s", async (name, expected) => {
    const { result } = await replay(name);

    expect(result.status).toBe(200);
    expect(result.body.data).toEqual({ image: null });
    expect(result.body.errors).toHaveLength(1);
    const extensions = result.body.errors![0]!.extensions;
    expect(extensions).toEqual({ imageId: REQUESTED_ID, ...expected });
  });
});
