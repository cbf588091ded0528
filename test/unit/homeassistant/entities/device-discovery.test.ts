/**
 * Generic devices: discovery payloads (device-discovery.ts) and the REST fallback
 * (device-sink.ts `restDeviceSink`, over msw). The MQTT side is proven against real HA +
 * Mosquitto in test/integration/mqtt-devices.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { deviceConfigs, parseCommandTopic } from "../../../../src/homeassistant/entities/device-discovery.js";
import { restDeviceSink } from "../../../../src/homeassistant/entities/device-sink.js";

const OPTS = { swVersion: "9.9.9" };

describe("deviceConfigs", () => {
  const [temp, lamp, climate] = deviceConfigs(
    { key: "Tado Zone 1", name: "Living", viaDevice: "tado_home", suggestedArea: "Living room" },
    [
      { key: "temperature", component: "sensor", name: "Temperature", config: { device_class: "temperature" } },
      { key: "lamp", component: "light", name: "Lamp", commands: ["set"], config: { schema: "json", command_topic: "~/set" } },
      { key: "thermostat", component: "climate", name: null, commands: ["temperature"], config: { temperature_command_topic: "~/temperature" } },
    ],
    OPTS,
  );

  it("keys, ids and topics follow one rule; the parent device is named; availability needs bridge and device", () => {
    expect(temp!.uniqueId).toBe("energy_bridge_tado_zone_1_temperature");
    expect(temp!.entityId).toBe("sensor.energy_bridge_tado_zone_1_temperature");
    expect(temp!.topic).toBe("homeassistant/sensor/energy_bridge/tado_zone_1_temperature/config");
    expect(temp!.payload["~"]).toBe("energy_bridge/tado_zone_1/temperature");
    expect(temp!.payload.state_topic).toBe("~/state");
    expect(temp!.payload.device).toMatchObject({ identifiers: ["energy_bridge_tado_zone_1"], via_device: "energy_bridge_tado_home", suggested_area: "Living room" });
    expect(temp!.payload.availability).toEqual([{ topic: "energy_bridge/bridge/state" }, { topic: "energy_bridge/tado_zone_1/availability" }]);
    expect(temp!.payload.availability_mode).toBe("all");
    expect(lamp!.commandTopics).toEqual(["energy_bridge/tado_zone_1/lamp/set"]);
  });

  it("climate gets no plain state topic; a duplicate key or a command named state is refused", () => {
    expect(climate!.payload.state_topic).toBeUndefined();
    expect(climate!.payload.name).toBeNull();
    expect(() => deviceConfigs({ key: "d", name: "D" }, [{ key: "a", component: "sensor", name: "A" }, { key: "A", component: "sensor", name: "B" }], OPTS)).toThrow(/twice/);
    expect(() => deviceConfigs({ key: "d", name: "D" }, [{ key: "a", component: "switch", name: "A", commands: ["state"] }], OPTS)).toThrow(/state/);
  });

  it("command topics parse back; others do not", () => {
    expect(parseCommandTopic("energy_bridge/tado_zone_1/lamp/set")).toEqual({ device: "tado_zone_1", entity: "lamp", command: "set" });
    expect(parseCommandTopic("energy_bridge/tado_zone_1/availability")).toBeUndefined();
    expect(parseCommandTopic("other/x/y/z")).toBeUndefined();
  });
});

describe("restDeviceSink (no broker)", () => {
  const posted: { id: string; body: { state: string; attributes: Record<string, unknown> } }[] = [];
  const server = setupServer(
    http.post("http://ha.test/api/states/:id", async ({ params, request }) => {
      posted.push({ id: String(params.id), body: (await request.json()) as never });
      return HttpResponse.json({}, { status: 201 });
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterEach(() => void posted.splice(0));
  afterAll(() => server.close());

  it("posts sensor states with the last attributes, unit and name; MQTT's None is unknown; lights are skipped", async () => {
    const sink = restDeviceSink({ apiUrl: "http://ha.test/api", token: "t" });
    await sink.declareDevice({ key: "zone", name: "Living" }, [
      { key: "temperature", component: "sensor", name: "Temperature", config: { unit_of_measurement: "°C", device_class: "temperature" } },
      { key: "lamp", component: "light", name: "Lamp", commands: ["set"] },
    ]);
    await sink.publishDeviceStates("zone", [
      { entity: "temperature", topic: "attributes", payload: JSON.stringify({ setpoint: 20 }) },
      { entity: "temperature", payload: "21.5" },
      { entity: "lamp", payload: "{\"state\":\"ON\"}" },
    ]);
    await sink.publishDeviceStates("zone", [{ entity: "temperature", payload: "None" }]);
    expect(posted.map((p) => [p.id, p.body.state])).toEqual([
      ["sensor.energy_bridge_zone_temperature", "21.5"],
      ["sensor.energy_bridge_zone_temperature", "unknown"],
    ]);
    expect(posted[0]!.body.attributes).toEqual({ setpoint: 20, friendly_name: "Living Temperature", unit_of_measurement: "°C", device_class: "temperature" });
    await expect(sink.publishDeviceStates("other", [{ entity: "x", payload: "1" }])).rejects.toThrow(/not declared/);
  });
});
