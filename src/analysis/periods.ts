/**
 * Local calendar periods (day, ISO week, month, year) as ranges of local dates, zone-free: a
 * period is [start, end) of `LocalDate`s; its UTC bounds come from `dayStart` in the meter's zone,
 * so a period holding a DST change is 1 hour shorter or longer, never shifted.
 */
import type { LocalDate } from "../domain/types.js";
import { addDays } from "./days.js";

/** The periods the statistics API groups by. */
export type Period = "day" | "week" | "month" | "year";

export const PERIODS: readonly Period[] = ["day", "week", "month", "year"];

function parts(day: LocalDate): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new Error(`invalid local date "${day}" (expected YYYY-MM-DD)`);
  return [+m[1]!, +m[2]!, +m[3]!];
}

function iso(y: number, m: number, d: number): LocalDate {
  return new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
}

/** ISO weekday of a local date: 1 = Monday … 7 = Sunday. */
export function weekday(day: LocalDate): number {
  const [y, m, d] = parts(day);
  const w = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return w === 0 ? 7 : w;
}

/** First local date of the period containing `day` (weeks start on Monday, ISO 8601). */
export function periodStart(day: LocalDate, period: Period): LocalDate {
  const [y, m] = parts(day);
  switch (period) {
    case "day":
      return day;
    case "week":
      return addDays(day, 1 - weekday(day));
    case "month":
      return iso(y, m, 1);
    case "year":
      return iso(y, 1, 1);
  }
}

/** First local date of the period after the one starting at `start`. */
export function nextPeriodStart(start: LocalDate, period: Period): LocalDate {
  return shiftPeriod(start, period, 1);
}

/** The start of the period `n` periods after (n < 0: before) the one starting at `start`. */
export function shiftPeriod(start: LocalDate, period: Period, n: number): LocalDate {
  const [y, m] = parts(start);
  switch (period) {
    case "day":
      return addDays(start, n);
    case "week":
      return addDays(start, 7 * n);
    case "month": {
      const months = y * 12 + (m - 1) + n;
      return iso(Math.floor(months / 12), (months % 12) + 1, 1);
    }
    case "year":
      return iso(y + n, 1, 1);
  }
}

/**
 * The same period one year earlier: the same day / month / year-1 for day, month, year; for a
 * week, the ISO week with the same number in the previous ISO year (week 53 → week 52), so a
 * Monday-to-Sunday week is compared with a Monday-to-Sunday week.
 */
export function samePeriodLastYear(start: LocalDate, period: Period): LocalDate {
  const [y, m, d] = parts(start);
  if (period === "week") {
    const { year, week } = isoWeek(start);
    const weeks = isoWeeksIn(year - 1);
    return isoWeekStart(year - 1, Math.min(week, weeks));
  }
  if (period === "day") {
    // 29 February → 28 February.
    const candidate = iso(y - 1, m, d);
    return candidate.slice(5, 7) === start.slice(5, 7) ? candidate : iso(y - 1, m, d - 1);
  }
  return period === "month" ? shiftPeriod(start, "month", -12) : shiftPeriod(start, "year", -1);
}

/** ISO 8601 week-numbering year and week of a local date. */
export function isoWeek(day: LocalDate): { year: number; week: number } {
  const thursday = addDays(day, 4 - weekday(day));
  const [y] = parts(thursday);
  const jan1 = iso(y, 1, 1);
  const ordinal = Math.round((Date.parse(thursday) - Date.parse(jan1)) / 86_400_000);
  return { year: y, week: Math.floor(ordinal / 7) + 1 };
}

function isoWeeksIn(year: number): number {
  return isoWeek(iso(year, 12, 28)).week;
}

/** Monday of ISO week `week` of ISO year `year`. */
export function isoWeekStart(year: number, week: number): LocalDate {
  const jan4 = iso(year, 1, 4);
  return addDays(addDays(jan4, 1 - weekday(jan4)), 7 * (week - 1));
}

/** Label of the period starting at `start`: `2025-01-05`, `2025-W02`, `2025-01`, `2025`. */
export function periodLabel(start: LocalDate, period: Period): string {
  switch (period) {
    case "day":
      return start;
    case "week": {
      const { year, week } = isoWeek(start);
      return `${year}-W${String(week).padStart(2, "0")}`;
    }
    case "month":
      return start.slice(0, 7);
    case "year":
      return start.slice(0, 4);
  }
}

/**
 * The whole periods covering the local dates [from, to): from the period containing `from` to the
 * one containing the day before `to`. Each is `{ start, end }` (end exclusive). Throws when
 * `to` ≤ `from`.
 */
export function periodsCovering(from: LocalDate, to: LocalDate, period: Period): { start: LocalDate; end: LocalDate }[] {
  if (to <= from) throw new Error(`empty range: ${from} … ${to}`);
  const out: { start: LocalDate; end: LocalDate }[] = [];
  for (let s = periodStart(from, period); s < to; ) {
    const e = nextPeriodStart(s, period);
    out.push({ start: s, end: e });
    s = e;
  }
  return out;
}
