import type { Flow, Meter } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * Inserts or updates a meter (keyed by `meter.id`: the PRM for a Linky consumption series,
 * `<prm>_production` for its production series) and creates its sync_state row and its key in
 * `readings` (`meter_keys`). Changing a meter's provider keeps its readings: they are facts
 * about the meter.
 */
export function upsertMeter(db: Db, meter: Meter, now = Date.now()): void {
  db.prepare(
    `INSERT INTO meters (id, provider, kind, unit, timezone, name, usage_point, flow, created_at)
     VALUES (@id, @provider, @kind, @unit, @timezone, @name, @usagePoint, @flow, @now)
     ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, kind = excluded.kind,
       unit = excluded.unit, timezone = excluded.timezone, name = excluded.name,
       usage_point = excluded.usage_point, flow = excluded.flow`,
  ).run({
    id: meter.id,
    provider: meter.provider,
    kind: meter.kind,
    unit: meter.unit,
    timezone: meter.timezone,
    name: meter.name,
    usagePoint: meter.usagePoint ?? null,
    flow: meter.flow ?? "consumption",
    now,
  });
  db.prepare(`INSERT OR IGNORE INTO sync_state (meter_id) VALUES (?)`).run(meter.id);
  db.prepare(`INSERT OR IGNORE INTO meter_keys (meter_id) VALUES (?)`).run(meter.id);
}

/** All meters, ordered by id; `usagePoint` and a `consumption` flow are left out when not set. */
export function listMeters(db: Db): Meter[] {
  const rows = db
    .prepare(`SELECT id, provider, kind, unit, timezone, name, usage_point AS usagePoint, flow FROM meters ORDER BY id`)
    .all() as (Omit<Meter, "usagePoint" | "flow"> & { usagePoint: string | null; flow: Flow })[];
  return rows.map(({ usagePoint, flow, ...m }) => ({
    ...m,
    ...(usagePoint !== null ? { usagePoint } : {}),
    ...(flow !== "consumption" ? { flow } : {}),
  }));
}
