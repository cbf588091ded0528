/**
 * The backfill under the default request budget, against the Conso API simulator over loopback
 * HTTP serving the bundled real data (no Home Assistant needed: provider → store only).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { createProvider } from "../../src/providers/index.js";
import { openStore, type Db } from "../../src/store/db.js";
import { upsertMeter } from "../../src/store/meters.js";
import { createRequestGate } from "../../src/store/request-budget.js";
import { readingsBetween } from "../../src/store/readings.js";
import { getSyncState } from "../../src/store/sync-state.js";
import { fetchMeter } from "../../src/jobs/fetch-meter.js";
import { rebuildDays } from "../../src/analysis/hourly.js";
import { createLogger } from "../../src/log.js";
import type { Meter } from "../../src/domain/types.js";

const ZONE = "Europe/Paris";
const DAY = 86_400_000;

describe("backfill within the gateway's daily request budget", () => {
  let sim: ProviderSimulator;
  let db: Db;
  let clock = Date.parse("2026-11-21T07:30:00Z");
  const meter: Meter = { id: "12345678901234", provider: "conso_api", kind: "electricity", unit: "Wh", timezone: ZONE, name: "t" };
  const log = createLogger("silent");

  beforeAll(async () => {
    sim = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2008_30MIN), now: () => clock });
    db = openStore(":memory:");
    upsertMeter(db, meter);
  });
  afterAll(async () => {
    db.close();
    await sim.close();
  });

  const run = () => {
    const provider = createProvider(
      { provider: "conso_api", token: sim.token, baseUrl: sim.baseUrl },
      { now: () => clock, retry: { minTimeout: 5, maxTimeout: 10 } },
    );
    const gate = createRequestGate(db, { providerKey: "conso_api@sim", limit: 40, timezone: ZONE, now: () => clock });
    return fetchMeter(db, meter, provider, gate, { now: () => clock, log });
  };
  const paths = () => sim.requests.map((r) => r.path);

  it("day 1: daily totals for the whole history first, then the load curve newest-first, stopping at the budget", async () => {
    const out = await run();
    expect(out.status).toBe("partial");
    expect(out.error).toMatch(/budget/);
    expect(sim.requests).toHaveLength(40);
    const kinds = paths().map((p) => (p.includes("consommation_quotidienne") ? "daily" : "curve"));
    const firstCurve = kinds.indexOf("curve");
    expect(firstCurve).toBeGreaterThan(0);
    expect(kinds.slice(firstCurve).every((k) => k === "curve")).toBe(true);
    // Curve requests go back in time, one week at a time, and never exceed 7 days.
    const starts = paths().slice(firstCurve).map((p) => new URL(p, "http://x").searchParams.get("dateDebut")!);
    const ends = paths().slice(firstCurve).map((p) => new URL(p, "http://x").searchParams.get("dateFin")!);
    for (let i = 1; i < starts.length; i++) expect(ends[i]! <= starts[i - 1]!).toBe(true);
    for (let i = 0; i < starts.length; i++) expect(Date.parse(ends[i]!) - Date.parse(starts[i]!)).toBeLessThanOrEqual(7 * DAY);
    // Every served day already has its daily total.
    const served = sim.served();
    const all = readingsBetween(db, meter.id, served[0]!.start, served.at(-1)!.start + DAY);
    const dailies = all.filter((r) => r.durationMs >= 23 * 3_600_000);
    const servedDays = new Set(served.map((p) => DateTime.fromMillis(p.start, { zone: ZONE }).toISODate()));
    expect(dailies.length).toBeGreaterThanOrEqual(servedDays.size - 10); // days with a gap have no daily value
  });

  it("a day holding both keeps its daily total when its hourly curve arrives", () => {
    const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).minus({ days: 1 }).startOf("day");
    const readings = readingsBetween(db, meter.id, yesterday.toMillis(), yesterday.plus({ days: 1 }).toMillis());
    const daily = readings.find((r) => r.durationMs >= 23 * 3_600_000)!;
    const halfHours = readings.filter((r) => r.durationMs === 1_800_000);
    expect(halfHours.length).toBeGreaterThanOrEqual(46);
    const [day] = rebuildDays(readings, ZONE, yesterday.toISODate()!, yesterday.plus({ days: 1 }).toISODate()!);
    expect(day!.source).toBe("daily+load_curve");
    const hourSum = [...day!.hours.values()].reduce((a, b) => a + b, 0);
    expect(Math.abs(hourSum - daily.value)).toBeLessThan(1e-6);
    expect(day!.hours.size).toBe(halfHours.length / 2);
  });

  it("the same day, nothing more is asked; the next days continue where it stopped until history is complete", async () => {
    const again = await run();
    expect(again.requests).toBe(0);
    expect(sim.requests).toHaveLength(40);
    let days = 0;
    let out;
    do {
      clock += DAY;
      days++;
      out = await run();
    } while (out.remaining > 0 && days < 5);
    expect(out.status).toBe("ok");
    expect(days).toBeLessThanOrEqual(2);
    // No day ever exceeded the budget.
    const perDay = new Map<string, number>();
    const rows = db.prepare("SELECT day, count FROM request_log").all() as { day: string; count: number }[];
    for (const r of rows) perDay.set(r.day, r.count);
    expect(Math.max(...perDay.values())).toBeLessThanOrEqual(40);
    // The whole served year is now in the store at 30-min resolution.
    const served = sim.served();
    const halfHours = readingsBetween(db, meter.id, served[0]!.start, served.at(-1)!.start + 1).filter((r) => r.durationMs === 1_800_000);
    expect(halfHours.length).toBe(served.length);
  });

  it("\"no measure found\" for the last days means \"not published yet\", never the start of history", async () => {
    const before = getSyncState(db, meter.id).historyStart;
    expect(before.daily).toBeDefined();
    clock += DAY;
    const noData = {
      status: 404,
      message: "The Enedis API returned an error",
      error: { error: "no_data_found", error_description: "no measure found for this usage point" },
    };
    sim.failNext({ status: 404, body: noData, times: 2 });
    const out = await run();
    expect(out.status).toBe("ok");
    expect(getSyncState(db, meter.id).historyStart).toEqual(before);
    // The next cycle gets yesterday.
    const next = await run();
    expect(next.requests).toBe(2);
    const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).minus({ days: 1 }).startOf("day");
    expect(readingsBetween(db, meter.id, yesterday.toMillis(), yesterday.plus({ days: 1 }).toMillis()).length).toBeGreaterThanOrEqual(46);
  });
});
