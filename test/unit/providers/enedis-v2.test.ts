import { describe, expect, it } from "vitest";
import { parseEnedisV2, parseEnedisV2MaxPower, type EnedisV2Options } from "../../../src/providers/enedis-v2.js";
import { fixture, halfHourEndStamps, medShift, PRM, v2Body, type V2Point, thrown } from "./fixtures/helpers.js";

const HOUR = 3_600_000;
const HALF = 1_800_000;
const utc = (iso: string): number => Date.parse(iso);

function opts(resolution: EnedisV2Options["resolution"], extra: Partial<EnedisV2Options> = {}): EnedisV2Options {
  return { usagePoint: PRM, resolution, timezone: "Europe/Paris", now: () => utc("2030-01-01T00:00:00Z"), ...extra };
}


describe("parseEnedisV2 — the reference shapes (enedis-2026.md §3)", () => {
  it("daily consommation_quotidienne: Wh per local day, quality = etapeMetier", () => {
    const r = parseEnedisV2(fixture("v2-daily.json"), opts("daily"));
    expect(r).toEqual({
      readings: [
        { start: utc("2026-09-28T22:00:00Z"), durationMs: 24 * HOUR, value: 33495, quality: "BRUT" },
        { start: utc("2026-09-29T22:00:00Z"), durationMs: 24 * HOUR, value: 38022, quality: "BRUT" },
      ],
      rejected: [],
      endOfHistory: false,
    });
  });

  it("load curve: end-stamped W averages → Wh, first point 00:30 closes 00:00–00:30", () => {
    const r = parseEnedisV2(fixture("v2-load-curve.json"), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    expect(r.readings).toEqual([
      { start: utc("2026-09-28T22:00:00Z"), durationMs: HALF, value: 2039, quality: "BRUT" },
      { start: utc("2026-09-28T22:30:00Z"), durationMs: HALF, value: 1424, quality: "BRUT" },
      { start: utc("2026-09-30T21:30:00Z"), durationMs: HALF, value: 1987, quality: "BRUT" },
    ]);
  });

  it("production: reads the PROD series when meter.flow is production, refuses CONS-only bodies for it", () => {
    const r = parseEnedisV2(fixture("v2-production-daily.json"), opts("daily", { flow: "production" }));
    expect(r.readings.map((x) => x.value)).toEqual([6431, 7210]);
    const e = thrown(() => parseEnedisV2(fixture("v2-daily.json"), opts("daily", { flow: "production" })));
    expect(e.code).toBe("invalid_response");
    expect(e.message).toContain("no PROD EA series");
    expect(e.message).toContain("CONS/EA");
  });

  it("picks the grandeur by grandeurMetier among several series", () => {
    const body = fixture("v2-daily.json");
    const cons = (body.grandeur as object[])[0]!;
    const prod = { ...cons, grandeurMetier: "PROD", points: [{ v: "1", d: "2026-09-29" }] };
    (body as Record<string, unknown>).grandeur = [prod, cons];
    expect(parseEnedisV2(body, opts("daily")).readings.map((x) => x.value)).toEqual([33495, 38022]);
    expect(parseEnedisV2(body, opts("daily", { flow: "production" })).readings.map((x) => x.value)).toEqual([1]);
  });

  it("max power PMA in VA: day, value and UTC instant of the peak", () => {
    const r = parseEnedisV2MaxPower(fixture("v2-max-power.json"), opts("daily"));
    expect(r).toEqual({
      points: [
        { day: "2026-09-29", valueVa: 4680, at: utc("2026-09-29T11:03:35Z") },
        { day: "2026-09-30", valueVa: 5120, at: utc("2026-09-30T17:41:02Z") },
      ],
      rejected: [],
      endOfHistory: false,
    });
  });

  it("accepts a body rebuilt from the MED cache (only idPrm, periode, grandeur; unite null)", () => {
    const r = parseEnedisV2(
      { idPrm: PRM, periode: { dateDebut: "2026-09-29", dateFin: "2026-09-30" }, grandeur: [{ grandeurMetier: "CONS", grandeurPhysique: "EA", unite: null, points: [{ v: "5", d: "2026-09-29" }] }] },
      opts("daily"),
    );
    expect(r.readings).toEqual([{ start: utc("2026-09-28T22:00:00Z"), durationMs: 24 * HOUR, value: 5, quality: null }]);
  });

  it("an empty grandeur[] is no data (no readings, not an error)", () => {
    expect(parseEnedisV2({ idPrm: PRM, grandeur: [] }, opts("daily"))).toEqual({ readings: [], rejected: [], endOfHistory: false });
  });
});

describe("parseEnedisV2 — points", () => {
  it("v: null and a missing v are missing points: rejected with a reason, never 0", () => {
    const r = parseEnedisV2(
      v2Body([
        { v: "1000", d: "2026-09-29 00:30:00", p: "PT30M" },
        { v: null, d: "2026-09-29 01:00:00", p: "PT30M" },
        { d: "2026-09-29 01:30:00", p: "PT30M" },
        { v: "1000", d: "2026-09-29 02:00:00", p: "PT30M" },
      ]),
      opts("load_curve"),
    );
    expect(r.readings.map((x) => x.value)).toEqual([500, 500]);
    expect(r.rejected).toEqual([
      { raw: "2026-09-29 01:00:00", reason: expect.stringMatching(/v is null\): missing point/) },
      { raw: "2026-09-29 01:30:00", reason: expect.stringMatching(/v is absent\): missing point/) },
    ]);
  });

  it("a step change PT30M → PT10M inside a series: duration and energy from each point's own p", () => {
    const points: V2Point[] = [
      { v: "600", d: "2026-01-10 10:00:00", p: "PT30M" },
      { v: "600", d: "2026-01-10 10:30:00", p: "PT30M" },
      { v: "600", d: "2026-01-10 10:40:00", p: "PT10M" },
      { v: "600", d: "2026-01-10 10:50:00", p: "PT10M" },
      { v: "600", d: "2026-01-10 11:00:00", p: "PT10M" },
      { v: "600", d: "2026-01-10 11:05:00", p: "PT5M" },
      { v: "600", d: "2026-01-10 12:05:00", p: "PT60M" },
    ];
    const r = parseEnedisV2(v2Body(points), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    // Winter: Paris = UTC+1.
    expect(r.readings.map((x) => [new Date(x.start).toISOString(), x.durationMs / 60_000, x.value])).toEqual([
      ["2026-01-10T08:30:00.000Z", 30, 300],
      ["2026-01-10T09:00:00.000Z", 30, 300],
      ["2026-01-10T09:30:00.000Z", 10, 100],
      ["2026-01-10T09:40:00.000Z", 10, 100],
      ["2026-01-10T09:50:00.000Z", 10, 100],
      ["2026-01-10T10:00:00.000Z", 5, 50],
      ["2026-01-10T10:05:00.000Z", 60, 600],
    ]);
    // 2 h 35 min of 600 W = 1550 Wh, whatever the steps.
    expect(r.readings.reduce((s, x) => s + x.value, 0)).toBe(1550);
  });

  it("rejects negative, non-numeric, unreadable, future points and a curve point without p; keeps the rest", () => {
    const r = parseEnedisV2(
      v2Body([
        { v: "100", d: "2026-11-03 10:00:00", p: "PT30M" },
        { v: "-12", d: "2026-11-03 10:30:00", p: "PT30M" },
        { v: "abc", d: "2026-11-03 10:30:00", p: "PT30M" },
        { v: "100", d: "2026-11-03 25:00:00", p: "PT30M" },
        { v: "100", d: "2026-11-03 11:00:00", p: "PT0M" },
        { v: "100", d: "2026-11-03 11:00:00" },
        { v: "100", d: "2026-11-03 12:00:00", p: "PT30M" },
      ]),
      opts("load_curve", { now: () => utc("2026-11-03T10:00:00Z") }), // 11:00 local
    );
    expect(r.readings).toEqual([{ start: utc("2026-11-03T08:30:00Z"), durationMs: HALF, value: 50, quality: "BRUT" }]);
    expect(r.rejected).toEqual([
      { raw: "2026-11-03 10:30:00", reason: "value -12 W at 2026-11-03 10:30:00 is negative" },
      { raw: "2026-11-03 10:30:00", reason: expect.stringContaining('"abc"') },
      { raw: "2026-11-03 25:00:00", reason: expect.stringContaining("not a local date-time") },
      { raw: "2026-11-03 11:00:00", reason: expect.stringContaining('p "PT0M"') },
      { raw: "2026-11-03 11:00:00", reason: expect.stringContaining("p null") },
      { raw: "2026-11-03 12:00:00", reason: expect.stringContaining("in the future") },
    ]);
  });

  it("daily: rejects today (day not over), a duplicate day and a negative value", () => {
    const r = parseEnedisV2(
      v2Body(
        [
          { v: "100", d: "2026-11-01" },
          { v: "100", d: "2026-11-01" },
          { v: "-1", d: "2026-11-02" },
          { v: "100", d: "2026-11-03" },
        ],
        { physique: "EA", unite: "Wh" },
      ),
      opts("daily", { now: () => utc("2026-11-03T12:00:00Z") }),
    );
    expect(r.readings.map((x) => x.start)).toEqual([utc("2026-10-31T23:00:00Z")]);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      "date 2026-11-01 appears more than once",
      "value -1 Wh at 2026-11-02 is negative",
      expect.stringContaining("not over"),
    ]);
  });

  it("an out-of-order series: an earlier new interval is kept, a repeat of any earlier one (not just the last) is rejected", () => {
    const r = parseEnedisV2(
      v2Body([
        { v: "1000", d: "2026-01-10 01:00:00", p: "PT30M" },
        { v: "1000", d: "2026-01-10 02:00:00", p: "PT30M" },
        { v: "1000", d: "2026-01-10 03:00:00", p: "PT30M" },
        { v: "2000", d: "2026-01-10 01:30:00", p: "PT30M" }, // new, between the first two
        { v: "3000", d: "2026-01-10 02:00:00", p: "PT30M" }, // repeats the second
        { v: "4000", d: "2026-01-10 01:30:00", p: "PT30M" }, // repeats the one inserted above
        { v: "5000", d: "2026-01-10 00:30:00", p: "PT30M" }, // new, before them all
      ]),
      opts("load_curve"),
    );
    expect(r.readings.map((x) => [new Date(x.start).toISOString(), x.value])).toEqual([
      ["2026-01-09T23:30:00.000Z", 500],
      ["2026-01-10T00:30:00.000Z", 500],
      ["2026-01-10T01:30:00.000Z", 500],
      ["2026-01-10T00:00:00.000Z", 1000],
      ["2026-01-09T23:00:00.000Z", 2500],
    ]);
    expect(r.rejected.map((x) => x.raw)).toEqual(["2026-01-10 02:00:00", "2026-01-10 01:30:00"]);
  });

  it("accepts d with an ISO offset (exact instant, no zone guess)", () => {
    const r = parseEnedisV2(
      v2Body([
        { v: "1000", d: "2026-09-29T00:30:00+02:00", p: "PT30M" },
        { v: "1000", d: "2026-09-28T23:00:00Z", p: "PT30M" },
      ]),
      opts("load_curve"),
    );
    expect(r.readings.map((x) => x.start)).toEqual([utc("2026-09-28T22:00:00Z"), utc("2026-09-28T22:30:00Z")]);
    const daily = parseEnedisV2(v2Body([{ v: "7", d: "2026-09-29T00:00:00+02:00" }], { physique: "EA", unite: "Wh" }), opts("daily"));
    expect(daily.readings[0]!.start).toBe(utc("2026-09-28T22:00:00Z"));
  });

  it("wrong idPrm → invalid_prm, nothing returned", () => {
    const e = thrown(() => parseEnedisV2(v2Body([{ v: "1", d: "2026-09-29 00:30:00", p: "PT30M" }], { prm: "22222222222222" }), opts("load_curve")));
    expect(e.code).toBe("invalid_prm");
    expect(e.message).toContain("answered for usage point 22222222222222, expected 11111111111111");
  });

  it("wrong unit, broken shape → invalid_response naming the field", () => {
    const unit = thrown(() => parseEnedisV2(v2Body([], { unite: "kW" }), opts("load_curve")));
    expect(unit.code).toBe("invalid_response");
    expect(unit.message).toContain("in kW, expected W");
    const va = thrown(() => parseEnedisV2MaxPower(v2Body([], { physique: "PMA", unite: "W" }), opts("daily")));
    expect(va.message).toContain("expected VA");
    const noGrandeur = thrown(() => parseEnedisV2({ idPrm: PRM }, opts("daily")));
    expect(noGrandeur.message).toContain("grandeur");
    const notObject = thrown(() => parseEnedisV2(v2Body([42 as unknown as V2Point]), opts("load_curve")));
    expect(notObject.message).toContain("points.0");
  });
});

describe("parseEnedisV2 — DST days (assumed layout: 46 / 50 half-hours, resolved in array order)", () => {
  it("autumn 2026-10-25: 50 points, repeated 02:00/02:30 → 50 distinct UTC instants in order, day total = sum", () => {
    const stamps = halfHourEndStamps("2026-10-25", "2026-10-26", "autumn");
    expect(stamps).toHaveLength(50);
    expect(new Set(stamps).size).toBe(48); // two naive stamps repeat
    const points = stamps.map((d, i) => ({ v: String(500 + 2 * i), d, p: "PT30M" }));
    const r = parseEnedisV2(v2Body(points), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    expect(r.readings).toHaveLength(50);
    const first = utc("2026-10-24T22:00:00Z"); // local midnight, CEST
    r.readings.forEach((reading, i) => {
      expect(reading.start).toBe(first + i * HALF);
      expect(reading.durationMs).toBe(HALF);
      expect(reading.value).toBe(250 + i);
    });
    expect(new Set(r.readings.map((x) => x.start)).size).toBe(50);
    // First "02:00" ends at 02:00 CEST = 00:00Z, the second at 02:00 CET = 01:00Z.
    expect(r.readings[stamps.indexOf("2026-10-25 02:00:00")]!.start + HALF).toBe(utc("2026-10-25T00:00:00Z"));
    expect(r.readings[stamps.lastIndexOf("2026-10-25 02:00:00")]!.start + HALF).toBe(utc("2026-10-25T01:00:00Z"));
    const total = r.readings.reduce((s, x) => s + x.value, 0);
    expect(total).toBe(points.reduce((s, p) => s + Number(p.v) / 2, 0));
    const daily = parseEnedisV2(v2Body([{ v: String(total), d: "2026-10-25" }], { physique: "EA", unite: "Wh" }), opts("daily"));
    expect(daily.readings).toEqual([{ start: first, durationMs: 25 * HOUR, value: total, quality: "BRUT" }]);
  });

  it("autumn: a fold stamp whose first occurrence is missing still resolves forward (backwards → later offset)", () => {
    const r = parseEnedisV2(
      v2Body(["2026-10-25 01:30:00", "2026-10-25 02:30:00", "2026-10-25 02:00:00", "2026-10-25 02:30:00", "2026-10-25 03:00:00"].map((d) => ({ v: "100", d, p: "PT30M" }))),
      opts("load_curve"),
    );
    expect(r.readings.map((x) => new Date(x.start + x.durationMs).toISOString())).toEqual([
      "2026-10-24T23:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:00:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-25T02:00:00.000Z",
    ]);
  });

  it("spring 2026-03-29: 46 points, 01:30 → 03:00 contiguous, daily 23 h", () => {
    const stamps = halfHourEndStamps("2026-03-29", "2026-03-30", "spring");
    expect(stamps).toHaveLength(46);
    const points = stamps.map((d, i) => ({ v: String(1000 + 10 * i), d, p: "PT30M" }));
    const r = parseEnedisV2(v2Body(points), opts("load_curve"));
    expect(r.rejected).toEqual([]);
    const first = utc("2026-03-28T23:00:00Z");
    expect(r.readings.map((x) => x.start)).toEqual(stamps.map((_, i) => first + i * HALF));
    expect(r.readings[stamps.indexOf("2026-03-29 03:00:00")]!.start).toBe(utc("2026-03-29T00:30:00Z"));
    const daily = parseEnedisV2(v2Body([{ v: "1", d: "2026-03-29" }], { physique: "EA", unite: "Wh" }), opts("daily"));
    expect(daily.readings[0]!.durationMs).toBe(23 * HOUR);
  });

  it("spring: an end stamp inside the gap (02:30) is rejected as non-existent", () => {
    const r = parseEnedisV2(v2Body([{ v: "1", d: "2026-03-29 02:30:00", p: "PT30M" }]), opts("load_curve"));
    expect(r.rejected[0]!.reason).toMatch(/does not exist in Europe\/Paris/);
  });
});

describe("parseEnedisV2 — MyElectricalData start stamps", () => {
  const sameAsConso = (day: string, next: string, dst: "none" | "spring" | "autumn", length: number) => {
    const ends = halfHourEndStamps(day, next, dst);
    expect(ends).toHaveLength(length);
    const conso = ends.map((d, i) => ({ v: String(300 + i), d, p: "PT30M" }));
    const med = conso.map((p) => ({ ...p, d: medShift(p.d) }));
    const a = parseEnedisV2(v2Body(conso), opts("load_curve"));
    const b = parseEnedisV2(v2Body(med), opts("load_curve", { stamp: "start" }));
    expect(b.rejected).toEqual([]);
    expect(b.readings).toEqual(a.readings);
    expect(b.readings).toHaveLength(length);
    return b;
  };

  it("an ordinary day: first MED point 00:00 = first Conso point 00:30", () => {
    const b = sameAsConso("2026-09-29", "2026-09-30", "none", 48);
    expect(b.readings[0]!.start).toBe(utc("2026-09-28T22:00:00Z"));
  });

  it("the DST days: MED's naive subtraction (02:30 in the spring gap, 01:30 twice in autumn) gives the same readings", () => {
    sameAsConso("2026-03-29", "2026-03-30", "spring", 46);
    sameAsConso("2026-10-25", "2026-10-26", "autumn", 50);
  });

  it("autumn: a gateway stamping true local starts (02:00, 02:30 twice) gives the same readings too", () => {
    const ends = halfHourEndStamps("2026-10-25", "2026-10-26", "autumn");
    const conso = ends.map((d, i) => ({ v: String(300 + i), d, p: "PT30M" }));
    const a = parseEnedisV2(v2Body(conso), opts("load_curve"));
    // True starts, written in Paris wall time: 00:00 … 02:00 02:30 (CEST) 02:00 02:30 (CET) … 23:30.
    const starts = a.readings.map((r) => {
      const local = new Date(r.start + (r.start < utc("2026-10-25T01:00:00Z") ? 2 : 1) * HOUR).toISOString();
      return `${local.slice(0, 10)} ${local.slice(11, 19)}`;
    });
    expect(starts.filter((d) => d === "2026-10-25 02:30:00")).toHaveLength(2);
    const b = parseEnedisV2(v2Body(conso.map((p, i) => ({ ...p, d: starts[i]! }))), opts("load_curve", { stamp: "start" }));
    expect(b.rejected).toEqual([]);
    expect(b.readings).toEqual(a.readings);
  });
});

describe("parseEnedisV2MaxPower — points", () => {
  it("rejects null, negative, future and a second peak for one day", () => {
    const r = parseEnedisV2MaxPower(
      v2Body(
        [
          { v: "4000", d: "2026-11-01 08:00:00" },
          { v: "4100", d: "2026-11-01 09:00:00" },
          { v: null, d: "2026-11-02 08:00:00" },
          { v: "-5", d: "2026-11-03 08:00:00" },
          { v: "10", d: "2026-11-04 08:00:00" },
        ],
        { physique: "PMA", unite: "VA" },
      ),
      opts("daily", { now: () => utc("2026-11-04T00:00:00Z") }),
    );
    expect(r.points).toEqual([{ day: "2026-11-01", valueVa: 4000, at: utc("2026-11-01T07:00:00Z") }]);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      expect.stringContaining("more than one peak"),
      expect.stringContaining("missing point"),
      expect.stringContaining("negative"),
      expect.stringContaining("in the future"),
    ]);
  });
});
