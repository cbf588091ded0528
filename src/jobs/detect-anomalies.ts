import { addDays, dayStart, today as todayIn } from "../analysis/days.js";
import { detectAnomalies } from "../analysis/anomalies.js";
import { rebuildDays, type DayEnergy } from "../analysis/hourly.js";
import type { Anomaly, LocalDate, Meter } from "../domain/types.js";
import { listAnomalies, markNotified, replaceAnomaliesFrom } from "../store/anomalies.js";
import type { Db } from "../store/db.js";
import { readingsBetween } from "../store/readings.js";

/**
 * Re-judges a meter's days from `fromDay` to `toDay` (exclusive) with the 7-day moving-average
 * rule and stores the result (store → analysis → store). The 7 days before `fromDay` are rebuilt
 * from the store for the averages. Returns the anomalies not yet notified whose day is within the
 * last `recentDays` (default 7) — the ones worth an event; older new ones are marked notified
 * silently so a history backfill does not flood the event bus.
 */
export function updateAnomalies(
  db: Db,
  meter: Meter,
  fromDay: LocalDate,
  toDay: LocalDate,
  opts: { thresholdPercent: number; now: number; recentDays?: number; days?: readonly DayEnergy[] },
): Anomaly[] {
  const zone = meter.timezone;
  const before = rebuildDays(
    readingsBetween(db, meter.id, dayStart(addDays(fromDay, -7), zone), dayStart(fromDay, zone)),
    zone,
    addDays(fromDay, -7),
    fromDay,
  );
  const judged =
    opts.days ?? rebuildDays(readingsBetween(db, meter.id, dayStart(fromDay, zone), dayStart(toDay, zone)), zone, fromDay, toDay);
  const totals = new Map<LocalDate, number | null>();
  for (const d of [...before, ...judged]) totals.set(d.day, d.total);
  const found = detectAnomalies(meter.id, totals, fromDay, toDay, { thresholdPercent: opts.thresholdPercent });
  replaceAnomaliesFrom(db, meter.id, fromDay, found, opts.now);
  const recentFrom = addDays(todayIn(zone, opts.now), -(opts.recentDays ?? 7));
  const fresh = listAnomalies(db, meter.id).filter((a) => a.notifiedAt === null);
  const stale = fresh.filter((a) => a.day < recentFrom).map((a) => a.day);
  if (stale.length > 0) markNotified(db, meter.id, stale, opts.now);
  return fresh.filter((a) => a.day >= recentFrom);
}

/** The latest complete local day of a meter within the last `lookbackDays` (default 14), or null. */
export function latestCompleteDay(db: Db, meter: Meter, now: number, lookbackDays = 14): { day: LocalDate; totalWh: number } | null {
  const zone = meter.timezone;
  const end = todayIn(zone, now);
  const start = addDays(end, -lookbackDays);
  const days = rebuildDays(readingsBetween(db, meter.id, dayStart(start, zone), dayStart(end, zone)), zone, start, end);
  for (let i = days.length - 1; i >= 0; i--) {
    const d = days[i]!;
    if (d.total !== null) return { day: d.day, totalWh: d.total };
  }
  return null;
}
