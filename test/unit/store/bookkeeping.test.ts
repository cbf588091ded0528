import { beforeEach, describe, expect, it } from "vitest";
import type { Anomaly } from "../../../src/domain/types.js";
import { listAnomalies, markNotified, replaceAnomaliesFrom } from "../../../src/store/anomalies.js";
import { coverageBetween, forgetCoverage, recordCoverage } from "../../../src/store/coverage.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { firstMirrorStart, lastMirrorRow, mirrorRowBefore, replaceMirrorFrom } from "../../../src/store/statistic-rows.js";
import { getSyncState, recordSyncOutcome, setHistoryStart } from "../../../src/store/sync-state.js";
import { METER } from "./helpers.js";

let db: Db;
beforeEach(() => {
  db = openStore(":memory:");
  upsertMeter(db, METER, 1);
});

describe("coverage", () => {
  it("records, reads [from, to) per resolution, updates, and forgets every resolution", () => {
    recordCoverage(db, METER.id, "daily", [
      { day: "2026-03-28", complete: true },
      { day: "2026-03-29", complete: false },
      { day: "2026-03-30", complete: true },
    ], 100);
    recordCoverage(db, METER.id, "load_curve", [{ day: "2026-03-29", complete: true }], 200);
    const daily = coverageBetween(db, METER.id, "daily", "2026-03-28", "2026-03-30");
    expect([...daily.values()]).toEqual([
      { day: "2026-03-28", complete: true, fetchedAt: 100 },
      { day: "2026-03-29", complete: false, fetchedAt: 100 },
    ]);
    expect(daily.get("2026-03-29")?.complete).toBe(false);
    recordCoverage(db, METER.id, "daily", [{ day: "2026-03-29", complete: true }], 300);
    expect(coverageBetween(db, METER.id, "daily", "2026-03-29", "2026-03-30").get("2026-03-29")).toEqual({
      day: "2026-03-29",
      complete: true,
      fetchedAt: 300,
    });
    forgetCoverage(db, METER.id, "2026-03-29", "2026-03-30");
    expect([...coverageBetween(db, METER.id, "daily", "2026-01-01", "2027-01-01").keys()]).toEqual(["2026-03-28", "2026-03-30"]);
    expect(coverageBetween(db, METER.id, "load_curve", "2026-01-01", "2027-01-01").size).toBe(0);
  });
});

describe("coverage in bulk", () => {
  it("a day listed twice in one call keeps its last entry; a year of days in one call", () => {
    recordCoverage(db, METER.id, "daily", [
      { day: "2026-03-29", complete: false },
      { day: "2026-03-29", complete: true },
    ], 100);
    expect(coverageBetween(db, METER.id, "daily", "2026-03-29", "2026-03-30").get("2026-03-29")?.complete).toBe(true);
    const days = Array.from({ length: 365 }, (_, i) => ({ day: new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10), complete: i % 2 === 0 }));
    recordCoverage(db, METER.id, "load_curve", days, 200);
    const got = coverageBetween(db, METER.id, "load_curve", "2025-01-01", "2026-01-01");
    expect(got.size).toBe(365);
    expect(got.get("2025-01-02")).toEqual({ day: "2025-01-02", complete: false, fetchedAt: 200 });
    expect(got.get("2025-12-31")?.complete).toBe(true);
    recordCoverage(db, METER.id, "load_curve", [], 300); // nothing to record
    expect(coverageBetween(db, METER.id, "load_curve", "2025-01-01", "2026-01-01").size).toBe(365);
  });
});

describe("sync state", () => {
  it("defaults to pending, for a known meter and for an unknown one", () => {
    const pending = { status: "pending", lastError: null, lastAttemptAt: null, lastSuccessAt: null, historyStart: {} };
    expect(getSyncState(db, METER.id)).toEqual(pending);
    expect(getSyncState(db, "nobody")).toEqual(pending);
  });

  it("recordSyncOutcome sets lastSuccessAt on success and keeps it on failure", () => {
    recordSyncOutcome(db, METER.id, { status: "ok", at: 1000, success: true });
    expect(getSyncState(db, METER.id)).toMatchObject({ status: "ok", lastError: null, lastAttemptAt: 1000, lastSuccessAt: 1000 });
    recordSyncOutcome(db, METER.id, { status: "error", error: "provider unavailable", at: 2000 });
    expect(getSyncState(db, METER.id)).toMatchObject({
      status: "error",
      lastError: "provider unavailable",
      lastAttemptAt: 2000,
      lastSuccessAt: 1000,
    });
    recordSyncOutcome(db, METER.id, { status: "partial", error: "budget", at: 3000, success: false });
    expect(getSyncState(db, METER.id).lastSuccessAt).toBe(1000);
    recordSyncOutcome(db, METER.id, { status: "ok", at: 4000, success: true });
    expect(getSyncState(db, METER.id)).toMatchObject({ status: "ok", lastError: null, lastSuccessAt: 4000 });
  });

  it("setHistoryStart per resolution", () => {
    setHistoryStart(db, METER.id, "daily", "2023-04-01");
    expect(getSyncState(db, METER.id).historyStart).toEqual({ daily: "2023-04-01" });
    setHistoryStart(db, METER.id, "load_curve", "2024-01-10");
    expect(getSyncState(db, METER.id).historyStart).toEqual({ daily: "2023-04-01", load_curve: "2024-01-10" });
  });
});

describe("anomalies", () => {
  const anomaly = (day: string, value: number, severity: Anomaly["severity"] = "minor") => ({
    meterId: METER.id,
    day,
    windowStart: "2026-02-20",
    value,
    average7d: 1000,
    variancePercent: value / 10 - 100,
    severity,
  });

  it("replaceAnomaliesFrom keeps detected/notified of days that stay, deletes days no longer anomalous", () => {
    replaceAnomaliesFrom(db, METER.id, "2026-02-01", [anomaly("2026-02-10", 1300), anomaly("2026-03-01", 1300), anomaly("2026-03-02", 1250)], 10);
    markNotified(db, METER.id, ["2026-03-01", "2026-03-02", "2026-02-10"], 20);
    // Recomputed from 2026-03-01: 03-01 stays (now bigger), 03-02 is gone, 03-05 is new.
    replaceAnomaliesFrom(db, METER.id, "2026-03-01", [anomaly("2026-03-01", 2500, "critical"), anomaly("2026-03-05", 1600, "major")], 30);
    const rows = listAnomalies(db, METER.id);
    expect(rows.map((a) => a.day)).toEqual(["2026-03-05", "2026-03-01", "2026-02-10"]);
    const byDay = new Map(rows.map((a) => [a.day, a]));
    expect(byDay.get("2026-03-01")).toEqual({ ...anomaly("2026-03-01", 2500, "critical"), detectedAt: 10, notifiedAt: 20 });
    expect(byDay.get("2026-03-05")).toEqual({ ...anomaly("2026-03-05", 1600, "major"), detectedAt: 30, notifiedAt: null });
    // Before fromDay: untouched.
    expect(byDay.get("2026-02-10")).toMatchObject({ detectedAt: 10, notifiedAt: 20 });
  });

  it("an empty recomputation clears the window", () => {
    replaceAnomaliesFrom(db, METER.id, "2026-03-01", [anomaly("2026-03-01", 1300), anomaly("2026-03-03", 1300)], 1);
    replaceAnomaliesFrom(db, METER.id, "2026-03-02", [], 2);
    expect(listAnomalies(db, METER.id).map((a) => a.day)).toEqual(["2026-03-01"]);
  });
});

describe("statistic mirror", () => {
  const ID = "energy_bridge:conso_api_12345678901234_consumption";
  const H = 3_600_000;
  const row = (k: number, stateWh: number, sumWh: number) => ({ start: k * H, stateWh, sumWh });

  it("replaceMirrorFrom replaces rows ≥ from only; mirrorRowBefore is strictly before", () => {
    expect(lastMirrorRow(db, ID)).toBeNull();
    expect(firstMirrorStart(db, ID)).toBeNull();
    replaceMirrorFrom(db, ID, 0, [row(1, 100, 100), row(2, 200, 300), row(3, 50, 350), row(5, 10, 360)]);
    replaceMirrorFrom(db, "other", 0, [row(4, 1, 1)]);
    expect(mirrorRowBefore(db, ID, 3 * H)).toEqual(row(2, 200, 300));
    expect(mirrorRowBefore(db, ID, 1 * H)).toBeNull();
    expect(lastMirrorRow(db, ID)).toEqual(row(5, 10, 360));
    // Rebuild from hour 3: hour 5 disappears, hour 4 appears, hours 1–2 stay.
    replaceMirrorFrom(db, ID, 3 * H, [row(3, 60, 360), row(4, 0, 360)]);
    expect(lastMirrorRow(db, ID)).toEqual(row(4, 0, 360));
    expect(mirrorRowBefore(db, ID, 4 * H)).toEqual(row(3, 60, 360));
    expect(mirrorRowBefore(db, ID, 3 * H)).toEqual(row(2, 200, 300));
    expect(firstMirrorStart(db, ID)).toBe(H);
    expect(lastMirrorRow(db, "other")).toEqual(row(4, 1, 1));
  });

  it("replaceMirrorFrom writes every row of a long series (several multi-row chunks), then replaces its tail", () => {
    const rows = Array.from({ length: 1234 }, (_, k) => row(k, k % 7, (k * (k + 1)) / 2));
    replaceMirrorFrom(db, ID, 0, rows);
    replaceMirrorFrom(db, "other", 0, rows.slice(0, 3));
    const all = () =>
      db.prepare(`SELECT start, state_wh AS stateWh, sum_wh AS sumWh FROM statistic_rows WHERE statistic = (SELECT id FROM statistic_ids WHERE statistic_id = ?) ORDER BY start`).all(ID);
    expect(all()).toEqual(rows);
    replaceMirrorFrom(db, ID, 600 * H, rows.slice(600, 1001));
    expect(all()).toEqual(rows.slice(0, 1001));
    expect(lastMirrorRow(db, "other")).toEqual(rows[2]);
    expect(mirrorRowBefore(db, ID, 1000 * H)).toEqual(rows[999]);
  });
});
