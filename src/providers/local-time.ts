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
import { WALL_CLOCK_TEXT, wallClockFormat } from "../domain/wall-clock.js";

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

/**
 * `parseLocalStamp(s)?.naiveMs` for exactly the form Enedis writes curve stamps in,
 * `YYYY-MM-DD HH:MM:SS` (no offset, no fraction), without allocating a {@link LocalStamp}
 * (one fewer object per point of a 3-year backfill). NaN for any other text, including every
 * form `parseLocalStamp` reads otherwise: the caller then asks it.
 */
export function plainNaiveStamp(s: string): number {
  if (s.length !== 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32) return Number.NaN;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return Number.NaN;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || !validDay(y, mo, d)) return Number.NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec);
}

/** Formats a naive epoch back as `YYYY-MM-DD`. */
export function naiveDate(naiveMs: number): string {
  return new Date(naiveMs).toISOString().slice(0, 10);
}

const WALL = WALL_CLOCK_TEXT;

/** A transition found inside one UTC day: from `at` (UTC ms, inclusive) the offset is `offset`. */
interface Change {
  at: number;
  offset: number;
}

/**
 * The wall clock of one IANA zone: naive local time → UTC candidates.
 *
 * Offsets are luxon's (`IANAZone#offset`: the wall clock of the whole second, minutes east of
 * UTC) but read with one `Intl.DateTimeFormat#format` + a regex (~3× cheaper than luxon's
 * `formatToParts`), and memoised per UTC day: the offset at each UTC midnight is asked once; a UTC
 * day whose two midnights share an offset has that offset throughout (a zone never changes offset
 * and back within one day — the same assumption the per-day candidate cache always made); a day
 * whose midnights differ is bisected (to the second) for its transition(s), once.
 * @throws Error for an unknown zone (callers turn it into ProviderError `bad_request`).
 */
export class ZoneClock {
  private readonly zone: IANAZone;
  private readonly wall: Intl.DateTimeFormat;
  /** Per naive local day: its single offset (minutes), or null when an offset change is near. */
  private readonly days = new Map<number, number | null>();
  /** Offset (minutes) at UTC midnight of day index k (k × DAY_MS). */
  private readonly midnights = new Map<number, number>();
  /** Per UTC day index whose midnights differ: the offset at its start, then its changes. */
  private readonly changes = new Map<number, Change[]>();
  /** Last naive day looked up by {@link single} and its offset (consecutive stamps share a day). */
  private lastDay = Number.NaN;
  private lastOffset: number | null = null;

  constructor(readonly name: string) {
    const zone = IANAZone.create(name);
    if (!zone.isValid) throw new Error(`unknown time zone ${JSON.stringify(name)}`);
    this.zone = zone;
    this.wall = wallClockFormat(zone.name);
  }

  /**
   * Offset (minutes east of UTC) at UTC instant `t`, asked of Intl without memo: luxon's
   * computation (wall clock of the whole second minus that second) from `format()` text; luxon
   * itself for text the regex does not read or years luxon treats specially (< 100).
   */
  rawOffsetAt(t: number): number {
    const m = WALL.exec(this.wall.format(t));
    const y = m ? +m[3]! : 0;
    if (!m || y < 100) return this.zone.offset(t);
    const whole = t - (((t % 1000) + 1000) % 1000);
    return (Date.UTC(y, +m[1]! - 1, +m[2]!, +m[4]!, +m[5]!, +m[6]!) - whole) / MINUTE_MS;
  }

  private midnight(k: number): number {
    let o = this.midnights.get(k);
    if (o === undefined) {
      o = this.rawOffsetAt(k * DAY_MS);
      this.midnights.set(k, o);
    }
    return o;
  }

  /** Offset (minutes east of UTC) of the zone at UTC instant `t` (equal to luxon's). */
  offsetAt(t: number): number {
    if (!Number.isFinite(t)) return this.zone.offset(t);
    const k = Math.floor(t / DAY_MS);
    const a = this.midnight(k);
    if (a === this.midnight(k + 1)) return a;
    let list = this.changes.get(k);
    if (list === undefined) {
      list = [{ at: k * DAY_MS, offset: a }];
      this.bisect(k * DAY_MS, a, (k + 1) * DAY_MS, this.midnight(k + 1), list);
      list.sort((x, y) => x.at - y.at);
      this.changes.set(k, list);
    }
    let o = list[0]!.offset;
    for (let i = 1; i < list.length && list[i]!.at <= t; i++) o = list[i]!.offset;
    return o;
  }

  /** Finds, to the second, where the offset changes between `lo` (offset `a`) and `hi` (offset `b`, a ≠ b); appends to `out`. */
  private bisect(lo: number, a: number, hi: number, b: number, out: Change[]): void {
    // Invariant: offset(lo) = a, offset(hi) = b; lo and hi are whole seconds.
    let l = lo;
    let h = hi;
    while (h - l > 1000) {
      const mid = l + Math.floor((h - l) / 2000) * 1000;
      if (this.rawOffsetAt(mid) === a) l = mid;
      else h = mid;
    }
    const at = this.rawOffsetAt(h);
    out.push({ at: h, offset: at });
    // More than one change between lo and hi (never seen in real zones): find the others too.
    if (at !== b) this.bisect(h, at, hi, b, out);
  }

  /**
   * The single UTC instant of `naiveMs` when its local day and the days around it have one
   * offset (no DST change near), else NaN (then ask {@link candidates}).
   */
  single(naiveMs: number): number {
    const day = Math.floor(naiveMs / DAY_MS);
    if (day !== this.lastDay) {
      this.lastOffset = this.dayOffset(day);
      this.lastDay = day;
    }
    const o = this.lastOffset;
    return o === null ? Number.NaN : naiveMs - o * MINUTE_MS;
  }

  private dayOffset(day: number): number | null {
    let o = this.days.get(day);
    if (o === undefined) {
      // Any instant naive − offset (|offset| ≤ 14 h) lies within [day − 1, day + 2] (UTC days).
      const a = this.midnight(day - 1);
      const same = a === this.midnight(day) && a === this.midnight(day + 1) && a === this.midnight(day + 2);
      o = same ? a : null;
      this.days.set(day, o);
    }
    return o;
  }

  /**
   * UTC instants the wall-clock time `naiveMs` may denote, ascending: one normally, two inside
   * an autumn fold (summer offset first), none inside a spring gap.
   */
  candidates(naiveMs: number): number[] {
    const o = this.dayOffset(Math.floor(naiveMs / DAY_MS));
    if (o !== null) return [naiveMs - o * MINUTE_MS];
    const out: number[] = [];
    for (const off of new Set([this.offsetAt(naiveMs - DAY_MS), this.offsetAt(naiveMs), this.offsetAt(naiveMs + DAY_MS)])) {
      const t = naiveMs - off * MINUTE_MS;
      if (this.offsetAt(t) === off && !out.includes(t)) out.push(t);
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
    if (stamp.offsetMin === undefined) return this.resolveNaive(stamp.naiveMs);
    const t = stamp.naiveMs - stamp.offsetMin * MINUTE_MS;
    this.last = t;
    return t;
  }

  /** {@link resolve} for a stamp without offset, given as its naive epoch (ms). */
  resolveNaive(naiveMs: number): number | undefined {
    let t = this.clock.single(naiveMs);
    if (Number.isNaN(t)) {
      const c = this.clock.candidates(naiveMs);
      if (c.length === 0) return undefined;
      t = c.length === 1 || c[0]! > this.last ? c[0]! : c[c.length - 1]!;
    }
    this.last = t;
    return t;
  }
}
