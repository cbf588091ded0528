/**
 * Night-flow leak flag for water (seed 001, phase 2: "détection fuites (consommation nocturne
 * anormale)"). The rule water utilities use for smart meters: in a household nobody draws water
 * for hours every night, so a meter that never stops during the night window — every interval
 * of it shows at least a small flow — points to a leak (a running toilet, a dripping tap, a
 * burst pipe). Pure; no I/O.
 *
 * It needs readings of an hour or less: a daily total says how much water was used, never when,
 * so 300 L in a day may be a leak or two showers. Ecolyo's water doctype (`com.grandlyon.egl.day`)
 * and the bundled AMPds2 water file are daily, so with them the flag is "unknown" (null), never
 * "no leak".
 */
import { DateTime } from "luxon";
import type { LocalDate, Reading } from "../domain/types.js";

/** Options of {@link nightFlow}. */
export interface NightFlowRule {
  /** Local start and end hours of the night window (default 1 → 5, i.e. 01:00–05:00). */
  fromHour?: number;
  toHour?: number;
  /** A flow at or above this in every interval of the window is a leak (L per hour, default 1). */
  minLPerHour?: number;
  /** Longest reading that counts as sub-daily data (ms, default 1 h). */
  maxIntervalMs?: number;
}

/** The verdict of one night: `leak`, and the smallest flow seen in the window (L/h). */
export interface NightFlow {
  day: LocalDate;
  leak: boolean;
  minFlowLPerHour: number;
}

/**
 * Judges the night of local day `day` in `zone` from water readings in litres. Returns null when
 * the readings do not cover the whole window with intervals of at most `maxIntervalMs` (daily
 * data, gaps). Readings overlapping the window's edges count for their part inside it.
 */
export function nightFlow(readings: readonly Pick<Reading, "start" | "durationMs" | "value">[], day: LocalDate, zone: string, rule: NightFlowRule = {}): NightFlow | null {
  const fromHour = rule.fromHour ?? 1;
  const toHour = rule.toHour ?? 5;
  const minFlow = rule.minLPerHour ?? 1;
  const maxInterval = rule.maxIntervalMs ?? 3_600_000;
  const base = DateTime.fromISO(day, { zone });
  if (!base.isValid) return null;
  const from = base.set({ hour: fromHour }).toMillis();
  const to = base.set({ hour: toHour }).toMillis();
  const inside = readings
    .filter((r) => r.durationMs <= maxInterval && r.start < to && r.start + r.durationMs > from)
    .sort((a, b) => a.start - b.start);
  let covered = from;
  let min = Infinity;
  for (const r of inside) {
    if (r.start > covered) return null; // a gap in the window
    covered = Math.max(covered, r.start + r.durationMs);
    min = Math.min(min, r.value / (r.durationMs / 3_600_000));
  }
  if (covered < to || !Number.isFinite(min)) return null;
  return { day, leak: min >= minFlow, minFlowLPerHour: min };
}
