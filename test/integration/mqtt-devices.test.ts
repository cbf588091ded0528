/**
 * Generic MQTT discovery devices (device-discovery.ts + device-sink.ts: what Tado zones, account
 * health and mirrored entities use) against a real Mosquitto and a real Home Assistant Core.
 *
 * Proves: a device with a sensor, a binary sensor, a switch and a JSON-schema light lands in the
 * registry with our unique ids under the parent device; states and attributes arrive; HA's own
 * `switch.turn_on` / `light.turn_on` reach the module's command handler (and a retained command
 * never does); device availability `false` makes its entities `unavailable`; an HA restart
 * re-creates nothing twice; `removeDevice` deletes the device.
 */
import mqtt from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { haWs, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { describeWithMosquitto, startMosquitto, type MosquittoBroker } from "../helpers/mosquitto.js";
import { addMqttIntegration, withBirth } from "../helpers/ha-mqtt.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import { EntityPublisher, type DeletedEntities } from "../../src/homeassistant/entities/publisher.js";
import { mqttDeviceSink, type DeviceSink, type DeviceSpec, type EntitySpec } from "../../src/homeassistant/entities/device-sink.js";
import { entityTopicRoot } from "../../src/homeassistant/entities/device-discovery.js";
import { sleep, waitFor } from "../helpers/wait.js";
import { haState, mqttDevice, mqttEntities, registryDevices, type RegDevice, type RegEntity } from "../helpers/ha-registry.js";

const noDeletions: DeletedEntities = { isDeleted: () => false, markDeleted: () => undefined };

const HOME: DeviceSpec = { key: "test_home", name: "Test home", manufacturer: "Test", model: "Home" };
const ZONE: DeviceSpec = { key: "test_zone_1", name: "Living room", viaDevice: "test_home", suggestedArea: "Living room" };
const ZONE_ENTITIES: EntitySpec[] = [
  { key: "temperature", component: "sensor", name: "Temperature", config: { device_class: "temperature", unit_of_measurement: "°C", state_class: "measurement" } },
  { key: "problem", component: "binary_sensor", name: "Problem", config: { device_class: "problem" } },
  { key: "boost", component: "switch", name: "Boost", commands: ["set"], config: { command_topic: "~/set" } },
  {
    key: "lamp",
    component: "light",
    name: "Lamp",
    commands: ["set"],
    config: { schema: "json", command_topic: "~/set", supported_color_modes: ["brightness"], brightness: true },
  },
];


describeWithMosquitto("generic MQTT discovery devices in a real Home Assistant", () => {
  let broker: MosquittoBroker;
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink;
  let pub: EntityPublisher;
  let sink: DeviceSink;
  const commands: { entity: string; command: string; payload: string }[] = [];

  const ours = async () =>
    mqttEntities(link, "energy_bridge_test_zone_1_");
  const devices = () => registryDevices(link);
  const deviceOf = mqttDevice;
  const state = (id: string) => haState(ha, id);
  const callService = (domain: string, service: string, data: Record<string, unknown>) =>
    fetch(`${ha.url}/api/services/${domain}/${service}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ha.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(data),
    });

  beforeAll(async () => {
    broker = await startMosquitto();
    ha = await startHomeAssistant();
    await withBirth(broker.url, () => addMqttIntegration(ha, { host: broker.host, port: broker.port }));
    link = await haWs(ha, { keepAliveMs: 0, initialRetries: 3 });
    // A stale retained command, there before we subscribe: the broker replays it with the retain flag.
    const peer = await mqtt.connectAsync(broker.url, { clientId: "eb_test_retained_cmd" });
    await peer.publishAsync(`${entityTopicRoot("test_zone_1", "boost")}/set`, "STALE", { qos: 1, retain: true });
    await peer.endAsync();
    pub = new EntityPublisher({
      broker: { url: broker.url, protocolVersion: 4 },
      discovery: { swVersion: "0.1.0-test" },
      deleted: noDeletions,
      reconnectPeriodMs: 500,
      birthDelayMs: 200,
    });
    expect(await pub.start()).toBe(true);
    sink = mqttDeviceSink(pub);
    sink.onCommand("test_zone_1", (entity, command, payload) => commands.push({ entity, command, payload }));
    await sink.declareDevice(HOME, [{ key: "status", component: "sensor", name: "Status" }]);
    await sink.declareDevice(ZONE, ZONE_ENTITIES);
    await sink.publishDeviceStates("test_home", [{ entity: "status", payload: "ok" }]);
    await sink.publishDeviceStates("test_zone_1", [
      { entity: "temperature", payload: "21.5" },
      { entity: "temperature", topic: "attributes", payload: JSON.stringify({ setpoint: 20 }) },
      { entity: "problem", payload: "OFF" },
      { entity: "boost", payload: "OFF" },
      { entity: "lamp", payload: JSON.stringify({ state: "OFF" }) },
    ]);
  });
  afterAll(async () => {
    await pub?.stop();
    link?.close();
    await ha?.stop();
    await broker?.stop();
  });

  it("registers every entity with our unique ids under one device whose parent is the home device", async () => {
    let seen: RegEntity[] = [];
    const entities = await waitFor(
      "the zone's entities in the registry",
      async () => {
        seen = await ours();
        return seen.length >= ZONE_ENTITIES.length ? seen : null;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; registered: ${seen.map((e) => e.entity_id).join(", ") || "none"}`);
    });
    expect(entities.map((e) => e.entity_id).sort()).toEqual(
      [
        "binary_sensor.energy_bridge_test_zone_1_problem",
        "light.energy_bridge_test_zone_1_lamp",
        "sensor.energy_bridge_test_zone_1_temperature",
        "switch.energy_bridge_test_zone_1_boost",
      ].sort(),
    );
    const all = await devices();
    const zone = deviceOf(all, "energy_bridge_test_zone_1")!;
    const home = deviceOf(all, "energy_bridge_test_home")!;
    expect(zone.name).toBe("Living room");
    expect(zone.via_device_id).toBe(home.id);
    expect(new Set(entities.map((e) => e.device_id))).toEqual(new Set([zone.id]));
  });

  it("shows states and attributes", async () => {
    const t = await waitFor("temperature state", async () => {
      const s = await state("sensor.energy_bridge_test_zone_1_temperature");
      return s?.state === "21.5" ? s : null;
    });
    expect(t.attributes.setpoint).toBe(20);
    expect(t.attributes.unit_of_measurement).toBe("°C");
    expect((await state("light.energy_bridge_test_zone_1_lamp"))?.state).toBe("off");
  });

  it("delivers HA's service calls as commands, never a retained one", async () => {
    // The stale retained command left on the topic before we subscribed (beforeAll) was never run.
    await sleep(300);
    expect(commands.some((c) => c.payload === "STALE")).toBe(false);

    expect((await callService("switch", "turn_on", { entity_id: "switch.energy_bridge_test_zone_1_boost" })).ok).toBe(true);
    const sw = await waitFor("switch command", async () => commands.find((c) => c.entity === "boost") ?? null);
    expect(sw).toEqual({ entity: "boost", command: "set", payload: "ON" });

    expect((await callService("light", "turn_on", { entity_id: "light.energy_bridge_test_zone_1_lamp", brightness: 128 })).ok).toBe(true);
    const light = await waitFor("light command", async () => commands.find((c) => c.entity === "lamp") ?? null);
    expect(JSON.parse(light.payload)).toMatchObject({ state: "ON", brightness: 128 });
    expect(commands.filter((c) => c.entity === "boost")).toHaveLength(1);
  });

  it("device availability false → its entities unavailable; true → back", async () => {
    await sink.setDeviceAvailable("test_zone_1", false);
    await waitFor("unavailable", async () => (await state("sensor.energy_bridge_test_zone_1_temperature"))?.state === "unavailable");
    expect((await state("sensor.energy_bridge_test_home_status"))?.state).toBe("ok");
    await sink.setDeviceAvailable("test_zone_1", true);
    await waitFor("available again", async () => (await state("sensor.energy_bridge_test_zone_1_temperature"))?.state === "21.5");
  });

  it("an HA restart re-creates nothing twice", async () => {
    const before = (await ours()).map((e) => `${e.entity_id} ${e.unique_id}`).sort();
    await ha.restart();
    link.close();
    link = await haWs(ha, { keepAliveMs: 0, initialRetries: 10 });
    await waitFor("temperature back after restart", async () => (await state("sensor.energy_bridge_test_zone_1_temperature"))?.state === "21.5", 60_000);
    expect((await ours()).map((e) => `${e.entity_id} ${e.unique_id}`).sort()).toEqual(before);
  });

  it("removeDevice deletes the device and its entities", async () => {
    await sink.removeDevice("test_zone_1");
    await waitFor("zone entities gone", async () => (await ours()).length === 0);
    await waitFor("zone device gone", async () => !deviceOf(await devices(), "energy_bridge_test_zone_1"));
  });
});
