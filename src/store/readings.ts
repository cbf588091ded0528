import type { Reading } from "../domain/types.js";
import type { Db } from "./db.js";

const HOUR = 3_600_000;

/** Counts of one `upsertReadings` call. */
export interface UpsertResult {
  /** Readings that did not exist before. */
  inserted: number;
  /** Existing readings whose value (or quality) changed: corrections. */
  updated: number;
  /** Readings identical to what was stored: no change, nothing marked dirty. */
  unchanged: number;
}

/**
 * Stores readings of one meter, keyed by (meter, start, durationMs), in one transaction.
 * Writing the same reading twice changes nothing; a different value replaces the old one.
 * Every inserted or changed reading marks the UTC hours it overlaps as dirty, so the statistics
 * writer resends exactly those. Values must be ≥ 0 (the table enforces it; providers reject
 * negative points before they get here).
 */
export function upsertReadings(db: Db, meterId: string, readings: readonly Reading[], now = Date.now()): UpsertResult {
  const select = db.prepare(
    `SELECT value, quality FROM readings WHERE meter_id = ? AND start = ? AND duration_ms = ?`,
  );
  const write = db.prepare(
    `INSERT INTO readings (meter_id, start, duration_ms, value, quality, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(meter_id, start, duration_ms) DO UPDATE SET value = excluded.value, quality = excluded.quality,
       fetched_at = excluded.fetched_at`,
  );
  const dirty = db.prepare(`INSERT OR IGNORE INTO dirty_hours (meter_id, hour) VALUES (?, ?)`);
  const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  db.transaction(() => {
    let lastDirty = Number.NaN;
    for (const r of readings) {
      const old = select.get(meterId, r.start, r.durationMs) as { value: number; quality: string | null } | undefined;
      if (old && old.value === r.value && old.quality === r.quality) {
        result.unchanged++;
        continue;
      }
      write.run(meterId, r.start, r.durationMs, r.value, r.quality, now);
      if (old) result.updated++;
      else result.inserted++;
      for (let h = Math.floor(r.start / HOUR) * HOUR; h < r.start + r.durationMs; h += HOUR) {
        if (h === lastDirty) continue;
        dirty.run(meterId, h);
        lastDirty = h;
      }
    }
  })();
  return result;
}

/**
 * Readings of a meter overlapping [from, to) (UTC ms), ordered by start then duration
 * (so a day's daily reading comes before its half-hours).
 */
export function readingsBetween(db: Db, meterId: string, from: number, to: number): Reading[] {
  return db
    .prepare(
      `SELECT start, duration_ms AS durationMs, value, quality FROM readings
       WHERE meter_id = ? AND start < ? AND start + duration_ms > ? ORDER BY start, duration_ms DESC`,
    )
    .all(meterId, to, from) as Reading[];
}

/** [first start, last end) of a meter's readings in UTC ms, or null when it has none. */
export function readingsExtent(db: Db, meterId: string): { first: number; last: number } | null {
  const row = db
    .prepare(`SELECT MIN(start) AS first, MAX(start + duration_ms) AS last FROM readings WHERE meter_id = ?`)
    .get(meterId) as { first: number | null; last: number | null };
  return row.first === null || row.last === null ? null : { first: row.first, last: row.last };
}

/**
 * Deletes a meter's readings starting in [from, to) and marks their hours dirty (maintenance and
 * tests; the sync job refetches the days because their coverage is dropped too, by the caller
 * through `forgetCoverage`). Returns the number of readings removed.
 */
export function deleteReadings(db: Db, meterId: string, from: number, to: number): number {
  return db.transaction(() => {
    const dirty = db.prepare(`INSERT OR IGNORE INTO dirty_hours (meter_id, hour) VALUES (?, ?)`);
    const rows = db
      .prepare(`SELECT start, duration_ms AS durationMs FROM readings WHERE meter_id = ? AND start >= ? AND start < ?`)
      .all(meterId, from, to) as { start: number; durationMs: number }[];
    for (const r of rows) {
      for (let h = Math.floor(r.start / HOUR) * HOUR; h < r.start + r.durationMs; h += HOUR) dirty.run(meterId, h);
    }
    return db.prepare(`DELETE FROM readings WHERE meter_id = ? AND start >= ? AND start < ?`).run(meterId, from, to)
      .changes;
  })();
}

/** Earliest and latest dirty hour (UTC ms) of a meter, or null when nothing is dirty. */
export function dirtyRange(db: Db, meterId: string): { first: number; last: number } | null {
  const row = db
    .prepare(`SELECT MIN(hour) AS first, MAX(hour) AS last FROM dirty_hours WHERE meter_id = ?`)
    .get(meterId) as { first: number | null; last: number | null };
  return row.first === null || row.last === null ? null : { first: row.first, last: row.last };
}

/** Number of dirty hours of a meter. */
export function dirtyCount(db: Db, meterId: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM dirty_hours WHERE meter_id = ?`).get(meterId) as { n: number }).n;
}

/** Clears a meter's dirty hours up to and including `lastHour` (UTC ms), after they were written. */
export function clearDirty(db: Db, meterId: string, lastHour: number): void {
  db.prepare(`DELETE FROM dirty_hours WHERE meter_id = ? AND hour <= ?`).run(meterId, lastHour);
}

/**
 * Deletes readings that ended before `before` (UTC ms): the retention policy. Returns the count.
 * Statistic rows already in Home Assistant are left alone; the store keeps the mirror sums so
 * later rows continue the same running total.
 */
export function pruneReadings(db: Db, before: number): number {
  return db.prepare(`DELETE FROM readings WHERE start + duration_ms <= ?`).run(before).changes;
}
