/**
 * Headless Chromium for the page tests: Debian's `/usr/bin/chromium` driven by playwright-core
 * (which downloads no browser; `scripts/setup-chromium.sh` installs it). Screenshots go to
 * test-artifacts/ (git-ignored).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

/** Where the e2e tests keep their screenshots. */
export const ARTIFACTS_DIR = join(process.cwd(), "test-artifacts");

/** A headless Chromium (`--no-sandbox`: the tests may run as root in a container). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
}

/** Saves a full-page screenshot as test-artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
