import { describe, expect, it } from "vitest";
import { detectAnomalies, severityOf } from "../../../src/analysis/anomalies.js";

const M = "12345678901234";

/** Totals for consecutive days from `first`: numbers are complete days, null incomplete, undefined absent. */
function totals(first: string, values: (number | null | undefined)[]): Map<string, number | null> {
  const out = new Map<string, number | null>();
  const t0 = Date.parse(`${first}T12:00:00Z`);
  values.forEach((v, k) => {
    if (v === undefined) return;
    out.set(new Date(t0 + k * 86_400_000).toISOString().slice(0, 10), v);
  });
  return out;
}

/** Seven days of 1000 Wh (2026-03-01…07), then `value` on 2026-03-08 (judged alone). */
function judge(value: number | null, threshold = 120, previous: (number | null | undefined)[] = Array(7).fill(1000)) {
  return detectAnomalies(M, totals("2026-03-01", [...previous, value]), "2026-03-08", "2026-03-09", { thresholdPercent: threshold });
}

describe("detectAnomalies: 7-day rule, threshold 120", () => {
  it.each([
    [1199, null],
    [1200, "minor"], // exactly 120 %
    [1499, "minor"], // 149.9 %
    [1500, "major"], // 150 %
    [2000, "major"], // 200 %
    [2001, "critical"], // 200.1 %
    [5000, "critical"],
  ] as const)("a day at %i Wh over a 1000 Wh average → %s", (value, severity) => {
    const found = judge(value);
    if (severity === null) {
      expect(found).toEqual([]);
      return;
    }
    expect(found).toHaveLength(1);
    const a = found[0]!;
    expect(a.severity).toBe(severity);
    expect(a.meterId).toBe(M);
    expect(a.day).toBe("2026-03-08");
    expect(a.windowStart).toBe("2026-03-01");
    expect(a.value).toBe(value);
    expect(a.average7d).toBe(1000);
    expect(a.variancePercent).toBeCloseTo(value / 10 - 100, 9);
  });

  it("exactly 120 % is an anomaly for realistic averages too", () => {
    for (const avg of [3500, 7250, 12_340, 9876]) {
      const found = judge((avg * 6) / 5, 120, Array(7).fill(avg));
      expect(found, `average ${avg}`).toHaveLength(1);
      expect(found[0]!.variancePercent).toBeCloseTo(20, 9);
    }
  });

  it("the average is the mean of the 7 preceding days (not the day itself, not day −8)", () => {
    const found = detectAnomalies(
      M,
      totals("2026-02-28", [100_000, 800, 900, 1000, 1100, 1200, 1300, 700, 1500]),
      "2026-03-08",
      "2026-03-09",
      { thresholdPercent: 120 },
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.average7d).toBeCloseTo(7000 / 7, 9);
    expect(found[0]!.variancePercent).toBeCloseTo(50, 9);
    expect(found[0]!.severity).toBe("major");
  });

  it("missing and incomplete days are not averaged as zero: mean of the complete ones", () => {
    // 4 complete days of 1000 among the previous 7: average 1000, so 800 is no anomaly.
    // (Treating the 3 gaps as 0 would give 571 and flag 800 at 140 %.)
    const previous = [1000, null, 1000, undefined, 1000, 1000, undefined];
    expect(judge(800, 120, previous)).toEqual([]);
    const found = judge(1300, 120, previous);
    expect(found).toHaveLength(1);
    expect(found[0]!.average7d).toBe(1000);
    expect(found[0]!.severity).toBe("minor");
  });

  it("fewer than 4 complete previous days → not judged", () => {
    expect(judge(10_000, 120, [1000, null, 1000, undefined, undefined, 1000, null])).toEqual([]);
    expect(judge(10_000, 120, [])).toEqual([]);
  });

  it("minDays can be changed", () => {
    const found = detectAnomalies(M, totals("2026-03-05", [1000, 1000, 5000]), "2026-03-07", "2026-03-08", {
      thresholdPercent: 120,
      minDays: 2,
    });
    expect(found.map((a) => a.severity)).toEqual(["critical"]);
  });

  it("a missing or incomplete judged day is not judged", () => {
    expect(judge(null)).toEqual([]);
    expect(
      detectAnomalies(M, totals("2026-03-01", Array(7).fill(1000)), "2026-03-08", "2026-03-09", { thresholdPercent: 120 }),
    ).toEqual([]);
  });

  it("an average of 0 is not judged", () => {
    expect(judge(500, 120, Array(7).fill(0))).toEqual([]);
  });

  it("only days in [fromDay, toDay) are judged, each against its own window", () => {
    const t = totals("2026-03-01", [1000, 1000, 1000, 1000, 1000, 1000, 1000, 3000, 1000, 1000, 9000]);
    const all = detectAnomalies(M, t, "2026-03-01", "2026-03-12", { thresholdPercent: 120 });
    expect(all.map((a) => [a.day, a.severity])).toEqual([
      ["2026-03-08", "critical"],
      ["2026-03-11", "critical"],
    ]);
    // 2026-03-11: previous 7 = 03-04…03-10 = 1000×4 + 3000 + 1000×2 → 9000/7.
    expect(all[1]!.average7d).toBeCloseTo(9000 / 7, 9);
    expect(all[1]!.windowStart).toBe("2026-03-04");
    expect(detectAnomalies(M, t, "2026-03-09", "2026-03-11", { thresholdPercent: 120 })).toEqual([]);
  });

  it("windows cross month and year ends", () => {
    const found = detectAnomalies(M, totals("2026-12-26", [...Array(7).fill(1000), 1600]), "2027-01-02", "2027-01-03", {
      thresholdPercent: 120,
    });
    expect(found.map((a) => [a.day, a.windowStart, a.severity])).toEqual([["2027-01-02", "2026-12-26", "major"]]);
  });
});

describe("detectAnomalies: custom threshold 160", () => {
  it.each([
    [1500, null],
    [1599, null],
    [1600, "major"],
    [1700, "major"],
    [2000, "major"],
    [2100, "critical"],
  ] as const)("%i Wh over 1000 → %s", (value, severity) => {
    const found = judge(value, 160);
    expect(found.map((a) => a.severity)).toEqual(severity === null ? [] : [severity]);
  });
});

describe("severityOf", () => {
  it.each([
    [101, "minor"],
    [120, "minor"],
    [149.9, "minor"],
    [150, "major"],
    [199.99, "major"],
    [200, "major"],
    [200.1, "critical"],
    [1000, "critical"],
  ] as const)("%d %% → %s", (ratio, severity) => {
    expect(severityOf(ratio)).toBe(severity);
  });
});
