/**
 * The dashboard page in headless Chromium (Debian's /usr/bin/chromium through playwright-core),
 * served by a real fastify server that mounts the dashboard plugin under an ingress-like prefix
 * (`/api/hassio_ingress/<token>/`, as the browser sees it behind Home Assistant). Electricity is
 * the three-year real 30-min series; the gas and water meters (the Ecolyo module's kinds) are
 * created directly in the store with daily readings derived from the same household's days.
 * Checks: a chart per meter, the period switch, an anomaly of the data, the backfill bar advancing
 * while coverage grows (a simulated backfill), the account status; screenshots light and dark.
 */
import { mkdirSync } from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addDays, dayBounds } from "../../src/analysis/days.js";
import type { Meter, ProviderId } from "../../src/domain/types.js";
import { dashboardApi } from "../../src/modules/dashboard/api.js";
import { dashboardPage } from "../../src/modules/dashboard/page.js";
import { upsertAccount } from "../../src/store/accounts.js";
import { recordCoverage } from "../../src/store/coverage.js";
import type { Db } from "../../src/store/db.js";
import { upsertMeter } from "../../src/store/meters.js";
import { upsertReadings } from "../../src/store/readings.js";
import { REPO_ROOT } from "../helpers/dataset.js";
import { waitFor } from "../helpers/wait.js";
import { LINKY, PRM, series, storeWith } from "../unit/dashboard/fixture.js";

const PREFIX = "/api/hassio_ingress/Zk3q_test-token";
const ARTIFACTS = `${REPO_ROOT}/test-artifacts`;
const NOW = Date.parse("2009-01-01T12:00:00Z");
const ZONE = "Europe/Paris";

// As the Ecolyo module stores them: gas in L (m³ × 1000, shown in m³), water in L.
const gas: Meter = { id: "ecolyo_gas_1", provider: "cozy" as ProviderId, kind: "gas", unit: "L", timezone: ZONE, name: "GRDF gas" };
const water: Meter = { id: "ecolyo_water_1", provider: "cozy" as ProviderId, kind: "water", unit: "L", timezone: ZONE, name: "Eau du Grand Lyon" };

let db: Db;
let app: FastifyInstance;
let base: string;
let browser: Browser;

/** Daily readings of the last `days` local days, each a fixed share of that day's electricity. */
function dailyFrom(points: ReturnType<typeof series>, factor: number, days: number) {
  const byDay = new Map<string, number>();
  for (const p of points) if (p.wh !== null) {
    const d = DateTime.fromMillis(p.start, { zone: ZONE }).toISODate()!;
    byDay.set(d, (byDay.get(d) ?? 0) + p.wh);
  }
  const out = [];
  for (let d = "2008-12-31", i = 0; i < days; i++, d = addDays(d, -1)) {
    const { start, end } = dayBounds(d, ZONE);
    if (byDay.has(d)) out.push({ start, durationMs: end - start, value: Math.round(byDay.get(d)! * factor * 1000) / 1000, quality: null });
  }
  return out;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const points = series();
  db = storeWith(points);
  upsertMeter(db, gas, 0);
  upsertMeter(db, water, 0);
  upsertReadings(db, gas.id, dailyFrom(points, 0.2, 400)); // L per day (≈ 0.2 m³ per kWh of the day)
  upsertReadings(db, water.id, dailyFrom(points, 0.02, 400)); // L per day
  upsertAccount(db, { id: "conso_api_" + PRM, provider: "conso_api", label: `Conso API · ${PRM}`, status: "connected", detail: null, config: { consentExpiresAt: Date.parse("2027-06-01T00:00:00Z") } }, NOW);
  upsertAccount(db, { id: "cozy_alice.mycozy.cloud", provider: "cozy", label: "alice.mycozy.cloud", status: "expiring", detail: "consent ends in 5 days", config: {} }, NOW);
  app = Fastify();
  await app.register(
    async (scope) => {
      await scope.register(dashboardApi({ db, now: () => NOW, nextSync: () => Date.parse("2009-01-02T06:17:00Z") }));
      await scope.register(dashboardPage());
    },
    { prefix: PREFIX },
  );
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe("dashboard page under an ingress prefix", () => {
  for (const [scheme, lang] of [
    ["light", "en"],
    ["dark", "fr"],
  ] as const) {
    it(`renders charts for electricity, gas and water, switches period, shows anomalies, advances the backfill bar (${scheme}, ${lang})`, async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 1800 }, colorScheme: scheme });
      const failures: string[] = [];
      page.on("pageerror", (e) => failures.push(e.message));
      page.on("response", (r) => {
        if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
        if (!r.url().startsWith(base + PREFIX)) failures.push(`outside the prefix: ${r.url()}`);
      });
      await page.goto(`${base}${PREFIX}/dashboard?lang=${lang}&poll=300`);
      for (const m of [LINKY, gas, water]) {
        await page.waitForSelector(`#meter-${m.id}[data-state="ready"] canvas`, { timeout: 20_000 });
      }
      const gasStats = await (await fetch(`${base}${PREFIX}/api/meters/${gas.id}/statistics?period=month&from=2008-12-01&to=2009-01-01`)).json();
      expect(gasStats.unit).toBe("m³");
      expect((await page.locator(`#meter-${gas.id} .comparison`).textContent())).toContain("m³");
      expect((await page.locator("section.meter").evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")))).sort()).toEqual(["electricity", "gas", "water"]);
      // Month view: December 2008, one bar per day.
      const elec = page.locator(`#meter-${PRM}`);
      expect(await elec.locator(".chart").getAttribute("data-points")).toBe("31");
      const cmp = await elec.locator(".cmp-prev").getAttribute("data-value");
      const api = await (await fetch(`${base}${PREFIX}/api/meters/${PRM}/statistics?period=month&from=2008-12-01&to=2009-01-01`)).json();
      expect(cmp).toBe(api.comparison.vs_previous_period);
      // Switch to the week view: the week of 2008-12-31 (Monday 29th → 31st).
      await page.click('button.period[data-period="week"]');
      await page.waitForSelector(`#meter-${PRM}[data-period="week"][data-state="ready"]`);
      expect(await elec.locator(".chart").getAttribute("data-points")).toBe("3");
      await page.click('button.period[data-period="year"]');
      await page.waitForSelector(`#meter-${PRM}[data-period="year"][data-state="ready"]`);
      expect(await elec.locator(".chart").getAttribute("data-points")).toBe("12");
      await page.click('button.period[data-period="day"]');
      await page.waitForSelector(`#meter-${PRM}[data-period="day"][data-state="ready"]`);
      expect(Number(await elec.locator(".chart").getAttribute("data-points"))).toBeGreaterThanOrEqual(46);
      await page.click('button.period[data-period="month"]');
      await page.waitForSelector(`#meter-${PRM}[data-period="month"][data-state="ready"]`);
      // The anomalies of the data (API = the 7-day rule, checked by the unit tests) are listed.
      const anomalies = await (await fetch(`${base}${PREFIX}/api/meters/${PRM}/anomalies?days=30`)).json();
      expect(anomalies.anomalies.length).toBeGreaterThan(0);
      await page.waitForSelector(`#meter-${PRM} tr.anomaly`);
      expect(await elec.locator("tr.anomaly").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-day")))).toEqual(anomalies.anomalies.map((a: { day: string }) => a.day));
      const major = anomalies.anomalies.find((a: { severity: string }) => a.severity === "major");
      if (major) expect(await elec.locator(`tr.anomaly[data-day="${major.day}"]`).getAttribute("class")).toContain("sev-major");
      // Monthly strip: 12 months.
      expect(await elec.locator(".monthly .month").count()).toBe(12);
      // Accounts.
      await page.waitForSelector('[data-account="cozy_alice.mycozy.cloud"]');
      expect(await page.locator(`[data-account="conso_api_${PRM}"]`).textContent()).toContain("2027-06-01");
      expect(await page.locator(`[data-account="conso_api_${PRM}"] .next-sync`).textContent()).toContain("2009-01-02 06:17 UTC");
      // A simulated backfill: coverage grows while the page polls; the bar follows.
      const bar = page.locator(`progress[data-meter="${PRM}"][data-resolution="load_curve"]`);
      await bar.waitFor();
      const before = Number(await bar.getAttribute("value"));
      let day = DateTime.fromMillis(NOW, { zone: ZONE }).toISODate()!; // the server clock
      const backfill = setInterval(() => {
        const days = Array.from({ length: 30 }, () => ({ day: (day = addDays(day, -1)), complete: true }));
        recordCoverage(db, PRM, "load_curve", days, Date.now());
      }, 200);
      try {
        const seen: number[] = [before];
        await waitFor("the backfill bar to advance twice", async () => {
          const v = Number(await bar.getAttribute("value"));
          if (v !== seen[seen.length - 1]) seen.push(v);
          return seen.length >= 3;
        }, 15_000);
        for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
        expect(await page.locator(".progress-text").first().textContent()).toMatch(/\d{4}-\d{2}-\d{2}/);
      } finally {
        clearInterval(backfill);
      }
      await page.screenshot({ path: `${ARTIFACTS}/dashboard-${scheme}-${lang}.png`, fullPage: true });
      await page.emulateMedia({ media: "print" });
      await page.screenshot({ path: `${ARTIFACTS}/dashboard-print-${scheme}.png`, fullPage: true });
      expect(await page.locator(".toolbar").isVisible()).toBe(false);
      expect(failures).toEqual([]);
      await page.close();
    }, 90_000);
  }
});
