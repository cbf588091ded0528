/**
 * Local-day totals for the period statistics: a lighter pass than `rebuildDays` (no hour maps unless
 * asked), same rule for what a day is: a daily reading covering the local day is its total; else
 * the sub-daily readings inside the day are summed, and the day is complete only when they cover
 * all of it (23, 24 or 25 h). A day without any reading is missing (`total` null), never zero.
 */
import type { LocalDate, Reading } from "../domain/types.js";
import { addDays, dayStart } from "./days.js";

type Energy = Pick<Reading, "start" | "durationMs" | "value">;

const HOUR = 3_600_000;

/** One local day as the statistics see it. Energies in the meter's unit (Wh for electricity). */
export interface DaySummary {
  day: LocalDate;
  /** UTC ms bounds of the local day. */
  start: number;
  end: number;
  /** Energy measured in the day (partial days included), or null when the day has no reading. */
  total: number | null;
  /** True when a daily reading or sub-daily readings cover the whole day. */
  complete: boolean;
  /** Energy per UTC hour start (only when asked; a daily-only day has none). */
  hours?: Map<number, number>;
}

/**
 * Summaries of local days [fromDay, toDay) in `zone` from `readings` (ordered by start, as the
 * store returns them). `withHours` also fills `hours` (for per-hour min/max of a day period).
 */
export function summariseDays(
  readings: readonly Energy[],
  zone: string,
  fromDay: LocalDate,
  toDay: LocalDate,
  withHours = false,
): DaySummary[] {
  const out: DaySummary[] = [];
  let i = 0;
  let start = dayStart(fromDay, zone);
  for (let day = fromDay; day < toDay; ) {
    const next = addDays(day, 1);
    const end = dayStart(next, zone);
    while (i < readings.length && readings[i]!.start < start) i++;
    let daily: number | null = null;
    let sum = 0;
    let covered = 0;
    let any = false;
    const hours = withHours ? new Map<number, number>() : undefined;
    for (; i < readings.length && readings[i]!.start < end; i++) {
      const r = readings[i]!;
      if (r.start === start && r.durationMs === end - start) {
        daily = r.value;
        continue;
      }
      if (r.start + r.durationMs > end) continue; // crosses midnight: not part of this day's curve
      any = true;
      sum += r.value;
      covered += r.durationMs;
      if (hours) {
        const h = Math.floor(r.start / HOUR) * HOUR;
        hours.set(h, (hours.get(h) ?? 0) + r.value);
      }
    }
    const summary: DaySummary =
      daily !== null
        ? { day, start, end, total: daily, complete: true }
        : { day, start, end, total: any ? sum : null, complete: any && covered >= end - start };
    if (hours && daily === null && any) summary.hours = hours;
    out.push(summary);
    day = next;
    start = end;
  }
  return out;
}
