import { describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { addDays, dayBounds, dayStart, daysBetween, localDay, today } from "../../../src/analysis/days.js";

const HOUR = 3_600_000;
const utc = (iso: string) => Date.parse(iso);

describe("dayBounds", () => {
  it("an ordinary winter day in Paris is 24 h from 23:00Z the evening before", () => {
    expect(dayBounds("2026-01-15", "Europe/Paris")).toEqual({
      start: utc("2026-01-14T23:00:00Z"),
      end: utc("2026-01-15T23:00:00Z"),
    });
  });

  it("an ordinary summer day in Paris starts at 22:00Z", () => {
    expect(dayBounds("2026-07-01", "Europe/Paris")).toEqual({
      start: utc("2026-06-30T22:00:00Z"),
      end: utc("2026-07-01T22:00:00Z"),
    });
  });

  it("2026-03-29 (spring forward) is 23 h long", () => {
    const b = dayBounds("2026-03-29", "Europe/Paris");
    expect(b.start).toBe(utc("2026-03-28T23:00:00Z"));
    expect(b.end).toBe(utc("2026-03-29T22:00:00Z"));
    expect(b.end - b.start).toBe(23 * HOUR);
  });

  it("2026-10-25 (fall back) is 25 h long", () => {
    const b = dayBounds("2026-10-25", "Europe/Paris");
    expect(b.start).toBe(utc("2026-10-24T22:00:00Z"));
    expect(b.end).toBe(utc("2026-10-25T23:00:00Z"));
    expect(b.end - b.start).toBe(25 * HOUR);
  });

  it("Brussels shares the Paris transitions", () => {
    expect(dayBounds("2026-03-29", "Europe/Brussels")).toEqual(dayBounds("2026-03-29", "Europe/Paris"));
    expect(dayBounds("2026-10-25", "Europe/Brussels")).toEqual(dayBounds("2026-10-25", "Europe/Paris"));
  });

  it("works in other zones too (New York spring forward 2026-03-08)", () => {
    const b = dayBounds("2026-03-08", "America/New_York");
    expect(b.start).toBe(utc("2026-03-08T05:00:00Z"));
    expect(b.end).toBe(utc("2026-03-09T04:00:00Z"));
  });

  it("consecutive days tile time with no gap or overlap across both DST changes", () => {
    let day = "2026-01-01";
    let prevEnd = dayStart(day, "Europe/Paris");
    const lengths = new Map<number, number>();
    for (let i = 0; i < 365; i++, day = addDays(day, 1)) {
      const b = dayBounds(day, "Europe/Paris");
      expect(b.start).toBe(prevEnd);
      prevEnd = b.end;
      const h = (b.end - b.start) / HOUR;
      lengths.set(h, (lengths.get(h) ?? 0) + 1);
    }
    expect(Object.fromEntries(lengths)).toEqual({ 23: 1, 24: 363, 25: 1 });
  });

  it("rejects a malformed date", () => {
    expect(() => dayStart("2026-02-30", "Europe/Paris")).toThrow(/invalid local date/);
    expect(() => dayStart("not a date", "Europe/Paris")).toThrow();
  });
});

describe("addDays / daysBetween", () => {
  it.each([
    ["2026-01-31", 1, "2026-02-01"],
    ["2026-02-28", 1, "2026-03-01"],
    ["2028-02-28", 1, "2028-02-29"],
    ["2026-12-31", 1, "2027-01-01"],
    ["2027-01-01", -1, "2026-12-31"],
    ["2026-03-01", -1, "2026-02-28"],
    ["2026-03-28", 2, "2026-03-30"],
    ["2026-10-24", 2, "2026-10-26"],
    ["2026-01-01", 365, "2027-01-01"],
    ["2028-01-01", 366, "2029-01-01"],
    ["2026-06-15", 0, "2026-06-15"],
  ])("addDays(%s, %i) = %s", (day, n, expected) => {
    expect(addDays(day, n)).toBe(expected);
  });

  it.each([
    ["2026-01-31", "2026-02-01", 1],
    ["2026-12-31", "2027-01-01", 1],
    ["2026-03-28", "2026-03-30", 2],
    ["2026-10-24", "2026-10-26", 2],
    ["2026-01-01", "2027-01-01", 365],
    ["2028-01-01", "2029-01-01", 366],
    ["2027-01-01", "2026-01-01", -365],
    ["2026-05-05", "2026-05-05", 0],
  ])("daysBetween(%s, %s) = %i", (a, b, n) => {
    expect(daysBetween(a, b)).toBe(n);
  });

  it("addDays and daysBetween are inverse over three years, step by step", () => {
    let day = "2025-12-01";
    for (let n = 0; n < 3 * 366; n++) {
      expect(daysBetween("2025-12-01", day)).toBe(n);
      expect(addDays("2025-12-01", n)).toBe(day);
      day = addDays(day, 1);
    }
  });
});

describe("localDay / today", () => {
  it("maps UTC instants to the Paris calendar day, not the process zone's", () => {
    expect(localDay(utc("2026-03-28T22:59:59.999Z"), "Europe/Paris")).toBe("2026-03-28");
    expect(localDay(utc("2026-03-28T23:00:00Z"), "Europe/Paris")).toBe("2026-03-29");
    expect(localDay(utc("2026-03-29T21:59:59.999Z"), "Europe/Paris")).toBe("2026-03-29");
    expect(localDay(utc("2026-03-29T22:00:00Z"), "Europe/Paris")).toBe("2026-03-30");
    expect(localDay(utc("2026-10-25T22:59:59.999Z"), "Europe/Paris")).toBe("2026-10-25");
    expect(localDay(utc("2026-10-25T23:00:00Z"), "Europe/Paris")).toBe("2026-10-26");
    // Noon UTC is 00:45/01:45 next day in Pacific/Chatham (the test process zone): still the same Paris day.
    expect(localDay(utc("2026-06-10T12:00:00Z"), "Europe/Paris")).toBe("2026-06-10");
    expect(localDay(utc("2026-06-10T12:00:00Z"), "UTC")).toBe("2026-06-10");
  });

  it("localDay of every hour of a day's bounds is that day", () => {
    for (const day of ["2026-03-29", "2026-10-25", "2026-07-14"]) {
      const { start, end } = dayBounds(day, "Europe/Paris");
      for (let t = start; t < end; t += HOUR) expect(localDay(t, "Europe/Paris")).toBe(day);
      expect(localDay(end, "Europe/Paris")).toBe(addDays(day, 1));
      expect(localDay(start - 1, "Europe/Paris")).toBe(addDays(day, -1));
    }
  });

  it("today is the local date at the given instant", () => {
    expect(today("Europe/Paris", utc("2026-12-31T23:30:00Z"))).toBe("2027-01-01");
    expect(today("UTC", utc("2026-12-31T23:30:00Z"))).toBe("2026-12-31");
  });
});

describe("dayStart / localDay agree with luxon", () => {
  // The fast path (one cached Intl formatter) must give luxon's answer everywhere, including zones
  // whose DST change skips or repeats midnight (São Paulo until 2019, Havana, Beirut) and half-hour offsets.
  const zones = ["Europe/Paris", "America/New_York", "America/Sao_Paulo", "America/Havana", "Asia/Beirut", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"];
  it.each(zones)("%s, every day of 2017–2019 and 2026", (zone) => {
    for (const first of ["2017-01-01", "2026-01-01"]) {
      let day = first;
      for (let i = 0; i < (first === "2017-01-01" ? 3 * 365 : 365); i++, day = addDays(day, 1)) {
        const expected = DateTime.fromISO(day, { zone }).startOf("day").toMillis();
        expect(dayStart(day, zone), `${zone} ${day}`).toBe(expected);
        expect(localDay(expected, zone)).toBe(day);
        expect(localDay(expected + 13 * HOUR, zone)).toBe(DateTime.fromMillis(expected + 13 * HOUR, { zone }).toISODate());
      }
    }
  });

  it("an unknown zone is still an error", () => {
    expect(() => dayStart("2026-01-15", "Mars/Olympus")).toThrow(/invalid local date/);
  });
});
