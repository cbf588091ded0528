import { describe, expect, it } from "vitest";
import { daysCovered, meterStateMessages, PAYLOAD_NONE, type MeterStateInput } from "../../../../src/homeassistant/entities/states.js";

const base: MeterStateInput = {
  meter: { id: "12345678901234" },
  latestDay: { day: "2026-01-14", totalWh: 12_345.6 },
  latestAnomaly: { meterId: "12345678901234", day: "2026-01-14", value: 12_345.6, average7d: 8_000, variancePercent: 54.32, severity: "major" },
  maxPower: { day: "2026-01-14", valueVa: 6123.6, at: Date.parse("2026-01-14T18:30:00Z") },
  sync: { status: "ok", lastError: null, lastSuccessAt: Date.parse("2026-01-15T06:12:03Z"), requestsRemaining: 7 },
  history: { firstDay: "2025-03-29", lastDay: "2025-03-31" },
};
const asMap = (input: MeterStateInput) => new Map(meterStateMessages(input).map((m) => [m.topic, m.payload]));
const T = "energy_bridge/linky/12345678901234";

describe("meterStateMessages", () => {
  it("publishes every state and attribute payload of a consumption meter", () => {
    const m = asMap(base);
    expect(Object.fromEntries(m)).toEqual({
      [`${T}/daily`]: "12.346",
      [`${T}/daily/attributes`]: JSON.stringify({ day: "2026-01-14" }),
      [`${T}/anomaly`]: "ON",
      [`${T}/anomaly/attributes`]: JSON.stringify({ severity: "major", variance_percent: 54.3, value_kwh: 12.346, avg_7d_kwh: 8, day: "2026-01-14" }),
      [`${T}/last_sync`]: "2026-01-15T06:12:03.000Z",
      [`${T}/last_sync/attributes`]: JSON.stringify({ status: "ok", last_error: null }),
      [`${T}/requests_left`]: "7",
      [`${T}/history`]: "3",
      [`${T}/history/attributes`]: JSON.stringify({ first_day: "2025-03-29", last_day: "2025-03-31" }),
      [`${T}/max_power`]: "6124",
      [`${T}/max_power/attributes`]: JSON.stringify({ day: "2026-01-14", peak_at: "2026-01-14T18:30:00.000Z" }),
    });
  });

  it("unknowns are HA's None, never unavailable or empty; no anomaly is OFF", () => {
    const m = asMap({
      ...base,
      latestDay: null,
      latestAnomaly: null,
      maxPower: null,
      sync: { status: "never", lastError: "boom", lastSuccessAt: null, requestsRemaining: null },
      history: null,
    });
    expect(m.get(`${T}/daily`)).toBe(PAYLOAD_NONE);
    expect(m.get(`${T}/anomaly`)).toBe(PAYLOAD_NONE);
    expect(m.get(`${T}/last_sync`)).toBe(PAYLOAD_NONE);
    expect(m.get(`${T}/requests_left`)).toBe(PAYLOAD_NONE);
    expect(m.get(`${T}/history`)).toBe(PAYLOAD_NONE);
    expect(JSON.parse(m.get(`${T}/last_sync/attributes`)!)).toEqual({ status: "never", last_error: "boom" });
    expect(m.has(`${T}/max_power`)).toBe(false);
    for (const p of m.values()) expect(p).not.toMatch(/^(|unavailable|unknown)$/);
    expect(asMap({ ...base, latestAnomaly: null }).get(`${T}/anomaly`)).toBe("OFF");
  });

  it("a production series has no anomaly or max-power messages", () => {
    const m = asMap({ ...base, meter: { id: "12345678901234_production", flow: "production" } });
    expect([...m.keys()].some((t) => /anomaly|max_power/.test(t))).toBe(false);
    expect(m.get("energy_bridge/linky/12345678901234_production/daily")).toBe("12.346");
  });

  it("states stay short; attributes are JSON objects", () => {
    for (const { topic, payload } of meterStateMessages(base)) {
      if (topic.endsWith("/attributes")) expect(typeof JSON.parse(payload)).toBe("object");
      else expect(payload.length).toBeLessThanOrEqual(255);
    }
  });
});

describe("daysCovered", () => {
  it("counts calendar days inclusively, across DST and leap days", () => {
    expect(daysCovered("2025-03-29", "2025-03-31")).toBe(3);
    expect(daysCovered("2024-02-28", "2024-03-01")).toBe(3);
    expect(daysCovered("2025-01-15", "2026-01-14")).toBe(365);
    expect(daysCovered("2026-01-14", "2026-01-14")).toBe(1);
    expect(daysCovered("2026-01-14", "2026-01-13")).toBe(0);
  });
});
