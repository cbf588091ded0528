/**
 * The simulator's data: one or two real 30-min series (consumption, optional production) shifted
 * onto the served timeline, and the derived views every contract renders (load-curve points with
 * their step, complete local days, daily max power). Values are kept as integer milli-units
 * (milli-Wh, milli-W) so sums are exact. Local days are Europe/Paris, computed with luxon.
 */
import { DateTime } from "luxon";

export const ZONE = "Europe/Paris";
export const MINUTE = 60_000;
export const HALF_HOUR = 30 * MINUTE;
export const HOUR = 60 * MINUTE;
export const DAY = 86_400_000;
export const WEEK = 7 * DAY;

/** Steps Enedis may publish on a load curve (Swagger; MED `EXPECTED_READINGS`). */
export type Step = "PT5M" | "PT10M" | "PT15M" | "PT30M" | "PT60M";
export const stepMinutes = (s: Step): number => Number(s.slice(2, -1));

/**
 * A span of the served timeline published at another step than the real 30 min.
 * `from`/`to`: ISO local date or date-time, read in Europe/Paris ("2026-06-03", "2026-06-03T12:00");
 * `[from, to[`. PT60M sums each aligned pair of half-hours (both must be present); PT5M/PT10M/PT15M
 * split each half-hour into equal sub-intervals of the same average power.
 */
export interface StepSpan {
  from: string;
  to: string;
  step: Exclude<Step, "PT30M">;
}
interface ResolvedSpan {
  from: number;
  to: number;
  step: Step;
}

/** One load-curve point: UTC interval and average power in milli-W (null = missing, only when asked). */
export interface CurvePoint {
  start: number;
  end: number;
  milliW: number | null;
  step: Step;
}

export type Flow = "consumption" | "production";

/** Formats an integer number of milli-units as a decimal string without trailing zeros. */
export function fmtMilli(milli: number): string {
  const int = Math.floor(milli / 1000);
  const frac = milli - int * 1000;
  if (frac === 0) return String(int);
  return `${int}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}

export function toMilli(wh: number): number {
  if (!Number.isFinite(wh) || wh < 0) throw new Error(`bad Wh value ${wh}`);
  return Math.round(wh * 1000);
}

/** Naive Europe/Paris wall time "YYYY-MM-DD HH:MM:SS" of a UTC instant. */
export const naiveLocal = (t: number): string => DateTime.fromMillis(t, { zone: ZONE }).toFormat("yyyy-MM-dd HH:mm:ss");
/** Local day "YYYY-MM-DD" → its local midnight (UTC ms). */
export const localMidnight = (day: string): number => DateTime.fromISO(day, { zone: ZONE }).toMillis();

/** A series on the served timeline: shifted UTC start ms → milli-Wh. */
export class SeriesStore {
  readonly values = new Map<number, number>();
  private readonly grid: number;

  constructor(series: { start: number; wh: number | null }[], shiftMs: number) {
    for (const p of series) if (p.wh !== null) this.values.set(p.start + shiftMs, toMilli(p.wh));
    if (this.values.size === 0) throw new Error("series has no value");
    this.grid = this.first();
  }

  first(): number {
    let m = Infinity;
    for (const t of this.values.keys()) if (t < m) m = t;
    return m;
  }

  /** Local midnight of the first local day holding a value (the meter's "activation"). */
  activationDay(): DateTime {
    return DateTime.fromMillis(this.first(), { zone: ZONE }).startOf("day");
  }

  override(values: Map<number, number>): void {
    for (const [start, wh] of values) {
      if ((start - this.grid) % HALF_HOUR !== 0) throw new Error(`override: ${start} is off the 30-min grid`);
      this.values.set(start, toMilli(wh));
    }
  }

  /** Half-hours ending ≤ limit, sorted, in Wh. */
  served(limit: number): { start: number; wh: number }[] {
    return [...this.values.entries()]
      .filter(([start]) => start + HALF_HOUR <= limit)
      .sort((a, b) => a[0] - b[0])
      .map(([start, milli]) => ({ start, wh: milli / 1000 }));
  }

  /**
   * Load-curve points of the half-hours in `[from, to[` ending ≤ `limit`, in time order, at the
   * step of their span (30 min outside the spans). Missing intervals are absent, or `milliW: null`
   * points when `nulls` (only between the first value and `limit`).
   */
  curve(from: number, to: number, limit: number, spans: ResolvedSpan[], nulls: boolean): CurvePoint[] {
    const out: CurvePoint[] = [];
    const first = this.first();
    const end = Math.min(to, limit);
    const missing = (t: number) => nulls && t >= first;
    for (let t = from; t + HALF_HOUR <= end; t += HALF_HOUR) {
      const step = spans.find((s) => t >= s.from && t < s.to)?.step ?? "PT30M";
      const a = this.values.get(t);
      if (step === "PT60M") {
        if (t % HOUR !== 0 || t + HOUR > end) continue; // second half: taken with the first
        const b = this.values.get(t + HALF_HOUR);
        if (a !== undefined && b !== undefined) out.push({ start: t, end: t + HOUR, milliW: a + b, step });
        else if (missing(t)) out.push({ start: t, end: t + HOUR, milliW: null, step });
        continue;
      }
      const m = stepMinutes(step) * MINUTE;
      if (a === undefined && !missing(t)) continue;
      for (let s = t; s < t + HALF_HOUR; s += m) {
        out.push({ start: s, end: s + m, milliW: a === undefined ? null : 2 * a, step });
      }
    }
    return out;
  }

  /** milli-Wh of the local day starting at `dayStart` (next local midnight `dayEnd`), null unless every half-hour is present. */
  dayTotal(dayStart: number, dayEnd: number): number | null {
    let sum = 0;
    for (let t = dayStart; t < dayEnd; t += HALF_HOUR) {
      const v = this.values.get(t);
      if (v === undefined) return null;
      sum += v;
    }
    return sum;
  }

  /** The highest half-hour average power (milli-W) in `[from, to[` and its interval start; first one on ties. */
  maxPower(from: number, to: number): { start: number; milliW: number } | null {
    let best: { start: number; milliW: number } | null = null;
    for (let t = from; t < to; t += HALF_HOUR) {
      const v = this.values.get(t);
      if (v !== undefined && (best === null || 2 * v > best.milliW)) best = { start: t, milliW: 2 * v };
    }
    return best;
  }
}

/** Resolves and checks the step spans (PT60M spans must start and end on a whole hour). */
export function resolveSpans(spans: StepSpan[] = []): ResolvedSpan[] {
  return spans.map((s) => {
    const from = DateTime.fromISO(s.from, { zone: ZONE });
    const to = DateTime.fromISO(s.to, { zone: ZONE });
    if (!from.isValid || !to.isValid || to <= from) throw new Error(`bad step span ${s.from} … ${s.to}`);
    const aligned = s.step === "PT60M" ? HOUR : HALF_HOUR;
    if (from.toMillis() % aligned !== 0 || to.toMillis() % aligned !== 0) {
      throw new Error(`step span ${s.from} … ${s.to} is not aligned on ${s.step === "PT60M" ? "the hour" : "the half-hour"}`);
    }
    return { from: from.toMillis(), to: to.toMillis(), step: s.step };
  });
}
