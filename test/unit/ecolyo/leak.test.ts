/**
 * The night-flow leak flag on synthetic hourly water data (the bundled AMPds2 water is daily and
 * cannot show when water runs: see src/analysis/leak.ts and data/README.md).
 */
import { describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { nightFlow } from "../../../src/analysis/leak.js";

const ZONE = "Europe/Paris";
const HOUR = 3_600_000;

/** Hourly readings of local day `day` from a per-local-hour litre function. */
function hourly(day: string, litres: (hour: number) => number) {
  const start = DateTime.fromISO(day, { zone: ZONE }).toMillis();
  const end = DateTime.fromISO(day, { zone: ZONE }).plus({ days: 1 }).toMillis();
  const out = [];
  for (let t = start; t < end; t += HOUR) out.push({ start: t, durationMs: HOUR, value: litres(DateTime.fromMillis(t, { zone: ZONE }).hour) });
  return out;
}

describe("nightFlow", () => {
  it("a household whose meter stops at night: no leak", () => {
    const r = nightFlow(hourly("2026-06-10", (h) => (h >= 7 && h <= 22 ? 20 : h === 3 ? 0 : 0.4)), "2026-06-10", ZONE);
    expect(r).toEqual({ day: "2026-06-10", leak: false, minFlowLPerHour: 0 });
  });

  it("a running toilet (6 L/h all night on top of normal use): leak", () => {
    const r = nightFlow(hourly("2026-06-10", (h) => 6 + (h >= 7 && h <= 22 ? 20 : 0)), "2026-06-10", ZONE);
    expect(r?.leak).toBe(true);
    expect(r?.minFlowLPerHour).toBe(6);
  });

  it("half-hourly data works the same; a 30-min gap in the window means unknown", () => {
    const base = DateTime.fromISO("2026-06-10T00:00", { zone: ZONE }).toMillis();
    const half = Array.from({ length: 48 }, (_, i) => ({ start: base + i * 1_800_000, durationMs: 1_800_000, value: 2 }));
    expect(nightFlow(half, "2026-06-10", ZONE)).toEqual({ day: "2026-06-10", leak: true, minFlowLPerHour: 4 });
    expect(nightFlow(half.filter((_, i) => i !== 5), "2026-06-10", ZONE)).toBeNull();
  });

  it("daily totals cannot support it: unknown, never 'no leak'", () => {
    const start = DateTime.fromISO("2026-06-10", { zone: ZONE }).toMillis();
    expect(nightFlow([{ start, durationMs: 24 * HOUR, value: 480 }], "2026-06-10", ZONE)).toBeNull();
  });

  it("the window is in local time on a DST day (2026-03-29, 02:00 does not exist)", () => {
    const r = nightFlow(hourly("2026-03-29", (h) => (h === 4 ? 0 : 3)), "2026-03-29", ZONE);
    expect(r?.leak).toBe(false); // 04:00–05:00 local is inside the window and shows no flow
  });
});
