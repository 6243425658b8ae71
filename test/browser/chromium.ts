import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import type { Browser, Page } from "puppeteer-core";

/**
 * Where Debian's `chromium` package installs the browser. CHROMIUM_PATH
 * overrides it.
 */
const DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags for a quiet, offline headless browser: no GPU, no sandbox (the
 * tests run as root), and no first-run, update, sync or background requests.
 */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Finds the Chromium binary, and returns null when it is not installed. */
export function findChromium(): string | null {
  const path = process.env.CHROMIUM_PATH?.trim() || DEFAULT_CHROMIUM_PATH;
  return existsSync(path) ? path : null;
}

export interface HeadlessChromium {
  browser: Browser;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile in a temporary directory. */
export async function launchChromium(
  executablePath: string,
): Promise<HeadlessChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "chromium-profile-"));
  const browser = await puppeteer.launch({
    executablePath,
    // Pass exactly these flags, because puppeteer's defaults add others.
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`],
    pipe: true,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a new page that may load only loopback URLs. Every other request,
 * such as the Sandbox script from Apollo's CDN, is aborted before it leaves
 * the browser and its URL is recorded in `blocked`.
 */
export async function openLoopbackPage(
  browser: Browser,
): Promise<{ page: Page; blocked: string[] }> {
  const page = await browser.newPage();
  const blocked: string[] = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const { hostname } = new URL(request.url());
    if (hostname === "127.0.0.1" || hostname === "[::1]") {
      void request.continue();
    } else {
      blocked.push(request.url());
      void request.abort("blockedbyclient");
    }
  });
  return { page, blocked };
}
