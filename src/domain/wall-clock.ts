/**
 * Wall-clock fields of an instant in an IANA zone, from one cached `Intl.DateTimeFormat` per zone
 * (`format()` text + a regex: ~3× cheaper than `formatToParts`). Pure (no I/O): shared by the
 * parsers (providers/local-time.ts) and the calendar arithmetic (analysis/days.ts).
 */
const FORMATS = new Map<string, Intl.DateTimeFormat>();

/** `M/D/YYYY, HH:MM:SS` as en-US with h23 writes it; groups: month, day, year, hour, minute, second. */
export const WALL_CLOCK_TEXT = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{1,2}):(\d{2}):(\d{2})$/;

/** The cached formatter of `zone` (throws RangeError for an unknown zone). */
export function wallClockFormat(zone: string): Intl.DateTimeFormat {
  let f = FORMATS.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    FORMATS.set(zone, f);
  }
  return f;
}
