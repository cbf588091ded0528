import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../../src/store/db.js";
import { getKv, setKv } from "../../../src/store/kv.js";
import { listMeters, upsertMeter } from "../../../src/store/meters.js";
import { MIGRATIONS } from "../../../src/store/migrations.js";
import { readingsBetween, upsertReadings } from "../../../src/store/readings.js";
import { firstMirrorStart, lastMirrorRow } from "../../../src/store/statistic-rows.js";
import { METER, tempDir } from "./helpers.js";

const TABLES = ["anomalies", "day_coverage", "dirty_spans", "kv", "meters", "readings", "request_log", "statistic_rows", "sync_state"];
const tables = (db: Database.Database) =>
  (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function temp() {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t;
}

/** A store file at schema version `version` (migrations 1…version applied, foreign keys on), as an older add-on left it. */
function storeAtVersion(path: string, version: number): Database.Database {
  const raw = new Database(path);
  raw.pragma("foreign_keys = ON");
  raw.transaction(() => {
    for (let v = 0; v < version; v++) raw.exec(MIGRATIONS[v]!);
    raw.pragma(`user_version = ${version}`);
  })();
  return raw;
}

describe("openStore", () => {
  it("opens :memory:, runs every migration and sets user_version", () => {
    const db = openStore(":memory:");
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual(expect.arrayContaining(TABLES));
    expect(db.pragma("foreign_keys", { simple: true })).toBe(1);
    db.close();
  });

  it("creates the folder of a file store and uses WAL", () => {
    const t = temp();
    const db = openStore(t.file("nested/dir/energy.db"));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });

  it("reopening a file store is a no-op: same version, data kept", () => {
    const t = temp();
    const path = t.file("energy.db");
    const db = openStore(path);
    upsertMeter(db, METER, 1);
    setKv(db, "sync_minute", "17");
    db.close();
    const again = openStore(path);
    expect(again.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(listMeters(again)).toEqual([METER]);
    expect(getKv(again, "sync_minute")).toBe("17");
    again.close();
  });

  it("refuses a store from a newer add-on with a clear error", () => {
    const t = temp();
    const path = t.file("energy.db");
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 3}`);
    raw.close();
    expect(() => openStore(path)).toThrow(new RegExp(`schema version ${MIGRATIONS.length + 3}.*newer`));
    // …and leaves it untouched.
    const check = new Database(path);
    expect(check.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length + 3);
    expect(tables(check)).toEqual([]);
    check.close();
  });

  it("migration 4 carries a store's dirty hours over as one dirty span per meter", () => {
    const t = temp();
    const path = t.file("energy.db");
    const raw = storeAtVersion(path, 3);
    raw.prepare(`INSERT INTO meters (id, provider, kind, unit, timezone, name, created_at) VALUES (?, 'x', 'electricity', 'Wh', 'Europe/Paris', 'm', 0)`).run(METER.id);
    for (const h of [7_200_000, 3_600_000, 36_000_000]) raw.prepare(`INSERT INTO dirty_hours VALUES (?, ?)`).run(METER.id, h);
    raw.close();
    const db = openStore(path);
    expect(tables(db)).not.toContain("dirty_hours");
    expect(db.prepare(`SELECT meter_id, first_hour, last_hour FROM dirty_spans`).all()).toEqual([
      { meter_id: METER.id, first_hour: 3_600_000, last_hour: 36_000_000 },
    ]);
    db.close();
  });

  it("migration 5 keeps the mirror of written rows (now keyed by statistic number)", () => {
    const t = temp();
    const path = t.file("energy.db");
    const raw = storeAtVersion(path, 4);
    const ins = raw.prepare(`INSERT INTO statistic_rows (statistic_id, start, state_wh, sum_wh) VALUES (?, ?, ?, ?)`);
    ins.run("energy_bridge:b", 3_600_000, 5, 15);
    ins.run("energy_bridge:a", 0, 1, 1);
    ins.run("energy_bridge:a", 3_600_000, 2, 3);
    raw.close();
    const db = openStore(path);
    expect(lastMirrorRow(db, "energy_bridge:a")).toEqual({ start: 3_600_000, stateWh: 2, sumWh: 3 });
    expect(firstMirrorStart(db, "energy_bridge:a")).toBe(0);
    expect(lastMirrorRow(db, "energy_bridge:b")).toEqual({ start: 3_600_000, stateWh: 5, sumWh: 15 });
    expect(lastMirrorRow(db, "energy_bridge:c")).toBeNull();
    db.close();
  });

  it("migration 8 re-keys every meter's readings by number and drops fetched_at, values and qualities intact", () => {
    const t = temp();
    const path = t.file("energy.db");
    const raw = storeAtVersion(path, 7);
    const meter = raw.prepare(`INSERT INTO meters (id, provider, kind, unit, timezone, name, created_at) VALUES (?, 'x', 'electricity', 'Wh', 'Europe/Paris', 'm', 0)`);
    meter.run("22222222222222");
    meter.run(METER.id);
    const reading = raw.prepare(`INSERT INTO readings (meter_id, start, duration_ms, value, quality, fetched_at) VALUES (?, ?, ?, ?, ?, 5)`);
    reading.run(METER.id, 0, 1_800_000, 0.1 + 0.2, "BRUT");
    reading.run(METER.id, 0, 86_400_000, 1 / 3, null);
    reading.run("22222222222222", 1_800_000, 1_800_000, 7, "CORRIGE");
    raw.close();
    const db = openStore(path);
    expect(db.prepare(`SELECT name FROM pragma_table_info('readings')`).pluck().all()).toEqual(["meter", "start", "duration_ms", "value", "quality"]);
    expect(readingsBetween(db, METER.id, 0, 86_400_000)).toEqual([
      { start: 0, durationMs: 86_400_000, value: 1 / 3, quality: null },
      { start: 0, durationMs: 1_800_000, value: 0.1 + 0.2, quality: "BRUT" },
    ]);
    expect(readingsBetween(db, "22222222222222", 0, 86_400_000)).toEqual([{ start: 1_800_000, durationMs: 1_800_000, value: 7, quality: "CORRIGE" }]);
    upsertReadings(db, "22222222222222", [{ start: 3_600_000, durationMs: 1_800_000, value: 8, quality: "CORRIGE" }]);
    expect(readingsBetween(db, "22222222222222", 0, 86_400_000)).toHaveLength(2);
    db.close();
  });

  it("the meters table cascades a meter's data away", () => {
    const db = openStore(":memory:");
    upsertMeter(db, METER, 1);
    upsertReadings(db, METER.id, [{ start: 0, durationMs: 1_800_000, value: 1, quality: null }]);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM readings`).get() as { n: number }).n).toBe(1);
    db.prepare(`DELETE FROM meters WHERE id = ?`).run(METER.id);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM readings`).get() as { n: number }).n).toBe(0);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM meter_keys`).get() as { n: number }).n).toBe(0);
    db.close();
  });
});

describe("meters and kv", () => {
  it("upsertMeter updates in place and keeps one sync_state row", () => {
    const db = openStore(":memory:");
    upsertMeter(db, METER, 1);
    upsertMeter(db, { ...METER, provider: "myelectricaldata", name: "Home" }, 2);
    expect(listMeters(db)).toEqual([{ ...METER, provider: "myelectricaldata", name: "Home" }]);
    expect((db.prepare(`SELECT COUNT(*) AS n FROM sync_state`).get() as { n: number }).n).toBe(1);
    db.close();
  });

  it("kv: undefined when absent, last write wins", () => {
    const db = openStore(":memory:");
    expect(getKv(db, "k")).toBeUndefined();
    setKv(db, "k", "a");
    setKv(db, "k", "b");
    expect(getKv(db, "k")).toBe("b");
    db.close();
  });
});
