/**
 * CSV export of readings and period statistics: UTF-8 (with a BOM so spreadsheet programs read
 * accents and `m³` right), comma-separated, `\r\n` line ends (RFC 4180), ISO 8601 UTC interval
 * start, the local day in the meter's zone, and the unit in the value column's header.
 */
import { localDay } from "../analysis/days.js";
import type { PeriodStatistics } from "../analysis/period-stats.js";
import type { Meter } from "../domain/types.js";
import type { Db } from "../store/db.js";
import { readingsStarting } from "../store/readings.js";

const BOM = "\uFEFF";

function cell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function line(cells: (string | number | null)[]): string {
  return cells.map(cell).join(",") + "\r\n";
}

/**
 * Readings of `meter` starting in [from, to) (UTC ms) as CSV:
 * `start_utc,end_utc,local_day,duration_minutes,value_<unit>,quality`. Values in the store unit.
 */
export function readingsCsv(db: Db, meter: Meter, from: number, to: number): string {
  let out = BOM + line(["start_utc", "end_utc", `local_day_${meter.timezone}`, "duration_minutes", `value_${meter.unit}`, "quality"]);
  for (const r of readingsStarting(db, meter.id, from, to)) {
    out += line([new Date(r.start).toISOString(), new Date(r.start + r.durationMs).toISOString(), localDay(r.start, meter.timezone), r.durationMs / 60_000, r.value, r.quality]);
  }
  return out;
}

/**
 * Period statistics as CSV, one row per period:
 * `period,start_utc,end_utc,local_start,local_end,total_<unit>,avg_<unit>,min_<unit>,max_<unit>,days,complete_days,missing_days`.
 * A period without data has empty value cells (missing, never 0).
 */
export function statisticsCsv(stats: PeriodStatistics, meter: Meter): string {
  const u = stats.unit;
  let out =
    BOM +
    line(["period", "start_utc", "end_utc", `local_start_${meter.timezone}`, `local_end_${meter.timezone}`, `total_${u}`, `avg_${u}`, `min_${u}`, `max_${u}`, "days", "complete_days", "missing_days"]);
  for (const p of stats.data_points) {
    out += line([p.period, p.start_utc, p.end_utc, p.start, p.end, p.value, p.avg, p.min, p.max, p.days, p.complete_days, p.missing_days.join(" ")]);
  }
  return out;
}
