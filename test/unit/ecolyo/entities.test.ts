/** The Ecolyo entity wrapper: electricity through the meter entities, gas/water as devices in their own unit. */
import { describe, expect, it } from "vitest";
import type { EntitySink } from "../../../src/homeassistant/entities/sink.js";
import { ecolyoEntitySink } from "../../../src/modules/ecolyo/ecolyo-entities.js";
import { ecolyoStatistic } from "../../../src/modules/ecolyo/ecolyo-jobs.js";
import type { Meter } from "../../../src/domain/types.js";

function recordingSink() {
  const calls: [string, unknown[]][] = [];
  const rec = (name: string) => async (...args: unknown[]) => void calls.push([name, args]);
  const sink = {
    mode: "mqtt",
    declareMeter: rec("declareMeter"),
    publish: rec("publish"),
    setAvailable: rec("setAvailable"),
    stop: rec("stop"),
    declareDevice: rec("declareDevice"),
    publishDeviceStates: rec("publishDeviceStates"),
    setDeviceAvailable: rec("setDeviceAvailable"),
    onCommand: () => () => undefined,
    removeDevice: rec("removeDevice"),
  } as unknown as EntitySink;
  return { sink, calls };
}

const meter = (kind: Meter["kind"]): Meter => ({ id: `ecolyo_x_${kind}`, provider: "cozy", kind, unit: kind === "water" ? "L" : "Wh", timezone: "Europe/Paris", name: kind });
const sync = { status: "ok", lastError: null, lastSuccessAt: Date.parse("2026-11-30T10:00:00Z"), requestsRemaining: 10 };

describe("ecolyoEntitySink", () => {
  const stats = new Map(["electricity", "gas", "water"].map((k) => [`ecolyo_x_${k}`, ecolyoStatistic("https://x", k as Meter["kind"])]));

  it("electricity goes to the meter entities unchanged", async () => {
    const { sink, calls } = recordingSink();
    const s = ecolyoEntitySink(sink, stats, () => null);
    await s.declareMeter(meter("electricity"), { maxPower: false });
    await s.setAvailable("ecolyo_x_electricity", false);
    expect(calls.map((c) => c[0])).toEqual(["declareMeter", "setAvailable"]);
  });

  it("water: a device whose daily sensor is in L with device_class water, a leak sensor unknown without sub-daily data", async () => {
    const { sink, calls } = recordingSink();
    const s = ecolyoEntitySink(sink, stats, () => null);
    await s.declareMeter(meter("water"), { maxPower: false });
    const [, [device, entities]] = calls[0] as [string, [{ key: string }, { key: string; config: Record<string, unknown> }[]]];
    expect(device.key).toBe("ecolyo_x_water");
    expect(entities.map((e) => e.key)).toEqual(["daily", "anomaly", "leak", "last_sync"]);
    expect(entities[0]!.config).toMatchObject({ device_class: "water", unit_of_measurement: "L" });
    await s.publish({ meter: meter("water"), latestDay: { day: "2026-11-30", totalWh: 412.5 }, latestAnomaly: null, sync });
    const [, [, messages]] = calls[1] as [string, [string, { entity: string; topic?: string; payload: string }[]]];
    expect(messages.find((m) => m.entity === "daily" && !m.topic)?.payload).toBe("412.5"); // litres as stored (1 L per L)
    expect(messages.find((m) => m.entity === "leak" && !m.topic)?.payload).toBe("None");
    await s.setAvailable("ecolyo_x_water", false);
    expect(calls[2]![0]).toBe("setDeviceAvailable");
  });

  it("gas in kWh: daily value converted from the stored Wh", async () => {
    const { sink, calls } = recordingSink();
    const s = ecolyoEntitySink(sink, stats, () => null);
    await s.publish({ meter: meter("gas"), latestDay: { day: "2026-11-30", totalWh: 35_600 }, latestAnomaly: null, sync });
    const [, [, messages]] = calls[0] as [string, [string, { entity: string; topic?: string; payload: string }[]]];
    expect(messages.find((m) => m.entity === "daily" && !m.topic)?.payload).toBe("35.6");
    expect(messages.some((m) => m.entity === "leak")).toBe(false);
  });
});
