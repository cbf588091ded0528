/**
 * Mirror mapping: HA states → MQTT discovery specs and payloads (shapes of HA's MQTT platforms,
 * reference mqtt-discovery.md §2.4), and MQTT commands → the forwarded service call with its
 * optimistic state, for switch, light (brightness, RGB, kelvin), climate and cover; sensors and
 * binary sensors accept no command.
 */
import { describe, expect, it } from "vitest";
import { commandToCall, deviceKeyFor, entitySpec, isOwnState, stateMessages } from "../../../src/sync/client/mirror.js";
import type { EntityState } from "../../../src/sync/protocol.js";

const SRV = "0f1e2d3c-4b5a-4968-8776-655443322110";
const st = (entity_id: string, state: string, attributes: Record<string, unknown> = {}): EntityState => ({ entity_id, state, attributes, origin: SRV, path: [SRV] });

describe("mirror mapping", () => {
  it("derives stable keys from the server id and entity id", () => {
    expect(deviceKeyFor(SRV)).toBe("sync_0f1e2d3c4b5a");
    expect(entitySpec(st("light.kitchen", "on"))!.key).toBe("light_kitchen");
  });

  it("maps a light with colour temperature and RGB to the JSON schema, kelvin on", () => {
    const l = st("light.kitchen", "on", { supported_color_modes: ["color_temp", "hs"], color_mode: "color_temp", color_temp_kelvin: 3000, brightness: 180, min_color_temp_kelvin: 2200, max_color_temp_kelvin: 6500 });
    expect(entitySpec(l)!.config).toMatchObject({ schema: "json", brightness: true, supported_color_modes: ["color_temp", "rgb"], color_temp_kelvin: true, min_kelvin: 2200, max_kelvin: 6500 });
    const m = stateMessages(l).find((x) => !x.topic)!;
    expect(JSON.parse(m.payload)).toEqual({ state: "ON", brightness: 180, color_mode: "color_temp", color_temp: 3000 });
    expect(commandToCall(l, "set", '{"state":"ON","color_temp":2700,"brightness":128}')).toMatchObject({ service: "turn_on", data: { brightness: 128, color_temp_kelvin: 2700 } });
    expect(commandToCall(l, "set", '{"state":"ON","color":{"r":255,"g":0,"b":10}}')).toMatchObject({ service: "turn_on", data: { rgb_color: [255, 0, 10] } });
    expect(commandToCall(l, "set", '{"state":"OFF"}')).toMatchObject({ service: "turn_off", optimistic: { state: "off" } });
    expect(commandToCall(l, "set", "garbage")).toBeNull();
  });

  it("maps switches, climate and covers to their commands", () => {
    const sw = st("switch.heater", "off");
    expect(commandToCall(sw, "set", "ON")).toMatchObject({ domain: "switch", service: "turn_on", optimistic: { state: "on" } });
    expect(commandToCall(sw, "set", "TOGGLE")).toMatchObject({ service: "toggle" });
    const cl = st("climate.living", "heat", { hvac_modes: ["off", "heat"], temperature: 19, current_temperature: 18.4, min_temp: 7, max_temp: 30 });
    expect(entitySpec(cl)!.commands).toEqual(["temperature", "mode"]);
    expect(JSON.parse(stateMessages(cl).find((x) => !x.topic)!.payload)).toEqual({ hvac_mode: "heat", temperature: 19, current_temperature: 18.4 });
    expect(commandToCall(cl, "temperature", "21.5")).toMatchObject({ service: "set_temperature", data: { temperature: 21.5 } });
    expect(commandToCall(cl, "mode", "off")).toMatchObject({ service: "set_hvac_mode", data: { hvac_mode: "off" } });
    const cv = st("cover.garage", "closed", { current_position: 0, device_class: "garage" });
    expect(entitySpec(cv)!.commands).toEqual(["set", "set_position"]);
    expect(stateMessages(cv).find((x) => x.topic === "position")!.payload).toBe("0");
    for (const [p, s] of [["OPEN", "open_cover"], ["CLOSE", "close_cover"], ["STOP", "stop_cover"]]) expect(commandToCall(cv, "set", p!)!.service).toBe(s);
    expect(commandToCall(cv, "set_position", "40")).toMatchObject({ service: "set_cover_position", data: { position: 40 } });
    expect(commandToCall(cv, "set_position", "400")).toBeNull();
  });

  it("keeps sensors read-only, maps unknown to None and carries the loop markers", () => {
    const s = st("sensor.power", "unavailable", { unit_of_measurement: "W", state_class: "measurement" });
    expect(commandToCall(s, "set", "1")).toBeNull();
    expect(commandToCall(st("binary_sensor.door", "on"), "set", "OFF")).toBeNull();
    const msgs = stateMessages(s);
    expect(msgs.find((m) => !m.topic)!.payload).toBe("None");
    expect(JSON.parse(msgs.find((m) => m.topic === "attributes")!.payload)).toMatchObject({ eb_sync_origin: SRV, eb_sync_path: [SRV] });
    expect(entitySpec(st("media_player.tv", "on"))).toBeNull();
    expect(isOwnState(st("sensor.x", "1"), SRV)).toBe(true);
    expect(isOwnState({ ...st("sensor.x", "1"), origin: "another-origin-id" }, SRV)).toBe(true);
    expect(isOwnState({ ...st("sensor.x", "1"), origin: "another-origin-id", path: ["another-origin-id"] }, SRV)).toBe(false);
  });
});
