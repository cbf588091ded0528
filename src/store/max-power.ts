import type { DailyMaxPower, LocalDate } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * Upserts daily peak powers of a meter (VA, instant of the peak in UTC ms), keyed by local day:
 * a later value for the same day replaces the earlier one. Returns how many rows were new or changed.
 */
export function upsertMaxPower(db: Db, meterId: string, points: readonly DailyMaxPower[], now = Date.now()): number {
  const stmt = db.prepare(
    `INSERT INTO max_power (meter_id, day, value_va, peak_at, fetched_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT(meter_id, day) DO UPDATE SET value_va = excluded.value_va, peak_at = excluded.peak_at,
       fetched_at = excluded.fetched_at
     WHERE max_power.value_va IS NOT excluded.value_va OR max_power.peak_at IS NOT excluded.peak_at`,
  );
  let changed = 0;
  db.transaction(() => {
    for (const p of points) changed += stmt.run(meterId, p.day, p.valueVa, p.at, now).changes;
  })();
  return changed;
}

/** The days in [from, to) (local ISO dates) that have a stored peak power. */
export function maxPowerDays(db: Db, meterId: string, from: LocalDate, to: LocalDate): Set<LocalDate> {
  const rows = db
    .prepare(`SELECT day FROM max_power WHERE meter_id = ? AND day >= ? AND day < ?`)
    .all(meterId, from, to) as { day: string }[];
  return new Set(rows.map((r) => r.day));
}

/** The most recent stored day's peak power of a meter, or null. */
export function latestMaxPower(db: Db, meterId: string): DailyMaxPower | null {
  const row = db
    .prepare(`SELECT day, value_va AS valueVa, peak_at AS at FROM max_power WHERE meter_id = ? ORDER BY day DESC LIMIT 1`)
    .get(meterId) as DailyMaxPower | undefined;
  return row ?? null;
}
