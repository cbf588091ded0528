/**
 * The per-point rules shared by the Enedis v2 (`{v, d, p}`) and v5 (`{value, date, interval_length}`)
 * parsers: value, stamp, step, DST and "future" checks, and the {@link FetchResult} /
 * {@link RejectedPoint} semantics. Hand-written checks only (no zod, no luxon per point): the
 * parse of a 3-year backfill must stay well above 100 000 points/s.
 *
 * Rules (enedis-2026.md §3–4; same as the v5 parser always had):
 * - values are decimal strings (numbers tolerated); curve values are average W over the interval,
 *   stored as Wh = W × step minutes / 60; daily values are Wh; peaks are VA.
 * - `v`/`value` null or absent = a missing point: it goes to `rejected` (reason says "missing"),
 *   never to a reading of 0.
 * - negative values, unreadable or non-existent stamps (spring gap), unreadable steps, an interval
 *   already read, and intervals ending after `now` go to `rejected` with a reason; the rest is kept.
 * - stamps are resolved in array order by {@link FoldResolver} (autumn fold: repeated or
 *   backwards stamp → later offset).
 */
import type { DailyMaxPower, FetchResult, Quality, Reading, RejectedPoint } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { FoldResolver, naiveDate, parseLocalStamp, plainNaiveStamp, ZoneClock } from "./local-time.js";

/**
 * Which end of its interval a curve stamp marks. `end`: Enedis direct and Conso API (`00:30`
 * closes 00:00–00:30). `start`: MyElectricalData, which subtracts `p` from Enedis' end stamp in
 * naive wall time (MED `adapters/enedis_format.py` `_shift_date`); the parser adds it back the
 * same way before resolving, so both give the same readings, DST days included.
 */
export type StampAt = "end" | "start";

/**
 * How a sink reads curve stamps: a {@link StampAt}, or `start-instant` — a start stamp that is
 * the interval's true local start (not the gateway's naive "end minus p"); the two differ only
 * inside the autumn fold. Parsers try `start` first and fall back to `start-instant`.
 */
export type StampReading = StampAt | "start-instant";

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
const DECIMAL = /^\s*-?\d+(?:\.\d+)?\s*$/;
const STEP = /^PT(?:(\d+)H)?(?:(\d+)M)?$/;
const STEPS = new Map<string, number | undefined>();
const CLOCKS = new Map<string, ZoneClock>();

/**
 * The shared {@link ZoneClock} of a zone (its per-day offset cache survives across bodies).
 * @throws ProviderError `bad_request` for an unknown zone.
 */
export function zoneClock(name: string): ZoneClock {
  let clock = CLOCKS.get(name);
  if (!clock) {
    try {
      clock = new ZoneClock(name);
    } catch {
      throw new ProviderError("bad_request", `unknown time zone ${JSON.stringify(name)}`);
    }
    CLOCKS.set(name, clock);
  }
  return clock;
}

/** Parses a decimal string ("752", "1565.4") or finite number; undefined otherwise. */
export function parseDecimal(raw: unknown): number | undefined {
  if (typeof raw === "number") return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== "string") return undefined;
  // Fast path for the plain forms Enedis writes ("752", "1565.4", "-3"): same answer as below.
  const n = raw.length;
  let i = n > 0 && raw.charCodeAt(0) === 45 ? 1 : 0; // '-'
  const first = i;
  let int = 0;
  while (i < n) {
    const c = raw.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
    i++;
  }
  if (i > first && i - first <= 15) {
    if (i === n) return first === 1 ? -int : int;
    if (raw.charCodeAt(i) === 46) {
      let j = i + 1;
      while (j < n && raw.charCodeAt(j) >= 48 && raw.charCodeAt(j) <= 57) j++;
      if (j === n && j > i + 1) return Number(raw);
    }
  }
  if (!DECIMAL.test(raw)) return undefined;
  return Number(raw);
}

/** Minutes of an ISO-8601 step ("PT30M", "PT1H", "PT1H30M"); undefined if invalid or ≤ 0. */
export function stepMinutes(raw: string): number | undefined {
  if (STEPS.has(raw)) return STEPS.get(raw);
  const m = STEP.exec(raw);
  const minutes = m && (m[1] !== undefined || m[2] !== undefined) ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : 0;
  const result = minutes > 0 ? minutes : undefined;
  if (STEPS.size < 64) STEPS.set(raw, result); // a handful of distinct values in practice
  return result;
}

/** Rounds away binary floating-point noise (W × minutes / 60 with decimal W). */
function roundWh(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Field names of the body's point shape, used in rejection reasons. */
export interface PointFields {
  value: string;
  step: string;
}

/** Options of {@link PointSink}. */
export interface PointSinkOptions {
  /** Zone of the naive stamps (the meter's, Europe/Paris for Enedis). */
  timezone: string;
  /** UTC epoch ms: intervals ending after it are rejected. */
  now: number;
  /** Quality copied on every reading (v2 `etapeMetier`, v5 `quality`), null when absent. */
  quality: Quality;
  stamp: StampReading;
  fields: PointFields;
  /** Step (minutes) assumed for a curve point without one; undefined = reject such a point. */
  defaultStepMinutes?: number;
}

/** Describes a raw date field for `RejectedPoint.raw`. */
function rawText(date: unknown): string {
  return typeof date === "string" ? date : JSON.stringify(date ?? null);
}

/**
 * Instants already read (UTC ms), as a sorted list: a series comes in time order, so a new
 * instant is nearly always after the last one (checked and appended in O(1), the numbers stored
 * unboxed); an instant at or before the last is looked up by bisection and inserted in place.
 */
class SeenInstants {
  private readonly list: number[] = [];

  /** Index of the first element ≥ t. */
  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(t: number): boolean {
    const n = this.list.length;
    if (n === 0 || t > this.list[n - 1]!) return false;
    return this.list[this.lowerBound(t)] === t;
  }

  add(t: number): void {
    const n = this.list.length;
    if (n === 0 || t > this.list[n - 1]!) this.list.push(t);
    else if (!this.has(t)) this.list.splice(this.lowerBound(t), 0, t);
  }
}

/** Collects readings and rejected points of one series, point by point. */
export class PointSink {
  readonly readings: Reading[] = [];
  readonly rejected: RejectedPoint[] = [];
  private readonly clock: ZoneClock;
  private resolver: FoldResolver;
  private readonly taken = new SeenInstants();

  constructor(private readonly opts: PointSinkOptions) {
    this.clock = zoneClock(opts.timezone);
    this.resolver = new FoldResolver(this.clock);
  }

  /** Starts another series of the same body: array-order DST resolution restarts (duplicates still rejected). */
  newSeries(): void {
    this.resolver = new FoldResolver(this.clock);
  }

  private reject(raw: string, reason: string): void {
    this.rejected.push({ raw, reason });
  }

  /** The value of a point in `unit`, or undefined after rejecting it (missing, not a number, negative). */
  private value(rawValue: unknown, raw: string, unit: string): number | undefined {
    if (rawValue === null || rawValue === undefined) {
      this.reject(raw, `no value at ${raw} (${this.opts.fields.value} is ${rawValue === null ? "null" : "absent"}): missing point, not stored`);
      return undefined;
    }
    const value = parseDecimal(rawValue);
    if (value === undefined) {
      this.reject(raw, `value ${JSON.stringify(rawValue)} at ${raw} is not a number`);
      return undefined;
    }
    if (value < 0) {
      this.reject(raw, `value ${value} ${unit} at ${raw} is negative`);
      return undefined;
    }
    return value;
  }

  /** A daily point: `date` = local day "YYYY-MM-DD", value in Wh over that day (23/24/25 h). */
  daily(rawDate: unknown, rawValue: unknown): void {
    const raw = rawText(rawDate);
    const stamp = typeof rawDate === "string" ? parseLocalStamp(rawDate) : undefined;
    if (!stamp || (stamp.hasTime && stamp.naiveMs % DAY_MS !== 0)) {
      this.reject(raw, `date ${raw} is not a calendar date (YYYY-MM-DD)`);
      return;
    }
    const value = this.value(rawValue, raw, "Wh");
    if (value === undefined) return;
    const dayNaive = stamp.naiveMs - (stamp.naiveMs % DAY_MS);
    const start = this.clock.dayStart(dayNaive);
    if (this.taken.has(start)) {
      this.reject(raw, `date ${raw} appears more than once`);
      return;
    }
    const end = this.clock.dayStart(dayNaive + DAY_MS);
    if (end > this.opts.now) {
      this.reject(raw, `day ${raw} is not over yet (ends in the future)`);
      return;
    }
    this.taken.add(start);
    this.readings.push({ start, durationMs: end - start, value, quality: this.opts.quality });
  }

  /**
   * A load-curve point: `date` naive local (or with offset) marking the interval end or start
   * (`opts.stamp`), `step` ISO duration, value = average W → Wh.
   */
  curve(rawDate: unknown, rawValue: unknown, rawStep: unknown): void {
    const raw = rawText(rawDate);
    // The plain naive form without a LocalStamp object; anything else through parseLocalStamp.
    const naive = typeof rawDate === "string" ? plainNaiveStamp(rawDate) : Number.NaN;
    const stamp = Number.isNaN(naive) && typeof rawDate === "string" ? parseLocalStamp(rawDate) : undefined;
    if (Number.isNaN(naive) && !stamp?.hasTime) {
      this.reject(raw, `date ${raw} is not a local date-time (YYYY-MM-DD HH:mm:ss)`);
      return;
    }
    const minutes =
      rawStep === undefined || rawStep === null
        ? this.opts.defaultStepMinutes
        : typeof rawStep === "string"
          ? stepMinutes(rawStep)
          : undefined;
    if (minutes === undefined) {
      this.reject(raw, `${this.opts.fields.step} ${JSON.stringify(rawStep ?? null)} at ${raw} is not a positive ISO duration (PT5M…PT60M)`);
      return;
    }
    const stepMs = minutes * MINUTE_MS;
    // Start stamps: add the step back in naive wall time (as the gateway subtracted it), then
    // resolve the END stamp like every other series; `start-instant` resolves the start itself.
    const shift = this.opts.stamp === "start" ? stepMs : 0;
    const resolved = stamp
      ? this.resolver.resolve(shift ? { ...stamp, naiveMs: stamp.naiveMs + shift } : stamp)
      : this.resolver.resolveNaive(naive + shift);
    const end = resolved === undefined ? undefined : this.opts.stamp === "start-instant" ? resolved + stepMs : resolved;
    if (end === undefined) {
      this.reject(raw, `date ${raw} does not exist in ${this.opts.timezone} (skipped by the DST change)`);
      return;
    }
    const value = this.value(rawValue, raw, "W");
    if (value === undefined) return;
    const start = end - stepMs;
    if (this.taken.has(end)) {
      this.reject(raw, `date ${raw} repeats an interval already read (ending ${new Date(end).toISOString()})`);
      return;
    }
    if (end > this.opts.now) {
      this.reject(raw, `interval ${this.opts.stamp === "start" ? "starting" : "ending"} at ${raw} is in the future`);
      return;
    }
    this.taken.add(end);
    this.readings.push({ start, durationMs: stepMs, value: roundWh((value * minutes) / 60), quality: this.opts.quality });
  }

  result(): FetchResult {
    return { readings: this.readings, rejected: this.rejected, endOfHistory: false };
  }
}

/** Collects daily peaks (`PMA`, VA) of one series. `date` = naive local time of the peak. */
export class PeakSink {
  readonly points: DailyMaxPower[] = [];
  readonly rejected: RejectedPoint[] = [];
  private readonly clock: ZoneClock;
  private readonly resolver: FoldResolver;
  private readonly days = new Set<string>();

  constructor(private readonly opts: { timezone: string; now: number; fields: PointFields }) {
    this.clock = zoneClock(opts.timezone);
    this.resolver = new FoldResolver(this.clock);
  }

  peak(rawDate: unknown, rawValue: unknown): void {
    const raw = rawText(rawDate);
    const reject = (reason: string): void => void this.rejected.push({ raw, reason });
    const stamp = typeof rawDate === "string" ? parseLocalStamp(rawDate) : undefined;
    if (!stamp?.hasTime) return reject(`date ${raw} is not a local date-time (YYYY-MM-DD HH:mm:ss)`);
    const at = this.resolver.resolve(stamp);
    if (at === undefined) return reject(`date ${raw} does not exist in ${this.opts.timezone} (skipped by the DST change)`);
    if (rawValue === null || rawValue === undefined) {
      return reject(`no value at ${raw} (${this.opts.fields.value} is ${rawValue === null ? "null" : "absent"}): missing point, not stored`);
    }
    const valueVa = parseDecimal(rawValue);
    if (valueVa === undefined) return reject(`value ${JSON.stringify(rawValue)} at ${raw} is not a number`);
    if (valueVa < 0) return reject(`value ${valueVa} VA at ${raw} is negative`);
    const day = naiveDate(stamp.offsetMin === undefined ? stamp.naiveMs : at + this.clock.offsetAt(at) * MINUTE_MS);
    if (this.days.has(day)) return reject(`day ${day} has more than one peak`);
    if (at > this.opts.now) return reject(`peak at ${raw} is in the future`);
    this.days.add(day);
    this.points.push({ day, valueVa, at });
  }
}
