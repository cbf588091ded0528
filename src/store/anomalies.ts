import type { Anomaly, LocalDate, Severity } from "../domain/types.js";
import type { Db } from "./db.js";

/** A stored anomaly with its bookkeeping. */
export interface StoredAnomaly extends Anomaly {
  /** First local day of the 7-day window the average was taken over. */
  windowStart: LocalDate;
  detectedAt: number;
  notifiedAt: number | null;
}

/**
 * Replaces a meter's anomalies for days ≥ `fromDay` with `anomalies` (recomputed), keeping the
 * original `detected_at`/`notified_at` of days that stay anomalous so no event fires twice.
 */
export function replaceAnomaliesFrom(
  db: Db,
  meterId: string,
  fromDay: LocalDate,
  anomalies: readonly (Anomaly & { windowStart: LocalDate })[],
  now = Date.now(),
): void {
  const keep = new Set(anomalies.map((a) => a.day));
  const existing = db.prepare(`SELECT day FROM anomalies WHERE meter_id = ? AND day >= ?`).all(meterId, fromDay) as {
    day: string;
  }[];
  const del = db.prepare(`DELETE FROM anomalies WHERE meter_id = ? AND day = ?`);
  const upsert = db.prepare(
    `INSERT INTO anomalies (meter_id, day, window_start, value, average_7d, variance_percent, severity, detected_at)
     VALUES (@meterId, @day, @windowStart, @value, @average7d, @variancePercent, @severity, @now)
     ON CONFLICT(meter_id, day) DO UPDATE SET window_start = excluded.window_start, value = excluded.value,
       average_7d = excluded.average_7d, variance_percent = excluded.variance_percent, severity = excluded.severity`,
  );
  db.transaction(() => {
    for (const e of existing) if (!keep.has(e.day)) del.run(meterId, e.day);
    for (const a of anomalies) upsert.run({ ...a, meterId, now });
  })();
}

/** Anomalies of a meter, newest day first. */
export function listAnomalies(db: Db, meterId: string, limit = 1000): StoredAnomaly[] {
  const rows = db
    .prepare(
      `SELECT meter_id, day, window_start, value, average_7d, variance_percent, severity, detected_at, notified_at
       FROM anomalies WHERE meter_id = ? ORDER BY day DESC LIMIT ?`,
    )
    .all(meterId, limit) as {
    meter_id: string;
    day: string;
    window_start: string;
    value: number;
    average_7d: number;
    variance_percent: number;
    severity: Severity;
    detected_at: number;
    notified_at: number | null;
  }[];
  return rows.map((r) => ({
    meterId: r.meter_id,
    day: r.day,
    windowStart: r.window_start,
    value: r.value,
    average7d: r.average_7d,
    variancePercent: r.variance_percent,
    severity: r.severity,
    detectedAt: r.detected_at,
    notifiedAt: r.notified_at,
  }));
}

/** Marks anomalies as notified (an `energy_bridge_anomaly` event was fired, or deliberately skipped). */
export function markNotified(db: Db, meterId: string, days: readonly LocalDate[], at = Date.now()): void {
  const stmt = db.prepare(`UPDATE anomalies SET notified_at = ? WHERE meter_id = ? AND day = ?`);
  db.transaction(() => {
    for (const d of days) stmt.run(at, meterId, d);
  })();
}
