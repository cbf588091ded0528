/**
 * How a mirrored state becomes a local MQTT-discovery entity (through ctx.entities' generic device
 * API) and how a local command becomes a forwarded service call. Pure functions, no I/O.
 *
 * Identity: one device per server, key `sync_<first 12 hex digits of the server's instance id>`;
 * entity key = the server's entity id with `.` → `_` (`light.kitchen` → `light_kitchen`), so the
 * unique id `energy_bridge_sync_<srv>_light_kitchen` never changes across reconnects or restarts.
 *
 * Payload shapes follow HA's MQTT platforms (reference mqtt-discovery.md §2.4): switch `ON`/`OFF`
 * commands with `on`/`off` states; light JSON schema with `color_temp_kelvin: true`; climate with
 * JSON state + templates, bare `temperature` / `mode` commands; cover `OPEN`/`CLOSE`/`STOP` and a
 * 0–100 position. Sensors and binary sensors are read-only. The attributes topic carries the
 * server's attributes plus `eb_sync_origin` / `eb_sync_path`, the loop markers the local sync
 * server reads (server/states.ts).
 */
import type { DeviceStateMessage, EntitySpec } from "../../homeassistant/entities/device-sink.js";
import type { EntityState } from "../protocol.js";
import { ORIGIN_ATTRIBUTE, PATH_ATTRIBUTE } from "../server/states.js";

/** Domains mirrored (others are skipped). */
export const MIRRORED_DOMAINS = ["sensor", "binary_sensor", "switch", "light", "climate", "cover"] as const;
type Domain = (typeof MIRRORED_DOMAINS)[number];

/** Device key of a server. */
export function deviceKeyFor(serverId: string): string {
  return `sync_${serverId.replace(/[^0-9a-f]/gi, "").toLowerCase().slice(0, 12)}`;
}

/** Entity key of a server entity id. */
export function entityKeyFor(entityId: string): string {
  return entityId.replace(".", "_");
}

const domainOf = (s: EntityState) => s.entity_id.split(".")[0] as Domain;
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** Whether a state is ours coming back (loop): its origin or path contains `self`. */
export function isOwnState(s: EntityState, self: string): boolean {
  return s.origin === self || s.path.includes(self);
}

const RGB_MODES = ["hs", "xy", "rgb", "rgbw", "rgbww"];

function lightModes(s: EntityState): string[] {
  const modes = Array.isArray(s.attributes.supported_color_modes) ? (s.attributes.supported_color_modes as string[]) : [];
  const out: string[] = [];
  if (modes.includes("color_temp")) out.push("color_temp");
  if (modes.some((m) => RGB_MODES.includes(m))) out.push("rgb");
  if (out.length) return out;
  return modes.includes("onoff") && modes.length === 1 ? ["onoff"] : ["brightness"];
}

/** The discovery spec of a mirrored state, or null for a domain that is not mirrored. */
export function entitySpec(s: EntityState, temperatureUnit: "C" | "F" = "C"): EntitySpec | null {
  const domain = domainOf(s);
  const a = s.attributes;
  const name = str(a.friendly_name) ?? s.entity_id;
  const key = entityKeyFor(s.entity_id);
  const opt = (k: string, v: unknown) => (v === undefined ? {} : { [k]: v });
  switch (domain) {
    case "sensor":
      return { key, component: "sensor", name, config: { ...opt("device_class", str(a.device_class)), ...opt("unit_of_measurement", str(a.unit_of_measurement)), ...opt("state_class", str(a.state_class)) } };
    case "binary_sensor":
      return { key, component: "binary_sensor", name, config: { payload_on: "on", payload_off: "off", ...opt("device_class", str(a.device_class)) } };
    case "switch":
      return {
        key, component: "switch", name, commands: ["set"],
        config: { command_topic: "~/set", payload_on: "ON", payload_off: "OFF", state_on: "on", state_off: "off", optimistic: false, retain: false, ...opt("device_class", str(a.device_class)) },
      };
    case "light": {
      const modes = lightModes(s);
      return {
        key, component: "light", name, commands: ["set"],
        config: {
          schema: "json", command_topic: "~/set", brightness: !modes.includes("onoff"), supported_color_modes: modes,
          ...(modes.includes("color_temp") ? { color_temp_kelvin: true, min_kelvin: num(a.min_color_temp_kelvin) ?? 2000, max_kelvin: num(a.max_color_temp_kelvin) ?? 6535 } : {}),
        },
      };
    }
    case "climate":
      return {
        key, component: "climate", name, commands: ["temperature", "mode"], stateTopic: false,
        config: {
          json_attributes_topic: "~/attributes",
          mode_command_topic: "~/mode", temperature_command_topic: "~/temperature",
          mode_state_topic: "~/state", mode_state_template: "{{ value_json.hvac_mode }}",
          temperature_state_topic: "~/state", temperature_state_template: "{{ value_json.temperature }}",
          current_temperature_topic: "~/state", current_temperature_template: "{{ value_json.current_temperature }}",
          modes: Array.isArray(a.hvac_modes) ? a.hvac_modes : ["off", "heat"],
          ...opt("min_temp", num(a.min_temp)), ...opt("max_temp", num(a.max_temp)),
          temp_step: num(a.target_temp_step) ?? 0.5, precision: 0.1, temperature_unit: temperatureUnit,
        },
      };
    case "cover": {
      const positioned = num(a.current_position) !== undefined;
      return {
        key, component: "cover", name, commands: positioned ? ["set", "set_position"] : ["set"],
        config: {
          command_topic: "~/set", optimistic: false, ...opt("device_class", str(a.device_class)),
          ...(positioned ? { position_topic: "~/position", set_position_topic: "~/set_position" } : {}),
        },
      };
    }
    default:
      return null;
  }
}

function lightState(s: EntityState): Record<string, unknown> {
  const a = s.attributes;
  if (s.state !== "on" && s.state !== "off") return { state: null };
  if (s.state === "off") return { state: "OFF" };
  const out: Record<string, unknown> = { state: "ON" };
  if (num(a.brightness) !== undefined) out.brightness = a.brightness;
  const mode = str(a.color_mode);
  const rgb = Array.isArray(a.rgb_color) ? (a.rgb_color as number[]) : undefined;
  if (mode === "color_temp" && num(a.color_temp_kelvin) !== undefined) Object.assign(out, { color_mode: "color_temp", color_temp: a.color_temp_kelvin });
  else if (mode && RGB_MODES.includes(mode) && rgb) Object.assign(out, { color_mode: "rgb", color: { r: rgb[0], g: rgb[1], b: rgb[2] } });
  else if (mode === "brightness") out.color_mode = "brightness";
  return out;
}

/** The state messages of a mirrored state (state + attributes, cover position, climate JSON). */
export function stateMessages(s: EntityState): DeviceStateMessage[] {
  const entity = entityKeyFor(s.entity_id);
  const a = s.attributes;
  const missing = s.state === "unknown" || s.state === "unavailable";
  const attrs: Record<string, unknown> = { ...a, [ORIGIN_ATTRIBUTE]: s.origin, [PATH_ATTRIBUTE]: s.path };
  let attrText = JSON.stringify(attrs);
  if (attrText.length > 8192) attrText = JSON.stringify({ [ORIGIN_ATTRIBUTE]: s.origin, [PATH_ATTRIBUTE]: s.path });
  const out: DeviceStateMessage[] = [{ entity, topic: "attributes", payload: attrText }];
  switch (domainOf(s)) {
    case "sensor": {
      const numeric = str(a.state_class) !== undefined || str(a.unit_of_measurement) !== undefined;
      const bad = missing || (numeric && !Number.isFinite(Number(s.state)));
      out.push({ entity, payload: bad ? "None" : s.state });
      break;
    }
    case "binary_sensor":
    case "switch":
      out.push({ entity, payload: missing ? "None" : s.state });
      break;
    case "light":
      out.push({ entity, payload: JSON.stringify(lightState(s)) });
      break;
    case "climate":
      out.push({ entity, payload: JSON.stringify({ hvac_mode: missing ? null : s.state, temperature: num(a.temperature) ?? null, current_temperature: num(a.current_temperature) ?? null }) });
      break;
    case "cover":
      out.push({ entity, payload: missing ? "None" : s.state });
      if (num(a.current_position) !== undefined) out.push({ entity, topic: "position", payload: String(a.current_position) });
      break;
    default:
      return [];
  }
  return out;
}

/** A forwarded call and the optimistic state to show at once. */
export interface ForwardedCall {
  domain: string;
  service: string;
  data: Record<string, unknown>;
  /** The state expected after the call (shown until the server's real state arrives). */
  optimistic: EntityState | null;
}

/**
 * A local command (MQTT sub-topic + payload on a mirrored entity) → the service call to forward,
 * or null when the payload is not a command of that entity (ignored).
 */
export function commandToCall(s: EntityState, command: string, payload: string): ForwardedCall | null {
  const domain = domainOf(s);
  const p = payload.trim();
  const withState = (state: string, attrs: Record<string, unknown> = {}): EntityState => ({ ...s, state, attributes: { ...s.attributes, ...attrs } });
  if (domain === "switch" && command === "set") {
    if (p === "ON") return { domain, service: "turn_on", data: {}, optimistic: withState("on") };
    if (p === "OFF") return { domain, service: "turn_off", data: {}, optimistic: withState("off") };
    if (p === "TOGGLE") return { domain, service: "toggle", data: {}, optimistic: withState(s.state === "on" ? "off" : "on") };
    return null;
  }
  if (domain === "light" && command === "set") {
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(p) as Record<string, unknown>;
    } catch {
      return null;
    }
    if (j.state === "OFF") return { domain, service: "turn_off", data: num(j.transition) !== undefined ? { transition: j.transition } : {}, optimistic: withState("off") };
    if (j.state !== "ON") return null;
    const data: Record<string, unknown> = {};
    const attrs: Record<string, unknown> = {};
    if (num(j.brightness) !== undefined) data.brightness = attrs.brightness = Math.round(j.brightness as number);
    if (num(j.color_temp) !== undefined) {
      data.color_temp_kelvin = attrs.color_temp_kelvin = Math.round(j.color_temp as number);
      attrs.color_mode = "color_temp";
    }
    const c = j.color as { r?: unknown; g?: unknown; b?: unknown } | undefined;
    if (c && num(c.r) !== undefined && num(c.g) !== undefined && num(c.b) !== undefined) {
      data.rgb_color = attrs.rgb_color = [c.r, c.g, c.b];
      attrs.color_mode = "rgb";
    }
    if (num(j.transition) !== undefined) data.transition = j.transition;
    return { domain, service: "turn_on", data, optimistic: withState("on", attrs) };
  }
  if (domain === "climate") {
    if (command === "temperature" && Number.isFinite(Number(p))) {
      return { domain, service: "set_temperature", data: { temperature: Number(p) }, optimistic: withState(s.state, { temperature: Number(p) }) };
    }
    if (command === "mode" && /^[a-z_]+$/.test(p)) return { domain, service: "set_hvac_mode", data: { hvac_mode: p }, optimistic: withState(p) };
    return null;
  }
  if (domain === "cover") {
    if (command === "set") {
      if (p === "OPEN") return { domain, service: "open_cover", data: {}, optimistic: withState("opening") };
      if (p === "CLOSE") return { domain, service: "close_cover", data: {}, optimistic: withState("closing") };
      if (p === "STOP") return { domain, service: "stop_cover", data: {}, optimistic: null };
      return null;
    }
    if (command === "set_position" && /^\d{1,3}$/.test(p) && Number(p) <= 100) {
      return { domain, service: "set_cover_position", data: { position: Number(p) }, optimistic: withState(s.state, { current_position: Number(p) }) };
    }
  }
  return null;
}
