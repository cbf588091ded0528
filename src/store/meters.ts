import type { Meter } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * Inserts or updates a meter (keyed by `meter.id`, the PRM for Linky) and creates its sync_state
 * row. Changing a meter's provider keeps its readings: they are facts about the meter.
 */
export function upsertMeter(db: Db, meter: Meter, now = Date.now()): void {
  db.prepare(
    `INSERT INTO meters (id, provider, kind, unit, timezone, name, created_at)
     VALUES (@id, @provider, @kind, @unit, @timezone, @name, @now)
     ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, kind = excluded.kind,
       unit = excluded.unit, timezone = excluded.timezone, name = excluded.name`,
  ).run({ ...meter, now });
  db.prepare(`INSERT OR IGNORE INTO sync_state (meter_id) VALUES (?)`).run(meter.id);
}

/** All meters, ordered by id. */
export function listMeters(db: Db): Meter[] {
  return db
    .prepare(`SELECT id, provider, kind, unit, timezone, name FROM meters ORDER BY id`)
    .all() as Meter[];
}
