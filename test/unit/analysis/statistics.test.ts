import { describe, expect, it } from "vitest";
import type { DayEnergy } from "../../../src/analysis/hourly.js";
import { planStatistics, runningSums, type HaRow, type HourSum, type StatisticsPlan } from "../../../src/analysis/statistics.js";
import { int, mulberry32 } from "./prng.js";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-03-28T23:00:00Z");
const h = (k: number) => T0 + k * HOUR;

function day(label: string, hours: [number, number][]): DayEnergy {
  return { day: label, start: 0, end: 0, total: null, hours: new Map(hours), source: "load_curve" };
}

/** Desired rows from per-hour Wh states (null = no data), with running sums from `prevWh`. */
function desiredFrom(states: (number | null)[], prevWh = 0, offset = 0): HourSum[] {
  const rows: HourSum[] = [];
  let sum = prevWh;
  states.forEach((s, k) => {
    if (s === null) return;
    sum += s;
    rows.push({ start: h(offset + k), stateWh: s, sumWh: sum });
  });
  return rows;
}
/** What HA would hold had it imported `rows` faithfully (kWh). */
const asHa = (rows: readonly HourSum[]): HaRow[] => rows.map((r) => ({ start: r.start, state: r.stateWh / 1000, sum: r.sumWh / 1000 }));

/**
 * Applies a plan the way Home Assistant does: each adjustment adds to the sum of every row with
 * start ≥ its start, then imports overwrite (or create) their hour.
 */
function apply(actual: readonly HaRow[], plan: StatisticsPlan): Map<number, HaRow> {
  const rows = new Map(actual.map((r) => [r.start, { ...r }]));
  for (const a of plan.adjustments) for (const r of rows.values()) if (r.start >= a.start) r.sum += a.adjustmentKwh;
  for (const r of plan.imports) rows.set(r.start, { ...r });
  return rows;
}

function expectMatchesDesired(result: Map<number, HaRow>, desired: readonly HourSum[], tol = 1e-9, ctx = ""): void {
  for (const d of desired) {
    const r = result.get(d.start);
    expect(r, `${ctx} hour ${d.start}`).toBeDefined();
    expect(Math.abs(r!.state - d.stateWh / 1000), `${ctx} state at ${d.start}`).toBeLessThanOrEqual(tol);
    expect(Math.abs(r!.sum - d.sumWh / 1000), `${ctx} sum at ${d.start}`).toBeLessThanOrEqual(tol);
  }
}
function expectNoNegativeDelta(result: Map<number, HaRow>, from = -Infinity, ctx = ""): void {
  const rows = [...result.values()].filter((r) => r.start >= from).sort((a, b) => a.start - b.start);
  for (let k = 1; k < rows.length; k++) {
    expect(rows[k]!.sum - rows[k - 1]!.sum, `${ctx} delta at ${rows[k]!.start}`).toBeGreaterThanOrEqual(-1e-9);
  }
  for (const r of rows) expect(r.state, ctx).toBeGreaterThanOrEqual(0);
}

describe("runningSums", () => {
  it("continues from previousSumWh, in time order, and carries the sum over gaps", () => {
    const rows = runningSums(
      [
        day("a", [
          [h(1), 200],
          [h(0), 100], // out of order on purpose
        ]),
        day("b", []), // a day without data: no rows
        day("c", [
          [h(30), 0],
          [h(31), 50],
        ]),
      ],
      1000,
    );
    expect(rows).toEqual([
      { start: h(0), stateWh: 100, sumWh: 1100 },
      { start: h(1), stateWh: 200, sumWh: 1300 },
      { start: h(30), stateWh: 0, sumWh: 1300 },
      { start: h(31), stateWh: 50, sumWh: 1350 },
    ]);
  });

  it("no days → no rows", () => {
    expect(runningSums([], 42)).toEqual([]);
  });
});

describe("planStatistics", () => {
  const states = [1000, 1500, 0, 2000, 1200, 800, 900, 1100, 700, 600];

  it("identical desired and actual → empty plan", () => {
    const desired = desiredFrom(states, 5000);
    expect(planStatistics(desired, asHa(desired))).toEqual({ imports: [], adjustments: [], flattened: 0 });
  });

  it("Home Assistant empty → every row imported with its absolute sum in kWh", () => {
    const desired = desiredFrom(states, 5000);
    const plan = planStatistics(desired, []);
    expect(plan.adjustments).toEqual([]);
    expect(plan.flattened).toBe(0);
    let sum = 5;
    const expected = states.map((s, k) => ({ start: h(k), state: s / 1000, sum: (sum += s / 1000) }));
    expect(plan.imports).toHaveLength(states.length);
    plan.imports.forEach((r, k) => {
      expect(r.start).toBe(expected[k]!.start);
      expect(r.state).toBeCloseTo(expected[k]!.state, 12);
      expect(r.sum).toBeCloseTo(expected[k]!.sum, 12);
    });
  });

  it("one middle hour changed → that hour imported and ONE adjustment from the next hour with the delta", () => {
    const desired = desiredFrom(states, 0);
    const old = [...states];
    old[4] = 700; // HA had 0.7 kWh at hour 4, we now know 1.2 kWh
    const actual = asHa(desiredFrom(old, 0));
    const plan = planStatistics(desired, actual);
    expect(plan.imports).toHaveLength(1);
    expect(plan.imports[0]!.start).toBe(h(4));
    expect(plan.imports[0]!.state).toBeCloseTo(1.2, 12);
    expect(plan.imports[0]!.sum).toBeCloseTo((1000 + 1500 + 0 + 2000 + 1200) / 1000, 12);
    expect(plan.adjustments).toHaveLength(1);
    expect(plan.adjustments[0]!.start).toBe(h(5));
    expect(plan.adjustments[0]!.adjustmentKwh).toBeCloseTo(0.5, 12);
    const result = apply(actual, plan);
    expectMatchesDesired(result, desired);
    expectNoNegativeDelta(result);
  });

  it("two separated changes → adjustments whose cumulative effect is the per-run delta", () => {
    const desired = desiredFrom(states, 300);
    const old = [...states];
    old[2] = 400; // +0.4 kWh too much in HA from hour 2 on
    old[6] = 100; // −0.8 kWh from hour 6 on (net −0.4)
    const actual = asHa(desiredFrom(old, 300));
    const plan = planStatistics(desired, actual);
    expect(plan.imports.map((r) => r.start)).toEqual([h(2), h(6)]);
    expect(plan.adjustments.map((a) => a.start)).toEqual([h(3), h(7)]);
    // Cumulative adjustment applying at hour k = desired sum − actual sum over that run.
    let cumulative = 0;
    for (const a of plan.adjustments) {
      cumulative += a.adjustmentKwh;
      const k = (a.start - T0) / HOUR;
      expect(cumulative).toBeCloseTo(desired[k]!.sumWh / 1000 - actual[k]!.sum, 12);
    }
    expect(plan.adjustments[0]!.adjustmentKwh).toBeCloseTo(-0.4, 12);
    expect(cumulative).toBeCloseTo(0.4, 12);
    const result = apply(actual, plan);
    expectMatchesDesired(result, desired);
    expectNoNegativeDelta(result);
  });

  it("sums shifted uniformly (an earlier hour changed outside the window) → one adjustment, no import", () => {
    const desired = desiredFrom(states, 10_000);
    const actual = asHa(desiredFrom(states, 9_000));
    const plan = planStatistics(desired, actual);
    expect(plan.imports).toEqual([]);
    expect(plan.adjustments).toHaveLength(1);
    expect(plan.adjustments[0]!.start).toBe(h(0));
    expect(plan.adjustments[0]!.adjustmentKwh).toBeCloseTo(1, 12);
  });

  it("an hour HA has but desired lacks is flattened: state 0, sum carried", () => {
    const withGap = [...states] as (number | null)[];
    withGap[4] = null; // our data no longer has hour 4
    const desired = desiredFrom(withGap, 0);
    const actual = asHa(desiredFrom(states, 0)); // HA still has hour 4 at 1.2 kWh
    const plan = planStatistics(desired, actual);
    expect(plan.flattened).toBe(1);
    const flat = plan.imports.find((r) => r.start === h(4));
    expect(flat).toBeDefined();
    expect(flat!.state).toBe(0);
    expect(flat!.sum).toBeCloseTo((1000 + 1500 + 0 + 2000) / 1000, 12);
    const result = apply(actual, plan);
    expectMatchesDesired(result, desired);
    expectNoNegativeDelta(result);
    expect(result.get(h(4))!.sum).toBeCloseTo(result.get(h(3))!.sum, 12);
  });

  it("an already flat extra hour with the right sum is left alone", () => {
    const desired = desiredFrom([1000, 2000, null, 500], 0);
    const actual: HaRow[] = [...asHa(desired), { start: h(2), state: 0, sum: 3 }];
    expect(planStatistics(desired, actual)).toEqual({ imports: [], adjustments: [], flattened: 0 });
  });

  it("an extra HA hour BEFORE the first desired hour is flattened too (no negative or stale delta)", () => {
    // HA: hour 0 = 1 kWh, hour 1 = 1 kWh (sums 11, 12 after a previous sum of 10).
    // Our data lost hour 0; hour 1 still 1 kWh, so desired hour 1 sum = 10 + 1 = 11.
    const actual: HaRow[] = [
      { start: h(0), state: 1, sum: 11 },
      { start: h(1), state: 1, sum: 12 },
    ];
    const desired: HourSum[] = [{ start: h(1), stateWh: 1000, sumWh: 11_000 }];
    const result = apply(actual, planStatistics(desired, actual));
    expectMatchesDesired(result, desired);
    // Hour 0 must not keep 1 kWh of energy we no longer have, and hour 1 must still show its 1 kWh.
    expect(result.get(h(0))!.state).toBe(0);
    expect(result.get(h(0))!.sum).toBeCloseTo(10, 9);
    expectNoNegativeDelta(result);
  });
});

describe("planStatistics: property", () => {
  it("applying the plan to a perturbed HA series yields exactly the desired rows, sums never decrease", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(1000 + seed);
      const ctx = `seed ${seed}`;
      const n = int(rnd, 1, 80);
      const states = Array.from({ length: n }, () => (rnd() < 0.12 ? null : rnd() < 0.1 ? 0 : Math.round(rnd() * 3000 * 10) / 10));
      if (states[0] === null) states[0] = 123; // the window starts at the first dirty hour with data
      const desired = desiredFrom(states, Math.round(rnd() * 1e7) / 10);
      if (desired.length === 0) continue;
      // Start from a faithful copy, then perturb.
      let actual: HaRow[] = asHa(desired).filter(() => rnd() > 0.1); // missing rows
      let shift = 0;
      actual = actual.map((r) => {
        if (rnd() < 0.08) shift += (rnd() - 0.5) * 10; // a step in every later sum
        const noise = rnd() < 0.05 ? (rnd() - 0.5) * 4 : 0; // a single off sum
        const state = rnd() < 0.1 ? Math.max(0, r.state + (rnd() < 0.5 ? -1 : 1) * (0.01 + rnd())) : r.state;
        return { start: r.start, state, sum: r.sum + shift + noise };
      });
      // Hours HA has but we do not: in our gaps and after our last hour.
      const lastK = (desired.at(-1)!.start - T0) / HOUR;
      for (let k = 1; k < lastK + 5; k++) {
        if (states[k] != null) continue;
        if (rnd() < 0.6) actual.push({ start: h(k), state: rnd() < 0.3 ? 0 : rnd() * 2, sum: 1000 + rnd() * 10 });
      }
      actual.sort((a, b) => a.start - b.start);
      const plan = planStatistics(desired, actual);
      // Adjustments are in time order and sums are absolute kWh.
      for (let k = 1; k < plan.adjustments.length; k++) expect(plan.adjustments[k]!.start, ctx).toBeGreaterThan(plan.adjustments[k - 1]!.start);
      const result = apply(actual, plan);
      expectMatchesDesired(result, desired, 1e-9, ctx);
      expectNoNegativeDelta(result, desired[0]!.start, ctx);
      // Imports never resend an hour that was already right.
      const have = new Map(actual.map((r) => [r.start, r]));
      for (const imp of plan.imports) {
        const before = have.get(imp.start);
        const want = desired.find((d) => d.start === imp.start);
        if (before && want) expect(Math.abs(before.state - want.stateWh / 1000) > 1e-6, ctx).toBe(true);
      }
    }
  });
});
