/**
 * The whole Linky pipeline against a real Home Assistant Core and the Conso API simulator serving
 * the bundled real Sceaux 2008 series: provider → store → analysis → HA long-term statistics.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DateTime } from "luxon";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { continuityErrors, haRows, testService, testSettings, whPerParisDay } from "../helpers/service-fixture.js";
import type { Service } from "../helpers/service-fixture.js";
import { addGridConsumption, energyIssuesFor } from "../../src/homeassistant/energy-prefs.js";
import { deleteReadings, readingsBetween } from "../../src/store/readings.js";
import { forgetCoverage } from "../../src/store/coverage.js";

const DAY = 86_400_000;
const ZONE = "Europe/Paris";

describeWithHA("Linky statistics in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: ProviderSimulator;
  let service: Service & { dispose(): void };
  let clock: number;
  const csv = loadHalfHourSeries(SCEAUX_2008_30MIN);

  beforeAll(async () => {
    ha = await startHomeAssistant();
    clock = Date.now() - DAY; // yesterday, so a later "daily sync" can move to today
    sim = await startProviderSimulator({ series: csv, now: () => clock });
    service = await testService(testSettings(ha, sim), () => clock);
  });
  afterAll(async () => {
    service?.dispose();
    await sim?.close();
    await ha?.stop();
  });

  /** The dataset itself, shifted like the simulator, up to the simulator's "yesterday" (independent of its code). */
  function expectedFromCsv(): { total: number; perDay: Map<string, number>; first: number; cutoff: number } {
    const cutoff = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day").toMillis();
    const perDay = new Map<string, number>();
    let total = 0;
    let first = Infinity;
    for (const p of csv) {
      const start = p.start + sim.shiftMs;
      if (p.wh === null || start + 1_800_000 > cutoff) continue;
      first = Math.min(first, start);
      total += p.wh;
      const day = DateTime.fromMillis(start, { zone: ZONE }).toISODate()!;
      perDay.set(day, (perDay.get(day) ?? 0) + p.wh);
    }
    return { total, perDay, first, cutoff };
  }

  it("imports the real 30-min series: sums equal the dataset to 1 Wh, no negative hour, DST days right", async () => {
    const [summary] = await service.runCycle();
    expect(summary!.status, summary!.error ?? "").toBe("ok");
    expect(summary!.remaining).toBe(0);
    expect(summary!.upToDate).toBe(true);
    const sid = service.jobs[0]!.statistic.statisticId;
    expect(sid).toBe(`energy_bridge:linky_${sim.prm}_consumption`);
    const rows = await haRows(service.link.connection, sid);
    const exp = expectedFromCsv();
    expect(rows.length).toBeGreaterThan(8000);
    expect(continuityErrors(rows)).toEqual([]);
    expect(Math.abs(rows.at(-1)!.sum * 1000 - exp.total)).toBeLessThan(1);
    // Every local day equals the dataset's day to 1 Wh (days with a gap: its present half-hours).
    const got = whPerParisDay(rows);
    const mismatches = [...exp.perDay].filter(([d, wh]) => Math.abs((got.get(d) ?? 0) - wh) > 1);
    expect(mismatches).toEqual([]);
    // The target year's DST days have 23 and 25 hourly rows.
    const year = DateTime.fromMillis(exp.cutoff, { zone: ZONE }).year;
    const hoursOn = (day: string) => rows.filter((r) => DateTime.fromMillis(r.start, { zone: ZONE }).toISODate() === day).length;
    const march = lastSunday(year, 3) < DateTime.fromMillis(exp.first, { zone: ZONE }).toISODate()! ? lastSunday(year + 1, 3) : lastSunday(year, 3);
    const october = lastSunday(year, 10) < DateTime.fromMillis(exp.first, { zone: ZONE }).toISODate()! ? lastSunday(year + 1, 10) : lastSunday(year, 10);
    for (const [day, hours] of [[march, 23], [october, 25]] as const) {
      if (exp.perDay.has(day) && day < DateTime.fromMillis(exp.cutoff, { zone: ZONE }).toISODate()!) expect(hoursOn(day), day).toBe(hours);
    }
  });

  it("re-running the import changes nothing, even from an empty store", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    const [again] = await service.runCycle();
    expect(again!.requests).toBeLessThanOrEqual(3); // only the 7-day recheck (daily, curve) and max power: history is known complete
    expect(again!.rowsSent).toBe(0);
    expect(again!.adjustments).toBe(0);
    // A second install with a fresh store re-imports everything: HA already holds it, nothing is sent.
    const fresh = await testService(testSettings(ha, sim), () => clock);
    try {
      const [s] = await fresh.runCycle();
      expect(s!.fetched).toBeGreaterThan(15_000);
      expect(s!.rowsSent).toBe(0);
      expect(s!.adjustments).toBe(0);
    } finally {
      fresh.dispose();
    }
    expect(await haRows(service.link.connection, sid)).toEqual(before);
  });

  it("refills a week deleted from the store, with no negative or spiked hour", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    const meter = service.jobs[0]!.meter;
    const weekStart = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day").minus({ days: 120 });
    const from = weekStart.toMillis();
    const to = weekStart.plus({ days: 7 }).toMillis();
    const removed = deleteReadings(service.db, meter.id, from, to);
    forgetCoverage(service.db, meter.id, weekStart.toISODate()!, weekStart.plus({ days: 7 }).toISODate()!);
    expect(removed).toBeGreaterThan(300);
    const [s] = await service.runCycle();
    expect(s!.status).toBe("ok");
    expect(s!.requests).toBeGreaterThanOrEqual(2);
    expect(readingsBetween(service.db, meter.id, from, to).length).toBe(removed);
    const after = await haRows(service.link.connection, sid);
    expect(continuityErrors(after)).toEqual([]);
    expect(after.length).toBe(before.length);
    after.forEach((r, i) => expect(Math.abs(r.sum - before[i]!.sum)).toBeLessThan(1e-6));
  });

  it("a corrected reading in the middle rewrites every later sum", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    const meter = service.jobs[0]!.meter;
    const day = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day").minus({ days: 60 });
    const slot = day.plus({ hours: 19 }).toMillis();
    const original = sim.served().find((p) => p.start === slot)!;
    expect(original).toBeDefined();
    sim.override(new Map([[slot, original.wh + 1500]]));
    forgetCoverage(service.db, meter.id, day.toISODate()!, day.plus({ days: 1 }).toISODate()!);
    const [s] = await service.runCycle();
    expect(s!.status).toBe("ok");
    const after = await haRows(service.link.connection, sid);
    expect(continuityErrors(after)).toEqual([]);
    // The corrected day's daily total also moved by +1500 Wh (the simulator recomputes it); every
    // hour after the correction carries +1.5 kWh, every hour before is untouched.
    const dayEnd = day.plus({ days: 1 }).toMillis();
    for (let i = 0; i < after.length; i++) {
      const shift = after[i]!.sum - before[i]!.sum;
      if (after[i]!.start < day.toMillis()) expect(Math.abs(shift)).toBeLessThan(1e-6);
      else if (after[i]!.start >= dayEnd) expect(Math.abs(shift - 1.5)).toBeLessThan(1e-6);
    }
    expect(s!.rowsSent).toBeLessThanOrEqual(25);
    expect(s!.adjustments).toBe(1);
  });

  it("a daily sync sends at most 48 rows", async () => {
    clock += DAY; // one more day is published by the simulator
    const [s] = await service.runCycle();
    expect(s!.status).toBe("ok");
    expect(s!.requests).toBe(3); // daily total, max power, load curve
    expect(s!.rowsSent).toBeGreaterThanOrEqual(23);
    expect(s!.rowsSent).toBeLessThanOrEqual(48);
    expect(continuityErrors(await haRows(service.link.connection, service.jobs[0]!.statistic.statisticId))).toEqual([]);
  });

  it("energy/validate reports no issue once the statistic is a grid source", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    expect(await addGridConsumption(service.link.connection, service.link.haVersion, sid)).toBe(true);
    expect(await addGridConsumption(service.link.connection, service.link.haVersion, sid)).toBe(false);
    const prefs = await service.link.connection.sendMessagePromise<{ energy_sources: unknown[] }>({ type: "energy/get_prefs" });
    expect(JSON.stringify(prefs.energy_sources)).toContain(sid);
    expect(await energyIssuesFor(service.link.connection, sid)).toEqual([]);
  });
});

/** ISO date of the last Sunday of `month` in `year` (EU DST change days). */
function lastSunday(year: number, month: number): string {
  const last = DateTime.fromObject({ year, month }, { zone: "UTC" }).endOf("month");
  return last.minus({ days: last.weekday % 7 }).toISODate()!;
}
