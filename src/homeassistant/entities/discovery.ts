/**
 * Pure builders of Home Assistant MQTT discovery configs (per-component discovery) for the add-on's
 * entities: one device per meter series, all under the add-on's own bridge device.
 *
 * Topics (node_id `energy_bridge`; object_id = the unique_id minus its `energy_bridge_` prefix, so
 * `<prefix>/+/energy_bridge/+/config` lists every config of ours):
 * - config   `<prefix>/<component>/energy_bridge/<key>_<entity>/config` (retained, QoS 1; JSON)
 * - state    `energy_bridge/linky/<key>/<entity>`                      (retained, QoS 1)
 * - attrs    `energy_bridge/linky/<key>/<entity>/attributes`           (retained, QoS 1; JSON object)
 * - meter availability `energy_bridge/linky/<key>/availability`       (`online` | `offline`, retained)
 * - bridge availability `energy_bridge/bridge/state`, the MQTT Last Will (`online` | `offline`, retained)
 * - bridge entity: `<prefix>/sensor/energy_bridge/bridge_version/config`, state `energy_bridge/bridge/version`
 * `<key>` is {@link meterKey}: the meter id lower-cased, runs of other characters than `[a-z0-9_]` → `_`.
 *
 * Identity: `unique_id` `energy_bridge_<key>_<entity>`; both `object_id` (read by HA ≤ 2026.3;
 * 2025.4 builds the entity id as `<component>.<object_id>`) and `default_entity_id`
 * (`<component>.energy_bridge_<key>_<entity>`, HA ≥ 2025.10; dropped as an extra key by 2025.4), so the
 * entity ids are `sensor.energy_bridge_<key>_daily`, `binary_sensor.energy_bridge_<key>_anomaly`, … on
 * every supported release (DESIGN naming; same ids as the REST-state fallback, `../entities.ts`).
 * Names follow `has_entity_name` (friendly name = device name + entity name), so no entity name
 * repeats the device name.
 *
 * Availability: a list with `availability_mode: all`. The meter's measurements (daily energy,
 * anomaly, max power) list the bridge topic and the meter's topic; its diagnostics (last sync,
 * requests left, history coverage) list only the bridge topic, because they stay meaningful — and
 * matter most — while the meter's provider link is down.
 *
 * Sources: HA core `components/mqtt/` `discovery.py` (TOPIC_MATCHER), `entity.py`
 * (init_entity_id_from_config on 2025.4.4, `_init_entity_id` on 2026.2.3, MqttAvailabilityMixin),
 * `schemas.py` (device, origin, availability), `sensor/const.py` DEVICE_CLASS_STATE_CLASSES,
 * `sensor/recorder.py` `_get_sensor_states`; home-assistant.io `mqtt.markdown`.
 */
import type { Flow } from "../../domain/types.js";

/** Where and as what the configs are published. */
export interface DiscoveryOptions {
  /** HA's discovery prefix (an MQTT integration option). Default `homeassistant`. */
  prefix?: string;
  /** Root of our own state/availability topics. Default `energy_bridge`. */
  baseTopic?: string;
  /** The add-on's version: `origin.sw_version` and the bridge device's `sw_version`. */
  swVersion: string;
  /** `origin.support_url`. Default {@link SUPPORT_URL}. */
  supportUrl?: string;
}

/** The meter fields the configs depend on (a domain `Meter` fits). */
export interface MeterDescriptor {
  /** Store key: the PRM, or `<prm>_production` for a production series. */
  id: string;
  /** Device name, e.g. "Linky 12345678901234". */
  name: string;
  /** `consumption` when absent; a production series has no anomaly sensor. */
  flow?: Flow;
  /** The 14-digit PRM, used as the device's serial number; defaults to `id`. */
  usagePoint?: string;
}

/** Which optional entities a meter gets. */
export interface MeterFeatures {
  /** The max-power sensor (a consumption series whose provider serves daily peak power). */
  maxPower?: boolean;
}

/** HA component (entity platform) of a config. */
export type Component = "sensor" | "binary_sensor" | "switch" | "light" | "climate" | "cover";

/** The entities of one meter, by their suffix in ids and topics. */
export type MeterEntityKind = "daily" | "anomaly" | "last_sync" | "requests_left" | "history" | "max_power";

/** One built config, ready to publish. */
export interface DiscoveryConfig {
  component: Component;
  /** `energy_bridge_<key>_<kind>` (or `energy_bridge_bridge_version`); never changes. */
  uniqueId: string;
  /** The entity id HA gives it on first registration, e.g. `sensor.energy_bridge_<key>_daily`. */
  entityId: string;
  /** Config topic (publish `payload` as JSON there, retained, QoS 1). */
  topic: string;
  stateTopic: string;
  attributesTopic?: string;
  /** The group this entity belongs to (a meter id, or `device:<key>`), or null for the bridge's own entity. */
  meterId: string | null;
  /** Generic devices: the entity's topic root (`~`); every state sub-topic under it is the entity's. */
  topicRoot?: string;
  /** Generic devices: the command topics this entity accepts (subscribed by the publisher). */
  commandTopics?: string[];
  /** The discovery config body (full key names). */
  payload: Record<string, unknown>;
}

export const DEFAULT_PREFIX = "homeassistant";
export const DEFAULT_BASE_TOPIC = "energy_bridge";
/** node_id of every config topic. */
export const NODE_ID = "energy_bridge";
export const ORIGIN_NAME = "Energy Bridge";
export const SUPPORT_URL = "https://github.com/energy-bridge/energy-bridge";
/** Device identifier of the add-on itself (the `via_device` of every meter device). */
export const BRIDGE_DEVICE_ID = "energy_bridge_bridge";
export const ONLINE = "online";
export const OFFLINE = "offline";

/** Topic key of a meter id (same rule as the REST-state entity ids of `../entities.ts`). */
export function meterKey(meterId: string): string {
  return meterId.toLowerCase().replace(/[^a-z0-9_]+/g, "_");
}

/** `energy_bridge/bridge/state`: the Last Will / bridge availability topic. */
export function bridgeStateTopic(opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/bridge/state`;
}

/** `energy_bridge/bridge/version`: state topic of the bridge's version sensor. */
export function bridgeVersionTopic(opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/bridge/version`;
}

/** `energy_bridge/linky/<key>`: root of a meter's topics. */
export function meterTopicRoot(meterId: string, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/linky/${meterKey(meterId)}`;
}

/** `energy_bridge/linky/<key>/availability`: the meter's availability topic. */
export function meterAvailabilityTopic(meterId: string, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${meterTopicRoot(meterId, opts)}/availability`;
}

/** `energy_bridge/linky/<key>/<kind>`: state topic of one meter entity. */
export function meterStateTopic(meterId: string, kind: MeterEntityKind, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${meterTopicRoot(meterId, opts)}/${kind}`;
}

/** `…/<kind>/attributes`: JSON attributes topic of one meter entity. */
export function meterAttributesTopic(
  meterId: string,
  kind: MeterEntityKind,
  opts: Pick<DiscoveryOptions, "baseTopic"> = {},
): string {
  return `${meterStateTopic(meterId, kind, opts)}/attributes`;
}

/** `<prefix>/+/energy_bridge/+/config`: subscription filter matching every config of ours. */
export function configTopicFilter(opts: Pick<DiscoveryOptions, "prefix"> = {}): string {
  return `${opts.prefix ?? DEFAULT_PREFIX}/+/${NODE_ID}/+/config`;
}

/** Config topic of a unique id: `<prefix>/<component>/energy_bridge/<unique id minus energy_bridge_>/config`. */
export function configTopic(component: Component, uniqueId: string, opts: Pick<DiscoveryOptions, "prefix"> = {}): string {
  const objectId = uniqueId.startsWith("energy_bridge_") ? uniqueId.slice("energy_bridge_".length) : uniqueId;
  return `${opts.prefix ?? DEFAULT_PREFIX}/${component}/${NODE_ID}/${objectId}/config`;
}

/** Entity ids of a meter's MQTT entities (the six kinds; which exist depends on flow/features). */
export function meterEntityIds(meterId: string): Record<MeterEntityKind, string> {
  const k = meterKey(meterId);
  return {
    daily: `sensor.energy_bridge_${k}_daily`,
    anomaly: `binary_sensor.energy_bridge_${k}_anomaly`,
    last_sync: `sensor.energy_bridge_${k}_last_sync`,
    requests_left: `sensor.energy_bridge_${k}_requests_left`,
    history: `sensor.energy_bridge_${k}_history`,
    max_power: `sensor.energy_bridge_${k}_max_power`,
  };
}

/** Unique id of a meter entity: `energy_bridge_<key>_<kind>`. */
export function meterUniqueId(meterId: string, kind: MeterEntityKind): string {
  return `energy_bridge_${meterKey(meterId)}_${kind}`;
}

/** The `origin` block of every config. */
export function origin(opts: DiscoveryOptions): Record<string, unknown> {
  return { name: ORIGIN_NAME, sw_version: opts.swVersion, support_url: opts.supportUrl ?? SUPPORT_URL };
}

/** The add-on's own device block. */
export function bridgeDevice(opts: DiscoveryOptions): Record<string, unknown> {
  return {
    identifiers: [BRIDGE_DEVICE_ID],
    name: "Energy Bridge",
    manufacturer: "Energy Bridge",
    model: "Home Assistant add-on",
    sw_version: opts.swVersion,
  };
}

/** A meter's device block (repeated whole in every config of that meter, as HA requires). */
export function meterDevice(meter: MeterDescriptor): Record<string, unknown> {
  return {
    identifiers: [`energy_bridge_${meterKey(meter.id)}`],
    name: meter.name,
    manufacturer: "Enedis",
    model: "Linky",
    serial_number: meter.usagePoint ?? meter.id,
    via_device: BRIDGE_DEVICE_ID,
  };
}

/** Availability block: every topic must say online (`availability_mode: all`). */
export function availability(topics: string[]): Record<string, unknown> {
  return { availability: topics.map((topic) => ({ topic })), availability_mode: "all" };
}

function build(
  component: Component,
  uniqueId: string,
  meterId: string | null,
  stateTopic: string,
  attributesTopic: string | undefined,
  body: Record<string, unknown>,
  device: Record<string, unknown>,
  availabilityTopics: string[],
  opts: DiscoveryOptions,
): DiscoveryConfig {
  const objectId = uniqueId; // energy_bridge_<key>_<kind>: the entity id's object part
  const entityId = `${component}.${objectId}`;
  const payload: Record<string, unknown> = {
    ...body,
    unique_id: uniqueId,
    object_id: objectId,
    default_entity_id: entityId,
    state_topic: stateTopic,
    ...(attributesTopic ? { json_attributes_topic: attributesTopic } : {}),
    ...availability(availabilityTopics),
    device,
    origin: origin(opts),
    qos: 1,
  };
  return { component, uniqueId, entityId, topic: configTopic(component, uniqueId, opts), stateTopic, attributesTopic, meterId, payload };
}

/**
 * The bridge device's own entity: `sensor.energy_bridge_version` (diagnostic; state = the add-on
 * version, published by the publisher itself). It makes the `via_device` parent a real device with
 * name and model instead of the bare placeholder HA would create.
 */
export function bridgeConfigs(opts: DiscoveryOptions): DiscoveryConfig[] {
  const cfg = build(
    "sensor",
    "energy_bridge_bridge_version",
    null,
    bridgeVersionTopic(opts),
    undefined,
    { name: "Version", icon: "mdi:tag-outline", entity_category: "diagnostic" },
    bridgeDevice(opts),
    [bridgeStateTopic(opts)],
    opts,
  );
  // entity id `sensor.energy_bridge_version`, not `…_bridge_version`.
  cfg.payload.object_id = "energy_bridge_version";
  cfg.payload.default_entity_id = cfg.entityId = "sensor.energy_bridge_version";
  return [cfg];
}

/**
 * The configs of one meter series, in publishing order:
 * - `sensor.energy_bridge_<key>_daily` "Daily consumption"/"Daily production": the latest complete
 *   local day's total, kWh, `device_class: energy`, **no `state_class`** (see below), attributes
 *   `day`.
 * - `binary_sensor.energy_bridge_<key>_anomaly` "Consumption anomaly" (consumption only):
 *   `device_class: problem`, `ON` when the latest day is an anomaly, attributes `severity`,
 *   `variance_percent`, `value_kwh`, `avg_7d_kwh`, `day`.
 * - `sensor.energy_bridge_<key>_last_sync` "Last sync": `device_class: timestamp`, diagnostic,
 *   attributes `status`, `last_error`.
 * - `sensor.energy_bridge_<key>_requests_left` "Requests left today": provider requests still
 *   allowed today, diagnostic.
 * - `sensor.energy_bridge_<key>_history` "History coverage": days from the first to the last day
 *   held (`device_class: duration`, unit `d`), diagnostic, attributes `first_day`, `last_day`.
 * - `sensor.energy_bridge_<key>_max_power` "Max power" (only with `features.maxPower`): the latest
 *   day's peak, VA, `device_class: apparent_power`, `state_class: measurement`, attributes `day`,
 *   `peak_at`.
 *
 * Why the daily sensor has no `state_class`: with device_class energy HA accepts only `total` or
 * `total_increasing` (`sensor/const.py` DEVICE_CLASS_STATE_CLASSES; `measurement` is reported as
 * impossible). Either one makes the recorder compile a second, hour-stamped sum for this sensor
 * (`sensor/recorder.py` compiles statistics only for states that carry a state_class) and lists it
 * in the Energy dashboard next to our imported external statistic
 * `energy_bridge:linky_<meter>_consumption` — double counting if both are picked, and attributed
 * to the hour the state arrived instead of the hours consumed. `total_increasing` is also simply
 * wrong for "yesterday's total, published once a day": a rise from 10 to 12 kWh would be counted
 * as +2 kWh, and a drop above 90 % of the previous value as a dip, not a new day. Without a
 * state_class the sensor still records its states (history graph, automations) and HA logs no
 * warning (the class check runs only when a state_class is set).
 */
export function meterConfigs(meter: MeterDescriptor, features: MeterFeatures, opts: DiscoveryOptions): DiscoveryConfig[] {
  const production = meter.flow === "production";
  const device = meterDevice(meter);
  const both = [bridgeStateTopic(opts), meterAvailabilityTopic(meter.id, opts)];
  const bridgeOnly = [bridgeStateTopic(opts)];
  const one = (component: Component, kind: MeterEntityKind, attrs: boolean, avail: string[], body: Record<string, unknown>) =>
    build(
      component,
      meterUniqueId(meter.id, kind),
      meter.id,
      meterStateTopic(meter.id, kind, opts),
      attrs ? meterAttributesTopic(meter.id, kind, opts) : undefined,
      body,
      device,
      avail,
      opts,
    );
  const out: DiscoveryConfig[] = [
    one("sensor", "daily", true, both, {
      name: production ? "Daily production" : "Daily consumption",
      device_class: "energy",
      unit_of_measurement: "kWh",
      suggested_display_precision: 2,
      icon: production ? "mdi:solar-power" : "mdi:lightning-bolt",
    }),
  ];
  if (!production) {
    out.push(one("binary_sensor", "anomaly", true, both, { name: "Consumption anomaly", device_class: "problem" }));
  }
  out.push(
    one("sensor", "last_sync", true, bridgeOnly, { name: "Last sync", device_class: "timestamp", entity_category: "diagnostic" }),
    one("sensor", "requests_left", false, bridgeOnly, {
      name: "Requests left today",
      unit_of_measurement: "requests",
      icon: "mdi:counter",
      entity_category: "diagnostic",
    }),
    one("sensor", "history", true, bridgeOnly, {
      name: "History coverage",
      device_class: "duration",
      unit_of_measurement: "d",
      icon: "mdi:calendar-range",
      entity_category: "diagnostic",
    }),
  );
  if (features.maxPower && !production) {
    out.push(
      one("sensor", "max_power", true, both, {
        name: "Max power",
        device_class: "apparent_power",
        state_class: "measurement",
        unit_of_measurement: "VA",
        icon: "mdi:flash-alert",
      }),
    );
  }
  return out;
}
