import { once } from "node:events";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Agent, Client, request } from "undici";
import type { Dispatcher } from "undici";
import {
  DEFAULT_FAULT_MESSAGES,
  DEMO_TOKEN,
  FAULT_STATUS,
  SEED_IMAGES,
  SEED_IMAGE_IDS,
  readSimulatorEnv,
  seedImages,
  startSimulator,
} from "../../simulator";
import type {
  Fault,
  FaultName,
  SeedImage,
  Simulator,
  SimulatorOptions,
} from "../../simulator";

const FIXTURE_DIR = join(__dirname, "..", "fixtures", "images");
const RACKSPACE_ORIGIN = "https://dfw.servers.api.rackspacecloud.com";
const TENANT = "010101";
const UUID_V4 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const REQUEST_ID =
  /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Fixture {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  text?: string;
  note?: string;
}

interface Fetched {
  status: number;
  headers: Dispatcher.ResponseData["headers"];
  text: string;
}

interface FetchOptions {
  token?: string | null;
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  body?: string;
  headersTimeout?: number;
  target?: Simulator;
}

const fixtures: [string, Fixture][] = readdirSync(FIXTURE_DIR)
  .filter((name) => name.endsWith(".json"))
  .sort()
  .map((name) => [
    name,
    JSON.parse(readFileSync(join(FIXTURE_DIR, name), "utf8")) as Fixture,
  ]);

let simulator: Simulator;
let agent: Agent;

beforeAll(async () => {
  simulator = await startSimulator();
  agent = new Agent();
});

afterAll(async () => {
  await simulator.close();
  await agent.close();
});

beforeEach(() => simulator.reset());

/** Sends one request and reads the whole body. */
async function fetchPath(
  path: string,
  options: FetchOptions = {},
): Promise<Fetched> {
  const target = options.target ?? simulator;
  const token = options.token === undefined ? DEMO_TOKEN : options.token;
  const headers: Record<string, string> = { ...options.headers };
  if (token !== null) {
    headers["x-auth-token"] = token;
  }

  const response = await request(`${target.origin}${path}`, {
    dispatcher: agent,
    method: options.method ?? "GET",
    headers,
    body: options.body,
    headersTimeout: options.headersTimeout,
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

function imagePath(id: string, version = "v2", tenant = TENANT): string {
  return `/${version}/${tenant}/images/${encodeURIComponent(id)}`;
}

function json(fetched: Fetched): any {
  return JSON.parse(fetched.text);
}

function withoutLinks(image: Record<string, unknown>): Record<string, unknown> {
  const { links: _links, server, ...rest } = image;
  if (server !== undefined) {
    const { links: _serverLinks, ...serverRest } = server as Record<
      string,
      unknown
    >;
    rest["server"] = serverRest;
  }
  return rest;
}

function fixtureImages(): [string, Record<string, any>][] {
  return fixtures
    .filter(([, fixture]) => {
      const body = fixture.body as { image?: unknown } | undefined;
      return body?.image !== undefined;
    })
    .map(([name, fixture]) => [name, (fixture.body as { image: any }).image]);
}

async function withSimulator<T>(
  options: SimulatorOptions,
  run: (target: Simulator) => Promise<T>,
): Promise<T> {
  const target = await startSimulator(options);
  try {
    return await run(target);
  } finally {
    await target.close();
  }
}

function generatedImages(count: number): SeedImage[] {
  const template = SEED_IMAGES[0]!;
  return Array.from({ length: count }, (_, index) => ({
    ...structuredClone(template),
    id: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
    name: `generated-${index}`,
  }));
}

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(message)), ms).unref();
  });
}

describe("seed images", () => {
  test.each(Object.entries(SEED_IMAGE_IDS))(
    "seed %s returns 200 with headers",
    async (_name, id) => {
      const fetched = await fetchPath(imagePath(id));

      expect(fetched.status).toBe(200);
      expect(json(fetched).image.id).toBe(id);
      expect(fetched.headers["content-type"]).toBe("application/json");
      expect(fetched.headers["content-length"]).toBe(
        String(Buffer.byteLength(fetched.text)),
      );
      expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
      expect(fetched.headers["x-openstack-request-id"]).toBe(
        fetched.headers["x-compute-request-id"],
      );
      // Nova 26 sends no Vary and no version headers on the legacy v2.
      expect(fetched.headers["vary"]).toBeUndefined();
    },
  );

  test("request ids differ between responses", async () => {
    const first = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
    const second = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(first.headers["x-compute-request-id"]).not.toBe(
      second.headers["x-compute-request-id"],
    );
  });

  test("seed ids are unique UUIDs", () => {
    const ids = SEED_IMAGES.map((image) => image.id);

    for (const id of ids) {
      expect(id).toMatch(UUID_V4);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(Object.values(SEED_IMAGE_IDS))).toEqual(new Set(ids));
  });

  test("disk config exists only with auto_disk_config", async () => {
    for (const seed of SEED_IMAGES) {
      const image = json(await fetchPath(imagePath(seed.id))).image;
      const hasProperty = Object.hasOwn(seed.metadata, "auto_disk_config");

      expect([seed.id, "OS-DCF:diskConfig" in image]).toEqual([
        seed.id,
        hasProperty,
      ]);
    }
  });

  test("disk config follows the property value", async () => {
    const cases: [string, string][] = [
      [SEED_IMAGE_IDS.ubuntu, "AUTO"],
      [SEED_IMAGE_IDS.windows, "MANUAL"],
      [SEED_IMAGE_IDS.backup, "MANUAL"],
    ];

    for (const [id, expected] of cases) {
      const image = json(await fetchPath(imagePath(id))).image;
      expect([id, image["OS-DCF:diskConfig"]]).toEqual([id, expected]);
    }
  });

  test.each(fixtureImages())(
    "fixture %s matches its seed",
    async (_name, fixtureImage) => {
      const image = json(await fetchPath(imagePath(fixtureImage.id))).image;

      expect(withoutLinks(image)).toEqual(withoutLinks(fixtureImage));
    },
  );

  test.each(
    fixtureImages().filter(([, image]) =>
      image.links[0].href.startsWith(RACKSPACE_ORIGIN),
    ),
  )("fixture %s links match on own origin", async (_name, fixtureImage) => {
    const image = json(await fetchPath(imagePath(fixtureImage.id))).image;
    const expected = JSON.parse(
      JSON.stringify({ links: fixtureImage.links, server: fixtureImage.server })
        .split(RACKSPACE_ORIGIN)
        .join(simulator.origin),
    );

    expect(image.links).toEqual(expected.links);
    expect(image.server).toEqual(expected.server);
  });

  test("v2.1 route uses v2.1 links and headers", async () => {
    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu, "v2.1"));
    const links = json(fetched).image.links;

    expect(fetched.status).toBe(200);
    expect(links[0].href).toBe(
      `${simulator.origin}/v2.1/${TENANT}/images/${SEED_IMAGE_IDS.ubuntu}`,
    );
    expect(links[1].href).toBe(
      `${simulator.origin}/${TENANT}/images/${SEED_IMAGE_IDS.ubuntu}`,
    );
    expect(fetched.headers["openstack-api-version"]).toBe("compute 2.1");
    expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
  });

  test("seed variants keep their edge cases", async () => {
    const get = async (id: string) =>
      json(await fetchPath(imagePath(id))).image;

    const unnamed = await get(SEED_IMAGE_IDS.unnamed);
    expect(unnamed.name).toBeNull();
    expect("OS-EXT-IMG-SIZE:size" in unnamed).toBe(false);
    expect(unnamed.status).toBe("UNKNOWN");

    const stringSize = await get(SEED_IMAGE_IDS.stringSize);
    expect(stringSize["OS-EXT-IMG-SIZE:size"]).toBe("1048576000");

    const windows = await get(SEED_IMAGE_IDS.windows);
    expect(windows.created).toBe("2015-08-27T09:49:58-05:00");
    expect(windows["OS-EXT-IMG-SIZE:size"]).toBe(5562828800);

    const saving = await get(SEED_IMAGE_IDS.saving);
    expect(saving.updated).toBeNull();
    expect(saving.server.links).toEqual([]);

    const backup = await get(SEED_IMAGE_IDS.backup);
    expect(backup.metadata.image_type).toBe("backup");
    expect(backup.server.links).toHaveLength(2);

    expect((await get(SEED_IMAGE_IDS.error)).status).toBe("ERROR");
    expect((await get(SEED_IMAGE_IDS.deleted)).status).toBe("DELETED");
  });

  test("seedImages returns an independent copy", () => {
    const copy = seedImages();
    copy[0]!.name = "changed";

    expect(SEED_IMAGES[0]!.name).toBe("Ubuntu 11.10");
  });
});

describe("authentication", () => {
  const keystoneBody = {
    error: {
      code: 401,
      title: "Unauthorized",
      message: "The request you have made requires authentication.",
    },
  };

  test.each([
    ["missing", null],
    ["unknown", "not-a-valid-token"],
  ])("%s token gets keystone 401", async (_case, token) => {
    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
      token,
    });

    expect(fetched.status).toBe(401);
    expect(json(fetched)).toEqual(keystoneBody);
    expect(fetched.headers["www-authenticate"]).toMatch(/^Keystone uri="/);
    expect(fetched.headers["x-compute-request-id"]).toBeUndefined();
  });

  test("tenant mismatch gets 400 badRequest", async () => {
    const fetched = await fetchPath(
      imagePath(SEED_IMAGE_IDS.ubuntu, "v2", "999999"),
    );

    expect(fetched.status).toBe(400);
    expect(json(fetched)).toEqual({
      badRequest: {
        code: 400,
        message:
          "Malformed request URL: URL's project_id '999999' doesn't match Context's project_id '010101'",
      },
    });
    expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
  });

  test("token table maps tokens to tenants", async () => {
    const options = { tokens: { "token-a": "111111", "token-b": "222222" } };
    await withSimulator(options, async (target) => {
      const own = await fetchPath(
        imagePath(SEED_IMAGE_IDS.ubuntu, "v2", "222222"),
        { target, token: "token-b" },
      );
      const other = await fetchPath(
        imagePath(SEED_IMAGE_IDS.ubuntu, "v2", "222222"),
        { target, token: "token-a" },
      );
      const demo = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
        target,
      });

      expect(own.status).toBe(200);
      expect(other.status).toBe(400);
      expect(demo.status).toBe(401);
    });
  });

  test("token check precedes injected API faults", async () => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, {
      kind: "fault",
      name: "computeFault",
    });

    const anonymous = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
      token: null,
    });
    const authenticated = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(anonymous.status).toBe(401);
    expect(authenticated.status).toBe(500);
  });

  test("front faults apply without a token", async () => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, { kind: "html", status: 503 });

    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
      token: null,
    });

    expect(fetched.status).toBe(503);
    expect(fetched.headers["content-type"]).toBe("text/html");
  });
});

describe("routing", () => {
  const itemNotFound = {
    itemNotFound: { code: 404, message: "Image not found." },
  };
  const flatNotFound = {
    message: "The resource could not be found.<br /><br />\n\n\n",
    code: "404 Not Found",
    title: "Not Found",
  };

  test.each([
    ["unknown UUID", "0a0b0c0d-0000-4000-8000-000000000000"],
    ["non-UUID id", "not-a-uuid"],
    ["numeric id", "12345"],
  ])("%s gets 404 itemNotFound", async (_case, id) => {
    const fetched = await fetchPath(imagePath(id));

    expect(fetched.status).toBe(404);
    expect(json(fetched)).toEqual(itemNotFound);
    expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
  });

  test("encoded slash stays in one segment", async () => {
    const id = `${SEED_IMAGE_IDS.ubuntu}/extra`;
    const fetched = await fetchPath(
      `/v2/${TENANT}/images/${SEED_IMAGE_IDS.ubuntu}%2Fextra`,
    );

    expect(fetched.status).toBe(404);
    expect(json(fetched)).toEqual(itemNotFound);
    expect(simulator.requests[0]?.imageId).toBe(id);
  });

  test("image id with a slash is served", async () => {
    const image = { ...structuredClone(SEED_IMAGES[0]!), id: "a/b" };
    simulator.addImage(image);
    try {
      const fetched = await fetchPath(`/v2/${TENANT}/images/a%2Fb`);

      expect(fetched.status).toBe(200);
      expect(json(fetched).image.id).toBe("a/b");
      expect(json(fetched).image.links[0].href).toBe(
        `${simulator.origin}/v2/${TENANT}/images/a%2Fb`,
      );
    } finally {
      simulator.removeImage("a/b");
    }
  });

  test("malformed escape stays as received", async () => {
    const fetched = await fetchPath(`/v2/${TENANT}/images/%zz`);

    expect(fetched.status).toBe(404);
    expect(json(fetched)).toEqual(itemNotFound);
    expect(simulator.requests[0]?.imageId).toBe("%zz");
  });

  test.each(["DELETE", "POST", "PUT", "PATCH"] as const)(
    "%s on an image gets 405 badMethod",
    async (method) => {
      const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
        method,
      });

      expect(fetched.status).toBe(405);
      expect(json(fetched)).toEqual({
        badMethod: {
          code: 405,
          message: `The method ${method} is not allowed for this resource.`,
        },
      });
      expect(fetched.headers["allow"]).toBe("GET");
    },
  );

  test.each([
    `/v2/${TENANT}/flavors`,
    `/v2/${TENANT}/images/`,
    `/v2/${TENANT}/images/${SEED_IMAGE_IDS.ubuntu}/metadata`,
    `/v2/`,
  ])("unrouted %s gets flat 404", async (path) => {
    const fetched = await fetchPath(path);

    expect(fetched.status).toBe(404);
    expect(json(fetched)).toEqual(flatNotFound);
    expect(fetched.headers["content-type"]).toBe("application/json");
    expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
  });

  test("unrouted API path checks the token first", async () => {
    const fetched = await fetchPath(`/v2/${TENANT}/flavors`, { token: null });

    expect(fetched.status).toBe(401);
  });

  test.each(["/", "/v3/010101/images", "/images/x"])(
    "path %s outside the API gets flat 404 without a token",
    async (path) => {
      const fetched = await fetchPath(path, { token: null });

      expect(fetched.status).toBe(404);
      expect(json(fetched)).toEqual(flatNotFound);
    },
  );

  test("removed image gets 404, re-added image 200", async () => {
    await withSimulator({}, async (target) => {
      const ubuntu = SEED_IMAGES[0]!;
      target.removeImage(ubuntu.id);
      const removed = await fetchPath(imagePath(ubuntu.id), { target });
      target.addImage(ubuntu);
      const readded = await fetchPath(imagePath(ubuntu.id), { target });
      const list = json(await fetchPath(`/v2/${TENANT}/images`, { target }));

      expect(removed.status).toBe(404);
      expect(readded.status).toBe(200);
      expect(list.images[list.images.length - 1].id).toBe(ubuntu.id);
    });
  });

  test("addImage replaces an image in place", async () => {
    await withSimulator({}, async (target) => {
      const original = SEED_IMAGES[1]!;
      target.addImage({ ...structuredClone(original), name: "renamed" });
      const list = json(await fetchPath(`/v2/${TENANT}/images`, { target }));

      expect(list.images).toHaveLength(SEED_IMAGES.length);
      expect(list.images[1].id).toBe(original.id);
      expect(list.images[1].name).toBe("renamed");
    });
  });
});

describe("list routes", () => {
  async function walk(firstPath: string): Promise<{
    ids: string[];
    pages: any[];
  }> {
    const ids: string[] = [];
    const pages: any[] = [];
    let path: string | undefined = firstPath;
    while (path !== undefined && pages.length < 100) {
      const fetched = await fetchPath(path);
      expect(fetched.status).toBe(200);
      const page = json(fetched);
      pages.push(page);
      ids.push(...page.images.map((image: { id: string }) => image.id));

      const next = page.images_links?.find(
        (link: { rel: string }) => link.rel === "next",
      );
      path = next ? next.href.slice(simulator.origin.length) : undefined;
    }
    return { ids, pages };
  }

  test("detail paging walks every seed", async () => {
    const { ids, pages } = await walk(`/v2/${TENANT}/images/detail?limit=2`);

    expect(ids).toEqual(SEED_IMAGES.map((image) => image.id));
    // Nova links every full page, so an even count ends with an empty page.
    expect(SEED_IMAGES.length % 2).toBe(0);
    expect(pages).toHaveLength(SEED_IMAGES.length / 2 + 1);
    for (const page of pages) {
      expect(page.images.length).toBeLessThanOrEqual(2);
    }
    expect(pages[pages.length - 1].images).toEqual([]);
    expect(pages[pages.length - 1].images_links).toBeUndefined();
  });

  test("next link keeps sorted query parameters", async () => {
    const page = json(
      await fetchPath(`/v2/${TENANT}/images/detail?limit=1&b=2&a=1`),
    );

    expect(page.images_links[0].href).toBe(
      `${simulator.origin}/v2/${TENANT}/images/detail?a=1&b=2&limit=1&marker=${SEED_IMAGES[0]!.id}`,
    );
  });

  test("detail next link names limit and marker", async () => {
    const page = json(await fetchPath(`/v2/${TENANT}/images/detail?limit=2`));

    expect(page.images_links).toEqual([
      {
        rel: "next",
        href: `${simulator.origin}/v2/${TENANT}/images/detail?limit=2&marker=${SEED_IMAGES[1]!.id}`,
      },
    ]);
  });

  test("detail items are full image objects", async () => {
    const page = json(await fetchPath(`/v2/${TENANT}/images/detail?limit=1`));
    const single = json(await fetchPath(imagePath(SEED_IMAGES[0]!.id)));

    expect(page.images[0]).toEqual(single.image);
  });

  test("summary list has id, name and links", async () => {
    const page = json(await fetchPath(`/v2/${TENANT}/images`));

    expect(page.images).toHaveLength(SEED_IMAGES.length);
    expect(Object.keys(page.images[0]).sort()).toEqual(["id", "links", "name"]);
    expect(page.images_links).toBeUndefined();
  });

  test("summary paging walks every seed", async () => {
    const { ids } = await walk(`/v2/${TENANT}/images?limit=5`);

    expect(ids).toEqual(SEED_IMAGES.map((image) => image.id));
  });

  test("default page size is 25, without next link", async () => {
    await withSimulator({ images: generatedImages(30) }, async (target) => {
      const fetched = await fetchPath(`/v2/${TENANT}/images/detail`, {
        target,
      });
      const page = json(fetched);

      expect(page.images).toHaveLength(25);
      expect(page.images_links).toBeUndefined();
    });
  });

  test("page size is capped at 1000", async () => {
    await withSimulator({ images: generatedImages(1001) }, async (target) => {
      const fetched = await fetchPath(`/v2/${TENANT}/images?limit=5000`, {
        target,
      });
      const page = json(fetched);

      expect(page.images).toHaveLength(1000);
      expect(page.images_links[0].href).toContain("limit=5000&marker=");
    });
  });

  test("unknown marker gets 400", async () => {
    const fetched = await fetchPath(
      `/v2/${TENANT}/images/detail?marker=no-such-image`,
    );

    expect(fetched.status).toBe(400);
    expect(json(fetched)).toEqual({
      badRequest: {
        code: 400,
        message: "HTTP 400 Bad Request: No image found with ID no-such-image",
      },
    });
  });

  test.each([
    ["abc", "Invalid input received: limit must be an integer"],
    ["1.5", "Invalid input received: limit must be an integer"],
    ["-1", "Invalid input received: limit must be >= 0"],
  ])("limit %s gets 400", async (limit, message) => {
    const fetched = await fetchPath(
      `/v2/${TENANT}/images/detail?limit=${limit}`,
    );

    expect(fetched.status).toBe(400);
    expect(json(fetched).badRequest.message).toBe(message);
  });

  test("list routes check the tenant", async () => {
    const fetched = await fetchPath(`/v2/999999/images/detail`);

    expect(fetched.status).toBe(400);
  });
});

describe("microversions", () => {
  const ubuntuV21 = () => imagePath(SEED_IMAGE_IDS.ubuntu, "v2.1");

  test.each([
    ["compute 2.36", "OpenStack-API-Version"],
    ["2.36", "X-OpenStack-Nova-API-Version"],
    ["compute latest", "OpenStack-API-Version"],
  ])("%s removes the image API", async (value, header) => {
    const fetched = await fetchPath(ubuntuV21(), {
      headers: { [header]: value },
    });

    expect(fetched.status).toBe(404);
    expect(json(fetched)).toEqual({
      itemNotFound: { code: 404, message: "The resource could not be found." },
    });
    const number = value.includes("latest") ? "2.93" : "2.36";
    expect(fetched.headers["openstack-api-version"]).toBe(`compute ${number}`);
    expect(fetched.headers["x-openstack-nova-api-version"]).toBe(number);
  });

  test("2.35 serves the image and echoes the version", async () => {
    const fetched = await fetchPath(ubuntuV21(), {
      headers: { "OpenStack-API-Version": "compute 2.35" },
    });

    expect(fetched.status).toBe(200);
    expect(fetched.headers["openstack-api-version"]).toBe("compute 2.35");
  });

  test("unsupported version gets 406", async () => {
    const fetched = await fetchPath(ubuntuV21(), {
      headers: { "OpenStack-API-Version": "compute 2.999" },
    });

    expect(fetched.status).toBe(406);
    expect(json(fetched)).toEqual({
      computeFault: {
        code: 406,
        message:
          "Version 2.999 is not supported by the API. Minimum is 2.1 and maximum is 2.93.",
      },
    });
  });

  test("malformed version gets 400 without version headers", async () => {
    const fetched = await fetchPath(ubuntuV21(), {
      headers: { "OpenStack-API-Version": "compute abc" },
    });

    expect(fetched.status).toBe(400);
    expect(json(fetched).badRequest.message).toBe(
      "API Version String abc is of invalid format. Must be of format MajorNum.MinorNum.",
    );
    expect(fetched.headers["openstack-api-version"]).toBeUndefined();
  });

  test("legacy v2 ignores the version header", async () => {
    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
      headers: { "OpenStack-API-Version": "compute 2.36" },
    });

    expect(fetched.status).toBe(200);
  });
});

describe("image service links", () => {
  test("alternate link points to imageServiceUrl", async () => {
    const options = { imageServiceUrl: "http://127.0.0.1:9292/" };
    await withSimulator(options, async (target) => {
      const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
        target,
      });

      expect(json(fetched).image.links[2]).toEqual({
        rel: "alternate",
        type: "application/vnd.openstack.image",
        href: `http://127.0.0.1:9292/images/${SEED_IMAGE_IDS.ubuntu}`,
      });
    });
  });

  test("invalid imageServiceUrl is rejected", async () => {
    await expect(
      startSimulator({ imageServiceUrl: "glance:9292" }),
    ).rejects.toThrow(
      'Invalid imageServiceUrl "glance:9292": expected an http or https URL such as http://127.0.0.1:9292.',
    );
  });
});

describe("body encoding", () => {
  test("non-ASCII is escaped as Python writes it", async () => {
    const image = {
      ...structuredClone(SEED_IMAGES[0]!),
      id: "e5a0b6f4-0d3c-4d7e-9a55-3f7f1c2b0a11",
      name: "Łódź 東京 😀",
    };
    await withSimulator({ images: [image] }, async (target) => {
      const fetched = await fetchPath(imagePath(image.id), { target });

      expect(fetched.text).toContain(
        '"name": "\\u0141\\u00f3d\\u017a \\u6771\\u4eac \\ud83d\\ude00"',
      );
      expect(json(fetched).image.name).toBe(image.name);
    });
  });
});

describe("Nova faults", () => {
  test.each(Object.entries(FAULT_STATUS) as [FaultName, number][])(
    "%s fault has its status and body",
    async (name, status) => {
      simulator.inject(SEED_IMAGE_IDS.ubuntu, { kind: "fault", name });

      const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
      const body = json(fetched);

      expect(fetched.status).toBe(status);
      expect(Object.keys(body)).toEqual([name]);
      expect(body[name].code).toBe(status);
      expect(body[name].message).toBe(DEFAULT_FAULT_MESSAGES[name]);
      expect(fetched.headers["x-compute-request-id"]).toMatch(REQUEST_ID);
    },
  );

  test("overLimit with 429 carries retry fields", async () => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, {
      kind: "fault",
      name: "overLimit",
      status: 429,
      retryAfterSeconds: 30,
      details: "Slow down.",
    });

    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(fetched.status).toBe(429);
    expect(fetched.headers["retry-after"]).toBe("30");
    expect(json(fetched)).toEqual({
      overLimit: {
        code: 429,
        message: "This request was rate-limited.",
        details: "Slow down.",
        retryAfter: "30",
      },
    });
  });

  test("overLimit defaults Retry-After to 60", async () => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, {
      kind: "fault",
      name: "overLimit",
    });

    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(fetched.headers["retry-after"]).toBe("60");
    expect(json(fetched).overLimit.retryAfter).toBe("60");
  });

  test("serviceUnavailable takes Retry-After in the header only", async () => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, {
      kind: "fault",
      name: "serviceUnavailable",
      retryAfterSeconds: 5,
      message: "Maintenance.",
    });

    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(fetched.status).toBe(503);
    expect(fetched.headers["retry-after"]).toBe("5");
    expect(json(fetched)).toEqual({
      serviceUnavailable: { code: 503, message: "Maintenance." },
    });
  });
});

describe("replay faults", () => {
  test.each(fixtures)("fixture %s replays verbatim", async (_name, fixture) => {
    simulator.inject(SEED_IMAGE_IDS.ubuntu, {
      kind: "replay",
      status: fixture.status,
      headers: fixture.headers,
      body: fixture.body,
      text: fixture.text,
    });

    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(fetched.status).toBe(fixture.status);
    for (const [name, value] of Object.entries(fixture.headers)) {
      expect([name, fetched.headers[name.toLowerCase()]]).toEqual([
        name,
        value,
      ]);
    }
    const expectedText = fixture.text ?? JSON.stringify(fixture.body);
    expect(fetched.text).toBe(expectedText);
  });

  test("fixture set has every sample", () => {
    expect(fixtures.map(([name]) => name)).toEqual([
      "fault-401-keystone.json",
      "fault-403-forbidden.json",
      "fault-404-flat-webob.json",
      "fault-404-item-not-found.json",
      "fault-413-over-limit.json",
      "fault-500-compute-fault.json",
      "fault-503-proxy-html.json",
      "openstack-nonstring-metadata.json",
      "saving-snapshot-203.json",
      "seed-ubuntu-base.json",
      "snapshot-with-server.json",
      "windows-large-offset-dates.json",
    ]);
  });
});

describe("delivery faults", () => {
  const id = SEED_IMAGE_IDS.ubuntu;

  test("nonAuthoritative returns 203, same body", async () => {
    const normal = await fetchPath(imagePath(id));
    simulator.inject(id, { kind: "nonAuthoritative" });

    const cached = await fetchPath(imagePath(id));

    expect(cached.status).toBe(203);
    expect(json(cached)).toEqual(json(normal));
    expect(simulator.imageRequests(id)[1]?.status).toBe(203);
  });

  test("reset destroys the socket before bytes", async () => {
    simulator.inject(id, { kind: "reset" });

    const failure = await fetchPath(imagePath(id)).then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );

    expect(failure).toBeDefined();
    expect(["UND_ERR_SOCKET", "ECONNRESET"]).toContain(failure?.code);
    expect(simulator.requests[0]?.status).toBe("reset");
  });

  test("resetMidBody sends headers then breaks", async () => {
    simulator.inject(id, { kind: "resetMidBody" });

    const response = await request(`${simulator.origin}${imagePath(id)}`, {
      dispatcher: agent,
      headers: { "x-auth-token": DEMO_TOKEN },
    });

    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect(simulator.requests[0]?.status).toBe("reset");
  });

  test("hang times out the client", async () => {
    simulator.inject(id, { kind: "hang" });

    const started = Date.now();
    const failure = await fetchPath(imagePath(id), {
      headersTimeout: 200,
    }).then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    );

    expect(failure?.code).toBe("UND_ERR_HEADERS_TIMEOUT");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(simulator.requests[0]?.status).toBe("hang");
  });

  test("slowBody dribbles the normal body", async () => {
    const normal = await fetchPath(imagePath(id));
    simulator.inject(id, { kind: "slowBody", chunkDelayMs: 60, chunks: 4 });

    const started = Date.now();
    const response = await request(`${simulator.origin}${imagePath(id)}`, {
      dispatcher: agent,
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) {
      chunks.push(chunk as Buffer);
    }
    const elapsed = Date.now() - started;

    expect(response.statusCode).toBe(200);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(elapsed).toBeGreaterThanOrEqual(170);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual(json(normal));
  });

  test("malformedJson does not parse", async () => {
    const normal = await fetchPath(imagePath(id));
    simulator.inject(id, { kind: "malformedJson" });

    const fetched = await fetchPath(imagePath(id));

    expect(fetched.status).toBe(200);
    expect(fetched.headers["content-type"]).toBe("application/json");
    expect(fetched.text.length).toBeGreaterThan(0);
    expect(normal.text.startsWith(fetched.text)).toBe(true);
    expect(() => JSON.parse(fetched.text)).toThrow(SyntaxError);
  });

  test("html returns a load balancer page", async () => {
    simulator.inject(id, { kind: "html", status: 502 });

    const fetched = await fetchPath(imagePath(id));

    expect(fetched.status).toBe(502);
    expect(fetched.headers["content-type"]).toBe("text/html");
    expect(fetched.text).toContain("<h1>502 Bad Gateway</h1>");
    expect(fetched.headers["x-compute-request-id"]).toBeUndefined();
  });

  test.each([301, 302, 307] as const)(
    "redirect %i carries Location",
    async (status) => {
      const location = `${simulator.origin}${imagePath(SEED_IMAGE_IDS.debian)}`;
      simulator.inject(id, { kind: "redirect", status, location });

      const fetched = await fetchPath(imagePath(id));

      expect(fetched.status).toBe(status);
      expect(fetched.headers["location"]).toBe(location);
      expect(simulator.requests).toHaveLength(1);
    },
  );

  test("fault with times expires", async () => {
    simulator.inject(id, { kind: "fault", name: "computeFault" }, { times: 2 });

    const statuses: number[] = [];
    for (let index = 0; index < 3; index++) {
      statuses.push((await fetchPath(imagePath(id))).status);
    }

    expect(statuses).toEqual([500, 500, 200]);
  });

  test("latest matching injection wins", async () => {
    simulator.inject("*", { kind: "fault", name: "computeFault" });
    simulator.inject(id, { kind: "nonAuthoritative" });

    const specific = await fetchPath(imagePath(id));
    const other = await fetchPath(imagePath(SEED_IMAGE_IDS.debian));
    simulator.inject("*", { kind: "fault", name: "forbidden" });
    const wildcardAgain = await fetchPath(imagePath(id));

    expect(specific.status).toBe(203);
    expect(other.status).toBe(500);
    expect(wildcardAgain.status).toBe(403);
  });

  test("expired injection uncovers the older one", async () => {
    simulator.inject(id, { kind: "fault", name: "computeFault" });
    simulator.inject(id, { kind: "nonAuthoritative" }, { times: 1 });

    const first = await fetchPath(imagePath(id));
    const second = await fetchPath(imagePath(id));

    expect(first.status).toBe(203);
    expect(second.status).toBe(500);
  });

  test("clearFaults removes every injection", async () => {
    simulator.inject("*", { kind: "fault", name: "computeFault" });
    simulator.clearFaults();

    const fetched = await fetchPath(imagePath(id));

    expect(fetched.status).toBe(200);
  });

  test("faults apply only to image routes", async () => {
    simulator.inject("*", { kind: "fault", name: "computeFault" });

    const detail = await fetchPath(`/v2/${TENANT}/images/detail`);
    const image = await fetchPath(imagePath(id));

    expect(detail.status).toBe(200);
    expect(image.status).toBe(500);
  });

  test.each([
    [{ kind: "nope" }, /fault\.kind/],
    [{ kind: "fault", name: "teapot" }, /fault\.name/],
    [{ kind: "redirect", status: 303, location: "/x" }, /fault\.status/],
    [{ kind: "slowBody", chunkDelayMs: -1 }, /fault\.chunkDelayMs/],
    [{ kind: "closeAfterResponse" }, /fault\.announce/],
    [{ kind: "replay", status: 200, headers: { "x-bad": "a\nb" } }, /x-bad/],
  ])("inject rejects invalid fault %j", (fault, message) => {
    expect(() => simulator.inject(id, fault as unknown as Fault)).toThrow(
      message,
    );
  });

  test("inject rejects invalid times", () => {
    expect(() => simulator.inject(id, { kind: "reset" }, { times: 0 })).toThrow(
      /times/,
    );
  });
});

describe("connection faults", () => {
  const id = SEED_IMAGE_IDS.ubuntu;

  async function clientRequest(
    client: Client,
  ): Promise<Dispatcher.ResponseData> {
    const response = await client.request({
      path: imagePath(id),
      method: "GET",
      headers: { "x-auth-token": DEMO_TOKEN },
    });
    await response.body.text();
    return response;
  }

  test("normal responses keep the connection", async () => {
    const client = new Client(simulator.origin);
    try {
      await clientRequest(client);
      await clientRequest(client);

      const [first, second] = simulator.requests;
      expect(first?.connection).toBeGreaterThan(0);
      expect(second?.connection).toBe(first?.connection);
    } finally {
      await client.close();
    }
  });

  test.each([
    ["announced", true, "close"],
    ["silent", false, "keep-alive"],
  ])(
    "closeAfterResponse %s closes the connection",
    async (_case, announce, connectionHeader) => {
      simulator.inject(
        id,
        { kind: "closeAfterResponse", announce },
        { times: 1 },
      );
      const client = new Client(simulator.origin);
      try {
        const disconnected = once(client, "disconnect");
        const first = await clientRequest(client);
        await Promise.race([
          disconnected,
          rejectAfter(2000, "the server did not close the connection"),
        ]);
        const second = await clientRequest(client);

        expect(first.statusCode).toBe(200);
        expect(first.headers["connection"]).toBe(connectionHeader);
        expect(second.statusCode).toBe(200);
        const [firstEntry, secondEntry] = simulator.requests;
        expect(secondEntry?.connection).not.toBe(firstEntry?.connection);
      } finally {
        await client.close();
      }
    },
  );
});

describe("latency", () => {
  test("per-image latency reorders responses", async () => {
    const slow = SEED_IMAGE_IDS.ubuntu;
    const fast = SEED_IMAGE_IDS.debian;
    simulator.setLatency((imageId) => (imageId === slow ? 300 : 0));

    const order: string[] = [];
    await Promise.all([
      fetchPath(imagePath(slow)).then(() => order.push(slow)),
      fetchPath(imagePath(fast)).then(() => order.push(fast)),
    ]);

    expect(order).toEqual([fast, slow]);
  });

  test("latencyMs option delays responses", async () => {
    await withSimulator({ latencyMs: 150 }, async (target) => {
      const started = Date.now();
      const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
        target,
      });

      expect(fetched.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  test("reset drops the latency override", async () => {
    simulator.setLatency(1000);
    simulator.reset();

    const started = Date.now();
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(Date.now() - started).toBeLessThan(500);
  });

  test.each([-1, Number.NaN, Infinity])("setLatency rejects %p", (value) => {
    expect(() => simulator.setLatency(value)).toThrow(/latency/);
  });
});

describe("rate limiting", () => {
  const options: SimulatorOptions = {
    tokens: { "token-a": TENANT, "token-b": TENANT },
    rateLimit: { requests: 2, perSeconds: 60 },
  };

  test("request over the limit gets 413", async () => {
    await withSimulator(options, async (target) => {
      const path = imagePath(SEED_IMAGE_IDS.ubuntu);
      const fetchAs = (token: string) => fetchPath(path, { target, token });

      const statuses = [
        (await fetchAs("token-a")).status,
        (await fetchAs("token-a")).status,
      ];
      const limited = await fetchAs("token-a");
      const otherToken = await fetchAs("token-b");
      const body = json(limited);
      const retryAfter = Number(limited.headers["retry-after"]);

      expect(statuses).toEqual([200, 200]);
      expect(limited.status).toBe(413);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(body.overLimit.retryAfter).toBe(String(retryAfter));
      expect(body.overLimit.code).toBe(413);
      expect(body.overLimit.message).toBe("This request was rate-limited.");
      expect(body.overLimit.details).toBe(
        "Only 2 GET request(s) can be made to '*' every minute.",
      );
      expect(otherToken.status).toBe(200);
    });
  });

  test("window frees a slot after it passes", async () => {
    const oneASecond = { rateLimit: { requests: 1, perSeconds: 1 } };
    await withSimulator(oneASecond, async (target) => {
      const path = imagePath(SEED_IMAGE_IDS.ubuntu);

      const first = await fetchPath(path, { target });
      const limited = await fetchPath(path, { target });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const later = await fetchPath(path, { target });

      expect(first.status).toBe(200);
      expect(limited.status).toBe(413);
      expect(limited.headers["retry-after"]).toBe("1");
      expect(json(limited).overLimit.details).toBe(
        "Only 1 GET request(s) can be made to '*' every second.",
      );
      expect(later.status).toBe(200);
    });
  });

  test("invalid rate limit is rejected", async () => {
    await expect(
      startSimulator({ rateLimit: { requests: 0, perSeconds: 60 } }),
    ).rejects.toThrow(/rateLimit\.requests/);
  });
});

describe("request log", () => {
  test("entry records the request as received", async () => {
    const path = `/v2/${TENANT}/images/${SEED_IMAGE_IDS.ubuntu}?Fields=A%20B`;
    await fetchPath(path, { headers: { "X-Trace-Id": "Mixed Case Value" } });

    const [entry] = simulator.requests;
    expect(entry?.method).toBe("GET");
    expect(entry?.path).toBe(path);
    expect(entry?.imageId).toBe(SEED_IMAGE_IDS.ubuntu);
    expect(entry?.headers["x-trace-id"]).toBe("Mixed Case Value");
    expect(entry?.headers["x-auth-token"]).toBe(DEMO_TOKEN);
    expect(entry?.status).toBe(200);
    expect(entry?.connection).toBeGreaterThan(0);
    expect(entry?.answeredAt).toBeGreaterThanOrEqual(entry?.receivedAt ?? 0);
  });

  test("log keeps the order of receipt", async () => {
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
    await fetchPath(`/v2/${TENANT}/images/detail`);
    await fetchPath(imagePath(SEED_IMAGE_IDS.debian), { method: "DELETE" });

    expect(simulator.requests.map((entry) => entry.path)).toEqual([
      imagePath(SEED_IMAGE_IDS.ubuntu),
      `/v2/${TENANT}/images/detail`,
      imagePath(SEED_IMAGE_IDS.debian),
    ]);
    expect(simulator.requests.map((entry) => entry.status)).toEqual([
      200, 200, 405,
    ]);
  });

  test("imageRequests keeps GET image routes", async () => {
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
    await fetchPath(imagePath(SEED_IMAGE_IDS.debian));
    await fetchPath(`/v2/${TENANT}/images/detail`);
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), { method: "DELETE" });

    const all = simulator.imageRequests().map((entry) => entry.imageId);
    const ubuntu = simulator.imageRequests(SEED_IMAGE_IDS.ubuntu);

    expect(all).toEqual([SEED_IMAGE_IDS.ubuntu, SEED_IMAGE_IDS.debian]);
    expect(ubuntu).toHaveLength(1);
  });

  test("reset clears the log", async () => {
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
    simulator.reset();

    expect(simulator.requests).toHaveLength(0);
  });
});

describe("control API", () => {
  async function control(
    method: Dispatcher.HttpMethod,
    path: string,
    body?: unknown,
  ): Promise<Fetched> {
    return fetchPath(`/_simulator/${path}`, {
      method,
      token: null,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  test("POST faults injects a fault", async () => {
    const injected = await control("POST", "faults", {
      imageId: SEED_IMAGE_IDS.ubuntu,
      fault: { kind: "fault", name: "computeFault" },
      times: 1,
    });

    const first = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));
    const second = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(injected.status).toBe(204);
    expect(first.status).toBe(500);
    expect(second.status).toBe(200);
  });

  test("DELETE faults clears faults", async () => {
    simulator.inject("*", { kind: "fault", name: "computeFault" });

    const cleared = await control("DELETE", "faults");
    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(cleared.status).toBe(204);
    expect(fetched.status).toBe(200);
  });

  test("POST latency delays responses", async () => {
    const set = await control("POST", "latency", { ms: 200 });

    const started = Date.now();
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(set.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test("GET requests returns the log", async () => {
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    const fetched = await control("GET", "requests");
    const log = json(fetched);

    expect(fetched.status).toBe(200);
    expect(log).toHaveLength(1);
    expect(log[0].imageId).toBe(SEED_IMAGE_IDS.ubuntu);
    expect(log[0].status).toBe(200);
    expect(log[0].headers["x-auth-token"]).toBe(DEMO_TOKEN);
  });

  test("POST reset clears log and faults", async () => {
    simulator.inject("*", { kind: "fault", name: "computeFault" });
    await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    const reset = await control("POST", "reset");
    const logAfterReset = simulator.requests.length;
    const fetched = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu));

    expect(reset.status).toBe(204);
    expect(logAfterReset).toBe(0);
    expect(fetched.status).toBe(200);
  });

  test.each([
    [
      "invalid fault",
      "faults",
      { imageId: "x", fault: { kind: "x" } },
      /fault\.kind/,
    ],
    ["missing image id", "faults", { fault: { kind: "reset" } }, /imageId/],
    [
      "invalid times",
      "faults",
      { imageId: "x", fault: { kind: "reset" }, times: "2" },
      /times/,
    ],
    ["invalid latency", "latency", { ms: -5 }, /latency/],
    ["non-object body", "latency", [1], /JSON object/],
  ])("%s gets 400", async (_case, path, body, message) => {
    const fetched = await control("POST", path, body);

    expect(fetched.status).toBe(400);
    expect(json(fetched).error).toMatch(message);
  });

  test("invalid JSON gets 400", async () => {
    const fetched = await fetchPath("/_simulator/faults", {
      method: "POST",
      token: null,
      body: "{not json",
    });

    expect(fetched.status).toBe(400);
    expect(json(fetched).error).toMatch(/Invalid JSON/);
  });

  test("unknown endpoint gets 404", async () => {
    const fetched = await control("GET", "nothing");

    expect(fetched.status).toBe(404);
    expect(json(fetched).error).toMatch(/_simulator\/requests/);
  });

  test("wrong method gets 405 with Allow", async () => {
    const fetched = await control("GET", "reset");

    expect(fetched.status).toBe(405);
    expect(fetched.headers["allow"]).toBe("POST");
  });

  test("control calls stay out of the log", async () => {
    await control("GET", "requests");
    await control("POST", "latency", { ms: 0 });

    expect(simulator.requests).toHaveLength(0);
  });
});

describe("lifecycle", () => {
  test("origin and imagesApiUrl name the port", () => {
    expect(simulator.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(simulator.imagesApiUrl).toBe(`${simulator.origin}/v2/${TENANT}`);
  });

  test.each(["0.0.0.0", "192.168.1.10", "localhost", "::"])(
    "host %s is rejected",
    async (host) => {
      await expect(startSimulator({ host })).rejects.toThrow(/loopback/);
    },
  );

  test.each([-1, 70000, 1.5])("port %p is rejected", async (port) => {
    await expect(startSimulator({ port })).rejects.toThrow(/port/);
  });

  test("custom tenant sets imagesApiUrl and links", async () => {
    await withSimulator({ tenantId: "777777" }, async (target) => {
      const fetched = await fetchPath(
        imagePath(SEED_IMAGE_IDS.ubuntu, "v2", "777777"),
        { target },
      );

      expect(target.imagesApiUrl).toBe(`${target.origin}/v2/777777`);
      expect(json(fetched).image.links[0].href).toBe(
        `${target.origin}/v2/777777/images/${SEED_IMAGE_IDS.ubuntu}`,
      );
    });
  });

  test("images option replaces the seeds", async () => {
    const images = generatedImages(3);
    await withSimulator({ images }, async (target) => {
      const seed = await fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
        target,
      });
      const own = await fetchPath(imagePath(images[0]!.id), { target });

      expect(seed.status).toBe(404);
      expect(own.status).toBe(200);
    });
  });

  test("close completes while a request hangs", async () => {
    const target = await startSimulator();
    target.inject("*", { kind: "hang" });
    const pending = fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), { target });
    const outcome = pending.then(
      () => "answered",
      () => "failed",
    );
    while (target.requests[0]?.status !== "hang") {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await Promise.race([
      target.close(),
      rejectAfter(2000, "close() did not complete"),
    ]);

    expect(await outcome).toBe("failed");
  });

  test("close completes during latency", async () => {
    const target = await startSimulator({ latencyMs: 60_000 });
    const outcome = fetchPath(imagePath(SEED_IMAGE_IDS.ubuntu), {
      target,
    }).then(
      () => "answered",
      () => "failed",
    );
    while (target.requests.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    await Promise.race([
      target.close(),
      rejectAfter(2000, "close() did not complete"),
    ]);

    expect(await outcome).toBe("failed");
  });

  test("close can be called twice", async () => {
    const target = await startSimulator();

    await target.close();
    await expect(target.close()).resolves.toBeUndefined();
  });
});

describe("readSimulatorEnv", () => {
  test("defaults to port 8774 and no latency", () => {
    expect(readSimulatorEnv({})).toEqual({ port: 8774, latencyMs: 0 });
  });

  test("reads both variables", () => {
    const env = { SIMULATOR_PORT: "9000", SIMULATOR_LATENCY_MS: "12.5" };

    expect(readSimulatorEnv(env)).toEqual({ port: 9000, latencyMs: 12.5 });
  });

  test("empty variables count as unset", () => {
    const env = { SIMULATOR_PORT: "", SIMULATOR_LATENCY_MS: " " };

    expect(readSimulatorEnv(env)).toEqual({ port: 8774, latencyMs: 0 });
  });

  test.each([
    [{ SIMULATOR_PORT: "abc" }, 'Invalid SIMULATOR_PORT "abc"'],
    [{ SIMULATOR_PORT: "70000" }, 'Invalid SIMULATOR_PORT "70000"'],
    [{ SIMULATOR_PORT: "-1" }, 'Invalid SIMULATOR_PORT "-1"'],
    [{ SIMULATOR_LATENCY_MS: "fast" }, 'Invalid SIMULATOR_LATENCY_MS "fast"'],
    [{ SIMULATOR_LATENCY_MS: "-5" }, 'Invalid SIMULATOR_LATENCY_MS "-5"'],
  ])("rejects %j", (env, message) => {
    expect(() => readSimulatorEnv(env)).toThrow(message);
  });
});
