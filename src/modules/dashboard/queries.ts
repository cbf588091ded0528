/**
 * Store → analysis reads behind the dashboard's JSON API: paginated readings, period statistics,
 * anomalies over the last N days with a threshold. Units: readings stay in the store unit (Wh,
 * m³, L) and say so; statistics and anomalies are in the display unit (kWh, m³, L).
 */
import { detectAnomalies } from "../../analysis/anomalies.js";
import { summariseDays, type DaySummary } from "../../analysis/day-totals.js";
import { addDays, dayStart, today as todayIn } from "../../analysis/days.js";
import { daysNeeded, periodStatistics, type PeriodStatistics } from "../../analysis/period-stats.js";
import type { Period } from "../../analysis/periods.js";
import type { LocalDate, Meter, Severity } from "../../domain/types.js";
import type { Db } from "../../store/db.js";
import { countReadingsStarting, energyBetween, readingsStarting } from "../../store/readings.js";
import { cachedDays } from "./day-cache.js";
import { displayUnit } from "./meter-lookup.js";

/** One reading as the API shows it. */
export interface ApiReading {
  /** Interval start, ISO 8601 UTC. */
  start: string;
  /** Interval end, ISO 8601 UTC. */
  end: string;
  duration_minutes: number;
  /** Energy over the interval in `unit` (the store unit: Wh, m³ or L). */
  value: number;
  quality: string | null;
}

/** A page of readings; pagination is over the (start, duration) primary key, so it is stable. */
export interface ReadingsPage {
  meter_id: string;
  unit: string;
  readings: ApiReading[];
  pagination: { page: number; per_page: number; total: number; total_pages: number };
}

/** Readings starting in [from, to) (UTC ms), page `page` (1-based) of `perPage` (≤ 1000). */
export function readingsPage(db: Db, meter: Meter, from: number, to: number, page: number, perPage: number): ReadingsPage {
  const total = countReadingsStarting(db, meter.id, from, to);
  const rows = readingsStarting(db, meter.id, from, to, { limit: perPage, offset: (page - 1) * perPage });
  return {
    meter_id: meter.id,
    unit: meter.unit,
    readings: rows.map((r) => ({
      start: new Date(r.start).toISOString(),
      end: new Date(r.start + r.durationMs).toISOString(),
      duration_minutes: r.durationMs / 60_000,
      value: r.value,
      quality: r.quality,
    })),
    pagination: { page, per_page: perPage, total, total_pages: Math.ceil(total / perPage) },
  };
}

/** Day summaries of local days [from, to) of a meter, keyed by day (memoised until the next write: day-cache.ts). Callers must not mutate the map. */
export function daySummaries(db: Db, meter: Meter, from: LocalDate, to: LocalDate, withHours = false): Map<LocalDate, DaySummary> {
  const zone = meter.timezone;
  return cachedDays(db, `${meter.id}|${zone}|${from}|${to}|${withHours}`, () => {
    const readings = energyBetween(db, meter.id, dayStart(from, zone), dayStart(to, zone));
    const out = new Map<LocalDate, DaySummary>();
    for (const d of summariseDays(readings, zone, from, to, withHours)) if (d.total !== null) out.set(d.day, d);
    return out;
  });
}

/** Statistics of the periods covering local dates [from, to) (analysis/period-stats.ts). */
export function meterStatistics(db: Db, meter: Meter, period: Period, from: LocalDate, to: LocalDate): PeriodStatistics & { meter_id: string } {
  const days = new Map<LocalDate, DaySummary>();
  for (const w of daysNeeded(from, to, period)) for (const [d, s] of daySummaries(db, meter, w.from, w.to, period === "day")) days.set(d, s);
  const { unit, factor } = displayUnit(meter);
  const zone = meter.timezone;
  return {
    meter_id: meter.id,
    ...periodStatistics(days, { from, to, period, unit, factor, zone, dayStartUtc: (d) => dayStart(d, zone) }),
  };
}

/** One anomaly as the API shows it (seed 001's shape, per local day). */
export interface ApiAnomaly {
  day: LocalDate;
  /** Start of the local day, ISO 8601 UTC. */
  timestamp: string;
  value: number;
  avg_7d: number;
  variance_percent: number;
  severity: Severity;
  message: string;
}

/** The anomalies response body. */
export interface AnomaliesResponse {
  meter_id: string;
  unit: string;
  anomalies: ApiAnomaly[];
  total_anomalies: number;
  analysis_period: string;
  /** Average complete-day consumption over the analysed days, or null. */
  avg_consumption: number | null;
  /** `threshold_percent` % of `avg_consumption`, or null. */
  threshold: number | null;
  threshold_percent: number;
}

/**
 * Anomalies of the last `days` local days before today (the 7-day moving-average rule of
 * analysis/anomalies.ts with `thresholdPercent`), newest first, recomputed from the store.
 */
export function meterAnomalies(db: Db, meter: Meter, days: number, thresholdPercent: number, now: number): AnomaliesResponse {
  const zone = meter.timezone;
  const to = todayIn(zone, now);
  const from = addDays(to, -days);
  const summaries = daySummaries(db, meter, addDays(from, -7), to);
  const totals = new Map<LocalDate, number | null>();
  for (const d of summaries.values()) totals.set(d.day, d.complete ? d.total : null);
  const { unit, factor } = displayUnit(meter);
  const found = detectAnomalies(meter.id, totals, from, to, { thresholdPercent }).reverse();
  const judged = [...summaries.values()].filter((d) => d.day >= from && d.complete && d.total !== null);
  const avg = judged.length ? (judged.reduce((a, d) => a + d.total!, 0) / judged.length) * factor : null;
  return {
    meter_id: meter.id,
    unit,
    anomalies: found.map((a) => ({
      day: a.day,
      timestamp: new Date(dayStart(a.day, zone)).toISOString(),
      value: a.value * factor,
      avg_7d: a.average7d * factor,
      variance_percent: Math.round(a.variancePercent * 10) / 10,
      severity: a.severity,
      message: `Consumption ${Math.round(a.variancePercent)}% above the 7-day moving average`,
    })),
    total_anomalies: found.length,
    analysis_period: `${from} to ${addDays(to, -1)}`,
    avg_consumption: avg,
    threshold: avg === null ? null : (avg * thresholdPercent) / 100,
    threshold_percent: thresholdPercent,
  };
}
