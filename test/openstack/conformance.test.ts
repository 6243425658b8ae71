import { request } from "undici";
import { DELIBERATE_DIFFERENCES, startSimulator } from "../../simulator";
import type { SeedImage, Simulator } from "../../simulator";
import type { GlanceImage } from "./glance";
import {
  NOVA_TOKEN,
  PROJECT_ID,
  describeWithOpenStack,
  startOpenStack,
} from "./harness";
import type { OpenStack } from "./harness";
import { IMAGES, IMAGE_KEYS, seedGlance, toSeedImage } from "./images";
import type { ImageKey } from "./images";

/**
 * Compares the simulator with real Nova, response by response: the same seeded
 * images and the same requests must get the same status, the same headers
 * that a client reads, and the same body, byte for byte once the origins
 * are replaced. Only the deliberate differences that the simulator lists in
 * simulator/differences.ts are normalized, each where it is named.
 */

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Case {
  name: string;
  path: string;
  headers?: Record<string, string>;
}

const REQUEST_ID =
  /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const MISSING_ID = "0a0b0c0d-0000-4000-8000-000000000000";

/** Headers that a client of the images API reads, besides the request ids. */
const COMPARED_HEADERS = [
  "content-type",
  "openstack-api-version",
  "x-openstack-nova-api-version",
  "retry-after",
  "location",
  "www-authenticate",
];

function imagePath(version: string, id: string, project = PROJECT_ID) {
  return `/${version}/${project}/images/${id}`;
}

/** Cases that both URL forms share. */
function versionCases(version: "v2" | "v2.1"): Case[] {
  const images = IMAGE_KEYS.map((key) => ({
    name: `${version} ${key} image`,
    path: imagePath(version, IMAGES[key].id),
  }));
  return [
    ...images,
    { name: `${version} missing image`, path: imagePath(version, MISSING_ID) },
    { name: `${version} non-UUID id`, path: imagePath(version, "not-a-uuid") },
    {
      name: `${version} another project`,
      path: imagePath(version, IMAGES.active.id, "999999"),
    },
    {
      name: `${version} unrouted path`,
      path: `${imagePath(version, IMAGES.active.id)}/extra`,
    },
    {
      name: `${version} summary list`,
      path: `/${version}/${PROJECT_ID}/images`,
    },
    {
      name: `${version} detail list without limit`,
      path: `/${version}/${PROJECT_ID}/images/detail`,
    },
    {
      name: `${version} detail page of 4`,
      path: `/${version}/${PROJECT_ID}/images/detail?limit=4`,
    },
    {
      name: `${version} limit not an integer`,
      path: `/${version}/${PROJECT_ID}/images/detail?limit=abc`,
    },
    {
      name: `${version} negative limit`,
      path: `/${version}/${PROJECT_ID}/images?limit=-1`,
    },
    {
      name: `${version} unknown marker`,
      path: `/${version}/${PROJECT_ID}/images/detail?marker=${MISSING_ID}`,
    },
  ];
}

function microversionCase(version: "v2" | "v2.1", value: string): Case {
  return {
    name: `${version} microversion ${value}`,
    path: imagePath(version, IMAGES.active.id),
    headers: { "OpenStack-API-Version": `compute ${value}` },
  };
}

const CASES: Case[] = [
  ...versionCases("v2.1"),
  ...versionCases("v2"),
  microversionCase("v2.1", "2.36"),
  microversionCase("v2.1", "2.35"),
  microversionCase("v2.1", "latest"),
  microversionCase("v2.1", "2.999"),
  microversionCase("v2.1", "abc"),
  microversionCase("v2", "2.36"),
  {
    name: "v2.1 microversion 2.36 in the legacy header",
    path: imagePath("v2.1", IMAGES.active.id),
    headers: { "X-OpenStack-Nova-API-Version": "2.36" },
  },
  {
    name: "v2.1 microversion 2.36 on the list",
    path: `/v2.1/${PROJECT_ID}/images/detail`,
    headers: { "OpenStack-API-Version": "compute 2.36" },
  },
];

/** Sends one GET as the service does: with the token, asking for JSON. */
async function fetchResponse(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const response = await request(`${origin}${path}`, {
    headers: {
      accept: "application/json",
      "x-auth-token": NOVA_TOKEN,
      ...headers,
    },
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * Lists the names in Vary, which Nova sends as two headers and the
 * simulator as one (DELIBERATE_DIFFERENCES.varyHeader).
 */
function varyNames(response: RawResponse): string[] {
  const text = headerText(response.headers["vary"]);
  if (text === undefined) return [];
  return text.split(",").map((name) => name.trim().toLowerCase());
}

const describeOpenStack = describeWithOpenStack();

describeOpenStack("simulator conformance with Nova 26", () => {
  let openstack: OpenStack;
  let simulator: Simulator;
  let glanceRecords: Record<ImageKey, GlanceImage>;

  /** Ids in the order of Nova's list (DELIBERATE_DIFFERENCES.listOrder). */
  async function novaListOrder(): Promise<string[]> {
    const response = await fetchResponse(
      openstack.novaOrigin,
      `/v2.1/${PROJECT_ID}/images?limit=1000`,
    );
    expect(response.status).toBe(200);
    const body = JSON.parse(response.text) as { images: { id: string }[] };
    return body.images.map((image) => image.id);
  }

  beforeAll(async () => {
    // Nova announces the close here, as Debian's uwsgi configuration of
    // Glance does; nova.test.ts runs the service against the silent close.
    openstack = await startOpenStack({ connectionClose: "announced" });
    glanceRecords = await seedGlance(openstack.glance);

    const seedsById = new Map<string, SeedImage>();
    for (const key of IMAGE_KEYS) {
      const seed = toSeedImage(IMAGES[key], glanceRecords[key]);
      if (seed !== undefined) seedsById.set(seed.id, seed);
    }
    const images = (await novaListOrder()).map((id) => seedsById.get(id)!);
    expect(images.map((image) => image.id).sort()).toEqual(
      [...seedsById.keys()].sort(),
    );

    simulator = await startSimulator({
      tenantId: PROJECT_ID,
      tokens: { [NOVA_TOKEN]: PROJECT_ID },
      images,
      // DELIBERATE_DIFFERENCES.alternateLink
      imageServiceUrl: openstack.glanceOrigin,
    });
  }, 240_000);

  afterAll(async () => {
    await simulator?.close();
    await openstack?.stop();
  }, 60_000);

  /** Replaces each server's origin, so that links compare. */
  function normalizeBody(text: string, origin: string): string {
    return text.split(origin).join("{compute}");
  }

  async function responsesTo(testCase: Case) {
    const nova = await fetchResponse(
      openstack.novaOrigin,
      testCase.path,
      testCase.headers,
    );
    const simulated = await fetchResponse(
      simulator.origin,
      testCase.path,
      testCase.headers,
    );
    return { nova, simulated };
  }

  test.each(CASES)("$name", async (testCase) => {
    const { nova, simulated } = await responsesTo(testCase);

    expect(simulated.status).toBe(nova.status);
    for (const name of COMPARED_HEADERS) {
      expect([name, headerText(simulated.headers[name])]).toEqual([
        name,
        headerText(nova.headers[name]),
      ]);
    }
    expect(varyNames(simulated)).toEqual(varyNames(nova));
    expect(normalizeBody(simulated.text, simulator.origin)).toEqual(
      normalizeBody(nova.text, openstack.novaOrigin),
    );
  });

  test.each(CASES)("$name request ids", async (testCase) => {
    const { nova, simulated } = await responsesTo(testCase);

    for (const response of [nova, simulated]) {
      const computeId = response.headers["x-compute-request-id"];
      const openstackId = response.headers["x-openstack-request-id"];
      expect(computeId).toEqual(expect.stringMatching(REQUEST_ID));
      expect(openstackId).toBe(computeId);
    }
  });

  test("detail pages walk to the same end", async () => {
    async function walk(origin: string): Promise<string[]> {
      const pages: string[] = [];
      let path: string | undefined = `/v2/${PROJECT_ID}/images/detail?limit=2`;
      while (path !== undefined && pages.length < 10) {
        const response = await fetchResponse(origin, path);
        pages.push(normalizeBody(response.text, origin));
        const body = JSON.parse(response.text) as {
          images_links?: { rel: string; href: string }[];
        };
        const next = body.images_links?.find((link) => link.rel === "next");
        path = next?.href.slice(origin.length);
      }
      return pages;
    }

    const novaPages = await walk(openstack.novaOrigin);
    const simulatedPages = await walk(simulator.origin);

    // Six images in pages of two: the third page is full, so Nova links
    // a fourth, empty one.
    expect(novaPages).toHaveLength(4);
    expect(simulatedPages).toEqual(novaPages);
  });
});
