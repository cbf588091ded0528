/**
 * Linky after Enedis's 2026 switch to mesure synchrone v2, against a real Home Assistant Core and
 * the v2 simulator over the bundled real data: the MyElectricalData v2 path (start-stamped) gives
 * the same rows as the Conso API path (end-stamped); a three-year history reaches HA whatever the
 * retention, and pruning the store changes nothing in HA; a production meter yields a statistic
 * the Energy dashboard accepts as return to grid; the daily max power is visible.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DateTime } from "luxon";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { loadHalfHourSeries, loadThreeYearSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { solarSeries } from "../helpers/solar.js";
import { continuityErrors, haRows, testService, testSettings, whPerParisDay } from "../helpers/service-fixture.js";
import { addReturnToGrid, energyIssuesFor } from "../../src/homeassistant/energy-prefs.js";
import { readingsExtent } from "../../src/store/readings.js";
import type { MeterSettings } from "../../src/settings.js";

const DAY = 86_400_000;
const ZONE = "Europe/Paris";

/** Served points summed per Paris local day (Wh), up to `cutoff` (exclusive, UTC ms). */
function perDay(points: readonly { start: number; wh: number }[], cutoff: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) {
    if (p.start + 1_800_000 > cutoff) continue;
    const day = DateTime.fromMillis(p.start, { zone: ZONE }).toISODate()!;
    out.set(day, (out.get(day) ?? 0) + p.wh);
  }
  return out;
}
const mismatches = (want: Map<string, number>, got: Map<string, number>) =>
  [...want].filter(([d, wh]) => Math.abs((got.get(d) ?? 0) - wh) > 1).map(([d, wh]) => `${d}: want ${wh}, got ${got.get(d)}`);

describeWithHA("Linky on Enedis mesure synchrone v2 (real Home Assistant)", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  const clock = Date.now();
  const cutoff = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day").toMillis();

  beforeAll(async () => {
    ha = await startHomeAssistant();
  });
  afterAll(async () => {
    await ha?.stop();
  });

  it("the MyElectricalData v2 path (start-stamped) gives the same rows as the Conso API path (end-stamped)", async () => {
    const series = loadHalfHourSeries(SCEAUX_2008_30MIN);
    const simA = await startProviderSimulator({ series, prm: "11111111111111", now: () => clock });
    const simB = await startProviderSimulator({ series, prm: "22222222222222", now: () => clock });
    const meter = (sim: ProviderSimulator, provider: MeterSettings["provider"]): MeterSettings => ({
      provider,
      prm: sim.prm,
      token: sim.token,
      baseUrl: provider === "myelectricaldata" ? `${sim.baseUrl}/api` : sim.baseUrl,
      name: provider,
      production: "off",
    });
    const conso = await testService(testSettings(ha, simA, { meters: [meter(simA, "conso_api")] }), () => clock);
    const med = await testService(testSettings(ha, simB, { meters: [meter(simB, "myelectricaldata")] }), () => clock);
    try {
      const [a] = await conso.runCycle();
      const [b] = await med.runCycle();
      expect(a!.status, a!.error ?? "").toBe("ok");
      expect(b!.status, b!.error ?? "").toBe("ok");
      expect(simB.requestCount({ route: "med" })).toBeGreaterThan(0);
      expect(simB.requestCount({ route: "conso" })).toBe(0);
      const rowsA = await haRows(conso.link.connection, conso.jobs[0]!.statistic.statisticId);
      const rowsB = await haRows(med.link.connection, med.jobs[0]!.statistic.statisticId);
      expect(rowsA.length).toBeGreaterThan(8000);
      expect(rowsB.map((r) => r.start)).toEqual(rowsA.map((r) => r.start));
      const diff = rowsA.filter((r, i) => Math.abs(r.state - rowsB[i]!.state) > 1e-6 || Math.abs(r.sum - rowsB[i]!.sum) > 1e-6);
      expect(diff).toEqual([]);
      expect(continuityErrors(rowsB)).toEqual([]);
      expect(mismatches(perDay(simB.served(), cutoff), whPerParisDay(rowsB))).toEqual([]);
    } finally {
      conso.dispose();
      med.dispose();
      await simA.close();
      await simB.close();
    }
  }, 240_000);

  it("a three-year history reaches HA with the default retention; pruning the store changes no HA row", async () => {
    const sim = await startProviderSimulator({ series: loadThreeYearSeries(), prm: "33333333333333", now: () => clock });
    const settings = testSettings(ha, sim, {
      meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, baseUrl: sim.baseUrl, name: "Three years", production: "off" }],
      retentionDays: 730,
    });
    const service = await testService(settings, () => clock);
    try {
      const [s] = await service.runCycle();
      expect(s!.status, s!.error ?? "").toBe("ok");
      expect(s!.remaining).toBe(0);
      const sid = service.jobs[0]!.statistic.statisticId;
      const rows = await haRows(service.link.connection, sid);
      // What Enedis has: daily totals for 36 months + 15 days (1110 days asked), the load curve for
      // 24 months + 15 days (745); older than the curve, a day with a gap has no daily value.
      const today = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day");
      const dailyFrom = today.minus({ days: 1110 }).toISODate()!;
      const curveFrom = today.minus({ days: 745 }).toISODate()!;
      const halfHours = new Map<string, number>();
      for (const p of sim.served()) {
        const day = DateTime.fromMillis(p.start, { zone: ZONE }).toISODate()!;
        halfHours.set(day, (halfHours.get(day) ?? 0) + 1);
      }
      const complete = (day: string) => {
        const d = DateTime.fromISO(day, { zone: ZONE });
        return halfHours.get(day) === d.plus({ days: 1 }).diff(d, "minutes").minutes / 30;
      };
      const want = new Map([...perDay(sim.served(), cutoff)].filter(([d]) => d >= dailyFrom && (d >= curveFrom || complete(d))));
      const got = whPerParisDay(rows);
      const days = [...got.keys()].sort();
      // Far more than the 730-day retention reaches Home Assistant.
      expect(days[0]! <= today.minus({ days: 1105 }).toISODate()!).toBe(true);
      expect(want.size).toBeGreaterThan(1080);
      expect(mismatches(want, got)).toEqual([]);
      expect(continuityErrors(rows)).toEqual([]);
      // The store keeps only the retention window of raw readings…
      const extent = readingsExtent(service.db, sim.prm)!;
      expect(extent.first).toBeGreaterThanOrEqual(clock - 731 * DAY);
      // …and a later cycle (prune again, daily sync) changes no row Home Assistant holds.
      const [again] = await service.runCycle();
      expect(again!.rowsSent).toBe(0);
      expect(again!.adjustments).toBe(0);
      expect(await haRows(service.link.connection, sid)).toEqual(rows);
    } finally {
      service.dispose();
      await sim.close();
    }
  }, 240_000);

  it("a production meter: a production statistic the Energy dashboard accepts as return to grid, and the daily max power", async () => {
    const series = loadHalfHourSeries(SCEAUX_2008_30MIN);
    const sim = await startProviderSimulator({ series, production: solarSeries(series), prm: "44444444444444", now: () => clock });
    const settings = testSettings(ha, sim, {
      meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, baseUrl: sim.baseUrl, name: "Solar house", production: "auto" }],
    });
    const service = await testService(settings, () => clock);
    try {
      const summaries = await service.runCycle();
      expect(summaries.map((s) => [s.meterId, s.status])).toEqual([
        [sim.prm, "ok"],
        [`${sim.prm}_production`, "ok"],
      ]);
      const production = service.jobs.find((j) => j.meter.flow === "production")!;
      expect(production.statistic.statisticId).toBe(`energy_bridge:linky_${sim.prm}_production`);
      const rows = await haRows(service.link.connection, production.statistic.statisticId);
      expect(continuityErrors(rows)).toEqual([]);
      expect(mismatches(perDay(sim.servedProduction(), cutoff), whPerParisDay(rows))).toEqual([]);
      expect(await addReturnToGrid(service.link.connection, service.link.haVersion, production.statistic.statisticId)).toBe(true);
      expect(await energyIssuesFor(service.link.connection, production.statistic.statisticId)).toEqual([]);
      // Max power: yesterday's peak half-hour average power (VA = W here), as a sensor.
      const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).minus({ days: 1 }).toISODate()!;
      const peak = Math.max(
        ...sim
          .served()
          .filter((p) => DateTime.fromMillis(p.start, { zone: ZONE }).toISODate() === yesterday)
          .map((p) => p.wh * 2),
      );
      const res = await fetch(`${ha.url}/api/states/sensor.energy_bridge_${sim.prm}_max_power`, { headers: { Authorization: `Bearer ${ha.token}` } });
      expect(res.status).toBe(200);
      const state = (await res.json()) as { state: string; attributes: Record<string, unknown> };
      expect(Number(state.state)).toBeCloseTo(peak, -1);
      expect(state.attributes.day).toBe(yesterday);
      expect(state.attributes.unit_of_measurement).toBe("VA");
      // The production series has no anomaly sensor (over-production is not a problem to flag).
      const anomaly = await fetch(`${ha.url}/api/states/binary_sensor.energy_bridge_${sim.prm}_production_anomaly`, { headers: { Authorization: `Bearer ${ha.token}` } });
      expect(anomaly.status).toBe(404);
    } finally {
      service.dispose();
      await sim.close();
    }
  }, 240_000);
});
