import { DateTime } from "luxon";
import type { LocalDate } from "../domain/types.js";
import { WALL_CLOCK_TEXT, wallClockFormat } from "../domain/wall-clock.js";

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MIDNIGHTS = new Map<string, number>();
const wallClock = wallClockFormat;
const WALL = WALL_CLOCK_TEXT;

/**
 * Offset (ms east of UTC) of `zone` at UTC instant `t`: one `Intl.DateTimeFormat#format` call (a
 * third of the cost of `formatToParts`, which luxon uses), no luxon objects.
 * @throws Error when the text is not en-US `M/D/YYYY, HH:MM:SS` (callers then ask luxon).
 */
function offsetMs(zone: string, t: number): number {
  const m = WALL.exec(wallClock(zone).format(t));
  if (!m) throw new Error(`unexpected wall-clock text for ${zone}`);
  const whole = t - (((t % 1000) + 1000) % 1000);
  return Date.UTC(+m[3]!, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!, +m[6]!) - whole;
}

/** Per zone, the last midnight `plainMidnight` accepted and its offset. */
const LAST_MIDNIGHT = new Map<string, { t: number; offset: number }>();
const THREE_HOURS = 3 * 3_600_000;

/**
 * `naive` (the day's midnight as if UTC) minus `offset` when that offset holds from 3 h before to
 * 3 h after that instant: then the local midnight exists, is unique, and is that instant. Undefined
 * when a DST change is near (the caller asks luxon, whose choice in a repeated midnight is kept).
 * Right after the previous day's midnight was accepted with the same offset, the offset is known
 * to hold 3 h after it, so one probe 3 h after this midnight covers the 24 h between (a zone never
 * changes offset and back within a day: the assumption `providers/local-time.ts` makes too).
 */
function plainMidnight(zone: string, naive: number, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  const t = naive - offset;
  const last = LAST_MIDNIGHT.get(zone);
  const before = last !== undefined && last.offset === offset && t - last.t === DAY_MS ? true : offsetMs(zone, t - THREE_HOURS) === offset;
  if (!before || offsetMs(zone, t + THREE_HOURS) !== offset) return undefined;
  LAST_MIDNIGHT.set(zone, { t, offset });
  return t;
}

/**
 * UTC instant (ms) of local midnight starting `day` in `zone` (memoised). Two Intl lookups for an
 * ordinary day (the offset is checked 3 h either side of the midnight); a day whose midnight is
 * within 3 h of a DST change (the two change days a year in Europe/Paris; midnights a change skips
 * or repeats elsewhere), and any unusual input, are left to luxon, so its answers are kept.
 */
export function dayStart(day: LocalDate, zone: string): number {
  const key = `${zone}|${day}`;
  const cached = MIDNIGHTS.get(key);
  if (cached !== undefined) return cached;
  let t: number | undefined;
  const m = ISO_DATE.exec(day);
  if (m) {
    const naive = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!);
    // A real calendar date (Date.UTC rolls 30 February over to March).
    if (new Date(naive).toISOString().slice(0, 10) === day) {
      try {
        t = plainMidnight(zone, naive, LAST_MIDNIGHT.get(zone)?.offset) ?? plainMidnight(zone, naive, offsetMs(zone, naive));
      } catch {
        /* unknown zone: luxon says why below */
      }
    }
  }
  if (t === undefined) {
    const dt = DateTime.fromISO(day, { zone });
    if (!dt.isValid) throw new Error(`invalid local date "${day}" in ${zone}: ${dt.invalidExplanation}`);
    t = dt.startOf("day").toMillis();
  }
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
  if (Number.isFinite(t)) {
    try {
      return new Date(t + offsetMs(zone, t)).toISOString().slice(0, 10);
    } catch {
      /* unknown zone or out-of-range instant: luxon's answer below */
    }
  }
  return DateTime.fromMillis(t, { zone }).toISODate()!;
}


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
