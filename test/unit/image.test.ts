import type { ImageModel } from "../../src/images/model";
import { NotAnImageError, parseImageBody } from "../../src/upstream/image";
import { readFixture } from "./fixtures";

const ID = "3afe97b2-26dc-49c5-a2cc-a2fc8d80c001";

/** Parses a body of one image with `fields` and the id `ID`. */
function parseFields(fields: Record<string, unknown>): ImageModel {
  return parseImageBody({ image: { id: ID, ...fields } }, ID);
}

/** Parses JSON text the way the client does, so that `__proto__` stays a key. */
function parseText(text: string): ImageModel {
  return parseImageBody(JSON.parse(text), ID);
}

function parseFixture(name: string): ImageModel {
  const fixture = readFixture(name);
  const body = fixture.body as { image: { id: string } };
  return parseImageBody(body, body.image.id);
}

describe("parseImageBody fixtures", () => {
  test("Ubuntu seed maps completely", () => {
    const rackspace = "https://dfw.servers.api.rackspacecloud.com";

    expect(parseFixture("seed-ubuntu-base")).toStrictEqual({
      id: ID,
      name: "Ubuntu 11.10",
      status: "ACTIVE",
      progress: 100,
      minDisk: 10,
      minRam: 256,
      sizeBytes: null,
      created: new Date("2012-02-28T19:38:57.000Z"),
      updated: new Date("2012-02-28T19:39:05.000Z"),
      diskConfig: "AUTO",
      type: "BASE",
      links: [
        {
          href: `${rackspace}/v2/010101/images/${ID}`,
          rel: "self",
          type: null,
        },
        {
          href: `${rackspace}/010101/images/${ID}`,
          rel: "bookmark",
          type: null,
        },
        {
          href: `${rackspace}/010101/images/${ID}`,
          rel: "alternate",
          type: "application/vnd.openstack.image",
        },
      ],
      metadata: [
        { key: "arch", value: "x86-64" },
        { key: "auto_disk_config", value: "True" },
        { key: "com.rackspace__1__build_core", value: "1" },
        { key: "com.rackspace__1__build_managed", value: "0" },
        { key: "com.rackspace__1__build_rackconnect", value: "0" },
        { key: "com.rackspace__1__options", value: "0" },
        { key: "com.rackspace__1__visible_core", value: "1" },
        { key: "com.rackspace__1__visible_managed", value: "0" },
        { key: "com.rackspace__1__visible_rackconnect", value: "0" },
        { key: "image_type", value: "base" },
        { key: "org.openstack__1__architecture", value: "x64" },
        { key: "org.openstack__1__os_distro", value: "org.ubuntu" },
        { key: "org.openstack__1__os_version", value: "11.10" },
        { key: "os_distro", value: "ubuntu" },
        { key: "os_type", value: "linux" },
        { key: "os_version", value: "11.10" },
        { key: "rax_managed", value: "false" },
        { key: "rax_options", value: "0" },
      ],
      server: null,
    });
  });

  test("saving snapshot keeps null updated", () => {
    const image = parseFixture("saving-snapshot-203");

    expect(image.status).toBe("SAVING");
    expect(image.progress).toBe(50);
    expect(image.type).toBe("SNAPSHOT");
    expect(image.updated).toBeNull();
    expect(image.created).toEqual(new Date("2014-09-23T12:54:52.000Z"));
    expect(image.server).toStrictEqual({
      id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f",
    });
    expect(image.diskConfig).toBeNull();
    expect(image.sizeBytes).toBeNull();
    expect(image.name).toBe("db-02 before upgrade");
  });

  test("snapshot with server maps", () => {
    const image = parseFixture("snapshot-with-server");

    expect(image.id).toBe("5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71");
    expect(image.status).toBe("ACTIVE");
    expect(image.type).toBe("SNAPSHOT");
    expect(image.sizeBytes).toBe(242841600);
    expect(image.minDisk).toBe(20);
    expect(image.minRam).toBe(512);
    expect(image.diskConfig).toBe("AUTO");
    expect(image.server).toStrictEqual({
      id: "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f",
    });
    expect(image.links).toHaveLength(3);
    expect(image.metadata).toContainEqual({ key: "user_id", value: "{user}" });
  });

  test("Windows image keeps large size", () => {
    const image = parseFixture("windows-large-offset-dates");

    expect(image.sizeBytes).toBe(5562828800);
    expect(image.sizeBytes).toBeGreaterThan(2 ** 31);
    expect(image.diskConfig).toBe("MANUAL");
    expect(image.type).toBe("BASE");
    expect(image.minDisk).toBe(40);
    expect(image.minRam).toBe(1024);
  });

  test("Windows offset dates become instants", () => {
    const image = parseFixture("windows-large-offset-dates");

    expect(image.created?.toISOString()).toBe("2015-08-27T14:49:58.000Z");
    expect(image.updated?.toISOString()).toBe("2015-08-27T15:02:11.000Z");
  });

  test("OpenStack metadata becomes JSON text", () => {
    const image = parseFixture("openstack-nonstring-metadata");

    expect(image.metadata).toStrictEqual([
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

  test("OpenStack float size and no diskConfig", () => {
    const image = parseFixture("openstack-nonstring-metadata");

    expect(image.sizeBytes).toBe(1017415075);
    expect(image.diskConfig).toBeNull();
    expect(image.type).toBeNull();
    expect(image.server).toBeNull();
    expect(image.links[2]).toStrictEqual({
      href: "http://glance.example.test/images/70a599e0-31e7-49b7-b260-868f441e862b",
      rel: "alternate",
      type: "application/vnd.openstack.image",
    });
  });
});

describe("parseImageBody status", () => {
  test.each([
    ["ACTIVE", "ACTIVE"],
    ["active", "ACTIVE"],
    [" Saving ", "SAVING"],
    ["queued", "SAVING"],
    ["QUEUED", "SAVING"],
    ["deleted", "DELETED"],
    ["pending_delete", "DELETED"],
    ["error", "ERROR"],
    ["killed", "ERROR"],
    ["deactivated", "UNKNOWN"],
    ["uploading", "UNKNOWN"],
    ["", "UNKNOWN"],
    [1, "UNKNOWN"],
    [null, "UNKNOWN"],
    [["ACTIVE"], "UNKNOWN"],
  ])("status %j becomes %s", (status, expected) => {
    expect(parseFields({ status }).status).toBe(expected);
  });

  test("status missing becomes UNKNOWN", () => {
    expect(parseFields({}).status).toBe("UNKNOWN");
  });
});

describe("parseImageBody numbers", () => {
  test.each([
    [0, 0],
    [100, 100],
    [50.0, 50],
    ["50", 50],
    [" 75 ", 75],
    ["75.0", 75],
    [101, null],
    [-1, null],
    [50.5, null],
    ["50.5", null],
    ["fifty", null],
    ["-1", null],
    ["", null],
    [true, null],
    [null, null],
  ])("progress %j becomes %j", (progress, expected) => {
    expect(parseFields({ progress }).progress).toBe(expected);
  });

  test.each([
    [10, 10],
    ["10", 10],
    [2 ** 31 - 1, 2 ** 31 - 1],
    [2 ** 31, null],
    ["2147483648", null],
    [-1, null],
    ["-1", null],
    [1.5, null],
    ["1e3", null],
    [{}, null],
  ])("minDisk %j becomes %j", (minDisk, expected) => {
    expect(parseFields({ minDisk }).minDisk).toBe(expected);
  });

  test.each([
    [256, 256],
    ["512", 512],
    [2 ** 31 - 1, 2 ** 31 - 1],
    [2 ** 31, null],
    [-256, null],
    ["0x100", null],
  ])("minRam %j becomes %j", (minRam, expected) => {
    expect(parseFields({ minRam }).minRam).toBe(expected);
  });

  test.each([
    [242841600, 242841600],
    ["5562828800", 5562828800],
    [1.017415075e9, 1017415075],
    [5562828800.0, 5562828800],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    [1017415075.5, null],
    [-1, null],
    [Number.MAX_SAFE_INTEGER + 1, null],
    ["9007199254740993", null],
    ["1.017415075e9", null],
    ["big", null],
    [null, null],
  ])("size %j becomes %j", (size, expected) => {
    const image = parseFields({ "OS-EXT-IMG-SIZE:size": size });

    expect(image.sizeBytes).toBe(expected);
  });

  test("size missing becomes null", () => {
    expect(parseFields({}).sizeBytes).toBeNull();
  });

  test("exponent size text parses", () => {
    const image = parseText(
      `{"image": {"id": "${ID}", "OS-EXT-IMG-SIZE:size": 1.017415075E9}}`,
    );

    expect(image.sizeBytes).toBe(1017415075);
  });
});

describe("parseImageBody dates", () => {
  test.each([
    ["2012-02-28T19:38:57Z", "2012-02-28T19:38:57.000Z"],
    ["2012-02-28T19:38:57.123456Z", "2012-02-28T19:38:57.123Z"],
    ["2015-08-27T09:49:58-05:00", "2015-08-27T14:49:58.000Z"],
    ["2015-08-27T23:49:58+05:30", "2015-08-27T18:19:58.000Z"],
  ])("date %s is %s", (created, expected) => {
    expect(parseFields({ created }).created?.toISOString()).toBe(expected);
  });

  test.each([
    ["not a date"],
    ["2012-02-30T00:00:00Z"],
    ["2012-02-28"],
    ["2012-02-28T19:38:57"],
    [""],
    [null],
    [1330457937],
    [{}],
  ])("date %j becomes null", (updated) => {
    expect(parseFields({ updated }).updated).toBeNull();
  });

  test("date missing becomes null", () => {
    expect(parseFields({}).created).toBeNull();
  });
});

describe("parseImageBody enums", () => {
  test.each([
    ["AUTO", "AUTO"],
    ["auto", "AUTO"],
    ["Manual", "MANUAL"],
    [" MANUAL ", "MANUAL"],
    ["SEMI", null],
    ["", null],
    [true, null],
    [null, null],
  ])("diskConfig %j becomes %j", (diskConfig, expected) => {
    const image = parseFields({ "OS-DCF:diskConfig": diskConfig });

    expect(image.diskConfig).toBe(expected);
  });

  test.each([
    ["base", "BASE"],
    ["SNAPSHOT", "SNAPSHOT"],
    ["Backup", "BACKUP"],
    [" snapshot ", "SNAPSHOT"],
    ["custom", null],
    ["", null],
    [1, null],
    [null, null],
  ])("image_type %j becomes %j", (imageType, expected) => {
    const image = parseFields({ metadata: { image_type: imageType } });

    expect(image.type).toBe(expected);
  });

  test("image_type missing becomes null", () => {
    expect(parseFields({ metadata: { os_type: "linux" } }).type).toBeNull();
  });

  test("image_type outside metadata ignored", () => {
    expect(parseFields({ image_type: "base" }).type).toBeNull();
  });
});

describe("parseImageBody links", () => {
  const href = `https://dfw.servers.api.rackspacecloud.com/v2/010101/images/${ID}`;

  test("link without href skipped", () => {
    const links = [{ rel: "self" }, { href, rel: "bookmark" }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "bookmark", type: null },
    ]);
  });

  test("link without rel skipped", () => {
    const links = [{ href }, { href, rel: "self" }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "self", type: null },
    ]);
  });

  test("link with non-string parts skipped", () => {
    const links = [
      { href: 1, rel: "self" },
      { href, rel: null },
    ];

    expect(parseFields({ links }).links).toStrictEqual([]);
  });

  test("non-object links skipped", () => {
    const links = ["self", null, 3, [href, "self"], { href, rel: "self" }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "self", type: null },
    ]);
  });

  test.each([[{ href, rel: "self" }], ["self"], [null], [7]])(
    "links %j become empty",
    (links) => {
      expect(parseFields({ links }).links).toStrictEqual([]);
    },
  );

  test("links missing become empty", () => {
    expect(parseFields({}).links).toStrictEqual([]);
  });

  test("link extra fields dropped", () => {
    const links = [{ href, rel: "self", title: "x", hreflang: "en" }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "self", type: null },
    ]);
  });

  test("link type kept", () => {
    const links = [{ href, rel: "alternate", type: "application/json" }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "alternate", type: "application/json" },
    ]);
  });

  test("link non-string type becomes null", () => {
    const links = [{ href, rel: "alternate", type: 3 }];

    expect(parseFields({ links }).links).toStrictEqual([
      { href, rel: "alternate", type: null },
    ]);
  });

  test("link href kept verbatim", () => {
    const odd = "HTTP://Example.TEST:80/a/../b?x=%2F#frag";
    const links = [{ href: odd, rel: "self" }];

    expect(parseFields({ links }).links[0]?.href).toBe(odd);
  });
});

describe("parseImageBody metadata", () => {
  test("metadata values of every JSON type", () => {
    const metadata = {
      text: "value",
      empty: "",
      yes: true,
      no: false,
      count: 3,
      ratio: 0.5,
      list: [1, "a", null],
      nested: { b: 1, a: [true] },
      nothing: null,
    };

    expect(parseFields({ metadata }).metadata).toStrictEqual([
      { key: "text", value: "value" },
      { key: "empty", value: "" },
      { key: "yes", value: "true" },
      { key: "no", value: "false" },
      { key: "count", value: "3" },
      { key: "ratio", value: "0.5" },
      { key: "list", value: '[1,"a",null]' },
      { key: "nested", value: '{"b":1,"a":[true]}' },
      { key: "nothing", value: null },
    ]);
  });

  test("metadata keeps upstream order", () => {
    const image = parseText(
      `{"image": {"id": "${ID}", "metadata": {"zeta": "1", "alpha": "2", "mid": "3"}}}`,
    );

    expect(image.metadata.map((entry) => entry.key)).toStrictEqual([
      "zeta",
      "alpha",
      "mid",
    ]);
  });

  test("metadata puts integer keys first", () => {
    // JSON.parse orders integer-like keys first; the schema documents it.
    const image = parseText(
      `{"image": {"id": "${ID}", "metadata": {"zeta": "1", "10": "a", "alpha": "2", "2": "b"}}}`,
    );

    expect(image.metadata.map((entry) => entry.key)).toStrictEqual([
      "2",
      "10",
      "zeta",
      "alpha",
    ]);
  });

  test.each([["os_type=linux"], [["os_type", "linux"]], [null], [5]])(
    "metadata %j becomes empty",
    (metadata) => {
      expect(parseFields({ metadata }).metadata).toStrictEqual([]);
    },
  );

  test("metadata array gives no type", () => {
    const image = parseFields({ metadata: [{ image_type: "base" }] });

    expect(image.type).toBeNull();
  });

  test("metadata missing becomes empty", () => {
    expect(parseFields({}).metadata).toStrictEqual([]);
  });

  test("metadata __proto__ key kept", () => {
    const image = parseText(
      `{"image": {"id": "${ID}", "metadata": {"__proto__": {"image_type": "snapshot", "polluted": "yes"}, "os_type": "linux"}}}`,
    );

    expect(image.metadata).toStrictEqual([
      { key: "__proto__", value: '{"image_type":"snapshot","polluted":"yes"}' },
      { key: "os_type", value: "linux" },
    ]);
    expect(image.type).toBeNull();
    expect(Object.getPrototypeOf(image.metadata[0])).toBe(Object.prototype);
  });

  test("metadata constructor key kept", () => {
    const image = parseText(
      `{"image": {"id": "${ID}", "metadata": {"constructor": {"prototype": {"polluted": "yes"}}, "toString": "x"}}}`,
    );

    expect(image.metadata).toStrictEqual([
      { key: "constructor", value: '{"prototype":{"polluted":"yes"}}' },
      { key: "toString", value: "x" },
    ]);
    expect(image.type).toBeNull();
  });

  test("metadata keys pollute no prototype", () => {
    parseText(
      `{"image": {"id": "${ID}", "metadata": {"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}}}`,
    );
    const fresh: Record<string, unknown> = {};

    expect(fresh.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(Object.prototype).not.toHaveProperty("image_type");
  });

  test("__proto__ in image ignored", () => {
    const image = parseText(
      `{"image": {"id": "${ID}", "__proto__": {"name": "injected", "status": "ACTIVE"}}}`,
    );

    expect(image.name).toBeNull();
    expect(image.status).toBe("UNKNOWN");
  });
});

describe("parseImageBody server", () => {
  const serverId = "9d7e3f10-4c2a-4b8e-8f61-0a2b3c4d5e6f";

  test("server id kept", () => {
    const server = { id: serverId, links: [] };

    expect(parseFields({ server }).server).toStrictEqual({ id: serverId });
  });

  test.each([
    [{ links: [] }],
    [{ id: "" }],
    [{ id: 42 }],
    [{ id: null }],
    [serverId],
    [[serverId]],
    [null],
  ])("server %j becomes null", (server) => {
    expect(parseFields({ server }).server).toBeNull();
  });

  test("server missing becomes null", () => {
    expect(parseFields({}).server).toBeNull();
  });
});

describe("parseImageBody name and id", () => {
  test("name non-string becomes null", () => {
    expect(parseFields({ name: 42 }).name).toBeNull();
  });

  test("name empty string kept", () => {
    expect(parseFields({ name: "" }).name).toBe("");
  });

  test("id compared case-insensitively", () => {
    const body = { image: { id: ID.toUpperCase(), name: "upper" } };

    expect(parseImageBody(body, ID).name).toBe("upper");
  });

  test("id comes from the request", () => {
    const body = { image: { id: ID.toUpperCase() } };

    expect(parseImageBody(body, ID).id).toBe(ID);
  });

  test("missing id uses requested id", () => {
    const image = parseImageBody({ image: { name: "no id" } }, ID);

    expect(image.id).toBe(ID);
  });

  test("non-string id uses requested id", () => {
    const image = parseImageBody({ image: { id: 7 } }, ID);

    expect(image.id).toBe(ID);
  });
});

describe("parseImageBody rejections", () => {
  test.each([
    ["null", null],
    ["a string", "image"],
    ["a number", 200],
    ["an array", [{ image: { id: ID } }]],
    ["no image", { images: [{ id: ID }] }],
    ["an empty object", {}],
    ["a null image", { image: null }],
    ["an array image", { image: [{ id: ID }] }],
    ["a string image", { image: ID }],
  ])("body %s rejected", (_label, body) => {
    expect(() => parseImageBody(body, ID)).toThrow(NotAnImageError);
  });

  test("missing image message", () => {
    expect(() => parseImageBody({}, ID)).toThrow(
      'the body has no "image" object',
    );
  });

  test("another image rejected", () => {
    const other = "5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71";

    expect(() => parseImageBody({ image: { id: other } }, ID)).toThrow(
      NotAnImageError,
    );
  });

  test("another image message names it", () => {
    const other = "5c1e8a52-7d2b-4f0e-9a63-2b1f0c9e4d71";

    expect(() => parseImageBody({ image: { id: other } }, ID)).toThrow(
      `the body is for another image, "${other}"`,
    );
  });

  test("empty id rejected", () => {
    expect(() => parseImageBody({ image: { id: "" } }, ID)).toThrow(
      NotAnImageError,
    );
  });

  test("NotAnImageError has its name", () => {
    let caught: unknown;
    try {
      parseImageBody(null, ID);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(Error);
    expect((caught as Error).name).toBe("NotAnImageError");
  });
});
