/**
 * The dashboard mounted by the real web module (src/web: add-on mode, ingress guard, security
 * headers, the per-session rate limit of seed 003) behind the ingress-like proxy
 * (test/helpers/ingress-proxy.ts), in headless Chromium: the page loads every chart without one
 * 4xx/5xx (no 429 from its burst of API reads), the navigation holds the dashboard entry, and a
 * portal CSV uploaded on the page is imported (the body is larger than the server's 64 kB default).
 */
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { DashboardModule } from "../../src/modules/dashboard/dashboard-module.js";
import { EventBus } from "../../src/modules/events.js";
import type { ModuleContext } from "../../src/modules/module.js";
import { createWebRoutes } from "../../src/modules/web-routes.js";
import { deleteReadings, readingsBetween } from "../../src/store/readings.js";
import { WebModule } from "../../src/web/web-module.js";
import type { Db } from "../../src/store/db.js";
import { launchBrowser, screenshot } from "../helpers/browser.js";
import { startIngressProxy, type IngressProxy } from "../helpers/ingress-proxy.js";
import { portalCsv } from "../unit/import/portal-fixture.js";
import { PRM, series, storeWith } from "../unit/dashboard/fixture.js";

const NOW = Date.parse("2009-01-01T12:00:00Z");
const GAP = [Date.parse("2008-12-14T23:00:00Z"), Date.parse("2008-12-21T23:00:00Z")] as const;

describe("dashboard through the real web module behind an ingress-like proxy", () => {
  let browser: Browser;
  let web: WebModule;
  let dashboard: DashboardModule;
  let proxy: IngressProxy;
  let db: Db;
  const points = series();

  beforeAll(async () => {
    db = storeWith(points);
    deleteReadings(db, PRM, GAP[0], GAP[1]); // a week the upload fills
    const routes = createWebRoutes();
    const ctx = {
      settings: { mode: "addon", dataDir: tmpdir(), meters: [] },
      db,
      events: new EventBus(createLogger("silent")),
      web: routes,
      log: createLogger("warning"),
      now: () => NOW,
      ha: { get connection(): never { throw new Error("no Home Assistant in this test"); }, haVersion: "2026.2.3" },
    } as unknown as ModuleContext;
    dashboard = new DashboardModule({ scanIntervalMs: 0, importDir: join(tmpdir(), `eb-dash-import-${process.pid}`) });
    await dashboard.start(ctx);
    web = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await web.start(ctx);
    proxy = await startIngressProxy(web.url!);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await web?.stop();
    await dashboard?.stop();
  });

  it("loads without a 4xx (rate limit included), shows in the navigation, uploads a portal CSV", async () => {
    const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1100, height: 1600 }, colorScheme: "dark" });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
    await page.goto(`${proxy.url}dashboard?poll=500`);
    await page.waitForSelector(`#meter-${PRM}[data-state="ready"] canvas`, { timeout: 20_000 });
    await page.waitForSelector(`#meter-${PRM} tr.anomaly`);
    await page.waitForSelector("progress");
    // Switch periods quickly: more reads within a second than the default 5/s.
    for (const p of ["week", "year", "day", "month"]) {
      await page.click(`button.period[data-period="${p}"]`);
      await page.waitForSelector(`#meter-${PRM}[data-period="${p}"][data-state="ready"]`);
    }
    expect(problems).toEqual([]);
    // The accounts page's navigation lists the dashboard (relative link).
    const nav = await (await fetch(`${proxy.url}accounts`)).text();
    expect(nav).toMatch(/href="dashboard"[^>]*>[^<]*(Dashboard|Tableau de bord)/);
    // Upload a portal CSV of the missing week on the page.
    const week = points.filter((p) => p.start >= GAP[0] && p.start < GAP[1]);
    const file = join(tmpdir(), `eb-week-${process.pid}.csv`);
    writeFileSync(file, portalCsv(week, PRM));
    expect(Buffer.byteLength(portalCsv(week, PRM))).toBeGreaterThan(0);
    await page.setInputFiles(`#meter-${PRM} input.import-file`, file);
    await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? "").length > 0, `#meter-${PRM} .import-status`);
    const status = await page.locator(`#meter-${PRM} .import-status`).textContent();
    const expected = week.filter((p) => p.wh !== null).length;
    expect(status).toContain(`${expected} + 0`);
    expect(readingsBetween(db, PRM, GAP[0], GAP[1])).toHaveLength(expected);
    await page.waitForSelector(`#meter-${PRM}[data-state="ready"] canvas`);
    rmSync(file, { force: true });
    await screenshot(page, "dashboard-web-module-dark-fr");
    expect(problems).toEqual([]);
    await context.close();
  }, 90_000);
});
