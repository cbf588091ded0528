import { describe, expect, it } from "vitest";
import { rebuildDays, type DayEnergy } from "../../../src/analysis/hourly.js";
import type { Reading } from "../../../src/domain/types.js";
import { int, mulberry32, pick } from "./prng.js";

const ZONE = "Europe/Paris";
const HOUR = 3_600_000;
const HALF = 1_800_000;
const utc = (iso: string) => Date.parse(iso);

/** Independently known Paris day bounds (UTC), not computed with the code under test. */
const BOUNDS: Record<string, [string, string]> = {
  "2026-01-15": ["2026-01-14T23:00:00Z", "2026-01-15T23:00:00Z"],
  "2026-03-28": ["2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z"],
  "2026-03-29": ["2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"],
  "2026-03-30": ["2026-03-29T22:00:00Z", "2026-03-30T22:00:00Z"],
  "2026-10-25": ["2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"],
};
const bounds = (day: string) => ({ start: utc(BOUNDS[day]![0]), end: utc(BOUNDS[day]![1]) });
const next = (day: string) => new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Half-hour readings over [from, to) with value(i) for the i-th half-hour. */
function halfHours(from: number, to: number, value: (i: number) => number): Reading[] {
  const out: Reading[] = [];
  for (let t = from, i = 0; t < to; t += HALF, i++) out.push({ start: t, durationMs: HALF, value: value(i), quality: "BRUT" });
  return out;
}
const dailyReading = (day: string, value: number): Reading => {
  const { start, end } = bounds(day);
  return { start, durationMs: end - start, value, quality: "BRUT" };
};
const one = (readings: Reading[], day: string): DayEnergy => {
  const days = rebuildDays(readings, ZONE, day, next(day));
  expect(days).toHaveLength(1);
  return days[0]!;
};
const sortedHours = (d: DayEnergy) => [...d.hours.entries()].sort((a, b) => a[0] - b[0]);
const sumHours = (d: DayEnergy) => [...d.hours.values()].reduce((s, v) => s + v, 0);
const hourStarts = (from: number, to: number) => Array.from({ length: (to - from) / HOUR }, (_, i) => from + i * HOUR);

describe("rebuildDays: load curve only", () => {
  it.each([
    ["2026-01-15", 24],
    ["2026-03-29", 23],
    ["2026-10-25", 25],
  ])("%s: half-hours pair up into %i hourly buckets, total preserved", (day, nHours) => {
    const { start, end } = bounds(day);
    const readings = halfHours(start, end, (i) => 10 * (i + 1));
    expect(readings).toHaveLength(2 * nHours);
    const d = one(readings, day);
    expect(d.start).toBe(start);
    expect(d.end).toBe(end);
    expect(d.source).toBe("load_curve");
    const hours = sortedHours(d);
    expect(hours.map(([h]) => h)).toEqual(hourStarts(start, end));
    hours.forEach(([, v], h) => expect(v).toBeCloseTo(10 * (2 * h + 1) + 10 * (2 * h + 2), 9));
    const expectedTotal = (10 * (2 * nHours) * (2 * nHours + 1)) / 2;
    expect(d.total).toBeCloseTo(expectedTotal, 9);
    expect(sumHours(d)).toBeCloseTo(expectedTotal, 9);
  });

  it("a 10-minute curve also lands in the right hours", () => {
    const { start, end } = bounds("2026-01-15");
    const readings: Reading[] = [];
    for (let t = start; t < end; t += 600_000) readings.push({ start: t, durationMs: 600_000, value: 5, quality: null });
    const d = one(readings, "2026-01-15");
    expect(d.hours.size).toBe(24);
    for (const v of d.hours.values()) expect(v).toBeCloseTo(30, 9);
    expect(d.total).toBeCloseTo(720, 9);
  });

  it("a partial curve without a daily value: total null, only covered hours present (missing is absent, never zero)", () => {
    const { start } = bounds("2026-01-15");
    // 00:00–03:00 and 10:30–11:00 local.
    const readings = [...halfHours(start, start + 3 * HOUR, () => 100), ...halfHours(start + 10.5 * HOUR, start + 11 * HOUR, () => 40)];
    const d = one(readings, "2026-01-15");
    expect(d.total).toBeNull();
    expect(d.source).toBe("partial_load_curve");
    expect(sortedHours(d)).toEqual([
      [start, 200],
      [start + HOUR, 200],
      [start + 2 * HOUR, 200],
      [start + 10 * HOUR, 40],
    ]);
  });

  it("a day with no readings has no hours and a null total", () => {
    const d = one([], "2026-03-29");
    expect(d.hours.size).toBe(0);
    expect(d.total).toBeNull();
  });

  it("readings of the neighbouring days do not leak in", () => {
    const a = bounds("2026-03-28");
    const c = bounds("2026-03-30");
    const readings = [...halfHours(a.start, a.end, () => 1), ...halfHours(c.start, c.end, () => 2)];
    const days = rebuildDays(readings, ZONE, "2026-03-28", "2026-03-31");
    expect(days.map((d) => d.day)).toEqual(["2026-03-28", "2026-03-29", "2026-03-30"]);
    expect(days[0]!.total).toBeCloseTo(48, 9);
    expect(days[1]!.hours.size).toBe(0);
    expect(days[1]!.total).toBeNull();
    expect(days[2]!.total).toBeCloseTo(96, 9);
  });
});

describe("rebuildDays: daily only", () => {
  it.each([
    ["2026-03-29", 23],
    ["2026-01-15", 24],
    ["2026-10-25", 25],
  ])("%s: the daily value is spread evenly over %i hours", (day, nHours) => {
    const { start, end } = bounds(day);
    const d = one([dailyReading(day, nHours * 100)], day);
    expect(d.source).toBe("daily");
    expect(d.total).toBe(nHours * 100);
    const hours = sortedHours(d);
    expect(hours.map(([h]) => h)).toEqual(hourStarts(start, end));
    for (const [, v] of hours) expect(v).toBeCloseTo(100, 9);
  });

  it("a zero daily value gives zero hours, not missing ones", () => {
    const d = one([dailyReading("2026-01-15", 0)], "2026-01-15");
    expect(d.total).toBe(0);
    expect(d.hours.size).toBe(24);
    for (const v of d.hours.values()) expect(v).toBe(0);
  });
});

describe("rebuildDays: daily + load curve", () => {
  it("a complete curve is scaled to the daily total, keeping its shape", () => {
    const day = "2026-01-15";
    const { start, end } = bounds(day);
    const curve = halfHours(start, end, (i) => (i % 5) * 20 + 10); // sums to 2640
    const curveSum = curve.reduce((s, r) => s + r.value, 0);
    const daily = 3000;
    const d = one([dailyReading(day, daily), ...curve], day);
    expect(d.source).toBe("daily+load_curve");
    expect(d.total).toBe(daily);
    expect(sumHours(d)).toBeCloseTo(daily, 9);
    const hours = sortedHours(d);
    expect(hours).toHaveLength(24);
    hours.forEach(([h, v], k) => {
      expect(h).toBe(start + k * HOUR);
      const raw = curve[2 * k]!.value + curve[2 * k + 1]!.value;
      expect(v).toBeCloseTo((raw * daily) / curveSum, 9);
    });
  });

  it("a complete curve on the 25-hour day keeps 25 buckets and the daily total", () => {
    const day = "2026-10-25";
    const { start, end } = bounds(day);
    const d = one([dailyReading(day, 5000), ...halfHours(start, end, () => 100)], day);
    expect(d.hours.size).toBe(25);
    for (const v of d.hours.values()) expect(v).toBeCloseTo(200, 9);
    expect(d.total).toBe(5000);
  });

  it("a partial curve keeps its measured hours; the remainder is spread over the uncovered time", () => {
    const day = "2026-01-15";
    const { start, end } = bounds(day);
    // measured: local 00:00–06:00 and 18:00–24:00 at 100 Wh per hour → 1200 Wh; 12 h uncovered.
    const curve = [...halfHours(start, start + 6 * HOUR, () => 50), ...halfHours(start + 18 * HOUR, end, () => 50)];
    const d = one([dailyReading(day, 3600), ...curve], day);
    expect(d.total).toBe(3600);
    expect(d.source).toBe("daily+load_curve");
    const hours = new Map(sortedHours(d));
    expect(hours.size).toBe(24);
    for (let k = 0; k < 24; k++) {
      const measured = k < 6 || k >= 18;
      expect(hours.get(start + k * HOUR)).toBeCloseTo(measured ? 100 : 200, 9); // (3600 − 1200) / 12
    }
  });

  it("a partial curve that starts mid-hour shares that hour with the spread remainder", () => {
    const day = "2026-01-15";
    const { start } = bounds(day);
    // measured only 00:30–01:00 (60 Wh); daily 2360 → 2300 Wh over 23.5 h.
    const d = one([dailyReading(day, 2360), { start: start + HALF, durationMs: HALF, value: 60, quality: null }], day);
    expect(d.hours.get(start)).toBeCloseTo(60 + (2300 * 0.5) / 23.5, 9);
    expect(d.hours.get(start + HOUR)).toBeCloseTo(2300 / 23.5, 9);
    expect(sumHours(d)).toBeCloseTo(2360, 9);
  });

  it("a partial curve that already exceeds the daily value is scaled down to it", () => {
    const day = "2026-03-29";
    const { start } = bounds(day);
    const curve = halfHours(start, start + 10 * HOUR, () => 100); // 2000 Wh in 10 h
    const d = one([dailyReading(day, 1000), ...curve], day);
    expect(d.total).toBe(1000);
    expect(sumHours(d)).toBeCloseTo(1000, 9);
    for (let k = 0; k < 10; k++) expect(d.hours.get(start + k * HOUR)).toBeCloseTo(100, 9);
    for (const [h, v] of d.hours) {
      expect(v).toBeGreaterThanOrEqual(0);
      if (h >= start + 10 * HOUR) expect(v).toBe(0);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random mixes of daily values and (partial) half-hour curves around both DST days.

interface DayPlan {
  day: string;
  start: number;
  end: number;
  daily: number | null;
  curve: Reading[];
}

/** Independent day bounds via Intl (not luxon, not the code under test). */
const parisFormat = new Intl.DateTimeFormat("en-GB", {
  timeZone: ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});
function parisOffsetMs(t: number): number {
  const parts = parisFormat.formatToParts(new Date(t));
  const get = (k: string) => Number(parts.find((p) => p.type === k)!.value);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute")) - t;
}
function parisMidnight(day: string): number {
  const naive = Date.parse(`${day}T00:00:00Z`);
  // Midnight is never inside a Paris transition, so one fixed-point step is exact.
  const guess = naive - parisOffsetMs(naive);
  return naive - parisOffsetMs(guess);
}

describe("rebuildDays: property", () => {
  it("every day's hours sum to the daily value when present, else to the curve; no negative hour; hours inside the day", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = mulberry32(seed);
      const anchor = seed % 2 === 0 ? "2026-03-29" : "2026-10-25";
      let from = anchor;
      for (let k = int(rnd, 0, 3); k > 0; k--) from = new Date(Date.parse(`${from}T12:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      const nDays = int(rnd, 1, 6);
      const plans: DayPlan[] = [];
      let day = from;
      for (let k = 0; k < nDays; k++, day = next(day)) {
        const start = parisMidnight(day);
        const end = parisMidnight(next(day));
        const mode = pick(rnd, ["none", "daily", "curve", "partial", "daily+curve", "daily+partial"] as const);
        const keep = mode.includes("partial") ? rnd() * 0.9 : 1;
        const curve =
          mode === "none" || mode === "daily"
            ? []
            : halfHours(start, end, () => (rnd() < 0.1 ? 0 : Math.round(rnd() * 2000 * 10) / 10)).filter(() => rnd() < keep);
        const curveSum = curve.reduce((s, r) => s + r.value, 0);
        const daily = mode.startsWith("daily")
          ? rnd() < 0.15
            ? 0
            : Math.round((rnd() < 0.3 ? curveSum * rnd() : curveSum + rnd() * 20000) * 10) / 10
          : null;
        plans.push({ day, start, end, daily, curve });
      }
      const readings: Reading[] = plans.flatMap((p) => [
        ...(p.daily !== null ? [{ start: p.start, durationMs: p.end - p.start, value: p.daily, quality: "BRUT" }] : []),
        ...p.curve,
      ]);
      // Shuffle: the input order must not matter.
      for (let k = readings.length - 1; k > 0; k--) {
        const j = int(rnd, 0, k);
        [readings[k], readings[j]] = [readings[j]!, readings[k]!];
      }
      const days = rebuildDays(readings, ZONE, from, day);
      const ctx = `seed ${seed}`;
      expect(days.map((d) => d.day), ctx).toEqual(plans.map((p) => p.day));
      days.forEach((d, k) => {
        const p = plans[k]!;
        expect([d.start, d.end], ctx).toEqual([p.start, p.end]);
        const curveSum = p.curve.reduce((s, r) => s + r.value, 0);
        const complete = p.curve.length === (p.end - p.start) / HALF;
        const expectedSum = p.daily ?? curveSum;
        expect(sumHours(d), `${ctx} ${p.day} sum`).toBeCloseTo(expectedSum, 6);
        expect(d.total, `${ctx} ${p.day} total`).toBe(p.daily !== null ? p.daily : complete ? d.total : null);
        if (p.daily === null && complete) expect(d.total!, ctx).toBeCloseTo(curveSum, 6);
        for (const [h, v] of d.hours) {
          expect(v, `${ctx} ${p.day} hour ${new Date(h).toISOString()}`).toBeGreaterThanOrEqual(0);
          expect(h % HOUR, ctx).toBe(0);
          expect(h >= p.start && h < p.end, ctx).toBe(true);
        }
        if (p.daily === null) {
          // Only hours the curve touches, each the sum of its half-hours.
          const expected = new Map<number, number>();
          for (const r of p.curve) {
            const h = Math.floor(r.start / HOUR) * HOUR;
            expected.set(h, (expected.get(h) ?? 0) + r.value);
          }
          expect([...d.hours.keys()].sort((a, b) => a - b), ctx).toEqual([...expected.keys()].sort((a, b) => a - b));
          for (const [h, v] of expected) expect(d.hours.get(h)!, ctx).toBeCloseTo(v, 6);
        } else {
          // A day with a daily value has every hour of the day.
          expect(d.hours.size, ctx).toBe((p.end - p.start) / HOUR);
        }
      });
    }
  });
});
