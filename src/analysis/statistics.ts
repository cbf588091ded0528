import type { StatisticRow } from "../domain/types.js";
import type { DayEnergy } from "./hourly.js";

/** An hourly value with its running sum, in the store's unit (Wh). */
export interface HourSum {
  start: number;
  stateWh: number;
  sumWh: number;
}

/**
 * Running sums over rebuilt days: one row per hour that has data, in time order, with
 * `sumWh` = `previousSumWh` + every hour so far. Hours without data produce no row (missing is
 * absent, never zero), so the sum simply carries over the gap.
 */
export function runningSums(days: readonly DayEnergy[], previousSumWh: number): HourSum[] {
  const rows: HourSum[] = [];
  let sum = previousSumWh;
  for (const d of days) {
    // Hours are usually inserted in time order already: sort only a day whose map is not.
    let ordered = true;
    let prev = -Infinity;
    for (const h of d.hours.keys()) {
      if (h < prev) {
        ordered = false;
        break;
      }
      prev = h;
    }
    if (ordered) {
      // forEach: no [key, value] pair allocated per hour.
      d.hours.forEach((wh, start) => {
        sum += wh;
        rows.push({ start, stateWh: wh, sumWh: sum });
      });
      continue;
    }
    for (const [start, wh] of [...d.hours.entries()].sort((a, b) => a[0] - b[0])) {
      sum += wh;
      rows.push({ start, stateWh: wh, sumWh: sum });
    }
  }
  return rows;
}

/** A row as Home Assistant holds it, in kWh. */
export type HaRow = StatisticRow;

/** What must be sent to Home Assistant to turn `actual` into `desired`. */
export interface StatisticsPlan {
  /** Rows to import (upserted by HA per hour), in kWh, time order. */
  imports: StatisticRow[];
  /**
   * `recorder/adjust_sum_statistics` calls, in order: each adds `adjustmentKwh` to the sum of every
   * row with start ≥ `start`. Imports are sent after them and carry absolute sums.
   */
  adjustments: { start: number; adjustmentKwh: number }[];
  /** Rows HA has that our data no longer has (kept flat: state 0, running sum) so sums never drop. */
  flattened: number;
}

const EPS_KWH = 1e-6;

/**
 * Diffs the desired hourly rows (Wh, from our store) against the rows Home Assistant actually has
 * (kWh, from `recorder/statistics_during_period`) over the same window.
 *
 * - an hour whose value differs, or that HA lacks, is imported with its absolute running sum;
 * - a run of hours whose values match but whose sums are all off by the same amount (an earlier
 *   hour changed) is fixed with one `adjust_sum_statistics` instead of resending every row;
 * - an hour HA has but we no longer have is rewritten flat (state 0, sum carried) so no hour ever
 *   shows a negative or spiked delta.
 * Pure; no I/O.
 */
export function planStatistics(desired: readonly HourSum[], actual: readonly HaRow[]): StatisticsPlan {
  const imports: StatisticRow[] = [];
  const adjustments: StatisticsPlan["adjustments"] = [];
  let flattened = 0;
  let applied = 0; // adjustment already applied to every later HA row by earlier adjust calls
  // Hours HA has before our first row are flattened at the sum our series starts from.
  const first = desired[0];
  let runningSumKwh: number | null = first ? (first.sumWh - first.stateWh) / 1000 : null;
  /** One hour of the union of both series, in time order: what we want there and what HA has. */
  const visit = (start: number, w: HourSum | undefined, h: HaRow | undefined): void => {
    if (!w) {
      // HA has an hour our data lost: keep it, flat, at the running sum so far.
      if (h && runningSumKwh !== null && (Math.abs(h.state) > EPS_KWH || Math.abs(h.sum + applied - runningSumKwh) > EPS_KWH)) {
        imports.push({ start, state: 0, sum: runningSumKwh });
        flattened++;
      }
      return;
    }
    const state = w.stateWh / 1000;
    const sum = w.sumWh / 1000;
    runningSumKwh = sum;
    if (!h || Math.abs(h.state - state) > EPS_KWH) {
      imports.push({ start, state, sum });
      return;
    }
    const delta = sum - h.sum;
    if (Math.abs(delta - applied) > EPS_KWH) {
      adjustments.push({ start, adjustmentKwh: delta - applied });
      applied = delta;
    }
  };
  if (strictlyAscending(desired) && strictlyAscending(actual)) {
    // The usual case (rows from runningSums and from HA are in time order, one per hour): merge.
    let i = 0;
    let j = 0;
    while (i < desired.length || j < actual.length) {
      const w = desired[i];
      const h = actual[j];
      const start = !h || (w && w.start <= h.start) ? w!.start : h.start;
      const wHere = w && w.start === start ? desired[i++] : undefined;
      const hHere = h && h.start === start ? actual[j++] : undefined;
      visit(start, wHere, hHere);
    }
  } else {
    const want = new Map(desired.map((r) => [r.start, r]));
    const have = new Map(actual.map((r) => [r.start, r]));
    for (const start of mergeSorted(desired.map((r) => r.start), actual.map((r) => r.start))) visit(start, want.get(start), have.get(start));
  }
  return { imports, adjustments, flattened };
}

/** True when the rows' starts are strictly increasing (sorted, no hour twice). */
function strictlyAscending(rows: readonly { start: number }[]): boolean {
  for (let i = 1; i < rows.length; i++) if (!(rows[i - 1]!.start < rows[i]!.start)) return false;
  return true;
}

/** Union of two ascending arrays of numbers, ascending, without duplicates (sorts if not sorted). */
function mergeSorted(a: number[], b: number[]): number[] {
  const asc = (x: number[]) => x.every((v, i) => i === 0 || x[i - 1]! < v);
  if (!asc(a)) a = [...new Set(a)].sort((x, y) => x - y);
  if (!asc(b)) b = [...new Set(b)].sort((x, y) => x - y);
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}
