/**
 * The statistics writer for volumes (fake recorder; the real HA proof is
 * test/integration/ecolyo-statistics.test.ts): water stored in L and sent in L, gas stored in L
 * and sent in m³, metadata with the `volume` unit class; the Ecolyo statistic ids.
 */
import { describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { fakeRecorder } from "../../helpers/fake-recorder.js";
import { openStore } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { upsertReadings } from "../../../src/store/readings.js";
import { writeStatistics } from "../../../src/jobs/write-statistics.js";
import { importMetadata } from "../../../src/homeassistant/statistics.js";
import { ecolyoStatistic } from "../../../src/modules/ecolyo/ecolyo-jobs.js";
import { createLogger } from "../../../src/log.js";
import type { Meter } from "../../../src/domain/types.js";

const log = createLogger("silent");
const ZONE = "Europe/Paris";
const DAYS = ["2026-03-28", "2026-03-29", "2026-03-30"]; // the middle one is 23 h long
const LITRES = [480, 230.5, 310];

/** One daily reading (litres) per day of DAYS. */
function daily() {
  return DAYS.map((d, i) => {
    const start = DateTime.fromISO(d, { zone: ZONE });
    return { start: start.toMillis(), durationMs: start.plus({ days: 1 }).toMillis() - start.toMillis(), value: LITRES[i]!, quality: null };
  });
}

describe("volume statistics", () => {
  it("ids and metadata: water L (volume), gas kWh (energy) or m³ (volume); never a null unit class", () => {
    const inst = "https://alice.mycozy.cloud";
    expect(ecolyoStatistic(inst, "water").statisticId).toBe("energy_bridge:ecolyo_alice_mycozy_cloud_water");
    expect(importMetadata(ecolyoStatistic(inst, "water"), "2026.2.3")).toMatchObject({ unit_of_measurement: "L", unit_class: "volume", has_sum: true, mean_type: 0 });
    expect(importMetadata(ecolyoStatistic(inst, "gas"), "2026.2.3")).toMatchObject({ unit_of_measurement: "kWh", unit_class: "energy" });
    expect(importMetadata(ecolyoStatistic(inst, "gas", "m³"), "2026.2.3")).toMatchObject({ unit_of_measurement: "m³", unit_class: "volume" });
    expect(importMetadata(ecolyoStatistic(inst, "water"), "2025.4.4")).toEqual({
      statistic_id: "energy_bridge:ecolyo_alice_mycozy_cloud_water",
      source: "energy_bridge",
      name: "Ecolyo water",
      has_sum: true,
      unit_of_measurement: "L",
      has_mean: false,
    });
  });

  for (const [label, kind, gasUnit, unit, perDay] of [
    ["water in L", "water", undefined, "L", (l: number) => l],
    ["gas volume in m³", "gas", "m³", "m³", (l: number) => l / 1000],
  ] as const) {
    it(`daily ${label}: each local day's hours sum to its value, running sums continuous, re-run sends nothing`, async () => {
      const db = openStore(":memory:");
      const meter: Meter = { id: `ecolyo_x_${kind}`, provider: "cozy", kind, unit: "L", timezone: ZONE, name: label };
      upsertMeter(db, meter);
      upsertReadings(db, meter.id, daily());
      const meta = ecolyoStatistic("https://x", kind, gasUnit ?? "kWh");
      expect(meta.unit).toBe(unit);
      const rec = fakeRecorder();
      const out = await writeStatistics(db, rec.conn, "2026.2.3", meter, meta, { log });
      expect(out.rowsSent).toBe(24 + 23 + 24);
      const rows = rec.rowsOf(meta.statisticId);
      const perLocalDay = new Map<string, number>();
      let prev = 0;
      for (const r of rows) {
        const d = DateTime.fromMillis(r.start, { zone: ZONE }).toISODate()!;
        perLocalDay.set(d, (perLocalDay.get(d) ?? 0) + r.state);
        expect(Math.abs(r.sum - prev - r.state)).toBeLessThan(1e-9);
        expect(r.state).toBeGreaterThanOrEqual(0);
        prev = r.sum;
      }
      DAYS.forEach((d, i) => expect(Math.abs(perLocalDay.get(d)! - perDay(LITRES[i]!))).toBeLessThan(1e-9));
      // The days handed to the anomaly pass stay in the store's unit (L).
      expect(out.days.map((d) => d.total)).toEqual(LITRES);
      const again = await writeStatistics(db, rec.conn, "2026.2.3", meter, meta, { log, full: true });
      expect([again.rowsSent, again.adjustments]).toEqual([0, 0]);
    });
  }
});
