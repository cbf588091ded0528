/**
 * The generic-device half of the entity sink (sink.ts): modules declare devices of entities
 * (device-discovery.ts), publish their states and receive commands, over MQTT discovery — or,
 * without a broker, as REST states for sensors and binary sensors only (no commands, no
 * availability, no device).
 */
import type { HaRest } from "../rest.js";
import { setState } from "../rest.js";
import { meterKey } from "./discovery.js";
import { PAYLOAD_NONE } from "./states.js";
import {
  deviceAvailabilityTopic,
  deviceConfigs,
  deviceEntityUniqueId,
  deviceGroup,
  entityTopicRoot,
  parseCommandTopic,
  type DeviceSpec,
  type EntitySpec,
} from "./device-discovery.js";
import type { EntityPublisher } from "./publisher.js";

export type { DeviceSpec, EntitySpec } from "./device-discovery.js";

/** One state message of a device entity: `topic` is the sub-topic under `~` (default `state`). */
export interface DeviceStateMessage {
  entity: string;
  topic?: string;
  payload: string;
}

/** Called with the entity key, the command sub-topic and the raw payload of a command. */
export type CommandHandler = (entityKey: string, command: string, payload: string) => void;

/** See the file comment. */
export interface DeviceSink {
  /** Declares (or re-declares, e.g. with more entities) a device; availability `online` unless set. */
  declareDevice(device: DeviceSpec, entities: EntitySpec[]): Promise<void>;
  /** Publishes retained states (kept and re-sent after reconnects and HA restarts). */
  publishDeviceStates(deviceKey: string, messages: readonly DeviceStateMessage[]): Promise<void>;
  /** `false`: the device's entities go `unavailable` (never deleted). */
  setDeviceAvailable(deviceKey: string, available: boolean): Promise<void>;
  /** Receives the device's commands (non-retained messages on declared command topics). */
  onCommand(deviceKey: string, handler: CommandHandler): () => void;
  /** Only when the user removes the device: its configs are emptied and HA deletes it. */
  removeDevice(deviceKey: string): Promise<void>;
}

/** Over a started publisher. */
export function mqttDeviceSink(publisher: EntityPublisher): DeviceSink {
  const opts = publisher.discovery;
  return {
    declareDevice: (device, entities) => publisher.declareGroup(deviceConfigs(device, entities, opts), deviceAvailabilityTopic(device.key, opts)),
    publishDeviceStates: (deviceKey, messages) =>
      publisher.publishStates(messages.map((m) => ({ topic: `${entityTopicRoot(deviceKey, m.entity, opts)}/${m.topic ?? "state"}`, payload: m.payload }))),
    setDeviceAvailable: (deviceKey, available) => publisher.setAvailability(deviceAvailabilityTopic(deviceKey, opts), available),
    onCommand(deviceKey, handler) {
      const mine = meterKey(deviceKey);
      return publisher.onCommand((topic, payload) => {
        const c = parseCommandTopic(topic, opts);
        if (c && c.device === mine) handler(c.entity, c.command, payload);
      });
    },
    removeDevice: (deviceKey) => publisher.removeGroup(deviceGroup(deviceKey), deviceAvailabilityTopic(deviceKey, opts)),
  };
}

/**
 * REST fallback: a sensor / binary_sensor entity's `state` message becomes the state of
 * `<component>.energy_bridge_<d>_<e>` with the last `attributes` message (a JSON object) and the
 * name as `friendly_name`; other components and sub-topics are ignored; commands never arrive.
 */
export function restDeviceSink(rest: HaRest): DeviceSink {
  const devices = new Map<string, { device: DeviceSpec; entities: Map<string, EntitySpec> }>();
  const attributes = new Map<string, Record<string, unknown>>();
  return {
    async declareDevice(device, entities) {
      devices.set(meterKey(device.key), { device, entities: new Map(entities.map((e) => [meterKey(e.key), e])) });
    },
    async publishDeviceStates(deviceKey, messages) {
      const d = devices.get(meterKey(deviceKey));
      if (!d) throw new Error(`device ${deviceKey} was not declared`);
      for (const m of messages) {
        const e = d.entities.get(meterKey(m.entity));
        if (!e || (e.component !== "sensor" && e.component !== "binary_sensor")) continue;
        const id = `${e.component}.${deviceEntityUniqueId(deviceKey, m.entity)}`;
        if ((m.topic ?? "state") === "attributes") {
          attributes.set(id, JSON.parse(m.payload) as Record<string, unknown>);
          continue;
        }
        if ((m.topic ?? "state") !== "state") continue;
        const friendly = e.name ? `${d.device.name} ${e.name}` : d.device.name;
        const cfg = e.config ?? {};
        // MQTT's "unknown" payload is HA's `unknown` state over REST.
        await setState(rest, id, m.payload === PAYLOAD_NONE ? "unknown" : m.payload, {
          ...(attributes.get(id) ?? {}),
          friendly_name: friendly,
          ...(typeof cfg.unit_of_measurement === "string" ? { unit_of_measurement: cfg.unit_of_measurement } : {}),
          ...(typeof cfg.device_class === "string" ? { device_class: cfg.device_class } : {}),
        });
      }
    },
    setDeviceAvailable: async () => undefined,
    onCommand: () => () => undefined,
    async removeDevice(deviceKey) {
      devices.delete(meterKey(deviceKey));
    },
  };
}
