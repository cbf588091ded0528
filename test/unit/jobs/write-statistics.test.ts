/**
 * Edge cases of the statistics writer that a real HA cannot easily be made to produce on demand:
 * a connection dropped between two chunks, and an HA that lost the statistic. The normal paths are
 * proven against a real Home Assistant in test/integration/linky-statistics.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { Connection } from "home-assistant-js-websocket";
import { fakeRecorder } from "../../helpers/fake-recorder.js";
import { openStore } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { dirtyCount, upsertReadings } from "../../../src/store/readings.js";
import { writeStatistics } from "../../../src/jobs/write-statistics.js";
import { createLogger } from "../../../src/log.js";
import type { Meter, Reading } from "../../../src/domain/types.js";

const meter: Meter = { id: "12345678901234", provider: "conso_api", kind: "electricity", unit: "Wh", timezone: "Europe/Paris", name: "t" };
const statistic = { statisticId: "energy_bridge:linky_12345678901234_consumption", name: "t", unit: "kWh" as const, unitClass: "energy" as const };
const log = createLogger("silent");
const START = Date.parse("2026-03-27T23:00:00Z"); // 2026-03-28 00:00 Paris, the day before the spring change

function halfHours(days: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < days * 48 - 2; i++) // the spring-forward day is 2 half-hours short
    out.push({ start: START + i * 1_800_000, durationMs: 1_800_000, value: 100 + (i % 7) * 10, quality: "BRUT" });
  return out;
}

function rowsOf(rec: ReturnType<typeof fakeRecorder>) {
  return rec.rowsOf(statistic.statisticId);
}

describe("writeStatistics", () => {
  it("two passes on one statistic at once (a cycle and a portal import) run one after the other; sums stay continuous", async () => {
    const db = openStore(":memory:");
    upsertMeter(db, meter);
    const readings = halfHours(3);
    upsertReadings(db, meter.id, readings.slice(0, 60));
    const rec = fakeRecorder();
    let outstanding = 0;
    let most = 0;
    const slow = {
      sendMessagePromise: async (msg: Record<string, unknown>) => {
        outstanding++;
        most = Math.max(most, outstanding);
        await new Promise((r) => setTimeout(r, 3));
        try {
          return await rec.conn.sendMessagePromise(msg as never);
        } finally {
          outstanding--;
        }
      },
    } as unknown as Connection;
    const first = writeStatistics(db, slow, "2025.4.4", meter, statistic, { log, chunkSize: 12 });
    upsertReadings(db, meter.id, readings.slice(60)); // more data lands while the first pass runs
    const second = writeStatistics(db, slow, "2025.4.4", meter, statistic, { log, chunkSize: 12 });
    await Promise.all([first, second]);
    expect(most).toBe(1);
    const rows = rowsOf(rec);
    const total = readings.reduce((sum, r) => sum + r.value, 0) / 1000;
    expect(Math.abs(rows.at(-1)!.sum - total)).toBeLessThan(1e-9);
    let prev = 0;
    for (const r of rows) {
      expect(Math.abs(r.sum - prev - r.state)).toBeLessThan(1e-9);
      prev = r.sum;
    }
    expect(dirtyCount(db, meter.id)).toBe(0);
  });

  it("a connection dropped between chunks loses nothing: dirty hours stay and the next pass completes the series", async () => {
    const db = openStore(":memory:");
    upsertMeter(db, meter);
    const readings = halfHours(3);
    upsertReadings(db, meter.id, readings);
    const rec = fakeRecorder();
    let imports = 0;
    const flaky = {
      sendMessagePromise: (msg: Record<string, unknown>) => {
        if (msg.type === "recorder/import_statistics" && ++imports === 2) return Promise.reject({ type: "result", success: false, error: { code: 3 } });
        return rec.conn.sendMessagePromise(msg as never);
      },
    } as unknown as Connection;
    await expect(writeStatistics(db, flaky, "2025.4.4", meter, statistic, { log, chunkSize: 24 })).rejects.toBeTruthy();
    expect(dirtyCount(db, meter.id)).toBeGreaterThan(0);
    expect(rowsOf(rec).length).toBe(24); // only the first chunk arrived

    const out = await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log, chunkSize: 24 });
    expect(out.rowsSent).toBe(rowsOf(rec).length - 24);
    expect(dirtyCount(db, meter.id)).toBe(0);
    const rows = rowsOf(rec);
    const total = readings.reduce((s, r) => s + r.value, 0) / 1000;
    expect(rows).toHaveLength(24 + 23 + 24); // 142 half-hours = three Paris days, the middle one 23 h long
    expect(Math.abs(rows.at(-1)!.sum - total)).toBeLessThan(1e-9);
    let prev = 0;
    for (const r of rows) {
      expect(Math.abs(r.sum - prev - r.state)).toBeLessThan(1e-9);
      expect(r.state).toBeGreaterThanOrEqual(0);
      prev = r.sum;
    }
  });

  it("mirrors one row per local day (its last hour), and a later correction continues from the day before", async () => {
    const db = openStore(":memory:");
    upsertMeter(db, meter);
    const readings = halfHours(3);
    upsertReadings(db, meter.id, readings);
    const rec = fakeRecorder();
    await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    const written = rowsOf(rec);
    const mirror = db.prepare("SELECT start, sum_wh AS sumWh FROM statistic_rows ORDER BY start").all() as { start: number; sumWh: number }[];
    // 2026-03-28 (24 h), 03-29 (23 h, spring change), 03-30: the last hour of each, with HA's sum.
    expect(mirror.map((r) => new Date(r.start).toISOString())).toEqual(["2026-03-28T22:00:00.000Z", "2026-03-29T21:00:00.000Z", "2026-03-30T21:00:00.000Z"]);
    for (const m of mirror) expect(m.sumWh / 1000).toBeCloseTo(written.find((r) => r.start === m.start)!.sum, 9);

    // A corrected half-hour on the last day: the pass anchors on 03-29's last row and sends only what changed.
    const fix = readings.at(-10)!;
    upsertReadings(db, meter.id, [{ ...fix, value: fix.value + 1000 }]);
    const out = await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    expect(out.fromDay).toBe("2026-03-30");
    expect(out.rowsSent).toBeGreaterThanOrEqual(1);
    const rows = rowsOf(rec);
    const total = readings.reduce((sum, r) => sum + r.value, 0) / 1000 + 1;
    expect(rows.at(-1)!.sum).toBeCloseTo(total, 9);
    expect(rows.slice(0, 47)).toEqual(written.slice(0, 47)); // the first two days untouched
  });

  it("rebuilds the whole series when Home Assistant lost the rows written before", async () => {
    const db = openStore(":memory:");
    upsertMeter(db, meter);
    upsertReadings(db, meter.id, halfHours(2));
    const rec = fakeRecorder();
    await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    const written = rowsOf(rec).length;
    rec.clear(); // e.g. the user deleted the statistic, or HA's database was restored
    const next: Reading = { start: START + 2 * 48 * 1_800_000, durationMs: 1_800_000, value: 500, quality: "BRUT" };
    upsertReadings(db, meter.id, [next]);
    const out = await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    expect(out.rowsSent).toBe(written + 1);
    expect(rowsOf(rec)[0]!.start).toBe(START);
  });

  it("a full rebuild after retention pruning continues from HA's older rows instead of restarting at 0", async () => {
    const db = openStore(":memory:");
    upsertMeter(db, meter);
    upsertReadings(db, meter.id, halfHours(3));
    const rec = fakeRecorder();
    await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    const before = rowsOf(rec);
    // Retention drops the first day from the store, then HA diverges (its last rows are lost).
    db.prepare("DELETE FROM readings WHERE start < ?").run(START + 24 * 3_600_000);
    rec.deleteRows(statistic.statisticId, before.slice(-5).map((r) => r.start));
    upsertReadings(db, meter.id, [{ start: START + 71 * 3_600_000, durationMs: 1_800_000, value: 300, quality: "BRUT" }]);
    await writeStatistics(db, rec.conn, "2025.4.4", meter, statistic, { log });
    const after = rowsOf(rec);
    let prev = 0;
    for (const r of after) {
      expect(r.sum - prev, new Date(r.start).toISOString()).toBeGreaterThanOrEqual(-1e-9);
      expect(Math.abs(r.sum - prev - r.state)).toBeLessThan(1e-9);
      prev = r.sum;
    }
    expect(after.slice(0, 24)).toEqual(before.slice(0, 24)); // HA's older day untouched
  });
});

describe("describeHaError", () => {
  it("turns js-websocket rejections into readable messages", async () => {
    const { describeHaError } = await import("../../../src/jobs/sync-meter.js");
    expect(describeHaError({ type: "result", success: false, error: { code: 3 } })).toMatch(/connection was lost/);
    expect(describeHaError({ code: "invalid_format", message: "Invalid timestamp" })).toBe("Invalid timestamp (invalid_format)");
    expect(describeHaError(new Error("boom"))).toBe("boom");
  });
});
