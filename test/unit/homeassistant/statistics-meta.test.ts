import { describe, expect, it } from "vitest";
import { importMetadata, statisticId } from "../../../src/homeassistant/statistics.js";

// HA's rule for external statistic ids (core recorder/statistics.py valid_statistic_id).
const VALID = /^(?!.+__)(?!_)[\da-z_]+(?<!_):(?!_)[\da-z_]+(?<!_)$/;
const meta = { statisticId: "energy_bridge:linky_12345678901234_consumption", name: "Linky", unit: "kWh" as const, unitClass: "energy" as const };

describe("statistic ids and import metadata", () => {
  it("builds DESIGN's id and keeps it valid for HA", () => {
    expect(statisticId("linky", "12345678901234", "consumption")).toBe("energy_bridge:linky_12345678901234_consumption");
    expect(statisticId("Ecolyo", "Main Meter", "gas")).toMatch(VALID);
    expect(statisticId("x", "__a--b__", "water")).toMatch(VALID);
  });

  it("uses has_mean before HA 2025.11 and mean_type + unit_class from 2025.11", () => {
    const old = importMetadata(meta, "2025.4.4");
    expect(old).toMatchObject({ has_mean: false, has_sum: true, source: "energy_bridge", unit_of_measurement: "kWh" });
    expect(old).not.toHaveProperty("mean_type");
    expect(old).not.toHaveProperty("unit_class");
    for (const v of ["2025.11.0", "2026.2.3", "2026.11.0", "2025.12.0b1"]) {
      const next = importMetadata(meta, v);
      expect(next).toMatchObject({ mean_type: 0, unit_class: "energy", has_sum: true });
      expect(next).not.toHaveProperty("has_mean");
    }
    for (const v of ["2025.10.2", "2025.4.4"]) expect(importMetadata(meta, v)).toHaveProperty("has_mean", false);
  });

  it("gives gas and water the volume unit class (never null: null hides a statistic from the Energy pickers)", () => {
    const gas = { statisticId: "energy_bridge:ecolyo_main_gas", name: "Gas", unit: "m³" as const, unitClass: "volume" as const };
    expect(importMetadata(gas, "2026.2.3")).toMatchObject({ unit_class: "volume", unit_of_measurement: "m³", mean_type: 0 });
    expect(importMetadata(meta, "2026.2.3").unit_class).not.toBeNull();
  });
});
