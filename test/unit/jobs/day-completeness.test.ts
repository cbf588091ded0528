import { describe, expect, it } from "vitest";
import type { Reading } from "../../../src/domain/types.js";
import { dayCompleteness } from "../../../src/jobs/fetch-meter.js";

const HOUR = 3_600_000;
const HALF = 1_800_000;
const ZONE = "Europe/Paris";
const utc = (iso: string) => Date.parse(iso);
const daily = (startIso: string, hours: number, value = 9000): Reading => ({ start: utc(startIso), durationMs: hours * HOUR, value, quality: null });
const halfHours = (startIso: string, n: number): Reading[] =>
  Array.from({ length: n }, (_, k) => ({ start: utc(startIso) + k * HALF, durationMs: HALF, value: 100, quality: "BRUT" }));

describe("dayCompleteness", () => {
  it("daily range: a day is complete when its daily reading spans the whole local day (23/24/25 h)", () => {
    const readings = [
      daily("2026-03-27T23:00:00Z", 24), // 03-28
      daily("2026-03-28T23:00:00Z", 23), // 03-29, spring forward
      // 03-30 missing
    ];
    expect(dayCompleteness(readings, { resolution: "daily", start: "2026-03-28", end: "2026-03-31" }, ZONE)).toEqual([
      { day: "2026-03-28", complete: true },
      { day: "2026-03-29", complete: true },
      { day: "2026-03-30", complete: false },
    ]);
  });

  it("daily range: a 24 h reading on the 23 h or 25 h day does not make it complete", () => {
    const readings = [daily("2026-03-28T23:00:00Z", 24), daily("2026-10-24T22:00:00Z", 24)];
    expect(dayCompleteness(readings, { resolution: "daily", start: "2026-03-29", end: "2026-03-30" }, ZONE)).toEqual([
      { day: "2026-03-29", complete: false },
    ]);
    expect(dayCompleteness(readings, { resolution: "daily", start: "2026-10-25", end: "2026-10-26" }, ZONE)).toEqual([
      { day: "2026-10-25", complete: false },
    ]);
    expect(
      dayCompleteness([daily("2026-10-24T22:00:00Z", 25)], { resolution: "daily", start: "2026-10-25", end: "2026-10-26" }, ZONE),
    ).toEqual([{ day: "2026-10-25", complete: true }]);
  });

  it("curve range: an ordinary day needs 48 half-hours, the DST days 46 and 50", () => {
    const range = { resolution: "load_curve" as const, start: "2026-03-28", end: "2026-03-31" };
    const full = [
      ...halfHours("2026-03-27T23:00:00Z", 48),
      ...halfHours("2026-03-28T23:00:00Z", 46),
      ...halfHours("2026-03-29T22:00:00Z", 47), // one missing
    ];
    expect(dayCompleteness(full, range, ZONE)).toEqual([
      { day: "2026-03-28", complete: true },
      { day: "2026-03-29", complete: true },
      { day: "2026-03-30", complete: false },
    ]);
    const short = [...halfHours("2026-03-28T23:00:00Z", 45)];
    expect(dayCompleteness(short, { resolution: "load_curve", start: "2026-03-29", end: "2026-03-30" }, ZONE)).toEqual([
      { day: "2026-03-29", complete: false },
    ]);
    const fall = { resolution: "load_curve" as const, start: "2026-10-25", end: "2026-10-26" };
    expect(dayCompleteness(halfHours("2026-10-24T22:00:00Z", 50), fall, ZONE)).toEqual([{ day: "2026-10-25", complete: true }]);
    expect(dayCompleteness(halfHours("2026-10-24T22:00:00Z", 48), fall, ZONE)).toEqual([{ day: "2026-10-25", complete: false }]);
  });

  it("curve range: a daily reading alone does not make the curve complete", () => {
    expect(
      dayCompleteness([daily("2026-01-14T23:00:00Z", 24)], { resolution: "load_curve", start: "2026-01-15", end: "2026-01-16" }, ZONE),
    ).toEqual([{ day: "2026-01-15", complete: false }]);
  });

  it("attributes half-hours to the Paris day, not the UTC or process-zone day", () => {
    // 2026-01-15 in Paris = 2026-01-14T23:00Z … 2026-01-15T23:00Z: its first half-hours are on 01-14 in UTC.
    const readings = halfHours("2026-01-14T23:00:00Z", 48);
    expect(dayCompleteness(readings, { resolution: "load_curve", start: "2026-01-14", end: "2026-01-17" }, ZONE)).toEqual([
      { day: "2026-01-14", complete: false },
      { day: "2026-01-15", complete: true },
      { day: "2026-01-16", complete: false },
    ]);
  });
});
