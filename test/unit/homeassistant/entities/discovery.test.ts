import { describe, expect, it } from "vitest";
import { entityIds } from "../../../../src/homeassistant/entities.js";
import {
  BRIDGE_DEVICE_ID,
  bridgeConfigs,
  bridgeStateTopic,
  configTopic,
  configTopicFilter,
  meterAvailabilityTopic,
  meterConfigs,
  meterEntityIds,
  meterKey,
  type DiscoveryConfig,
} from "../../../../src/homeassistant/entities/discovery.js";

const OPTS = { swVersion: "1.2.3" };
const M = { id: "12345678901234", name: "Linky 12345678901234" };
const P = { id: "12345678901234_production", usagePoint: "12345678901234", flow: "production" as const, name: "Linky 12345678901234 production" };
const byKind = (cfgs: DiscoveryConfig[], suffix: string) => cfgs.find((c) => c.uniqueId.endsWith(`_${suffix}`))!;
/** HA's discovery TOPIC_MATCHER after the prefix (components/mqtt/discovery.py). */
const TOPIC_MATCHER = /^(?<component>\w+)\/(?:(?<node_id>[a-zA-Z0-9_-]+)\/)?(?<object_id>[a-zA-Z0-9_-]+)\/config$/;

describe("meterConfigs", () => {
  const cfgs = meterConfigs(M, { maxPower: true }, OPTS);

  it("builds the six entities of a consumption meter with DESIGN entity ids, both id keys and unique ids", () => {
    expect(cfgs.map((c) => c.entityId)).toEqual([
      "sensor.energy_bridge_12345678901234_daily",
      "binary_sensor.energy_bridge_12345678901234_anomaly",
      "sensor.energy_bridge_12345678901234_last_sync",
      "sensor.energy_bridge_12345678901234_requests_left",
      "sensor.energy_bridge_12345678901234_history",
      "sensor.energy_bridge_12345678901234_max_power",
    ]);
    for (const c of cfgs) {
      expect(c.payload.unique_id).toBe(c.uniqueId);
      expect(c.uniqueId).toMatch(/^energy_bridge_12345678901234_[a-z_]+$/);
      expect(c.payload.default_entity_id).toBe(c.entityId);
      expect(`${c.component}.${c.payload.object_id as string}`).toBe(c.entityId);
      expect(c.payload.state_topic).toBe(c.stateTopic);
      expect(c.payload.qos).toBe(1);
      expect(c.meterId).toBe(M.id);
    }
  });

  it("keeps the entity ids of the REST-state fallback", () => {
    const rest = entityIds(M.id);
    const mq = meterEntityIds(M.id);
    expect([mq.anomaly, mq.daily, mq.last_sync, mq.max_power]).toEqual([rest.anomaly, rest.daily, rest.lastSync, rest.maxPower]);
    expect(cfgs.map((c) => c.entityId)).toEqual(Object.values(mq));
  });

  it("puts every config on a legal, retained-discovery topic under node_id energy_bridge", () => {
    for (const c of cfgs) {
      expect(c.topic.startsWith("homeassistant/")).toBe(true);
      const m = TOPIC_MATCHER.exec(c.topic.slice("homeassistant/".length));
      expect(m?.groups).toEqual({ component: c.component, node_id: "energy_bridge", object_id: c.uniqueId.replace(/^energy_bridge_/, "") });
      expect(c.topic).toBe(configTopic(c.component, c.uniqueId));
    }
    expect(configTopicFilter()).toBe("homeassistant/+/energy_bridge/+/config");
    expect(configTopic("sensor", "energy_bridge_x_daily", { prefix: "ha" })).toBe("ha/sensor/energy_bridge/x_daily/config");
  });

  it("gives each entity the meter's device, under the bridge, and the origin", () => {
    for (const c of cfgs) {
      expect(c.payload.device).toEqual({
        identifiers: ["energy_bridge_12345678901234"],
        name: "Linky 12345678901234",
        manufacturer: "Enedis",
        model: "Linky",
        serial_number: "12345678901234",
        via_device: BRIDGE_DEVICE_ID,
      });
      expect(c.payload.origin).toEqual({ name: "Energy Bridge", sw_version: "1.2.3", support_url: "https://github.com/energy-bridge/energy-bridge" });
      // has_entity_name: the entity name never repeats the device name.
      expect(String(c.payload.name)).not.toContain("Linky");
    }
  });

  it("availability: bridge Last Will + meter topic (mode all) for measurements, bridge only for diagnostics", () => {
    const both = [{ topic: "energy_bridge/bridge/state" }, { topic: "energy_bridge/linky/12345678901234/availability" }];
    for (const k of ["daily", "anomaly", "max_power"]) {
      expect(byKind(cfgs, k).payload).toMatchObject({ availability: both, availability_mode: "all" });
      expect(byKind(cfgs, k).payload.entity_category).toBeUndefined();
    }
    for (const k of ["last_sync", "requests_left", "history"]) {
      expect(byKind(cfgs, k).payload).toMatchObject({ availability: [{ topic: "energy_bridge/bridge/state" }], availability_mode: "all", entity_category: "diagnostic" });
    }
    expect(bridgeStateTopic()).toBe("energy_bridge/bridge/state");
    expect(meterAvailabilityTopic("12345678901234", { baseTopic: "eb" })).toBe("eb/linky/12345678901234/availability");
    for (const c of cfgs) expect(c.payload.availability_topic).toBeUndefined(); // exclusive with the list form
  });

  it("daily energy: kWh, device_class energy, no state_class (no second Energy-dashboard source)", () => {
    const d = byKind(cfgs, "daily").payload;
    expect(d).toMatchObject({ name: "Daily consumption", device_class: "energy", unit_of_measurement: "kWh" });
    expect("state_class" in d).toBe(false);
    expect(d.json_attributes_topic).toBe("energy_bridge/linky/12345678901234/daily/attributes");
  });

  it("the other classes, units and attribute topics", () => {
    expect(byKind(cfgs, "anomaly")).toMatchObject({
      component: "binary_sensor",
      payload: { device_class: "problem", json_attributes_topic: "energy_bridge/linky/12345678901234/anomaly/attributes" },
    });
    expect(byKind(cfgs, "last_sync").payload).toMatchObject({ device_class: "timestamp" });
    expect("unit_of_measurement" in byKind(cfgs, "last_sync").payload).toBe(false);
    expect(byKind(cfgs, "history").payload).toMatchObject({ device_class: "duration", unit_of_measurement: "d" });
    expect(byKind(cfgs, "max_power").payload).toMatchObject({ device_class: "apparent_power", unit_of_measurement: "VA", state_class: "measurement" });
    expect(byKind(cfgs, "requests_left").attributesTopic).toBeUndefined();
  });

  it("a production series: no anomaly, no max power, its own device and ids", () => {
    const p = meterConfigs(P, { maxPower: true }, OPTS);
    expect(p.map((c) => c.entityId)).toEqual([
      "sensor.energy_bridge_12345678901234_production_daily",
      "sensor.energy_bridge_12345678901234_production_last_sync",
      "sensor.energy_bridge_12345678901234_production_requests_left",
      "sensor.energy_bridge_12345678901234_production_history",
    ]);
    expect(byKind(p, "daily").payload).toMatchObject({ name: "Daily production", device: { identifiers: ["energy_bridge_12345678901234_production"], serial_number: "12345678901234" } });
  });

  it("without maxPower there is no max-power sensor; odd meter ids are slugged", () => {
    expect(meterConfigs(M, {}, OPTS).some((c) => c.uniqueId.endsWith("_max_power"))).toBe(false);
    expect(meterKey("Ab-12 x.y")).toBe("ab_12_x_y");
    expect(meterConfigs({ id: "Ab-12", name: "X" }, {}, OPTS)[0]!.topic).toBe("homeassistant/sensor/energy_bridge/ab_12_daily/config");
  });
});

describe("bridgeConfigs", () => {
  it("gives the bridge device one diagnostic entity, sensor.energy_bridge_version", () => {
    const [v, ...rest] = bridgeConfigs({ ...OPTS, prefix: "hass" });
    expect(rest).toEqual([]);
    expect(v).toMatchObject({
      component: "sensor",
      uniqueId: "energy_bridge_bridge_version",
      entityId: "sensor.energy_bridge_version",
      topic: "hass/sensor/energy_bridge/bridge_version/config",
      stateTopic: "energy_bridge/bridge/version",
      meterId: null,
      payload: {
        object_id: "energy_bridge_version",
        default_entity_id: "sensor.energy_bridge_version",
        entity_category: "diagnostic",
        device: { identifiers: [BRIDGE_DEVICE_ID], name: "Energy Bridge", sw_version: "1.2.3" },
        availability: [{ topic: "energy_bridge/bridge/state" }],
      },
    });
    expect((v!.payload.device as Record<string, unknown>).via_device).toBeUndefined();
  });
});
