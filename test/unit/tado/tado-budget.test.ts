/** Pure parts of the Tado budget: the rate-limit headers, the budget window, pacing. */
import { describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { parseRateLimit, parseRetryAfter } from "../../../src/providers/tado-ratelimit.js";
import { budgetWindow, callsLeft, effectiveTadoBudget, MIN_POLL_INTERVAL_MS, planNextPoll, TADO_HARD_CAP } from "../../../src/modules/tado/tado-budget.js";

const h = (o: Record<string, string>) => new Headers(o);

describe("RateLimit headers", () => {
  it("reads the shapes seen on Tado's API (core#162858, ha-tado-x#48)", () => {
    expect(parseRateLimit(h({ "RateLimit-Policy": '"perday";q=20000;w=86400', RateLimit: '"perday";r=15211' }))).toEqual({
      policy: "perday",
      quota: 20000,
      windowS: 86400,
      remaining: 15211,
    });
    expect(parseRateLimit(h({ RateLimit: '"perday";r=0;t=46416' }))).toEqual({ policy: "perday", remaining: 0, resetS: 46416 });
  });
  it("ignores what it cannot read, never throws", () => {
    expect(parseRateLimit(h({}))).toEqual({});
    expect(parseRateLimit(h({ RateLimit: "garbage;;r=abc;t=-1" }))).toEqual({ policy: "garbage" });
  });
  it("Retry-After in seconds or as an HTTP date", () => {
    const now = Date.UTC(2026, 0, 1, 12);
    expect(parseRetryAfter(h({ "Retry-After": "120" }), now)).toBe(120);
    expect(parseRetryAfter(h({ "Retry-After": new Date(now + 90_000).toUTCString() }), now)).toBe(90);
    expect(parseRetryAfter(h({}), now)).toBeUndefined();
  });
});

describe("budget window", () => {
  it("runs 12:00 to 12:00 Europe/Berlin, also across a DST change", () => {
    const at = (iso: string) => DateTime.fromISO(iso, { zone: "Europe/Berlin" }).toMillis();
    expect(budgetWindow(at("2026-01-15T11:59"))).toMatchObject({ day: "2026-01-14", start: at("2026-01-14T12:00"), end: at("2026-01-15T12:00") });
    expect(budgetWindow(at("2026-01-15T12:00"))).toMatchObject({ day: "2026-01-15" });
    const spring = budgetWindow(at("2026-03-28T13:00"));
    expect(spring.end - spring.start).toBe(23 * 3_600_000);
  });
  it("the budget option is clamped to [1, hard cap]", () => {
    expect(effectiveTadoBudget(undefined)).toBe(100);
    expect(effectiveTadoBudget(50_000)).toBe(TADO_HARD_CAP);
    expect(effectiveTadoBudget(0)).toBe(1);
  });
});

describe("pacing", () => {
  const now = DateTime.fromISO("2026-01-15T12:00", { zone: "Europe/Berlin" }).toMillis();
  const day = 24 * 3_600_000;

  it("spreads the calls left over the rest of the window", () => {
    const p = planNextPoll({ now, limit: 100, reserve: 10, used: 0 });
    expect(p).toEqual({ at: now + day / 90, left: 90, reason: "paced" });
    // Half the window gone with 45 calls left: the same pace.
    expect(planNextPoll({ now: now + day / 2, limit: 100, reserve: 10, used: 45 }).at - (now + day / 2)).toBe(day / 2 / 45);
  });
  it("the interval grows as the quota Tado reports shrinks (the smaller count wins)", () => {
    const intervals = [90, 50, 20, 11].map((remaining) => planNextPoll({ now, limit: 100, reserve: 10, used: 0, quota: { remaining, resetAt: null, observedAt: now, pausedUntil: null } }).at - now);
    for (let i = 1; i < intervals.length; i++) expect(intervals[i]!).toBeGreaterThan(intervals[i - 1]!);
    expect(intervals.at(-1)).toBe(day);
  });
  it("never polls into the reserve: waits for the window's end or the reset Tado gave", () => {
    expect(callsLeft({ now, limit: 100, reserve: 10, used: 90 })).toBe(0);
    expect(planNextPoll({ now, limit: 100, reserve: 10, used: 90 })).toEqual({ at: now + day, left: 0, reason: "spent" });
    const q = { remaining: 10, resetAt: now + 3_600_000, observedAt: now, pausedUntil: null };
    expect(planNextPoll({ now, limit: 100, reserve: 10, used: 3, quota: q })).toEqual({ at: now + 3_600_000, left: 0, reason: "spent" });
    // Once that reset has passed, Tado's old count no longer binds.
    expect(callsLeft({ now: now + 3_600_001, limit: 100, reserve: 10, used: 3, quota: q })).toBe(87);
  });
  it("a count read in an earlier window is ignored; a pause is honoured; never faster than 5 min", () => {
    const old = { remaining: 0, resetAt: null, observedAt: now - 1, pausedUntil: null };
    expect(callsLeft({ now, limit: 100, reserve: 10, used: 0, quota: old })).toBe(90);
    expect(planNextPoll({ now, limit: 100, reserve: 10, used: 0, quota: { ...old, pausedUntil: now + 60_000 } })).toMatchObject({ at: now + 60_000, reason: "paused" });
    expect(planNextPoll({ now, limit: 20_000, reserve: 10, used: 0 }).at - now).toBe(MIN_POLL_INTERVAL_MS);
  });
});
