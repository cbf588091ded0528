import { DateTime } from "luxon";
import type { LocalDate } from "../domain/types.js";

const MIDNIGHTS = new Map<string, number>();

/** UTC instant (ms) of local midnight starting `day` in `zone` (memoised: luxon asks Intl, which is slow). */
export function dayStart(day: LocalDate, zone: string): number {
  const key = `${zone}|${day}`;
  const cached = MIDNIGHTS.get(key);
  if (cached !== undefined) return cached;
  const dt = DateTime.fromISO(day, { zone });
  if (!dt.isValid) throw new Error(`invalid local date "${day}" in ${zone}: ${dt.invalidExplanation}`);
  const t = dt.startOf("day").toMillis();
  if (MIDNIGHTS.size > 50_000) MIDNIGHTS.clear();
  MIDNIGHTS.set(key, t);
  return t;
}

/** [start, end) UTC ms of local day `day` in `zone`: 23, 24 or 25 hours long. */
export function dayBounds(day: LocalDate, zone: string): { start: number; end: number } {
  return { start: dayStart(day, zone), end: dayStart(addDays(day, 1), zone) };
}

/** The local date in `zone` containing the UTC instant `t` (ms). */
export function localDay(t: number, zone: string): LocalDate {
  return DateTime.fromMillis(t, { zone }).toISODate()!;
}

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function calendarMs(day: LocalDate): number {
  const m = ISO_DATE.exec(day);
  if (!m) throw new Error(`invalid local date "${day}" (expected YYYY-MM-DD)`);
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
}

/** `day` plus `n` calendar days (n may be negative). Pure calendar arithmetic, zone-free. */
export function addDays(day: LocalDate, n: number): LocalDate {
  return new Date(calendarMs(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whole calendar days from `a` to `b` (b − a). */
export function daysBetween(a: LocalDate, b: LocalDate): number {
  return Math.round((calendarMs(b) - calendarMs(a)) / DAY_MS);
}

/** Today's local date in `zone` at instant `now` (ms). */
export function today(zone: string, now: number): LocalDate {
  return localDay(now, zone);
}
