/**
 * Period statistics (seed 001's `GET …/statistics`, adapted to meters): per local calendar period
 * the total, the per-day (per-hour for `day`) min / max / average, which days are missing, and the
 * comparison of the latest period with the previous one and with the same period a year earlier.
 * Pure: takes day summaries (analysis/day-totals.ts), returns plain JSON-ready objects.
 *
 * Missing is missing, never zero: a period without any reading has `value: null` and is left out
 * of the summary; a period with missing days lists them and is `complete: false`. A comparison of
 * two complete periods compares totals; when either misses days it compares the average of the
 * complete days (so a missing week never looks like a 25 % drop), and says which basis it used.
 */
import type { LocalDate } from "../domain/types.js";
import type { DaySummary } from "./day-totals.js";
import { nextPeriodStart, periodLabel, periodsCovering, samePeriodLastYear, shiftPeriod, type Period } from "./periods.js";

/** One period of `data_points[]`. Energies in the display unit (kWh, m³, L). */
export interface PeriodPoint {
  /** Label: `2025-01-05`, `2025-W02`, `2025-01`, `2025`. */
  period: string;
  /** First local date, and the first local date after it. */
  start: LocalDate;
  end: LocalDate;
  /** UTC bounds of the period as ISO 8601 instants (23/25-hour days included). */
  start_utc: string;
  end_utc: string;
  /** Energy measured in the period, or null when it holds no reading at all. */
  value: number | null;
  /** Average / min / max per complete day (per hour with data for a `day` period), or null. */
  avg: number | null;
  min: number | null;
  max: number | null;
  /** Local days in the period, and how many of them are complete. */
  days: number;
  complete_days: number;
  /** Local days without a complete day of data (at most 400 listed). */
  missing_days: LocalDate[];
  complete: boolean;
}

/** How the latest period compares with a reference period. */
export interface ComparisonDetail {
  /** Signed percentage, e.g. 5.2 for +5.2 %, or null when there is nothing to compare. */
  percent: number | null;
  current_period: string;
  reference_period: string;
  /** `total` (both periods complete), `daily_average` / `hourly_average` (like for like), or null. */
  basis: "total" | "daily_average" | "hourly_average" | null;
  current_value: number | null;
  reference_value: number | null;
  /** Why `percent` is null, in one plain sentence. */
  reason: string | null;
}

/** The statistics response body (without `meter`). */
export interface PeriodStatistics {
  period: Period;
  unit: string;
  date_range: { start: LocalDate; end: LocalDate; start_utc: string; end_utc: string };
  /** Over the periods that hold data: min / max / avg of their values, their total and count. */
  statistics: { min: number | null; max: number | null; avg: number | null; total: number; count: number };
  data_points: PeriodPoint[];
  comparison: {
    vs_previous_period: string | null;
    vs_same_period_last_year: string | null;
    previous_period: ComparisonDetail;
    same_period_last_year: ComparisonDetail;
  };
}

interface Agg {
  point: PeriodPoint;
  /** Sum and count of the like-for-like units (complete days, or hours of a day). */
  unitSum: number;
  units: number;
}

function aggregate(days: ReadonlyMap<LocalDate, DaySummary>, start: LocalDate, end: LocalDate, period: Period, factor: number, bounds: (d: LocalDate) => number): Agg {
  let value: number | null = null;
  let completeDays = 0;
  let nDays = 0;
  const missing: LocalDate[] = [];
  let unitSum = 0;
  let units = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let d = start; d < end; d = nextPeriodStart(d, "day")) {
    nDays++;
    const s = days.get(d);
    if (s?.total != null) value = (value ?? 0) + s.total;
    if (s?.complete) completeDays++;
    else if (missing.length < 400) missing.push(d);
    if (period === "day") {
      for (const wh of s?.hours?.values() ?? []) {
        unitSum += wh;
        units++;
        if (wh < min) min = wh;
        if (wh > max) max = wh;
      }
      if (s?.complete && !s.hours && s.total !== null) {
        // A daily-only day: no hour shape; its average hour is what can be said.
        const h = s.total / ((s.end - s.start) / 3_600_000);
        unitSum += s.total;
        units += (s.end - s.start) / 3_600_000;
        min = Math.min(min, h);
        max = Math.max(max, h);
      }
    } else if (s?.complete && s.total !== null) {
      unitSum += s.total;
      units++;
      if (s.total < min) min = s.total;
      if (s.total > max) max = s.total;
    }
  }
  const point: PeriodPoint = {
    period: periodLabel(start, period),
    start,
    end,
    start_utc: new Date(bounds(start)).toISOString(),
    end_utc: new Date(bounds(end)).toISOString(),
    value: value === null ? null : value * factor,
    avg: units > 0 ? (unitSum / units) * factor : null,
    min: units > 0 ? min * factor : null,
    max: units > 0 ? max * factor : null,
    days: nDays,
    complete_days: completeDays,
    missing_days: missing,
    complete: completeDays === nDays,
  };
  return { point, unitSum, units };
}

function compare(cur: Agg, ref: Agg, period: Period, factor: number): ComparisonDetail {
  const base = { current_period: cur.point.period, reference_period: ref.point.period };
  const none = (reason: string): ComparisonDetail => ({ ...base, percent: null, basis: null, current_value: null, reference_value: null, reason });
  if (cur.point.complete && ref.point.complete && cur.point.value !== null && ref.point.value !== null) {
    if (ref.point.value === 0) return none(`${ref.point.period} has no consumption to compare with`);
    return {
      ...base,
      percent: round1((cur.point.value / ref.point.value - 1) * 100),
      basis: "total",
      current_value: cur.point.value,
      reference_value: ref.point.value,
      reason: null,
    };
  }
  if (cur.units === 0) return none(`${cur.point.period} has no complete day yet`);
  if (ref.units === 0) return none(`${ref.point.period} has no complete day of data`);
  const c = (cur.unitSum / cur.units) * factor;
  const r = (ref.unitSum / ref.units) * factor;
  if (r === 0) return none(`${ref.point.period} has no consumption to compare with`);
  return {
    ...base,
    percent: round1((c / r - 1) * 100),
    basis: period === "day" ? "hourly_average" : "daily_average",
    current_value: c,
    reference_value: r,
    reason: null,
  };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** "+5.2%", "-3.1%", "0.0%", or null. */
export function percentLabel(p: number | null): string | null {
  if (p === null) return null;
  return `${p > 0 ? "+" : ""}${p.toFixed(1)}%`;
}

/**
 * The ranges of local dates [from, to) whose days {@link periodStatistics} needs for the periods
 * covering [from, to): those periods, and the previous and last-year periods of the latest one,
 * merged where they overlap or touch (a one-month query reads three months, not thirteen).
 */
export function daysNeeded(from: LocalDate, to: LocalDate, period: Period): { from: LocalDate; to: LocalDate }[] {
  const periods = periodsCovering(from, to, period);
  const last = periods[periods.length - 1]!;
  const ly = samePeriodLastYear(last.start, period);
  const windows = [
    { from: periods[0]!.start, to: last.end },
    { from: shiftPeriod(last.start, period, -1), to: last.start },
    { from: ly, to: nextPeriodStart(ly, period) },
  ].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const out: { from: LocalDate; to: LocalDate }[] = [];
  for (const w of windows) {
    const prev = out[out.length - 1];
    if (prev && w.from <= prev.to) {
      if (w.to > prev.to) prev.to = w.to;
    } else out.push({ ...w });
  }
  return out;
}

/**
 * Statistics of the periods covering local dates [from, to) (widened to whole periods).
 * `days` must hold every day of the {@link daysNeeded} ranges that has data (absent = missing).
 * `factor` converts the store unit to `unit` (Wh → kWh: 0.001). `dayStartUtc` gives the UTC ms of
 * a local date's midnight in the meter's zone.
 */
export function periodStatistics(
  days: ReadonlyMap<LocalDate, DaySummary>,
  opts: { from: LocalDate; to: LocalDate; period: Period; unit: string; factor: number; zone: string; dayStartUtc: (d: LocalDate) => number },
): PeriodStatistics {
  const { period, factor } = opts;
  const agg = (s: LocalDate, e: LocalDate) => aggregate(days, s, e, period, factor, opts.dayStartUtc);
  const aggs = periodsCovering(opts.from, opts.to, period).map((p) => agg(p.start, p.end));
  const points = aggs.map((a) => a.point);
  const withData = points.filter((p) => p.value !== null).map((p) => p.value!);
  const total = withData.reduce((a, b) => a + b, 0);
  const last = aggs[aggs.length - 1]!;
  const prevStart = shiftPeriod(last.point.start, period, -1);
  const lyStart = samePeriodLastYear(last.point.start, period);
  const previous = compare(last, agg(prevStart, last.point.start), period, factor);
  const lastYear = compare(last, agg(lyStart, nextPeriodStart(lyStart, period)), period, factor);
  const first = points[0]!;
  return {
    period,
    unit: opts.unit,
    date_range: { start: first.start, end: last.point.end, start_utc: first.start_utc, end_utc: last.point.end_utc },
    statistics: {
      min: withData.length ? Math.min(...withData) : null,
      max: withData.length ? Math.max(...withData) : null,
      avg: withData.length ? total / withData.length : null,
      total,
      count: withData.length,
    },
    data_points: points,
    comparison: {
      vs_previous_period: percentLabel(previous.percent),
      vs_same_period_last_year: percentLabel(lastYear.percent),
      previous_period: previous,
      same_period_last_year: lastYear,
    },
  };
}
