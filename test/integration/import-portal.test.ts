/**
 * Portal imports against a real Home Assistant Core: the Linky pipeline fills HA from the Conso API
 * simulator serving the real Sceaux 2008 series with two weeks missing; a portal CSV uploaded
 * through the dashboard API fills one gap and a portal XLSX dropped into the import folder fills
 * the other, both through the statistics writer: the hours appear with the data's values, the
 * running sum stays continuous (no negative hour) and ends at the dataset's total. A malformed file
 * changes nothing, in the store or in HA.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import type { Settings } from "../../src/settings.js";
import { DashboardModule } from "../../src/modules/dashboard/dashboard-module.js";
import type { BusEvents } from "../../src/modules/events.js";
import type { ModuleContext } from "../../src/modules/module.js";
import { createWebRoutes } from "../../src/modules/web-routes.js";
import { deleteReadings, dirtyRange, readingsBetween } from "../../src/store/readings.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN, type HalfHourPoint } from "../helpers/dataset.js";
import { waitFor } from "../helpers/wait.js";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { continuityErrors, haRows, testService, testSettings, type Service } from "../helpers/service-fixture.js";
import { portalCsv, portalXlsx } from "../unit/import/portal-fixture.js";

// Two source weeks (2008, UTC starts) the simulator does not serve: the gaps the imports fill.
const GAP_A = [Date.parse("2008-06-01T22:00:00Z"), Date.parse("2008-06-08T22:00:00Z")] as const;
const GAP_B = [Date.parse("2008-09-07T22:00:00Z"), Date.parse("2008-09-14T22:00:00Z")] as const;
const inGap = (t: number, g: readonly [number, number]) => t >= g[0] && t < g[1];

describeWithHA("portal imports fill gaps in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: ProviderSimulator;
  let service: Service & { dispose(): void };
  let module: DashboardModule;
  let web: FastifyInstance;
  let importDir: string;
  let settings: Settings;
  const source = loadHalfHourSeries(SCEAUX_2008_30MIN);
  const served = source.map((p) => (inGap(p.start, GAP_A) || inGap(p.start, GAP_B) ? { ...p, wh: null } : p));
  const clock = Date.now();
  const events: BusEvents["readings_imported"][] = [];

  beforeAll(async () => {
    ha = await startHomeAssistant();
    sim = await startProviderSimulator({ series: served, now: () => clock });
    settings = testSettings(ha, sim);
    service = await testService(settings, () => clock);
    importDir = mkdtempSync(join(tmpdir(), "eb-import-"));
    const routes = createWebRoutes();
    const ctx = {
      settings: { ...settings, dataDir: importDir },
      db: service.db,
      ha: service.link,
      events: service.app.events,
      web: routes,
      log: createLogger("warning"), // a writer failure is logged (the hours then stay dirty)
      now: () => clock,
    } as unknown as ModuleContext;
    service.app.events.on("readings_imported", (e) => events.push(e));
    module = new DashboardModule({ importDir, scanIntervalMs: 0 });
    await module.start(ctx);
    web = Fastify();
    for (const p of routes.take()) await web.register(p.plugin);
    await web.ready();
  });
  afterAll(async () => {
    await module?.stop();
    await web?.close();
    service?.dispose();
    await sim?.close();
    await ha?.stop();
    if (importDir) rmSync(importDir, { recursive: true, force: true });
  });

  /** The source points of a gap, shifted like the simulator (the real values the imports carry). */
  const gapPoints = (g: readonly [number, number]): HalfHourPoint[] =>
    source.filter((p) => inGap(p.start, g)).map((p) => ({ start: p.start + sim.shiftMs, wh: p.wh }));
  const total = (pts: readonly HalfHourPoint[]) => pts.reduce((a, p) => a + (p.wh ?? 0), 0);

  it("imports fill both gaps with the data's hours, sums continuous, nothing from a malformed file", async () => {
    const [summary] = await service.runCycle();
    expect(summary!.status, summary!.error ?? "").toBe("ok");
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    expect(continuityErrors(before)).toEqual([]);
    const a = gapPoints(GAP_A);
    const b = gapPoints(GAP_B);
    const hourOfA = (r: { start: number }) => r.start >= a[0]!.start && r.start < a.at(-1)!.start + 1_800_000;
    expect(before.filter((r) => hourOfA(r) && r.state > 0)).toEqual([]); // the gap is a gap in HA

    // A malformed file (a bad value on line 40): 400 naming the line, nothing stored, HA unchanged.
    const lines = portalCsv(a, sim.prm).split("\r\n");
    lines[39] = lines[39]!.replace(/;W;([^;]*);([^;]*);/, ";W;$1;12,3,4;");
    const bad = await web.inject({ method: "POST", url: `/api/meters/${sim.prm}/import?name=bad.csv`, headers: { "content-type": "text/csv" }, payload: lines.join("\r\n") });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/line 40/);
    expect(readingsBetween(service.db, sim.prm, a[0]!.start, a.at(-1)!.start + 1)).toHaveLength(0);
    expect(await haRows(service.link.connection, sid)).toEqual(before);

    // The CSV through the API.
    const csv = await web.inject({ method: "POST", url: `/api/meters/${sim.prm}/import?name=week-a.csv`, headers: { "content-type": "text/csv" }, payload: portalCsv(a, sim.prm) });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.json()).toMatchObject({ format: "csv", inserted: a.filter((p) => p.wh !== null).length, updated: 0 });
    expect(dirtyRange(service.db, sim.prm), "the statistics writer ran and cleared the imported hours").toBeNull();
    // The writer waits for its last row (the end of the data, only sum-adjusted here) to be
    // recorded, not for the gap's imported rows: HA's recorder may still be committing those, so
    // wait until HA's rows are continuous (how long it took is printed for the report).
    const settled = async (what: string) => {
      const t0 = Date.now();
      const rows = await waitFor(what, async () => {
        const r = await haRows(service.link.connection, sid);
        return continuityErrors(r).length === 0 ? r : null;
      }, 120_000); // two HAs and five other sessions share 2 cores
      console.log(`${what}: ${Date.now() - t0} ms after the writer returned`);
      return rows;
    };
    await settled("HA rows continuous after the CSV import");
    // The XLSX through the import folder.
    writeFileSync(join(importDir, "week-b.xlsx"), await portalXlsx(b, sim.prm));
    // Settled as the module's clock sees it (`clock` was read before Home Assistant started, which
    // can take a minute here: a file stamped from the wall clock looked "still being copied").
    const old = clock - 60_000;
    utimesSync(join(importDir, "week-b.xlsx"), old / 1000, old / 1000);
    await module.scan();
    expect(events.map((e) => e.file)).toEqual(["week-a.csv", "week-b.xlsx"]);
    expect(dirtyRange(service.db, sim.prm), "the statistics writer ran and cleared the imported hours").toBeNull();

    const after = await settled("HA rows continuous after the XLSX import");
    expect(continuityErrors(after)).toEqual([]);
    for (const g of [a, b]) {
      const hours = new Map<number, number>();
      for (const p of g) if (p.wh !== null) hours.set(Math.floor(p.start / 3_600_000) * 3_600_000, (hours.get(Math.floor(p.start / 3_600_000) * 3_600_000) ?? 0) + p.wh);
      for (const [h, wh] of hours) {
        const row = after.find((r) => r.start === h);
        expect(row, new Date(h).toISOString()).toBeDefined();
        expect(Math.abs(row!.state * 1000 - wh)).toBeLessThan(0.01);
      }
    }
    const servedTotal = sim.served().reduce((x, p) => x + p.wh, 0);
    expect(Math.abs(after.at(-1)!.sum * 1000 - (servedTotal + total(a) + total(b)))).toBeLessThan(1);
    expect(after.at(-1)!.sum).toBeGreaterThan(before.at(-1)!.sum);
  }, 300_000);

  it("a manual sync of two days refetches them through the budget and the writer; HA stays continuous", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    const days = DateTime.fromMillis(clock, { zone: "Europe/Paris" }).startOf("day").minus({ days: 10 });
    const from = days.toMillis();
    const to = days.plus({ days: 2 }).toMillis();
    const served = sim.served().filter((p) => p.start >= from && p.start < to);
    deleteReadings(service.db, sim.prm, from, to); // lost locally (marks the hours dirty)
    const requestsBefore = sim.requestCount();
    const res = await web.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from: days.toISODate(), to: days.plus({ days: 2 }).toISODate() } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ status: "done", requests_made: 1, synced_readings: served.length });
    expect(sim.requestCount() - requestsBefore).toBe(1);
    expect(readingsBetween(service.db, sim.prm, from, to).map((r) => [r.start, r.value])).toEqual(served.map((p) => [p.start, p.wh]));
    expect(dirtyRange(service.db, sim.prm)).toBeNull();
    const after = await haRows(service.link.connection, sid);
    expect(continuityErrors(after)).toEqual([]);
    expect(after.map((r) => [r.start, Math.round(r.state * 1e6)])).toEqual(before.map((r) => [r.start, Math.round(r.state * 1e6)]));
  }, 120_000);
});
