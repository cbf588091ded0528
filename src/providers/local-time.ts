/**
 * Naive local stamps of Enedis bodies → UTC instants, without luxon per point.
 *
 * Enedis (v2 `d`, v5 `date`) writes wall-clock time in Europe/Paris with no offset:
 * `YYYY-MM-DD HH:MM:SS` for curve points and peaks, `YYYY-MM-DD` for days (enedis-2026.md §4).
 * Some clients defend against an ISO offset (`2026-09-29T00:30:00+02:00`, `…Z`); it is accepted
 * and then wins over the zone. The zone offset is read from luxon's IANAZone (Intl) and memoised
 * per local day: a real zone changes offset at most once a day, so a day whose neighbourhood has
 * one offset maps every naive time by a subtraction; DST days ask the zone per point.
 */
import { DateTime, IANAZone } from "luxon";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A parsed stamp: the wall-clock fields as a "naive UTC" epoch (ms), and the offset (minutes) when written. */
export interface LocalStamp {
  naiveMs: number;
  /** Offset east of UTC in minutes when the stamp carried one (`Z` = 0), else undefined. */
  offsetMin: number | undefined;
  /** True when the stamp had a time part (`YYYY-MM-DD HH:MM[:SS]`). */
  hasTime: boolean;
}

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function validDay(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = mo === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
  return d <= DAYS_IN_MONTH[mo - 1]! + (leap ? 1 : 0);
}

/**
 * Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS][.fff][Z|±HH:MM]`.
 * @returns undefined for any other text or impossible fields (hour 25, 30 February).
 */
export function parseLocalStamp(s: string): LocalStamp | undefined {
  const n = s.length;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined; // '-'
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0 || !validDay(y, mo, d)) return undefined;
  if (n === 10) return { naiveMs: Date.UTC(y, mo - 1, d), offsetMin: undefined, hasTime: false };
  const sep = s.charCodeAt(10);
  if ((sep !== 32 && sep !== 84) || n < 16 || s.charCodeAt(13) !== 58) return undefined; // ' ' or 'T', ':'
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  let i = 16;
  let sec = 0;
  if (i < n && s.charCodeAt(i) === 58) {
    sec = digits(s, 17, 2);
    i = 19;
    if (i < n && s.charCodeAt(i) === 46) {
      // fractional seconds: skip digits (Enedis never sends them; tolerated with an offset)
      i++;
      while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    }
  }
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || i > n) return undefined;
  const naiveMs = Date.UTC(y, mo - 1, d, h, mi, sec);
  if (i === n) return { naiveMs, offsetMin: undefined, hasTime: true };
  const c = s.charCodeAt(i);
  if (c === 90 && i + 1 === n) return { naiveMs, offsetMin: 0, hasTime: true }; // 'Z'
  if ((c === 43 || c === 45) && n - i === 6 && s.charCodeAt(i + 3) === 58) {
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 14 || om < 0 || om > 59) return undefined;
    return { naiveMs, offsetMin: (c === 43 ? 1 : -1) * (oh * 60 + om), hasTime: true };
  }
  return undefined;
}

/** Formats a naive epoch back as `YYYY-MM-DD`. */
export function naiveDate(naiveMs: number): string {
  return new Date(naiveMs).toISOString().slice(0, 10);
}

/**
 * The wall clock of one IANA zone: naive local time → UTC candidates.
 * @throws Error for an unknown zone (callers turn it into ProviderError `bad_request`).
 */
export class ZoneClock {
  private readonly zone: IANAZone;
  /** Per naive local day: its single offset (minutes), or null when an offset change is near. */
  private readonly days = new Map<number, number | null>();

  constructor(readonly name: string) {
    const zone = IANAZone.create(name);
    if (!zone.isValid) throw new Error(`unknown time zone ${JSON.stringify(name)}`);
    this.zone = zone;
  }

  /** Offset (minutes east of UTC) of the zone at UTC instant `t`. */
  offsetAt(t: number): number {
    return this.zone.offset(t);
  }

  /**
   * UTC instants the wall-clock time `naiveMs` may denote, ascending: one normally, two inside
   * an autumn fold (summer offset first), none inside a spring gap.
   */
  candidates(naiveMs: number): number[] {
    const day = Math.floor(naiveMs / DAY_MS);
    let o = this.days.get(day);
    if (o === undefined) {
      // Any instant naive − offset (|offset| ≤ 14 h) lies within [day − 1, day + 2] (UTC days).
      const base = day * DAY_MS;
      const a = this.zone.offset(base - DAY_MS);
      const same =
        a === this.zone.offset(base) && a === this.zone.offset(base + DAY_MS) && a === this.zone.offset(base + 2 * DAY_MS);
      o = same ? a : null;
      this.days.set(day, o);
    }
    if (o !== null) return [naiveMs - o * MINUTE_MS];
    const out: number[] = [];
    for (const off of new Set([this.zone.offset(naiveMs - DAY_MS), this.zone.offset(naiveMs), this.zone.offset(naiveMs + DAY_MS)])) {
      const t = naiveMs - off * MINUTE_MS;
      if (this.zone.offset(t) === off && !out.includes(t)) out.push(t);
    }
    return out.sort((x, y) => x - y);
  }

  /** UTC instant of the local midnight starting the naive day `naiveDayMs` (the first instant of that day). */
  dayStart(naiveDayMs: number): number {
    const c = this.candidates(naiveDayMs);
    if (c.length > 0) return c[0]!;
    // Midnight skipped by a DST change (never in Europe/Paris): luxon knows where the day starts.
    const d = new Date(naiveDayMs);
    return DateTime.fromObject(
      { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
      { zone: this.zone },
    ).startOf("day").toMillis();
  }
}

/**
 * Resolves a series of naive stamps IN ARRAY ORDER (enedis-2026.md §4, "safe handling"):
 * each stamp is resolved in the zone; inside an autumn fold the earlier (summer) instant is taken
 * unless it is not after the previous resolved instant of the series — i.e. the stamp repeats or
 * goes backwards — in which case the later (winter, UTC+1 for Paris) instant is taken. Never
 * re-sorts, never de-duplicates by naive text. A stamp with an explicit offset is exact.
 */
export class FoldResolver {
  private last = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: ZoneClock) {}

  /** @returns the UTC instant, or undefined when the wall-clock time does not exist (spring gap). */
  resolve(stamp: LocalStamp): number | undefined {
    let t: number | undefined;
    if (stamp.offsetMin !== undefined) {
      t = stamp.naiveMs - stamp.offsetMin * MINUTE_MS;
    } else {
      const c = this.clock.candidates(stamp.naiveMs);
      if (c.length === 0) return undefined;
      t = c.length === 1 || c[0]! > this.last ? c[0]! : c[c.length - 1]!;
    }
    this.last = t;
    return t;
  }
}
