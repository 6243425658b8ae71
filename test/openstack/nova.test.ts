import { request } from "undici";
import { loadConfig } from "../../src/config";
import { startService } from "../../src/server";
import type { RunningService } from "../../src/server";
import { captureLogger, postGraphQL } from "../support/stack";
import type { GraphQLResult } from "../support/stack";
import type { GlanceImage } from "./glance";
import { NOVA_TOKEN, describeWithOpenStack, startOpenStack } from "./harness";
import type { OpenStack } from "./harness";
import {
  IMAGES,
  IMAGE_KEYS,
  LONG_VALUE,
  NON_ASCII_NAME,
  NON_ASCII_VALUE,
  seedGlance,
} from "./images";
import type { ImageKey } from "./images";
import { FULL_QUERY } from "../support/queries";

const ENTITIES_QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Image { id name status progress sizeBytes }
  }
}`;

const REQUEST_ID =
  /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The two URL forms: Nova's current one and the legacy v2 that Rackspace uses. */
const VERSIONS = ["v2.1", "v2"] as const;
type Version = (typeof VERSIONS)[number];

const describeOpenStack = describeWithOpenStack();

describeOpenStack("service over real Nova and Glance", () => {
  let openstack: OpenStack;
  let glanceRecords: Record<ImageKey, GlanceImage>;
  const services = new Map<Version, RunningService>();

  async function startImagesService(
    version: Version,
    env: Record<string, string> = {},
    logger = captureLogger("info").logger,
  ): Promise<RunningService> {
    const config = loadConfig({
      IMAGES_API_URL: openstack.imagesApiUrl(version),
      PORT: "0",
      HOST: "127.0.0.1",
      ...env,
    });
    return startService({ config, logger });
  }

  beforeAll(async () => {
    // Nova closes each connection silently after the response, as uwsgi's
    // --http-socket does, which the connection pool must survive.
    openstack = await startOpenStack({ connectionClose: "silent" });
    glanceRecords = await seedGlance(openstack.glance);
    for (const version of VERSIONS) {
      services.set(version, await startImagesService(version));
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map((service) => service.close()));
    await openstack?.stop();
  }, 60_000);

  function query(
    version: Version,
    text: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLResult> {
    return postGraphQL(services.get(version)!.url, text, {
      token: NOVA_TOKEN,
      variables,
    });
  }

  async function fetchImage(version: Version, key: ImageKey) {
    const result = await query(version, FULL_QUERY, { id: IMAGES[key].id });
    expect(result.status).toBe(200);
    return result;
  }

  function imageOf(result: GraphQLResult): Record<string, unknown> {
    expect(result.body.errors).toBeUndefined();
    return result.body.data?.image as Record<string, unknown>;
  }

  function isoDate(text: string): string {
    return new Date(text).toISOString();
  }

  function sortedMetadata(properties: Record<string, string>) {
    return Object.entries(properties)
      .map(([key, value]) => ({ key, value }))
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  function metadataOf(image: Record<string, unknown>) {
    return [...(image.metadata as { key: string; value: string }[])].sort(
      (a, b) => a.key.localeCompare(b.key),
    );
  }

  /** Returns the headers of Nova's response to one image request. */
  async function novaHeaders(origin: string) {
    const response = await request(
      `${origin}/v2/010101/images/${IMAGES.active.id}`,
      { headers: { "x-auth-token": NOVA_TOKEN } },
    );
    await response.body.dump();
    expect(response.statusCode).toBe(200);
    return response.headers;
  }

  test("default Nova closes without saying so", async () => {
    const headers = await novaHeaders(openstack.novaOrigin);

    expect(headers["connection"]).toBeUndefined();
    expect(headers["content-length"]).toBeDefined();
  });

  describe.each(VERSIONS)("%s URLs", (version) => {
    const prefix = () => `${openstack.novaOrigin}/${version}/010101`;

    test("active image maps every field", async () => {
      const spec = IMAGES.active;
      const image = imageOf(await fetchImage(version, "active"));

      expect(image).toMatchObject({
        id: spec.id,
        name: "Ubuntu 11.10",
        status: "ACTIVE",
        progress: 100,
        minDisk: 10,
        minRam: 256,
        sizeBytes: 4096,
        created: isoDate(glanceRecords.active.created_at),
        updated: isoDate(glanceRecords.active.updated_at),
        diskConfig: "AUTO",
        type: "BASE",
        server: null,
      });
      expect(image.links).toEqual([
        { href: `${prefix()}/images/${spec.id}`, rel: "self", type: null },
        {
          href: `${openstack.novaOrigin}/010101/images/${spec.id}`,
          rel: "bookmark",
          type: null,
        },
        {
          href: `${openstack.glanceOrigin}/images/${spec.id}`,
          rel: "alternate",
          type: "application/vnd.openstack.image",
        },
      ]);
      expect(metadataOf(image)).toEqual(sortedMetadata(spec.properties));
    });

    test("queued image is SAVING at 25 percent", async () => {
      const image = imageOf(await fetchImage(version, "queued"));

      expect(image).toMatchObject({
        name: "db-02 before upgrade",
        status: "SAVING",
        progress: 25,
        sizeBytes: 0,
        diskConfig: null,
        type: "SNAPSHOT",
        server: null,
      });
    });

    test("snapshot names its server", async () => {
      const image = imageOf(await fetchImage(version, "snapshot"));

      expect(image).toMatchObject({
        status: "ACTIVE",
        sizeBytes: 3000,
        diskConfig: "MANUAL",
        type: "SNAPSHOT",
        server: { id: IMAGES.snapshot.properties.instance_uuid },
      });
    });

    test("long and non-ASCII metadata arrive whole", async () => {
      const image = imageOf(await fetchImage(version, "longMetadata"));
      const metadata = metadataOf(image);

      expect(image.name).toBe(NON_ASCII_NAME);
      expect(metadata).toEqual(sortedMetadata(IMAGES.longMetadata.properties));
      const description = metadata.find((entry) => entry.key === "description");
      expect(description?.value).toHaveLength(LONG_VALUE.length);
      const note = metadata.find((entry) => entry.key === "note");
      expect(note?.value).toBe(NON_ASCII_VALUE);
    });

    test("image without a name has a null name", async () => {
      const image = imageOf(await fetchImage(version, "unnamed"));

      expect(image).toMatchObject({
        id: IMAGES.unnamed.id,
        name: null,
        status: "ACTIVE",
        metadata: [],
        type: null,
      });
    });

    test("deleted image is NOT_FOUND with Nova's fault", async () => {
      const result = await fetchImage(version, "deleted");

      expect(result.body.data?.image).toBeNull();
      expect(result.body.errors).toHaveLength(1);
      const extensions = result.body.errors![0]!.extensions!;
      expect(extensions.code).toBe("NOT_FOUND");
      expect(extensions.imageId).toBe(IMAGES.deleted.id);
      expect(extensions.upstream).toEqual({
        status: 404,
        fault: "itemNotFound",
        message: "Image not found.",
        requestId: expect.stringMatching(REQUEST_ID),
      });
    });

    test("deactivated image is UNKNOWN", async () => {
      const image = imageOf(await fetchImage(version, "deactivated"));

      expect(image).toMatchObject({
        status: "UNKNOWN",
        progress: 0,
        sizeBytes: 2048,
        type: "SNAPSHOT",
      });
    });

    test("_entities returns every image in order", async () => {
      const keys = [...IMAGE_KEYS, ...[...IMAGE_KEYS].reverse()];
      const representations = keys.map((key) => ({
        __typename: "Image",
        id: IMAGES[key].id,
      }));
      const result = await query(version, ENTITIES_QUERY, { representations });

      const entities = result.body.data?._entities as
        ({ id: string; name: string | null } | null)[] | undefined;
      expect(entities?.map((entity) => entity?.id ?? null)).toEqual(
        keys.map((key) => (key === "deleted" ? null : IMAGES[key].id)),
      );
      expect(entities?.map((entity) => entity?.name ?? null)).toEqual(
        keys.map((key) => (key === "deleted" ? null : IMAGES[key].name)),
      );
      const errorPaths = result.body.errors?.map((error) => error.path);
      const deletedIndexes = keys.flatMap((key, index) =>
        key === "deleted" ? [index] : [],
      );
      expect(errorPaths).toEqual(
        deletedIndexes.map((index) => ["_entities", index]),
      );
    });

    test("concurrent burst has no error", async () => {
      const keys = IMAGE_KEYS.filter((key) => key !== "deleted");
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          query(version, FULL_QUERY, {
            id: IMAGES[keys[index % keys.length]!].id,
          }),
        ),
      );

      const codes = results.flatMap(
        (result) =>
          result.body.errors?.map((error) => error.extensions?.code) ?? [],
      );
      expect(codes).toEqual([]);
      expect(results.map((result) => imageOf(result).id)).toEqual(
        Array.from(
          { length: 40 },
          (_, index) => IMAGES[keys[index % keys.length]!].id,
        ),
      );
    });
  });

  describe.each(["announced", "unframed"] as const)(
    "Nova with %s close",
    (connectionClose) => {
      let service: RunningService;
      let origin: string;

      beforeAll(async () => {
        origin = await openstack.startNova(connectionClose);
        const config = loadConfig({
          IMAGES_API_URL: `${origin}/v2/010101`,
          PORT: "0",
          HOST: "127.0.0.1",
        });
        const logger = captureLogger("info").logger;
        service = await startService({ config, logger });
      }, 120_000);

      afterAll(() => service?.close());

      test("Nova frames responses as configured", async () => {
        const headers = await novaHeaders(origin);

        if (connectionClose === "announced") {
          expect(headers["connection"]).toBe("close");
          expect(headers["content-length"]).toBeDefined();
        } else {
          expect(headers["connection"]).toBeUndefined();
          expect(headers["content-length"]).toBeUndefined();
        }
      });

      test("concurrent burst has no error", async () => {
        const keys = IMAGE_KEYS.filter((key) => key !== "deleted");
        const ids = Array.from(
          { length: 40 },
          (_, index) => IMAGES[keys[index % keys.length]!].id,
        );
        const results = await Promise.all(
          ids.map((id) =>
            postGraphQL(service.url, FULL_QUERY, {
              token: NOVA_TOKEN,
              variables: { id },
            }),
          ),
        );

        const codes = results.flatMap(
          (result) =>
            result.body.errors?.map((error) => error.extensions?.code) ?? [],
        );
        expect(codes).toEqual([]);
        expect(results.map((result) => imageOf(result).id)).toEqual(ids);
      });

      test("long metadata arrives whole", async () => {
        const result = await postGraphQL(service.url, FULL_QUERY, {
          token: NOVA_TOKEN,
          variables: { id: IMAGES.longMetadata.id },
        });

        const metadata = metadataOf(imageOf(result));
        expect(metadata).toEqual(
          sortedMetadata(IMAGES.longMetadata.properties),
        );
      });
    },
  );

  test("list strategy pages through Nova's detail list", async () => {
    const log = captureLogger("debug");
    const listing = await startImagesService(
      "v2",
      { IMAGE_LIST_THRESHOLD: "2", IMAGE_LIST_PAGE_SIZE: "2" },
      log.logger,
    );
    try {
      const representations = IMAGE_KEYS.map((key) => ({
        __typename: "Image",
        id: IMAGES[key].id,
      }));
      const result = await postGraphQL(listing.url, ENTITIES_QUERY, {
        token: NOVA_TOKEN,
        variables: { representations },
      });

      const expected = IMAGE_KEYS.map((key) =>
        key === "deleted" ? null : IMAGES[key].id,
      );
      const entities = result.body.data?._entities as
        ({ id: string } | null)[] | undefined;
      expect(entities?.map((entity) => entity?.id ?? null)).toEqual(expected);
      expect(
        result.body.errors?.map((error) => error.extensions?.code),
      ).toEqual(["NOT_FOUND"]);
      // Three pages of two hold the six images that Nova lists, and a
      // fourth, empty page ends the list; the deleted id is then fetched
      // on its own.
      const messages = log.lines.map(
        (line) => (JSON.parse(line) as { msg: string }).msg,
      );
      expect(
        messages.filter((message) => message === "upstream list call").length,
      ).toBeGreaterThanOrEqual(3);
      expect(messages).not.toContain(
        "image list failed; fetching the remaining ids one by one",
      );
    } finally {
      await listing.close();
    }
  });
});
