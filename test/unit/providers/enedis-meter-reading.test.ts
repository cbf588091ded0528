import { describe, expect, it } from "vitest";
import {
  parseJsonBody,
  parseMeterReading,
  unwrapMeterReading,
  type ParseMeterReadingOptions,
} from "../../../src/providers/enedis-meter-reading.js";
import { fixture, meterReading, PRM, thrown } from "./fixtures/helpers.js";

const HOUR = 3_600_000;
const HALF = 1_800_000;
const utc = (iso: string): number => Date.parse(iso);

function opts(resolution: ParseMeterReadingOptions["resolution"], now = "2030-01-01T00:00:00Z"): ParseMeterReadingOptions {
  return { prm: PRM, resolution, timezone: "Europe/Paris", now: () => utc(now) };
}


/** The 48 standard half-hour end stamps of a local day, "00:30" … "23:30", then next day "00:00". */
function halfHourStamps(day: string, nextDay: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < 48; i++) {
    const h = String(Math.floor(i / 2)).padStart(2, "0");
    out.push(`${day} ${h}:${i % 2 ? "30" : "00"}:00`);
  }
  out.push(`${nextDay} 00:00:00`);
  return out;
}

describe("parseMeterReading — recorded fixtures (providers.md §1.5)", () => {
  it("parses the 3-day daily consumption into local-midnight days in Wh", () => {
    const inner = unwrapMeterReading(fixture("daily-3-days.json"));
    const r = parseMeterReading(inner, opts("daily"));
    expect(r.rejected).toEqual([]);
    expect(r.endOfHistory).toBe(false);
    expect(r.readings).toEqual([
      // Paris is UTC+2 in April: local midnight = 22:00Z the day before.
      { start: utc("2023-03-31T22:00:00Z"), durationMs: 24 * HOUR, value: 11776, quality: "BRUT" },
      { start: utc("2023-04-01T22:00:00Z"), durationMs: 24 * HOUR, value: 14401, quality: "BRUT" },
      { start: utc("2023-04-02T22:00:00Z"), durationMs: 24 * HOUR, value: 12820, quality: "BRUT" },
    ]);
  });

  it("parses the load curve as end-stamped W averages converted to Wh", () => {
    const inner = unwrapMeterReading(fixture("load-curve-excerpt.json"));
    const r = parseMeterReading(inner, opts("load_curve"));
    expect(r.rejected).toEqual([]);
    expect(r.readings).toEqual([
      { start: utc("2023-03-31T22:00:00Z"), durationMs: HALF, value: 376, quality: "BRUT" },
      { start: utc("2023-03-31T22:30:00Z"), durationMs: HALF, value: 173, quality: "BRUT" },
      { start: utc("2023-04-01T21:00:00Z"), durationMs: HALF, value: 72, quality: "BRUT" },
      { start: utc("2023-04-01T21:30:00Z"), durationMs: HALF, value: 44, quality: "BRUT" },
    ]);
  });

  it("accepts the unwrapped Conso API shape and rejects a body without meter_reading", () => {
    const inner = unwrapMeterReading(fixture("daily-3-days.json"));
    expect(parseMeterReading(inner, opts("daily")).readings).toHaveLength(3);
    const e = thrown(() => unwrapMeterReading({ readings: [] }, "MyElectricalData"));
    expect(e.code).toBe("invalid_response");
    expect(e.message).toMatch(/meter_reading/);
  });
});

describe("parseMeterReading — DST days in Europe/Paris", () => {
  it("spring forward: 46 half-hours from 23:00Z, 01:30 → 03:00 is one interval, daily 23 h", () => {
    const stamps = halfHourStamps("2026-03-29", "2026-03-30").filter((s) => !/ 02:(00|30):00$/.test(s));
    expect(stamps).toHaveLength(46);
    const points = stamps.map((date, i) => ({ value: String(1000 + 10 * i), date, interval_length: "PT30M" }));
    const r = parseMeterReading(meterReading(points), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    expect(r.readings).toHaveLength(46);
    const first = utc("2026-03-28T23:00:00Z");
    r.readings.forEach((reading, i) => {
      expect(reading.start).toBe(first + i * HALF);
      expect(reading.durationMs).toBe(HALF);
      expect(reading.value).toBe((1000 + 10 * i) / 2);
    });
    // "03:00:00" closes the interval that started at 01:30 CET = 00:30Z.
    const idx = stamps.indexOf("2026-03-29 03:00:00");
    expect(r.readings[idx]!.start).toBe(utc("2026-03-29T00:30:00Z"));
    const total = r.readings.reduce((s, x) => s + x.value, 0);
    expect(total).toBe(points.reduce((s, p) => s + Number(p.value) / 2, 0));

    const daily = parseMeterReading(meterReading([{ value: String(total), date: "2026-03-29" }]), opts("daily"));
    expect(daily.readings).toEqual([{ start: first, durationMs: 23 * HOUR, value: total, quality: "BRUT" }]);
  });

  it("fall back: 50 half-hours from 22:00Z, repeated 02:00/02:30 resolved by order, daily 25 h", () => {
    const base = halfHourStamps("2026-10-25", "2026-10-26");
    const at = base.indexOf("2026-10-25 02:30:00") + 1;
    const stamps = [...base.slice(0, at), "2026-10-25 02:00:00", "2026-10-25 02:30:00", ...base.slice(at)];
    expect(stamps).toHaveLength(50);
    const points = stamps.map((date, i) => ({ value: String(500 + i), date, interval_length: "PT30M" }));
    const r = parseMeterReading(meterReading(points), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    expect(r.readings).toHaveLength(50);
    const first = utc("2026-10-24T22:00:00Z");
    r.readings.forEach((reading, i) => {
      expect(reading.start).toBe(first + i * HALF);
      expect(reading.value).toBe((500 + i) / 2);
    });
    // First "02:00" = 02:00 CEST = 00:00Z (end); second = 02:00 CET = 01:00Z (end).
    const firstTwo = stamps.indexOf("2026-10-25 02:00:00");
    const secondTwo = stamps.lastIndexOf("2026-10-25 02:00:00");
    expect(r.readings[firstTwo]!.start + HALF).toBe(utc("2026-10-25T00:00:00Z"));
    expect(r.readings[secondTwo]!.start + HALF).toBe(utc("2026-10-25T01:00:00Z"));
    const total = r.readings.reduce((s, x) => s + x.value, 0);
    expect(total).toBe(points.reduce((s, p) => s + Number(p.value) / 2, 0));

    const daily = parseMeterReading(meterReading([{ value: "9000", date: "2026-10-25" }]), opts("daily"));
    expect(daily.readings).toEqual([{ start: first, durationMs: 25 * HOUR, value: 9000, quality: "BRUT" }]);
  });

  it("does not depend on the process time zone", () => {
    expect(process.env.TZ).toBe("Pacific/Chatham");
  });

  it("rejects a stamp inside the spring-forward gap and a third occurrence of a fold stamp", () => {
    const r = parseMeterReading(
      meterReading([
        { value: "100", date: "2026-03-29 02:30:00" },
        { value: "100", date: "2026-10-25 02:30:00" },
        { value: "100", date: "2026-10-25 02:30:00" },
        { value: "100", date: "2026-10-25 02:30:00" },
      ]),
      opts("load_curve"),
    );
    expect(r.readings).toHaveLength(2);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      expect.stringMatching(/does not exist in Europe\/Paris/),
      expect.stringMatching(/repeats an interval already read/),
    ]);
  });
});

describe("parseMeterReading — values, intervals and validation", () => {
  it("handles interval_length changing within a series, and defaults to PT30M", () => {
    const r = parseMeterReading(
      meterReading([
        { value: "600", date: "2024-01-10 10:00:00", interval_length: "PT60M" },
        { value: "600", date: "2024-01-10 10:10:00", interval_length: "PT10M" },
        { value: "600", date: "2024-01-10 10:15:00", interval_length: "PT5M" },
        { value: "600", date: "2024-01-10 10:30:00", interval_length: "PT15M" },
        { value: "600", date: "2024-01-10 11:00:00" },
      ]),
      opts("load_curve"),
    );
    expect(r.rejected).toEqual([]);
    // Winter: Paris = UTC+1.
    expect(r.readings.map((x) => [new Date(x.start).toISOString(), x.durationMs / 60_000, x.value])).toEqual([
      ["2024-01-10T08:00:00.000Z", 60, 600],
      ["2024-01-10T09:00:00.000Z", 10, 100],
      ["2024-01-10T09:10:00.000Z", 5, 50],
      ["2024-01-10T09:15:00.000Z", 15, 150],
      ["2024-01-10T09:30:00.000Z", 30, 300],
    ]);
  });

  it("parses decimal values in both shapes", () => {
    const curve = parseMeterReading(meterReading([{ value: "1565.4", date: "2024-01-10 10:30:00", interval_length: "PT30M" }]), opts("load_curve"));
    expect(curve.readings[0]!.value).toBeCloseTo(782.7, 9);
    const daily = parseMeterReading(meterReading([{ value: "11776.5", date: "2024-01-10" }]), opts("daily"));
    expect(daily.readings[0]!.value).toBe(11776.5);
  });

  it("rejects negative, non-numeric, unparseable and future points and keeps the rest", () => {
    const r = parseMeterReading(
      meterReading([
        { value: "100", date: "2026-11-03 10:00:00" },
        { value: "-12", date: "2026-11-03 10:30:00" },
        { value: "abc", date: "2026-11-03 10:30:00" },
        { value: "100", date: "2026-11-03 25:00:00" },
        { value: "100", date: "yesterday" },
        { value: "100", date: "2026-11-03 11:00:00", interval_length: "PTxM" },
        { value: "100", date: "2026-11-03 12:00:00" },
      ]),
      opts("load_curve", "2026-11-03T10:00:00Z"), // 11:00 local
    );
    expect(r.readings).toEqual([{ start: utc("2026-11-03T08:30:00Z"), durationMs: HALF, value: 50, quality: "BRUT" }]);
    expect(r.rejected).toEqual([
      { raw: "2026-11-03 10:30:00", reason: "value -12 W at 2026-11-03 10:30:00 is negative" },
      { raw: "2026-11-03 10:30:00", reason: expect.stringContaining('"abc"') },
      { raw: "2026-11-03 25:00:00", reason: expect.stringContaining("not a local date-time") },
      { raw: "yesterday", reason: expect.stringContaining("not a local date-time") },
      { raw: "2026-11-03 11:00:00", reason: expect.stringContaining("interval_length") },
      { raw: "2026-11-03 12:00:00", reason: expect.stringContaining("in the future") },
    ]);
  });

  it("rejects a daily value for today (day not over) and an invalid calendar date", () => {
    const r = parseMeterReading(
      meterReading([
        { value: "100", date: "2026-11-02" },
        { value: "100", date: "2026-11-03" },
        { value: "100", date: "2026-02-30" },
        { value: "-1", date: "2026-11-01" },
      ]),
      opts("daily", "2026-11-03T12:00:00Z"),
    );
    expect(r.readings.map((x) => x.start)).toEqual([utc("2026-11-01T23:00:00Z")]);
    expect(r.rejected.map((x) => x.raw)).toEqual(["2026-11-03", "2026-02-30", "2026-11-01"]);
    expect(r.rejected[2]!.reason).toBe("value -1 Wh at 2026-11-01 is negative");
  });

  it("throws invalid_prm when the response is for another usage point", () => {
    const e = thrown(() => parseMeterReading({ ...meterReading([]), usage_point_id: "22222222222222" }, opts("daily")));
    expect(e.code).toBe("invalid_prm");
    expect(e.message).toContain("answered for usage point 22222222222222, expected 11111111111111");
  });

  it("throws invalid_response naming the field for a wrong shape or unit", () => {
    const missing = thrown(() => parseMeterReading({ usage_point_id: PRM }, opts("daily")));
    expect(missing.code).toBe("invalid_response");
    expect(missing.message).toContain("interval_reading");
    const notArray = thrown(() => parseMeterReading({ usage_point_id: PRM, interval_reading: [42] }, opts("daily")));
    expect(notArray.message).toContain("interval_reading.0");
    const unit = thrown(() =>
      parseMeterReading(meterReading([], { reading_type: { unit: "W" } }), opts("daily")),
    );
    expect(unit.code).toBe("invalid_response");
    expect(unit.message).toContain("expected Wh");
  });

  it("throws invalid_response for malformed JSON", () => {
    const e = thrown(() => parseJsonBody("<html>oops", "Conso API"));
    expect(e.code).toBe("invalid_response");
    expect(e.message).toContain("Conso API returned malformed JSON");
  });

  it("keeps quality null when absent", () => {
    const r = parseMeterReading({ usage_point_id: PRM, interval_reading: [{ value: "1", date: "2024-01-01" }] }, opts("daily"));
    expect(r.readings[0]!.quality).toBeNull();
  });
});
