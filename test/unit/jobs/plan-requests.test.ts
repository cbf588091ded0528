import { describe, expect, it } from "vitest";
import type { FetchRange, LocalDate, ProviderCapabilities, Resolution } from "../../../src/domain/types.js";
import type { DayCoverage } from "../../../src/store/coverage.js";
import { planRequests, type PlanInput } from "../../../src/jobs/plan-requests.js";

const DAY_MS = 86_400_000;
const TODAY = "2026-11-03";
const NOW = Date.parse("2026-11-03T09:00:00Z");

/** Calendar arithmetic done independently of the code under test. */
const shift = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const span = (r: FetchRange) => Math.round((Date.parse(`${r.end}T00:00:00Z`) - Date.parse(`${r.start}T00:00:00Z`)) / DAY_MS);
const daysOf = (r: FetchRange) => Array.from({ length: span(r) }, (_, k) => shift(r.start, k));

const CAPS: ProviderCapabilities = {
  kinds: ["electricity"],
  resolutions: { daily: { maxDaysPerCall: 365, historyDays: 1110 }, load_curve: { maxDaysPerCall: 7, historyDays: 745 } },
  dailyBudget: 40,
  hardDailyCap: 45,
  flows: ["consumption"],
  timezone: "Europe/Paris",
  scheduleWindow: ["06:00", "10:00"],
};

function coverage(days: Record<string, Partial<DayCoverage>> = {}, all?: { from: string; to: string }): ReadonlyMap<LocalDate, DayCoverage> {
  const m = new Map<LocalDate, DayCoverage>();
  if (all) for (let d = all.from; d < all.to; d = shift(d, 1)) m.set(d, { day: d, complete: true, fetchedAt: NOW - DAY_MS });
  for (const [day, c] of Object.entries(days)) m.set(day, { day, complete: true, fetchedAt: NOW - DAY_MS, ...c });
  return m;
}
const FULL = { from: shift(TODAY, -1200), to: TODAY };

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    today: TODAY,
    capabilities: CAPS,
    historyStart: {},
    coverage: { daily: coverage(), load_curve: coverage() },
    now: NOW,
    ...over,
  };
}

/** Asserts the requests of `resolution` are newest-first, at most `max` days, and tile exactly [from, to). */
function expectTiling(plan: FetchRange[], resolution: Resolution, max: number, from: string, to: string): void {
  const rs = plan.filter((r) => r.resolution === resolution);
  expect(rs.length).toBeGreaterThan(0);
  for (const r of rs) {
    expect(span(r)).toBeGreaterThanOrEqual(1);
    expect(span(r)).toBeLessThanOrEqual(max);
  }
  expect(rs[0]!.end).toBe(to);
  for (let k = 1; k < rs.length; k++) expect(rs[k]!.end).toBe(rs[k - 1]!.start); // newest first, contiguous
  expect(rs.at(-1)!.start).toBe(from);
  const days = rs.flatMap(daysOf);
  expect(new Set(days).size).toBe(days.length);
  expect(days.length).toBe(Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS));
}

describe("planRequests", () => {
  it("empty coverage: daily requests first (≤ 365 days, newest first), then weekly curve chunks, over the provider's whole history", () => {
    const plan = planRequests(input());
    const firstCurve = plan.findIndex((r) => r.resolution === "load_curve");
    expect(firstCurve).toBeGreaterThan(0);
    expect(plan.slice(0, firstCurve).every((r) => r.resolution === "daily")).toBe(true);
    expect(plan.slice(firstCurve).every((r) => r.resolution === "load_curve")).toBe(true);
    // Daily: 36 months + 15 days (1110 days) in 4 calls; curve: 24 months + 15 days in weekly calls.
    const dailyFrom = shift(TODAY, -1110);
    expectTiling(plan, "daily", 365, dailyFrom, TODAY);
    expect(plan.slice(0, firstCurve)).toEqual([
      { resolution: "daily", start: "2025-11-03", end: TODAY },
      { resolution: "daily", start: "2024-11-03", end: "2025-11-03" },
      { resolution: "daily", start: "2023-11-04", end: "2024-11-03" },
      { resolution: "daily", start: dailyFrom, end: "2023-11-04" },
    ]);
    expectTiling(plan, "load_curve", 7, shift(TODAY, -745), TODAY);
    expect(plan.length - firstCurve).toBe(Math.ceil(745 / 7));
    expect(plan[firstCurve]).toEqual({ resolution: "load_curve", start: shift(TODAY, -7), end: TODAY });
  });

  it("plans only the resolutions asked for, in that order", () => {
    const plan = planRequests(input({ resolutions: ["load_curve"] }));
    expect(plan.every((r) => r.resolution === "load_curve")).toBe(true);
    expectTiling(plan, "load_curve", 7, shift(TODAY, -745), TODAY);
  });

  it("everything complete → no request", () => {
    expect(planRequests(input({ coverage: { daily: coverage({}, FULL), load_curve: coverage({}, FULL) } }))).toEqual([]);
  });

  it("only yesterday missing → one daily and one curve request for [yesterday, today)", () => {
    const upToYesterday = { from: FULL.from, to: shift(TODAY, -1) };
    const plan = planRequests(input({ coverage: { daily: coverage({}, upToYesterday), load_curve: coverage({}, upToYesterday) } }));
    expect(plan).toEqual([
      { resolution: "daily", start: "2026-11-02", end: TODAY },
      { resolution: "load_curve", start: "2026-11-02", end: TODAY },
    ]);
  });

  it("a known history start is respected (and an older one does not widen the window)", () => {
    const plan = planRequests(input({ historyStart: { daily: "2026-01-10", load_curve: "2010-01-01" } }));
    expectTiling(plan, "daily", 365, "2026-01-10", TODAY);
    expectTiling(plan, "load_curve", 7, shift(TODAY, -745), TODAY);
  });

  it("history start after yesterday → nothing to ask", () => {
    const plan = planRequests(input({ historyStart: { daily: TODAY, load_curve: TODAY } }));
    expect(plan).toEqual([]);
  });

  it("incomplete days: recent ones always retried; old ones only when last fetched more than 7 days ago", () => {
    const curve = coverage(
      {
        [shift(TODAY, -1)]: { complete: false, fetchedAt: NOW - 3_600_000 }, // recent, just tried → retried
        [shift(TODAY, -3)]: { complete: false, fetchedAt: NOW - 60_000 }, // recent, just tried → retried
        [shift(TODAY, -30)]: { complete: false, fetchedAt: NOW - 2 * DAY_MS }, // old, tried recently → skipped
        [shift(TODAY, -60)]: { complete: false, fetchedAt: NOW - 6.9 * DAY_MS }, // old, < 7 days → skipped
        [shift(TODAY, -90)]: { complete: false, fetchedAt: NOW - 8 * DAY_MS }, // old, tried long ago → retried
      },
      FULL,
    );
    const plan = planRequests(input({ coverage: { daily: coverage({}, FULL), load_curve: curve } }));
    expect(plan.every((r) => r.resolution === "load_curve")).toBe(true);
    const wanted = plan.flatMap((r) => [r.start, shift(r.end, -1)]);
    expect(new Set(wanted)).toEqual(new Set([shift(TODAY, -1), shift(TODAY, -3), shift(TODAY, -90)]));
    // Each request spans only from its oldest to its newest wanted day.
    expect(plan).toEqual([
      { resolution: "load_curve", start: shift(TODAY, -3), end: TODAY },
      { resolution: "load_curve", start: shift(TODAY, -90), end: shift(TODAY, -89) },
    ]);
  });

  it("days outside the window are never asked, even if missing", () => {
    const plan = planRequests(input({ coverage: { daily: coverage({}, { from: shift(TODAY, -1110), to: TODAY }), load_curve: coverage({}, FULL) } }));
    expect(plan).toEqual([]);
  });

  it("a provider without a load curve gets daily requests only", () => {
    const plan = planRequests(input({ capabilities: { ...CAPS, resolutions: { daily: CAPS.resolutions.daily! } } }));
    expect(plan.every((r) => r.resolution === "daily")).toBe(true);
    expect(plan).toHaveLength(4);
  });
});
