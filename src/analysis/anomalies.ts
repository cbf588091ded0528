import type { Anomaly, LocalDate, Severity } from "../domain/types.js";
import { addDays } from "./days.js";

/** Options of the 7-day moving-average rule. */
export interface AnomalyRule {
  /** A day above this percentage of its 7-day average is an anomaly (default 120). */
  thresholdPercent: number;
  /** Fewest complete days among the 7 previous ones for an average to count (default 4). */
  minDays?: number;
}

/**
 * The anomaly rule of the KoproGo seed: a local day's consumption compared with the mean of the
 * complete days among the 7 preceding local days. Ratio ≥ threshold → anomaly, severity by ratio:
 * minor < 150 %, major 150–200 %, critical > 200 % (minor is only reachable when the threshold is
 * below 150 %). Only complete days count; a missing day is missing, not zero, and is neither
 * judged nor averaged. Days whose average is 0 are not judged.
 *
 * `totals` maps local day → day total (meter unit, e.g. Wh) or null when incomplete; judged days
 * are those in [fromDay, toDay). Returns anomalies with the window's first day.
 */
export function detectAnomalies(
  meterId: string,
  totals: ReadonlyMap<LocalDate, number | null>,
  fromDay: LocalDate,
  toDay: LocalDate,
  rule: AnomalyRule,
): (Anomaly & { windowStart: LocalDate })[] {
  const minDays = rule.minDays ?? 4;
  const out: (Anomaly & { windowStart: LocalDate })[] = [];
  // Days from 7 before fromDay to toDay, in order, with their totals: each judged day's window is
  // the 7 entries before it (one calendar step per day instead of 8).
  const days: LocalDate[] = [];
  const values: (number | null | undefined)[] = [];
  for (let day = addDays(fromDay, -7); day < toDay; day = addDays(day, 1)) {
    days.push(day);
    values.push(totals.get(day));
  }
  for (let i = 7; i < days.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) continue;
    let n = 0;
    let sum = 0;
    for (let k = i - 7; k < i; k++) {
      const v = values[k];
      if (v !== null && v !== undefined) {
        n++;
        sum += v;
      }
    }
    if (n < minDays) continue;
    const average7d = sum / n;
    if (average7d <= 0) continue;
    const ratio = (value / average7d) * 100;
    if (ratio < rule.thresholdPercent) continue;
    out.push({
      meterId,
      day: days[i]!,
      windowStart: days[i - 7]!,
      value,
      average7d,
      variancePercent: ratio - 100,
      severity: severityOf(ratio),
    });
  }
  return out;
}

/** Severity of a day at `ratioPercent` of its average: minor < 150, major ≤ 200, critical > 200. */
export function severityOf(ratioPercent: number): Severity {
  if (ratioPercent > 200) return "critical";
  if (ratioPercent >= 150) return "major";
  return "minor";
}
