import { DateTime } from "luxon";
import type { LocalDate } from "../domain/types.js";

/** UTC instant (ms) of local midnight starting `day` in `zone`. */
export function dayStart(day: LocalDate, zone: string): number {
  const dt = DateTime.fromISO(day, { zone });
  if (!dt.isValid) throw new Error(`invalid local date "${day}" in ${zone}: ${dt.invalidExplanation}`);
  return dt.startOf("day").toMillis();
}

/** [start, end) UTC ms of local day `day` in `zone`: 23, 24 or 25 hours long. */
export function dayBounds(day: LocalDate, zone: string): { start: number; end: number } {
  return { start: dayStart(day, zone), end: dayStart(addDays(day, 1), zone) };
}

/** The local date in `zone` containing the UTC instant `t` (ms). */
export function localDay(t: number, zone: string): LocalDate {
  return DateTime.fromMillis(t, { zone }).toISODate()!;
}

/** `day` plus `n` calendar days (n may be negative). Pure calendar arithmetic, zone-free. */
export function addDays(day: LocalDate, n: number): LocalDate {
  return DateTime.fromISO(day, { zone: "UTC" }).plus({ days: n }).toISODate()!;
}

/** Whole calendar days from `a` to `b` (b − a). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round(DateTime.fromISO(b, { zone: "UTC" }).diff(DateTime.fromISO(a, { zone: "UTC" }), "days").days);
}

/** Today's local date in `zone` at instant `now` (ms). */
export function today(zone: string, now: number): LocalDate {
  return localDay(now, zone);
}
