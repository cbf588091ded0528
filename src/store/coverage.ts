import type { LocalDate, Resolution } from "../domain/types.js";
import { insertRows, type RowsInsert } from "./bulk.js";
import { transactionOf, type Db } from "./db.js";

/** What the store knows about one fetched local day. */
export interface DayCoverage {
  day: LocalDate;
  /** True when the provider delivered the whole day (a daily value, or a full load curve). */
  complete: boolean;
  fetchedAt: number;
}

/** Records that `days` were fetched at `resolution`, each with its completeness. */
export function recordCoverage(
  db: Db,
  meterId: string,
  resolution: Resolution,
  days: readonly { day: LocalDate; complete: boolean }[],
  now = Date.now(),
): void {
  if (days.length === 0) return;
  const values: unknown[] = [];
  for (const d of days) values.push(d.day, d.complete ? 1 : 0);
  // Multi-row upserts, applied row by row: a day listed twice keeps its last entry, as before.
  transactionOf(db, insertCoverage)(db, values, { meter: meterId, resolution, now });
}

const COVERAGE_ROWS: RowsInsert = {
  head: "INSERT INTO day_coverage (meter_id, resolution, day, complete, fetched_at)",
  row: "(@meter, @resolution, ?, ?, @now)",
  width: 2,
  tail: "ON CONFLICT(meter_id, resolution, day) DO UPDATE SET complete = excluded.complete, fetched_at = excluded.fetched_at",
};

function insertCoverage(db: Db, values: readonly unknown[], named: Record<string, unknown>): void {
  insertRows(db, COVERAGE_ROWS, values, named);
}

/** Coverage of a meter at `resolution` for days in [from, to) (ISO dates compare as strings). */
export function coverageBetween(
  db: Db,
  meterId: string,
  resolution: Resolution,
  from: LocalDate,
  to: LocalDate,
): Map<LocalDate, DayCoverage> {
  const rows = db
    .prepare(
      `SELECT day, complete, fetched_at AS fetchedAt FROM day_coverage
       WHERE meter_id = ? AND resolution = ? AND day >= ? AND day < ?`,
    )
    .all(meterId, resolution, from, to) as { day: string; complete: number; fetchedAt: number }[];
  return new Map(rows.map((r) => [r.day, { day: r.day, complete: r.complete === 1, fetchedAt: r.fetchedAt }]));
}

/** Forgets coverage of days in [from, to) at every resolution, so the sync job fetches them again. */
export function forgetCoverage(db: Db, meterId: string, from: LocalDate, to: LocalDate): void {
  db.prepare(`DELETE FROM day_coverage WHERE meter_id = ? AND day >= ? AND day < ?`).run(meterId, from, to);
}
