import type { LocalDate, Reading } from "../domain/types.js";
import { addDays, dayBounds, localDay } from "./days.js";

const HOUR = 3_600_000;

/** What rebuilding needs of a reading (its quality flag plays no part). */
type Energy = Pick<Reading, "start" | "durationMs" | "value">;

/** One local day rebuilt from its readings. */
export interface DayEnergy {
  day: LocalDate;
  /** UTC ms bounds of the local day (23/24/25 h). */
  start: number;
  end: number;
  /**
   * Day total in the meter's unit when the day is complete (a daily reading, or sub-daily
   * readings covering the whole day), else null: a partial day is not a day total.
   */
  total: number | null;
  /** Energy per UTC hour start (ms) for the hours we have data for; absent hours are unknown. */
  hours: Map<number, number>;
  /** How the hours were obtained. */
  source: "load_curve" | "daily" | "daily+load_curve" | "partial_load_curve";
}

/**
 * Rebuilds local days [fromDay, toDay) in `zone` from readings (any mix of a daily reading per day
 * and sub-daily load-curve readings, values in the meter's unit, e.g. Wh).
 *
 * Per day:
 * - load curve only: each hour is the sum of the readings overlapping it (split by overlap);
 *   the total is known only when the curve covers the whole day.
 * - daily only: the day's value is spread evenly over the day's hours (23/24/25).
 * - both: the daily value is the day total (Enedis daily = meter index difference, what the bill
 *   uses); the curve gives the shape. A complete curve is scaled to the daily total; a partial
 *   curve keeps its measured hours and the remainder is spread over the uncovered time (scaled
 *   down instead if the curve already exceeds the daily value).
 * So replacing a day's daily value by its hourly curve never changes the day's total.
 * Hours are UTC hours; for zones with whole-hour offsets (Europe/Paris, Europe/Brussels) these are
 * also local hours.
 */
export function rebuildDays(readings: readonly Energy[], zone: string, fromDay: LocalDate, toDay: LocalDate): DayEnergy[] {
  const out: DayEnergy[] = [];
  let i = 0;
  const order = (a: Energy, b: Energy) => a.start - b.start || b.durationMs - a.durationMs;
  const sorted = readings.every((r, k) => k === 0 || order(readings[k - 1]!, r) <= 0) ? readings : [...readings].sort(order);
  for (let day = fromDay; day < toDay; day = addDays(day, 1)) {
    const { start, end } = dayBounds(day, zone);
    while (i < sorted.length && sorted[i]!.start + sorted[i]!.durationMs <= start) i++;
    let daily: Energy | undefined;
    const curve: Energy[] = [];
    for (let j = i; j < sorted.length && sorted[j]!.start < end; j++) {
      const r = sorted[j]!;
      if (r.start === start && r.durationMs === end - start) daily = r;
      else if (r.durationMs < end - start && r.start >= start && r.start + r.durationMs <= end) curve.push(r);
    }
    out.push(buildDay(day, start, end, daily, curve));
  }
  return out;
}

function buildDay(day: LocalDate, start: number, end: number, daily: Energy | undefined, curve: Energy[]): DayEnergy {
  const hours = new Map<number, number>();
  const add = (h: number, v: number) => hours.set(h, (hours.get(h) ?? 0) + v);
  let covered = 0;
  let coveredMs = 0;
  for (const r of curve) {
    covered += r.value;
    coveredMs += r.durationMs;
  }
  const complete = coveredMs >= end - start;
  const spreadOver = (value: number, spans: [number, number][]) => {
    const total = spans.reduce((s, [a, b]) => s + (b - a), 0);
    if (total <= 0 || value === 0) {
      for (const [a, b] of spans) for (let h = Math.floor(a / HOUR) * HOUR; h < b; h += HOUR) add(h, 0);
      return;
    }
    for (const [a, b] of spans) splitIntoHours(a, b, value * ((b - a) / total), add);
  };
  const addCurve = (scale: number) => {
    for (const r of curve) {
      const h = Math.floor(r.start / HOUR) * HOUR;
      // Most readings (half-hours) lie inside one UTC hour: add them directly.
      if (r.start + r.durationMs <= h + HOUR) add(h, r.value * scale);
      else splitIntoHours(r.start, r.start + r.durationMs, r.value * scale, add);
    }
  };

  if (!daily) {
    addCurve(1);
    return { day, start, end, total: complete ? covered : null, hours, source: complete ? "load_curve" : "partial_load_curve" };
  }
  if (curve.length === 0) {
    spreadOver(daily.value, [[start, end]]);
    return { day, start, end, total: daily.value, hours, source: "daily" };
  }
  if (complete || covered >= daily.value) {
    if (covered > 0) addCurve(daily.value / covered);
    else spreadOver(daily.value, [[start, end]]);
    if (!complete) spreadOver(0, uncovered(start, end, curve));
  } else {
    addCurve(1);
    spreadOver(daily.value - covered, uncovered(start, end, curve));
  }
  return { day, start, end, total: daily.value, hours, source: "daily+load_curve" };
}

/** Sub-spans of [start, end) not covered by any reading. */
function uncovered(start: number, end: number, curve: readonly Energy[]): [number, number][] {
  const spans: [number, number][] = [];
  let t = start;
  for (const r of [...curve].sort((a, b) => a.start - b.start)) {
    if (r.start > t) spans.push([t, r.start]);
    t = Math.max(t, r.start + r.durationMs);
  }
  if (t < end) spans.push([t, end]);
  return spans;
}

/** Splits `value` spread uniformly over [a, b) into the UTC hours it overlaps. */
function splitIntoHours(a: number, b: number, value: number, add: (hour: number, v: number) => void): void {
  const firstHour = Math.floor(a / HOUR) * HOUR;
  if (b <= firstHour + HOUR) {
    add(firstHour, value);
    return;
  }
  for (let h = firstHour; h < b; h += HOUR) {
    const overlap = Math.min(b, h + HOUR) - Math.max(a, h);
    if (overlap > 0) add(h, (value * overlap) / (b - a));
  }
}

/** Local day (in `zone`) containing the UTC hour start `hour`. */
export function dayOfHour(hour: number, zone: string): LocalDate {
  return localDay(hour, zone);
}
