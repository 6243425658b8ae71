import { ConfigError, loadConfig } from "../../src/config";

const URL_TEXT = "https://dfw.servers.api.rackspacecloud.com/v2/010101";

/** Returns the ConfigError that `loadConfig(env)` raises. */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  test("defaults with only the URL", () => {
    const config = loadConfig({ IMAGES_API_URL: URL_TEXT });

    expect(config.imagesApiUrl.href).toBe(URL_TEXT);
    expect(config.port).toBe(4001);
    expect(config.host).toBe("0.0.0.0");
    expect(config.upstreamTimeoutMs).toBe(10_000);
    expect(config.upstreamConcurrency).toBe(32);
    expect(config.upstreamMaxConnections).toBe(256);
    expect(config.upstreamMaxBodyBytes).toBe(1_048_576);
    expect(config.maxRequestBytes).toBe(1_048_576);
    expect(config.logLevel).toBe("info");
    expect(config.development).toBe(true);
  });

  test("blank values use defaults", () => {
    const config = loadConfig({
      IMAGES_API_URL: URL_TEXT,
      PORT: "",
      HOST: "  ",
      UPSTREAM_TIMEOUT_MS: " ",
      LOG_LEVEL: "",
    });

    expect(config.port).toBe(4001);
    expect(config.host).toBe("0.0.0.0");
    expect(config.upstreamTimeoutMs).toBe(10_000);
    expect(config.logLevel).toBe("info");
  });

  test("set values are read", () => {
    const config = loadConfig({
      IMAGES_API_URL: URL_TEXT,
      PORT: " 8080 ",
      HOST: "127.0.0.1",
      UPSTREAM_TIMEOUT_MS: "2500",
      UPSTREAM_CONCURRENCY: "4",
      UPSTREAM_MAX_CONNECTIONS: "128",
      UPSTREAM_MAX_BODY_BYTES: "2048",
      MAX_REQUEST_BYTES: "4096",
      LOG_LEVEL: "debug",
    });

    expect(config.port).toBe(8080);
    expect(config.host).toBe("127.0.0.1");
    expect(config.upstreamTimeoutMs).toBe(2500);
    expect(config.upstreamConcurrency).toBe(4);
    expect(config.upstreamMaxConnections).toBe(128);
    expect(config.upstreamMaxBodyBytes).toBe(2048);
    expect(config.maxRequestBytes).toBe(4096);
    expect(config.logLevel).toBe("debug");
  });

  test.each([["0"], ["65535"]])("PORT %s accepted", (port) => {
    expect(loadConfig({ IMAGES_API_URL: URL_TEXT, PORT: port }).port).toBe(
      Number(port),
    );
  });

  test("NODE_ENV production disables development", () => {
    const config = loadConfig({
      IMAGES_API_URL: URL_TEXT,
      NODE_ENV: "production",
    });

    expect(config.development).toBe(false);
  });

  test("NODE_ENV test keeps development", () => {
    const config = loadConfig({ IMAGES_API_URL: URL_TEXT, NODE_ENV: "test" });

    expect(config.development).toBe(true);
  });
});

describe("loadConfig IMAGES_API_URL", () => {
  test("trailing slash removed", () => {
    const config = loadConfig({ IMAGES_API_URL: `${URL_TEXT}/` });

    expect(config.imagesApiUrl.pathname).toBe("/v2/010101");
    expect(config.imagesApiUrl.href).toBe(URL_TEXT);
  });

  test("repeated trailing slashes removed", () => {
    const config = loadConfig({ IMAGES_API_URL: `${URL_TEXT}///` });

    expect(config.imagesApiUrl.href).toBe(URL_TEXT);
  });

  test("surrounding whitespace ignored", () => {
    const config = loadConfig({ IMAGES_API_URL: `  ${URL_TEXT}\n` });

    expect(config.imagesApiUrl.href).toBe(URL_TEXT);
  });

  test("http with port accepted", () => {
    const config = loadConfig({
      IMAGES_API_URL: "http://127.0.0.1:8774/v2.1/",
    });

    expect(config.imagesApiUrl.href).toBe("http://127.0.0.1:8774/v2.1");
  });

  test("missing URL message", () => {
    expect(configErrorOf({}).message).toBe(
      "IMAGES_API_URL is missing: set it to the tenant-scoped images endpoint, such as https://dfw.servers.api.rackspacecloud.com/v2/010101.",
    );
  });

  test("blank URL is missing", () => {
    const message = configErrorOf({ IMAGES_API_URL: "   " }).message;

    expect(message).toMatch(/^IMAGES_API_URL is missing: /);
  });

  test("non-URL message", () => {
    expect(configErrorOf({ IMAGES_API_URL: "dfw.servers" }).message).toBe(
      'IMAGES_API_URL is invalid: "dfw.servers" is not a URL; expected an http or https URL such as https://dfw.servers.api.rackspacecloud.com/v2/010101.',
    );
  });

  test("ftp URL message", () => {
    const value = "ftp://images.example.test/v2/010101";

    expect(configErrorOf({ IMAGES_API_URL: value }).message).toBe(
      'IMAGES_API_URL is invalid: "ftp://images.example.test/v2/010101" uses ftp:; expected an http or https URL.',
    );
  });

  test("URL with query message", () => {
    const value = `${URL_TEXT}?region=dfw`;

    expect(configErrorOf({ IMAGES_API_URL: value }).message).toBe(
      'IMAGES_API_URL is invalid: "https://dfw.servers.api.rackspacecloud.com/v2/010101?region=***" has a query, fragment or credentials; expected only scheme, host, port and path.',
    );
  });

  test("query error hides query values", () => {
    const value = `${URL_TEXT}?region=dfw&sig=s3cr3t-signature`;
    const message = configErrorOf({ IMAGES_API_URL: value }).message;

    expect(message).toContain("?region=***&sig=***");
    expect(message).not.toContain("s3cr3t-signature");
  });

  test.each([
    ["fragment", `${URL_TEXT}#images`],
    ["user name", "https://admin@dfw.servers.api.rackspacecloud.com/v2/010101"],
    ["file scheme", "file:///v2/010101"],
    ["javascript", "javascript:alert(1)"],
    ["bad port", "https://dfw.servers.api.rackspacecloud.com:99999/v2"],
  ])("URL with %s rejected", (_label, value) => {
    const message = configErrorOf({ IMAGES_API_URL: value }).message;

    expect(message).toMatch(/^IMAGES_API_URL is invalid: /);
    expect(message).toContain(JSON.stringify(value));
    expect(message).toContain("expected");
  });

  test("URL with credentials rejected", () => {
    const value =
      "https://admin:s3cr3t-pw@dfw.servers.api.rackspacecloud.com/v2/010101";
    const message = configErrorOf({ IMAGES_API_URL: value }).message;

    expect(message).toMatch(/^IMAGES_API_URL is invalid: /);
    expect(message).toContain("credentials");
  });

  test("credentials error hides the password", () => {
    const value =
      "https://admin:s3cr3t-pw@dfw.servers.api.rackspacecloud.com/v2/010101";
    const message = configErrorOf({ IMAGES_API_URL: value }).message;

    expect(message).not.toContain("s3cr3t-pw");
  });
});

describe("loadConfig numbers", () => {
  test.each([
    ["abc"],
    ["-1"],
    ["70000"],
    ["1.5"],
    ["1e3"],
    ["0x1F"],
    ["8080x"],
  ])("PORT %j rejected", (port) => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      PORT: port,
    }).message;

    expect(message).toBe(
      `PORT is invalid: ${JSON.stringify(port)}; expected a whole number from 0 to 65535.`,
    );
  });

  test("PORT abc exact message", () => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      PORT: "abc",
    }).message;

    expect(message).toBe(
      'PORT is invalid: "abc"; expected a whole number from 0 to 65535.',
    );
  });

  test("UPSTREAM_TIMEOUT_MS 0 exact message", () => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      UPSTREAM_TIMEOUT_MS: "0",
    }).message;

    expect(message).toBe(
      'UPSTREAM_TIMEOUT_MS is invalid: "0"; expected a whole number from 1 to 600000.',
    );
  });

  test.each([
    ["UPSTREAM_TIMEOUT_MS", "600001", 1, 600000],
    ["UPSTREAM_CONCURRENCY", "0", 1, 1024],
    ["UPSTREAM_CONCURRENCY", "1025", 1, 1024],
    ["UPSTREAM_MAX_CONNECTIONS", "0", 1, 4096],
    ["UPSTREAM_MAX_BODY_BYTES", "1023", 1024, 1073741824],
    ["MAX_REQUEST_BYTES", "1MiB", 1024, 1073741824],
  ])("%s %j rejected", (name, value, min, max) => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      [name]: value,
    }).message;

    expect(message).toBe(
      `${name} is invalid: ${JSON.stringify(value)}; expected a whole number from ${min} to ${max}.`,
    );
  });

  test("error is a ConfigError", () => {
    const error = configErrorOf({ IMAGES_API_URL: URL_TEXT, PORT: "abc" });

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
  });
});

describe("loadConfig LOG_LEVEL", () => {
  test.each([["fatal"], ["error"], ["warn"], ["debug"], ["trace"], ["silent"]])(
    "LOG_LEVEL %s accepted",
    (level) => {
      const config = loadConfig({ IMAGES_API_URL: URL_TEXT, LOG_LEVEL: level });

      expect(config.logLevel).toBe(level);
    },
  );

  test("LOG_LEVEL loud exact message", () => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      LOG_LEVEL: "loud",
    }).message;

    expect(message).toBe(
      'LOG_LEVEL is invalid: "loud"; expected one of fatal, error, warn, info, debug, trace, silent.',
    );
  });

  test("LOG_LEVEL upper-case rejected", () => {
    const message = configErrorOf({
      IMAGES_API_URL: URL_TEXT,
      LOG_LEVEL: "INFO",
    }).message;

    expect(message).toMatch(/^LOG_LEVEL is invalid: "INFO"/);
  });
});
