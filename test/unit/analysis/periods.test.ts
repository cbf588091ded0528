/**
 * Local calendar periods against luxon (the reference): ISO weeks (week 53, weeks across New Year),
 * month and year arithmetic, same period last year (29 February, week 53), labels, covering ranges,
 * and day totals over DST days (23 h / 25 h, missing days null, never zero).
 */
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { summariseDays } from "../../../src/analysis/day-totals.js";
import { isoWeek, isoWeekStart, nextPeriodStart, periodLabel, periodsCovering, periodStart, samePeriodLastYear, shiftPeriod } from "../../../src/analysis/periods.js";

describe("periods", () => {
  it("ISO weeks and week starts agree with luxon for every day of 2004–2027", () => {
    for (let d = DateTime.fromISO("2004-01-01", { zone: "UTC" }); d.year < 2028; d = d.plus({ days: 1 })) {
      const day = d.toISODate()!;
      expect(isoWeek(day)).toEqual({ year: d.weekYear, week: d.weekNumber });
      expect(periodStart(day, "week")).toBe(d.startOf("week").toISODate());
      expect(periodStart(day, "month")).toBe(d.startOf("month").toISODate());
      expect(periodStart(day, "year")).toBe(d.startOf("year").toISODate());
    }
  });

  it("shifts, labels and the same period last year", () => {
    expect(shiftPeriod("2008-01-01", "month", -1)).toBe("2007-12-01");
    expect(shiftPeriod("2008-12-01", "month", 1)).toBe("2009-01-01");
    expect(shiftPeriod("2008-03-01", "month", -12)).toBe("2007-03-01");
    expect(nextPeriodStart("2008-12-29", "week")).toBe("2009-01-05");
    expect(periodLabel("2008-12-29", "week")).toBe("2009-W01");
    expect(periodLabel("2020-12-28", "week")).toBe("2020-W53");
    expect(samePeriodLastYear("2008-02-29", "day")).toBe("2007-02-28");
    expect(samePeriodLastYear("2008-11-01", "month")).toBe("2007-11-01");
    expect(samePeriodLastYear(isoWeekStart(2020, 53), "week")).toBe(isoWeekStart(2019, 52));
    expect(samePeriodLastYear(isoWeekStart(2009, 10), "week")).toBe(isoWeekStart(2008, 10));
    expect(periodsCovering("2008-01-15", "2008-03-02", "month").map((p) => p.start)).toEqual(["2008-01-01", "2008-02-01", "2008-03-01"]);
    expect(() => periodsCovering("2008-01-15", "2008-01-15", "day")).toThrow(/empty range/);
  });

  it("day totals: 23 h and 25 h DST days, a missing day is null, a partial day is not complete", () => {
    const zone = "Europe/Paris";
    const from = DateTime.fromISO("2026-10-24", { zone });
    const to = DateTime.fromISO("2026-10-28", { zone });
    const readings = [];
    for (let t = from.toMillis(); t < to.toMillis(); t += 1_800_000) {
      const day = DateTime.fromMillis(t, { zone }).toISODate()!;
      if (day === "2026-10-26") continue; // a missing day
      readings.push({ start: t, durationMs: 1_800_000, value: 100 });
    }
    readings.splice(readings.length - 3, 1); // 27th: one half-hour short
    const days = summariseDays(readings, zone, "2026-10-24", "2026-10-28");
    expect(days.map((d) => [d.day, (d.end - d.start) / 3_600_000, d.total, d.complete])).toEqual([
      ["2026-10-24", 24, 4800, true],
      ["2026-10-25", 25, 5000, true],
      ["2026-10-26", 24, null, false],
      ["2026-10-27", 24, 4700, false],
    ]);
  });
});
