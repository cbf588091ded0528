/**
 * The rest of the dashboard API: manual sync (200 with an injected sync, 404 for a meter that is not a configured Linky meter,
 * through the module, 503 provider unavailable, 400 bad body), import through the API, CSV export
 * (UTF-8, ISO UTC start, local day, unit in the header; sums match), progress and accounts, the
 * module's registration in the route registry — every JSON response checked against the served
 * OpenAPI document.
 */
import Fastify from "fastify";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../src/domain/errors.js";
import { createLogger } from "../../../src/log.js";
import { DashboardModule } from "../../../src/modules/dashboard/dashboard-module.js";
import { EventBus } from "../../../src/modules/events.js";
import type { ModuleContext } from "../../../src/modules/module.js";
import { createWebRoutes } from "../../../src/modules/web-routes.js";
import { upsertAccount } from "../../../src/store/accounts.js";
import { recordCoverage } from "../../../src/store/coverage.js";
import { deleteReadings, readingsBetween, upsertReadings } from "../../../src/store/readings.js";
import { portalCsv } from "../import/portal-fixture.js";
import { apiApp, PRM, series, storeWith } from "./fixture.js";
import { checkResponse } from "./schema-check.js";

const NOW = Date.parse("2009-01-01T12:00:00Z");
const points = series();
const december = points.filter((p) => p.start >= Date.parse("2008-11-30T23:00:00Z"));

async function docOf(app: Awaited<ReturnType<typeof apiApp>>) {
  return (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
}

describe("manual sync", () => {
  it("runs an injected sync and reports it; 503 when the provider is unavailable; 400 on a bad body", async () => {
    const db = storeWith(december);
    const calls: unknown[] = [];
    let fail = false;
    const app = await apiApp({
      db,
      now: () => NOW,
      sync: async (meter, range) => {
        calls.push([meter.id, range]);
        if (fail) throw new ProviderError("unavailable", "Conso API answered 503 three times; try again later");
        return { meter_id: meter.id, status: "done", date_range: { start: range.from, end: range.to }, requests_made: 1, synced_readings: 336, requests_left_today: 19, message: "1 request, 336 readings" };
      },
    });
    const doc = await docOf(app);
    const ok = await app.inject({ method: "POST", url: `/api/meters/${PRM}/sync`, payload: { from: "2008-12-01", to: "2008-12-08" } });
    expect(ok.statusCode).toBe(200);
    expect(checkResponse(doc, "/api/meters/{id}/sync", "post", 200, ok.json())).toEqual([]);
    expect(calls).toEqual([[PRM, { from: "2008-12-01", to: "2008-12-08" }]]);
    fail = true;
    const down = await app.inject({ method: "POST", url: `/api/meters/${PRM}/sync`, payload: { from: "2008-12-01", to: "2008-12-08" } });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ error: "provider_unavailable", message: "Conso API answered 503 three times; try again later" });
    expect(checkResponse(doc, "/api/meters/{id}/sync", "post", 503, down.json())).toEqual([]);
    const bad = await app.inject({ method: "POST", url: `/api/meters/${PRM}/sync`, payload: { from: "yesterday" } });
    expect(bad.statusCode).toBe(400);
    expect(calls).toHaveLength(2);
    await app.close();
  });

  it("through the module: registered page, a meter that is not a configured Linky meter cannot be synced (404)", async () => {
    const db = storeWith(december);
    const events = new EventBus(createLogger("silent"));
    const web = createWebRoutes();
    const ctx = { settings: { mode: "standalone", dataDir: "/nonexistent", meters: [] }, db, events, web, log: createLogger("silent"), now: () => NOW } as unknown as ModuleContext;
    const module = new DashboardModule({ scanIntervalMs: 0, importDir: "/nonexistent/import" });
    await module.start(ctx);
    expect(web.pages()).toEqual([{ path: "dashboard", label: { en: "Dashboard", fr: "Tableau de bord" } }]);
    const app = Fastify();
    for (const p of web.take()) {
      expect(p.module).toBe("dashboard");
      await app.register(p.plugin);
    }
    const res = await app.inject({ method: "POST", url: `/api/meters/${PRM}/sync`, payload: { from: "2008-12-01", to: "2008-12-03" } });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/not a configured Linky meter/);
    const doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(checkResponse(doc, "/api/meters/{id}/sync", "post", 404, res.json())).toEqual([]);
    // The page and uPlot's own files are served by the same plugin.
    const page = await app.inject({ method: "GET", url: "/dashboard", headers: { "accept-language": "fr-FR,fr;q=0.9" } });
    expect(page.body).toContain('<html lang="fr">');
    expect(page.body).not.toMatch(/(src|href)="\//); // relative URLs only
    expect((await app.inject({ method: "GET", url: "/dashboard/uplot.js" })).body).toContain("uPlot");
    // Import through the API: stored, reported, checked against the document.
    const csv = portalCsv(points.filter((p) => p.start >= Date.parse("2008-12-31T00:00:00Z")), PRM);
    const imp = await app.inject({ method: "POST", url: `/api/meters/${PRM}/import?name=last.csv`, headers: { "content-type": "text/csv" }, payload: csv });
    expect(imp.statusCode).toBe(200);
    expect(checkResponse(doc, "/api/meters/{id}/import", "post", 200, imp.json())).toEqual([]);
    expect(imp.json()).toMatchObject({ format: "csv", inserted: 0 }); // already there: idempotent
    const badImport = await app.inject({ method: "POST", url: `/api/meters/${PRM}/import?name=x.csv`, headers: { "content-type": "text/csv" }, payload: "hello;world\n1;2\n" });
    expect(badImport.statusCode).toBe(400);
    expect(checkResponse(doc, "/api/meters/{id}/import", "post", 400, badImport.json())).toEqual([]);
    await module.stop();
    await app.close();
  });
});

describe("memoised day summaries", () => {
  it("a write anywhere drops them: a corrected reading shows at once", async () => {
    const db = storeWith(december);
    const app = await apiApp({ db, now: () => NOW });
    const url = `/api/meters/${PRM}/statistics?period=month&from=2008-12-01&to=2009-01-01`;
    const first = (await app.inject({ method: "GET", url })).json().data_points[0].value;
    expect((await app.inject({ method: "GET", url })).json().data_points[0].value).toBe(first);
    const p = december.find((x) => x.wh !== null && x.start >= Date.parse("2008-12-10T00:00:00Z"))!;
    upsertReadings(db, PRM, [{ start: p.start, durationMs: 1_800_000, value: p.wh! + 1000, quality: "CORRIGE" }]);
    expect((await app.inject({ method: "GET", url })).json().data_points[0].value).toBeCloseTo(first + 1, 9);
    deleteReadings(db, PRM, p.start, p.start + 1_800_000);
    expect((await app.inject({ method: "GET", url })).json().data_points[0].value).toBeCloseTo(first - p.wh! / 1000, 9);
    await app.close();
  });
});

describe("CSV export", () => {
  it("readings: BOM, unit in the header, ISO UTC start, Paris local day; totals match the data", async () => {
    const db = storeWith(december);
    const app = await apiApp({ db, now: () => NOW });
    const res = await app.inject({ method: "GET", url: `/api/meters/${PRM}/export.csv?from=2008-12-01&to=2009-01-01` });
    expect(res.headers["content-type"]).toBe("text/csv; charset=utf-8");
    const text = res.body;
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).trimEnd().split("\r\n");
    expect(lines[0]).toBe("start_utc,end_utc,local_day_Europe/Paris,duration_minutes,value_Wh,quality");
    const rows = lines.slice(1).map((l) => l.split(","));
    const expected = december.filter((p) => p.wh !== null && DateTime.fromMillis(p.start, { zone: "Europe/Paris" }).toISODate()! >= "2008-12-01");
    expect(rows).toHaveLength(expected.length);
    for (const [i, r] of rows.entries()) {
      expect(r[0]).toBe(new Date(expected[i]!.start).toISOString());
      expect(r[2]).toBe(DateTime.fromMillis(expected[i]!.start, { zone: "Europe/Paris" }).toISODate());
      expect(Number(r[4])).toBeCloseTo(expected[i]!.wh!, 9);
    }
    // Statistics: one row per day, empty cells where a period has no data.
    const st = await app.inject({ method: "GET", url: `/api/meters/${PRM}/export.csv?from=2008-12-01&to=2009-01-01&kind=statistics&period=day` });
    const sl = st.body.slice(1).trimEnd().split("\r\n");
    expect(sl[0]).toContain("total_kWh");
    expect(sl).toHaveLength(32);
    const sum = sl.slice(1).reduce((a, l) => a + Number(l.split(",")[5]), 0);
    expect(sum * 1000).toBeCloseTo(expected.reduce((a, p) => a + p.wh!, 0), 3);
    expect((await app.inject({ method: "GET", url: `/api/meters/${PRM}/export.csv?from=2008-12-01&to=2009-01-01&kind=bogus` })).statusCode).toBe(400);
    await app.close();
  });
});

describe("progress and accounts", () => {
  it("days held vs provider history, requests still needed and the finish date at the budget", async () => {
    const db = storeWith(december);
    const days = Array.from({ length: 100 }, (_, i) => ({ day: DateTime.fromISO("2008-12-31").minus({ days: i }).toISODate()!, complete: true }));
    recordCoverage(db, PRM, "load_curve", days, NOW);
    recordCoverage(db, PRM, "daily", days, NOW);
    upsertAccount(db, { id: "conso_api_x", provider: "conso_api", label: "Conso API", status: "revoked", detail: "consent withdrawn", config: {} }, NOW);
    const app = await apiApp({ db, now: () => NOW });
    const res = await app.inject({ method: "GET", url: "/api/progress" });
    const doc = await docOf(app);
    expect(checkResponse(doc, "/api/progress", "get", 200, res.json())).toEqual([]);
    const [m] = res.json().meters;
    const curve = m.resolutions.find((r: { resolution: string }) => r.resolution === "load_curve");
    const daily = m.resolutions.find((r: { resolution: string }) => r.resolution === "daily");
    // Conso API: curve history 2 × 365 + 15 days in calls of 7 days; daily 3 × 365 + 15 in calls of 365.
    expect(curve).toMatchObject({ days_held: 100, days_available: 745, requests_needed: Math.ceil(645 / 7) });
    expect(daily).toMatchObject({ days_held: 100, days_available: 1110, requests_needed: Math.ceil(1010 / 365) });
    const needed = Math.ceil(645 / 7) + Math.ceil(1010 / 365);
    expect(m.daily_budget).toBe(20);
    expect(m.expected_finish).toBe(DateTime.fromISO("2009-01-01").plus({ days: Math.ceil((needed - 20) / 20) }).toISODate());
    expect(res.json().next_sync).toBeNull();
    expect(res.json().accounts).toEqual([expect.objectContaining({ id: "conso_api_x", status: "revoked", detail: "consent withdrawn" })]);
    expect(readingsBetween(db, PRM, 0, NOW).length).toBeGreaterThan(0);
    await app.close();
  });
});
