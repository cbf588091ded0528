/**
 * The manual sync through the dashboard API against the Conso API simulator (loopback HTTP,
 * serving the bundled real 2008 series shifted to end yesterday): the range is fetched in 7-day
 * calls admitted by the shared request budget, the readings equal what the simulator serves, the
 * budget stops it early (reported), and an unreachable provider is a 503 with a plain message.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { DashboardModule } from "../../../src/modules/dashboard/dashboard-module.js";
import { EventBus } from "../../../src/modules/events.js";
import type { ModuleContext } from "../../../src/modules/module.js";
import { createWebRoutes } from "../../../src/modules/web-routes.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { coverageBetween } from "../../../src/store/coverage.js";
import { readingsBetween } from "../../../src/store/readings.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../../helpers/dataset.js";
import { startProviderSimulator, type ProviderSimulator } from "../../helpers/provider-simulator.js";

const ZONE = "Europe/Paris";
let sim: ProviderSimulator;

async function appFor(budget: number, baseUrl = sim.baseUrl): Promise<{ app: FastifyInstance; db: Db; module: DashboardModule }> {
  const db = openStore(":memory:");
  upsertMeter(db, { id: sim.prm, provider: "conso_api", kind: "electricity", unit: "Wh", timezone: ZONE, name: "Linky" }, 0);
  const web = createWebRoutes();
  const settings = { mode: "standalone", dataDir: "/nonexistent", meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, baseUrl, name: "Linky", production: "off" }], requestBudgetPerDay: budget };
  const ctx = {
    settings,
    db,
    events: new EventBus(createLogger("silent")),
    web,
    log: createLogger("silent"),
    now: Date.now,
    ha: { get connection(): never { throw new Error("no Home Assistant in this test"); }, haVersion: "2026.2.3" },
    providerRuntime: { retry: { minTimeout: 5, maxTimeout: 10, retries: 1 }, timeoutMs: 2000 },
  } as unknown as ModuleContext;
  const module = new DashboardModule({ scanIntervalMs: 0, importDir: "/nonexistent/import" });
  await module.start(ctx);
  const app = Fastify();
  for (const p of web.take()) await app.register(p.plugin);
  return { app, db, module };
}

beforeAll(async () => {
  sim = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2008_30MIN) });
});
afterAll(async () => {
  await sim?.close();
});

describe("manual sync of a range", () => {
  it("fetches 14 days in two 7-day calls through the budget; readings equal what the provider serves", async () => {
    const { app, db, module } = await appFor(500);
    const today = DateTime.now().setZone(ZONE).startOf("day");
    const from = today.minus({ days: 14 }).toISODate()!;
    const to = today.toISODate()!;
    const res = await app.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from, to } });
    expect(res.statusCode, res.body).toBe(200);
    const lo = today.minus({ days: 14 }).toMillis();
    const served = sim.served().filter((p) => p.start >= lo && p.start < today.toMillis());
    expect(res.json()).toMatchObject({ status: "done", requests_made: 2, synced_readings: served.length, requests_left_today: 498 });
    expect(res.json().message).toMatch(/2 request\(s\)/);
    const stored = readingsBetween(db, sim.prm, lo, today.toMillis());
    expect(stored.map((r) => [r.start, r.value])).toEqual(served.map((p) => [p.start, p.wh]));
    // Each of the 14 local days is recorded as covered (complete when the simulator served all of it),
    // so the scheduled cycle does not fetch them again.
    const coverage = coverageBetween(db, sim.prm, "load_curve", from, to);
    expect([...coverage.keys()].sort()).toEqual(Array.from({ length: 14 }, (_, i) => today.minus({ days: 14 - i }).toISODate()!));
    for (const [day, c] of coverage) {
      const dayLo = DateTime.fromISO(day, { zone: ZONE }).toMillis();
      const dayHi = DateTime.fromISO(day, { zone: ZONE }).plus({ days: 1 }).toMillis();
      const points = served.filter((p) => p.start >= dayLo && p.start < dayHi);
      expect(c.complete, day).toBe(points.length === (dayHi - dayLo) / 1_800_000);
    }
    // Again: the same requests are spent (it is a refetch), nothing new is stored.
    const again = await app.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from, to } });
    expect(again.json()).toMatchObject({ requests_made: 2, synced_readings: 0, requests_left_today: 496 });
    await module.stop();
    await app.close();
  });

  it("stops when the day's budget is spent and says so; an unreachable provider is 503", async () => {
    const { app, module } = await appFor(1);
    const today = DateTime.now().setZone(ZONE).startOf("day");
    const res = await app.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from: today.minus({ days: 21 }).toISODate()!, to: today.toISODate()! } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ requests_made: 1, requests_left_today: 0 });
    expect(res.json().message).toMatch(/stopped early: daily request budget of 1/);
    const spent = await app.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from: today.minus({ days: 7 }).toISODate()!, to: today.toISODate()! } });
    expect(spent.statusCode).toBe(429);
    await module.stop();
    await app.close();
    const down = await appFor(500, "http://127.0.0.1:9");
    const r = await down.app.inject({ method: "POST", url: `/api/meters/${sim.prm}/sync`, payload: { from: today.minus({ days: 7 }).toISODate()!, to: today.toISODate()! } });
    expect(r.statusCode).toBe(503);
    expect(r.json().error).toBe("provider_unavailable");
    expect(r.json().message.length).toBeGreaterThan(10);
    await down.module.stop();
    await down.app.close();
  });
});
