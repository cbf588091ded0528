import type { Statement } from "better-sqlite3";
import type { Reading } from "../domain/types.js";
import { insertRows, type RowsInsert } from "./bulk.js";
import { transactionOf, type Db } from "./db.js";

const HOUR = 3_600_000;

const statements = new WeakMap<Db, Map<string, Statement>>();

/** `db.prepare(sql)`, prepared once per database (the hot statements run once per batch or window). */
function cached(db: Db, sql: string): Statement {
  let bySql = statements.get(db);
  if (!bySql) statements.set(db, (bySql = new Map()));
  let stmt = bySql.get(sql);
  if (!stmt) bySql.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

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
 * Every inserted or changed reading marks the UTC hours it overlaps as dirty (the meter's dirty
 * span grows to cover them), so the statistics writer rebuilds and diffs them. Values must be ≥ 0 (the table enforces it; providers reject
 * negative points before they get here).
 */
export function upsertReadings(db: Db, meterId: string, readings: readonly Reading[]): UpsertResult {
  if (readings.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  return transactionOf(db, upsertInTransaction)(db, meterId, readings);
}

/** A meter's key in `readings` (`meter_keys`, created by `upsertMeter`); throws for an unknown meter. */
function meterKey(db: Db, meterId: string): number {
  const key = cached(db, `SELECT key FROM meter_keys WHERE meter_id = ?`).pluck().get(meterId) as number | undefined;
  if (key === undefined) throw new Error(`unknown meter ${JSON.stringify(meterId)}: store it with upsertMeter first`);
  return key;
}

/** The `readings.meter` of the meter id bound here (NULL, so no row, for an unknown meter). */
const KEY = `(SELECT key FROM meter_keys WHERE meter_id = ?)`;

/** Same-quality batches bind start, duration and value per row; the rest once per statement. */
const READINGS_ROWS: RowsInsert = {
  head: "INSERT INTO readings (meter, start, duration_ms, value, quality)",
  row: "(@meter, ?, ?, ?, @quality)",
  width: 3,
  tail: `ON CONFLICT(meter, start, duration_ms) DO UPDATE SET value = excluded.value, quality = excluded.quality`,
};
/** Batches mixing qualities bind the quality per row too. */
const READINGS_ROWS_QUALITY: RowsInsert = { ...READINGS_ROWS, row: "(@meter, ?, ?, ?, ?)", width: 4 };

function upsertInTransaction(db: Db, meterId: string, readings: readonly Reading[]): UpsertResult {
  const key = meterKey(db, meterId);
  const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of readings) {
    if (r.start < lo) lo = r.start;
    if (r.start > hi) hi = r.start;
  }
  // Read what the batch's span already holds once, write only new or changed readings.
  const rows = cached(db, `SELECT start, duration_ms, value, quality FROM readings WHERE meter = ? AND start >= ? AND start <= ?`)
    .raw()
    .all(key, lo, hi) as [number, number, number, string | null][];
  const existing = rows.length ? new Map(rows.map(([s, d, v, q]) => [`${s}/${d}`, [v, q] as const])) : null;
  // Only start, duration and value vary per row; the meter is bound once per statement, and so is
  // the quality when the whole batch shares one (a provider response does).
  const quality = readings[0]!.quality;
  const sameQuality = readings.every((r) => r.quality === quality);
  const writes: unknown[] = [];
  let dirtyFirst = Infinity;
  let dirtyLast = -Infinity;
  for (const r of readings) {
    const old = existing?.get(`${r.start}/${r.durationMs}`);
    if (old && old[0] === r.value && old[1] === r.quality) {
      result.unchanged++;
      continue;
    }
    if (old) result.updated++;
    else result.inserted++;
    if (sameQuality) writes.push(r.start, r.durationMs, r.value);
    else writes.push(r.start, r.durationMs, r.value, r.quality);
    const first = Math.floor(r.start / HOUR) * HOUR;
    const last = Math.ceil((r.start + r.durationMs) / HOUR) * HOUR - HOUR; // last hour it overlaps
    if (last < first) continue; // zero length on the hour: no hour
    if (first < dirtyFirst) dirtyFirst = first;
    if (last > dirtyLast) dirtyLast = last;
  }
  if (sameQuality) insertRows(db, READINGS_ROWS, writes, { meter: key, quality: quality ?? null });
  else insertRows(db, READINGS_ROWS_QUALITY, writes, { meter: key });
  if (dirtyFirst <= dirtyLast) markDirty(db, meterId, dirtyFirst, dirtyLast);
  return result;
}

/**
 * Readings of a meter overlapping [from, to) (UTC ms), ordered by start then duration
 * (so a day's daily reading comes before its half-hours).
 */
export function readingsBetween(db: Db, meterId: string, from: number, to: number): Reading[] {
  const rows = db
    .prepare(
      `SELECT start, duration_ms, value, quality FROM readings
       WHERE meter = ${KEY} AND start > ? AND start < ? AND start + duration_ms > ? ORDER BY start, duration_ms`,
    )
    .raw()
    .all(meterId, from - 25 * HOUR, to, from) as [number, number, number, string | null][];
  const out: Reading[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [start, durationMs, value, quality] = rows[i]!;
    out[i] = { start, durationMs, value, quality };
  }
  return longestFirst(out);
}

/**
 * Readings of a meter STARTING in [from, to) (UTC ms), ordered by start then duration (store
 * order, unlike {@link readingsBetween}), optionally one page of them (`limit` rows after
 * `offset`): what the API and the CSV export list.
 */
export function readingsStarting(db: Db, meterId: string, from: number, to: number, page?: { limit: number; offset: number }): Reading[] {
  const sql = `SELECT start, duration_ms, value, quality FROM readings WHERE meter = ${KEY} AND start >= ? AND start < ?
     ORDER BY start, duration_ms${page ? " LIMIT ? OFFSET ?" : ""}`;
  const args: unknown[] = page ? [meterId, from, to, page.limit, page.offset] : [meterId, from, to];
  return (cached(db, sql).raw().all(...args) as [number, number, number, string | null][]).map(([start, durationMs, value, quality]) => ({
    start,
    durationMs,
    value,
    quality,
  }));
}

/** How many readings of a meter start in [from, to) (UTC ms). */
export function countReadingsStarting(db: Db, meterId: string, from: number, to: number): number {
  return cached(db, `SELECT COUNT(*) FROM readings WHERE meter = ${KEY} AND start >= ? AND start < ?`).pluck().get(meterId, from, to) as number;
}

/** A reading without its quality flag: what rebuilding hours and days needs. */
export type Energy = Pick<Reading, "start" | "durationMs" | "value">;

/**
 * `readingsBetween` without the quality column: what the statistics writer rebuilds a whole
 * backfill from. Same rows, same order. The rows cross from SQLite as three JSON arrays (start,
 * duration, value) instead of one JS array per row: better-sqlite3's per-row cost is most of
 * reading 50,000 readings, `JSON.parse` of a number array allocates nothing per number, and
 * SQLite writes REALs with 17 significant digits (an exact round trip). The order is checked
 * here, not assumed from SQLite's aggregate.
 */
export function energyBetween(db: Db, meterId: string, from: number, to: number): Energy[] {
  const [starts, durations, values] = (
    cached(
      db,
      `SELECT json_group_array(start), json_group_array(duration_ms), json_group_array(value) FROM (
         SELECT start, duration_ms, value FROM readings
         WHERE meter = ${KEY} AND start > ? AND start < ? AND start + duration_ms > ? ORDER BY start, duration_ms)`,
    )
      .raw()
      .get(meterId, from - 25 * HOUR, to, from) as [string, string, string]
  ).map((json) => JSON.parse(json) as number[]) as [number[], number[], number[]];
  const out: Energy[] = new Array(starts.length);
  let ordered = true;
  for (let i = 0; i < starts.length; i++) {
    out[i] = { start: starts[i]!, durationMs: durations[i]!, value: values[i]! };
    if (i > 0 && (starts[i]! < starts[i - 1]! || (starts[i] === starts[i - 1] && durations[i]! < durations[i - 1]!))) ordered = false;
  }
  if (!ordered) out.sort((a, b) => a.start - b.start || a.durationMs - b.durationMs);
  return longestFirst(out);
}

/**
 * Readings in primary-key order (start, duration ascending: no sort in SQLite; readings last at
 * most a day, 25 h, so `start > from − 25 h` bounds the range scan), with the rare readings sharing
 * a start (a day's daily reading and its first half-hour) put longest first, in place.
 */
function longestFirst<T extends Energy>(out: T[]): T[] {
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.start !== out[i - 1]!.start) continue;
    let j = i - 1; // out[j..k] share one start, ascending durations: reverse the run
    let k = i;
    while (k + 1 < out.length && out[k + 1]!.start === out[j]!.start) k++;
    for (let x = j, y = k; x < y; x++, y--) [out[x], out[y]] = [out[y]!, out[x]!];
    i = k;
  }
  return out;
}

/** [first start, last end) of a meter's readings in UTC ms, or null when it has none. */
export function readingsExtent(db: Db, meterId: string): { first: number; last: number } | null {
  // MIN/MAX(start) are primary-key lookups; the last end is among readings starting within a day
  // (25 h) of the last start, so only those are scanned (not the whole history).
  // (Two statements: SQLite answers a lone MIN or MAX from the index, both at once by a scan.)
  const first = cached(db, `SELECT MIN(start) FROM readings WHERE meter = ${KEY}`).pluck().get(meterId) as number | null;
  const lastStart = cached(db, `SELECT MAX(start) FROM readings WHERE meter = ${KEY}`).pluck().get(meterId) as number | null;
  if (first === null || lastStart === null) return null;
  const last = cached(db, `SELECT MAX(start + duration_ms) FROM readings WHERE meter = ${KEY} AND start > ?`)
    .pluck()
    .get(meterId, lastStart - 25 * HOUR) as number;
  return { first, last };
}

/**
 * Deletes a meter's readings starting in [from, to) and marks their hours dirty (maintenance and
 * tests; the sync job refetches the days because their coverage is dropped too, by the caller
 * through `forgetCoverage`). Returns the number of readings removed.
 */
export function deleteReadings(db: Db, meterId: string, from: number, to: number): number {
  return db.transaction(() => {
    const span = db
      .prepare(`SELECT MIN(start) AS lo, MAX(start + duration_ms) AS hi FROM readings WHERE meter = ${KEY} AND start >= ? AND start < ?`)
      .get(meterId, from, to) as { lo: number | null; hi: number | null };
    if (span.lo !== null && span.hi !== null) {
      const first = Math.floor(span.lo / HOUR) * HOUR;
      const last = Math.max(first, Math.ceil(span.hi / HOUR) * HOUR - HOUR);
      markDirty(db, meterId, first, last);
    }
    return db.prepare(`DELETE FROM readings WHERE meter = ${KEY} AND start >= ? AND start < ?`).run(meterId, from, to)
      .changes;
  })();
}

/**
 * Widens the meter's dirty span to include the UTC hours [first, last] (hour starts, UTC ms).
 * One row per meter: the span may cover hours that are not dirty, which only makes the writer
 * rebuild and diff a little more (it sends only what differs from Home Assistant).
 */
function markDirty(db: Db, meterId: string, first: number, last: number): void {
  cached(
    db,
    `INSERT INTO dirty_spans (meter_id, first_hour, last_hour) VALUES (?, ?, ?)
     ON CONFLICT(meter_id) DO UPDATE SET first_hour = MIN(first_hour, excluded.first_hour),
       last_hour = MAX(last_hour, excluded.last_hour)`,
  ).run(meterId, first, last);
}

/**
 * Earliest and latest dirty hour (UTC ms) of a meter, or null when nothing is dirty. Every dirty
 * hour lies in [first, last]; after a partial `clearDirty` the span may also hold clean hours.
 */
export function dirtyRange(db: Db, meterId: string): { first: number; last: number } | null {
  const row = db.prepare(`SELECT first_hour AS first, last_hour AS last FROM dirty_spans WHERE meter_id = ?`).get(meterId) as
    | { first: number; last: number }
    | undefined;
  return row ? { first: row.first, last: row.last } : null;
}

/** Number of hours in the meter's dirty span (an upper bound of its dirty hours; 0 when clean). */
export function dirtyCount(db: Db, meterId: string): number {
  const r = dirtyRange(db, meterId);
  return r ? (r.last - r.first) / HOUR + 1 : 0;
}

/**
 * Clears a meter's dirty hours up to and including `lastHour` (UTC ms), after they were written:
 * the span then starts at the next hour, or is dropped when it ended by `lastHour`.
 */
export function clearDirty(db: Db, meterId: string, lastHour: number): void {
  const next = Math.floor(lastHour / HOUR) * HOUR + HOUR;
  db.transaction(() => {
    db.prepare(`DELETE FROM dirty_spans WHERE meter_id = ? AND last_hour < ?`).run(meterId, next);
    db.prepare(`UPDATE dirty_spans SET first_hour = ? WHERE meter_id = ? AND first_hour < ?`).run(next, meterId, next);
  })();
}

/**
 * The retention policy for one meter: deletes its readings that ended before `before` (UTC ms) and
 * that hold no dirty hour (an hour not yet written to Home Assistant is never pruned, so a sync
 * that failed to reach HA loses nothing). Returns the count. Prunes only the local store: Home
 * Assistant keeps every row it has, the coverage of the pruned days is kept (they are not fetched
 * again), and the mirror of written sums (`statistic_rows`) is kept so later rows continue the
 * same running total.
 */
export function pruneReadings(db: Db, meterId: string, before: number): number {
  const dirty = dirtyRange(db, meterId);
  const cutoff = dirty ? Math.min(before, dirty.first) : before;
  return db.prepare(`DELETE FROM readings WHERE meter = ${KEY} AND start + duration_ms <= ?`).run(meterId, cutoff).changes;
}
