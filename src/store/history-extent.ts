import type { LocalDate } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * First and last local day a meter's history holds completely, at any resolution (from the day
 * coverage, which outlives the retention pruning of raw readings: what Home Assistant holds).
 * Nulls when nothing is held yet.
 */
export function historyExtent(db: Db, meterId: string): { firstDay: LocalDate | null; lastDay: LocalDate | null } {
  const row = db
    .prepare(`SELECT MIN(day) AS firstDay, MAX(day) AS lastDay FROM day_coverage WHERE meter_id = ? AND complete = 1`)
    .get(meterId) as { firstDay: string | null; lastDay: string | null };
  return { firstDay: row.firstDay, lastDay: row.lastDay };
}
