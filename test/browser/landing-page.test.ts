import pino from "pino";
import { EXAMPLE_IMAGE_ID, EXAMPLE_OPERATION } from "../../src/apollo";
import { loadConfig } from "../../src/config";
import { startService } from "../../src/server";
import type { RunningService } from "../../src/server";
import { DEMO_TOKEN, startSimulator } from "../../simulator";
import type { Simulator } from "../../simulator";
import {
  SUPERGRAPH_EXAMPLE_OPERATION,
  startLocalSupergraph,
} from "../../examples/supergraph";
import type { LocalSupergraph } from "../../examples/supergraph";
import { findChromium, launchChromium, openLoopbackPage } from "./chromium";
import type { HeadlessChromium } from "./chromium";

/** Origin and path prefix of the Sandbox script that the landing page loads. */
const SANDBOX_CDN = "https://embeddable-sandbox.cdn.apollographql.com/";

/** The Sandbox settings that the landing page stores in its inline script. */
interface EmbeddedSandboxConfig {
  target: string;
  initialState: {
    document?: string;
    variables?: Record<string, unknown>;
    headers?: Record<string, string>;
    includeCookies?: boolean;
  };
}

interface PageContent {
  status: number | undefined;
  contentType: string | undefined;
  title: string;
  text: string;
  /** `window.embeddedSandboxConfig`, or null when the page has none. */
  sandboxConfig: EmbeddedSandboxConfig | null;
  /** `window.initialEndpoint`, the URL that Sandbox would query. */
  initialEndpoint: string | null;
  /** Requests that left loopback, which the browser aborted. */
  blocked: string[];
}

// Starting Chromium can take several seconds on a loaded machine.
jest.setTimeout(60_000);

const chromiumPath = findChromium();
const inCi = process.env.CI === "true";

if (chromiumPath === null && !inCi) {
  process.stderr.write(
    "Skipping the landing page tests: Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH).\n",
  );
}

const describeInChromium =
  chromiumPath === null && !inCi ? describe.skip : describe;

let simulator: Simulator;
let chromium: HeadlessChromium;

beforeAll(async () => {
  if (chromiumPath === null) {
    if (inCi) {
      throw new Error(
        "Chromium is missing in CI: .ci/run must install Debian's chromium package.",
      );
    }
    return;
  }
  simulator = await startSimulator();
  chromium = await launchChromium(chromiumPath);
});

afterAll(async () => {
  await chromium?.close();
  await simulator?.close();
});

/** Starts the subgraph as `npm start` would with these variables. */
async function startWithEnv(
  env: Record<string, string>,
  sandboxToken?: string,
): Promise<RunningService> {
  const config = loadConfig({
    IMAGES_API_URL: simulator.imagesApiUrl,
    PORT: "0",
    HOST: "127.0.0.1",
    // The browser keeps its connection open, so shut down without waiting.
    SHUTDOWN_GRACE_MS: "0",
    ...env,
  });
  return startService({
    config,
    logger: pino({ level: "silent" }),
    ...(sandboxToken !== undefined && { sandboxToken }),
  });
}

/** Opens a URL in Chromium, as a person would, and reads the page. */
async function openInBrowser(url: string): Promise<PageContent> {
  const { page, blocked } = await openLoopbackPage(chromium.browser);
  try {
    const response = await page.goto(url, { waitUntil: "load" });
    return {
      status: response?.status(),
      contentType: response?.headers()["content-type"],
      title: await page.title(),
      text: await page.evaluate(() => document.body?.innerText ?? ""),
      sandboxConfig: (await page.evaluate(
        () =>
          (window as unknown as { embeddedSandboxConfig?: unknown })
            .embeddedSandboxConfig ?? null,
      )) as EmbeddedSandboxConfig | null,
      initialEndpoint: await page.evaluate(
        () =>
          (window as unknown as { initialEndpoint?: string }).initialEndpoint ??
          null,
      ),
      blocked,
    };
  } finally {
    await page.close();
  }
}

describeInChromium("landing page in development", () => {
  let service: RunningService;
  let content: PageContent;

  beforeAll(async () => {
    service = await startWithEnv({}, DEMO_TOKEN);
    content = await openInBrowser(service.url);
  });

  afterAll(async () => {
    await service?.close();
  });

  test("is an HTML page", () => {
    expect(content.status).toBe(200);
    expect(content.contentType).toMatch(/^text\/html/);
  });

  test("loads Sandbox from Apollo's CDN", () => {
    const sandboxScripts = content.blocked.filter((url) =>
      url.startsWith(SANDBOX_CDN),
    );
    expect(sandboxScripts).toHaveLength(1);
    expect(new URL(sandboxScripts[0] ?? SANDBOX_CDN).pathname).toMatch(
      /\/embeddable-sandbox\.umd\.production\.min\.js$/,
    );
  });

  test("shows the offline fallback without the CDN", () => {
    expect(content.text).toContain(
      "Apollo Sandbox cannot be loaded; it appears that you might be offline.",
    );
  });

  test("points Sandbox at the service", () => {
    expect(content.initialEndpoint).toBe(service.url);
    expect(content.sandboxConfig?.target).toBe("#embeddableSandbox");
  });

  test("prefills the example operation", () => {
    expect(content.sandboxConfig?.initialState.document).toBe(
      EXAMPLE_OPERATION,
    );
    expect(content.sandboxConfig?.initialState.variables).toEqual({
      id: EXAMPLE_IMAGE_ID,
    });
  });

  test("prefills the demo token header", () => {
    expect(content.sandboxConfig?.initialState.headers).toEqual({
      "X-Auth-Token": DEMO_TOKEN,
    });
    expect(content.sandboxConfig?.initialState.includeCookies).toBe(false);
  });
});

describeInChromium("landing page in production", () => {
  test("is not served by default", async () => {
    const service = await startWithEnv({ NODE_ENV: "production" });
    try {
      const content = await openInBrowser(service.url);

      expect(content.status).toBe(400);
      expect(content.sandboxConfig).toBeNull();
      expect(content.blocked).toEqual([]);
      expect(content.text).not.toContain("Sandbox");
    } finally {
      await service.close();
    }
  });

  test("is served with LANDING_PAGE=sandbox", async () => {
    const service = await startWithEnv({
      NODE_ENV: "production",
      LANDING_PAGE: "sandbox",
    });
    try {
      const content = await openInBrowser(service.url);

      expect(content.status).toBe(200);
      expect(content.sandboxConfig?.initialState.document).toBe(
        EXAMPLE_OPERATION,
      );
      // Only the demo passes a token, so a deployment embeds none.
      expect(content.sandboxConfig?.initialState.headers).toBeUndefined();
    } finally {
      await service.close();
    }
  });
});

describeInChromium("gateway landing page of npm run supergraph", () => {
  let supergraph: LocalSupergraph;
  let content: PageContent;

  beforeAll(async () => {
    supergraph = await startLocalSupergraph({
      config: loadConfig({
        IMAGES_API_URL: "http://127.0.0.1/replaced-by-the-simulator",
        PORT: "0",
        HOST: "127.0.0.1",
        SHUTDOWN_GRACE_MS: "0",
      }),
      logger: pino({ level: "silent" }),
      gatewayPort: 0,
      serversPort: 0,
      simulatorPort: 0,
    });
    content = await openInBrowser(supergraph.gateway.url);
  });

  afterAll(async () => {
    await supergraph?.close();
  });

  test("points Sandbox at the gateway", () => {
    expect(content.status).toBe(200);
    expect(content.initialEndpoint).toBe(supergraph.gateway.url);
  });

  test("prefills the servers operation and token", () => {
    expect(content.sandboxConfig?.initialState.document).toBe(
      SUPERGRAPH_EXAMPLE_OPERATION,
    );
    expect(content.sandboxConfig?.initialState.headers).toEqual({
      "X-Auth-Token": supergraph.token,
    });
  });
});
