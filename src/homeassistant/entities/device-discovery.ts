/**
 * MQTT discovery for generic devices (Tado zones, account health, mirrored entities): a device
 * of entities of any component, described by the module that owns it. Meters keep their own,
 * fixed layout in discovery.ts; both share the bridge device, origin and availability rules.
 *
 * Topics of entity `e` of device `d` (keys reduced to `[a-z0-9_]`): `~` = `energy_bridge/<d>/<e>`;
 * state `~/state`, attributes `~/attributes`, command `c` at `~/c`; the device's availability at
 * `energy_bridge/<d>/availability` (with the bridge's Last Will, mode `all`). unique_id and
 * object_id `energy_bridge_<d>_<e>`. Topic fields in `EntitySpec.config` may use `~` (HA expands
 * it in discovery payloads: home-assistant.io `mqtt.markdown`, "Using abbreviations and base topic").
 */
import {
  availability,
  bridgeStateTopic,
  configTopic,
  DEFAULT_BASE_TOPIC,
  BRIDGE_DEVICE_ID,
  meterKey,
  origin,
  type Component,
  type DiscoveryConfig,
  type DiscoveryOptions,
} from "./discovery.js";

/** A device a module declares. `key` must be unique across modules (prefix it: `tado_…`, `mirror_…`). */
export interface DeviceSpec {
  key: string;
  name: string;
  manufacturer?: string;
  model?: string;
  serialNumber?: string;
  /** Parent device key (another DeviceSpec's), default the add-on's bridge device. */
  viaDevice?: string;
  suggestedArea?: string;
  /** Link shown on the device page (e.g. the add-on's page). */
  configurationUrl?: string;
}

/** One entity of a device. */
export interface EntitySpec {
  /** Unique within the device. */
  key: string;
  component: Component;
  /** Entity name (null = the device name alone, HA's `has_entity_name` rule). */
  name: string | null;
  /** Extra discovery fields (full names): device_class, unit_of_measurement, schema, `~/x` topics… */
  config?: Record<string, unknown>;
  /** Command sub-topics the entity accepts (`["set"]`, climate `["temperature", "mode"]`). */
  commands?: string[];
  /** false: no `~/state` / `~/attributes` topics are added (e.g. climate, which uses its own). */
  stateTopic?: boolean;
}

/** Components that have a plain `state_topic`. */
const WITH_STATE_TOPIC: ReadonlySet<Component> = new Set(["sensor", "binary_sensor", "switch", "light", "cover"]);

/** Group key of a device's configs in the publisher (`DiscoveryConfig.meterId`). */
export function deviceGroup(deviceKey: string): string {
  return `device:${meterKey(deviceKey)}`;
}

/** `energy_bridge/<d>/<e>`: an entity's topic root (`~`). */
export function entityTopicRoot(deviceKey: string, entityKey: string, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/${meterKey(deviceKey)}/${meterKey(entityKey)}`;
}

/** `energy_bridge/<d>/availability`. */
export function deviceAvailabilityTopic(deviceKey: string, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): string {
  return `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/${meterKey(deviceKey)}/availability`;
}

/** `energy_bridge_<d>_<e>`: unique_id and object_id. */
export function deviceEntityUniqueId(deviceKey: string, entityKey: string): string {
  return `energy_bridge_${meterKey(deviceKey)}_${meterKey(entityKey)}`;
}

/** The device block repeated in every config of the device. */
export function deviceBlock(d: DeviceSpec): Record<string, unknown> {
  return {
    identifiers: [`energy_bridge_${meterKey(d.key)}`],
    name: d.name,
    ...(d.manufacturer ? { manufacturer: d.manufacturer } : {}),
    ...(d.model ? { model: d.model } : {}),
    ...(d.serialNumber ? { serial_number: d.serialNumber } : {}),
    ...(d.suggestedArea ? { suggested_area: d.suggestedArea } : {}),
    ...(d.configurationUrl ? { configuration_url: d.configurationUrl } : {}),
    via_device: d.viaDevice ? `energy_bridge_${meterKey(d.viaDevice)}` : BRIDGE_DEVICE_ID,
  };
}

/**
 * The discovery configs of a device's entities. Throws Error on a duplicate entity key or a
 * command named `state` / `attributes` (those sub-topics carry states).
 */
export function deviceConfigs(d: DeviceSpec, entities: readonly EntitySpec[], opts: DiscoveryOptions): DiscoveryConfig[] {
  const seen = new Set<string>();
  const device = deviceBlock(d);
  const avail = availability([bridgeStateTopic(opts), deviceAvailabilityTopic(d.key, opts)]);
  return entities.map((e) => {
    const key = meterKey(e.key);
    if (seen.has(key)) throw new Error(`device ${d.key} declares entity ${e.key} twice`);
    seen.add(key);
    for (const c of e.commands ?? []) {
      if (c === "state" || c === "attributes") throw new Error(`entity ${d.key}/${e.key}: a command cannot be named ${c}`);
    }
    const root = entityTopicRoot(d.key, e.key, opts);
    const uniqueId = deviceEntityUniqueId(d.key, e.key);
    const entityId = `${e.component}.${uniqueId}`;
    const states = e.stateTopic ?? WITH_STATE_TOPIC.has(e.component);
    const payload: Record<string, unknown> = {
      "~": root,
      name: e.name,
      ...(states ? { state_topic: "~/state", json_attributes_topic: "~/attributes" } : {}),
      ...(e.config ?? {}),
      unique_id: uniqueId,
      object_id: uniqueId,
      default_entity_id: entityId,
      ...avail,
      device,
      origin: origin(opts),
      qos: 1,
    };
    return {
      component: e.component,
      uniqueId,
      entityId,
      topic: configTopic(e.component, uniqueId, opts),
      stateTopic: `${root}/state`,
      attributesTopic: `${root}/attributes`,
      meterId: deviceGroup(d.key),
      topicRoot: root,
      commandTopics: (e.commands ?? []).map((c) => `${root}/${c}`),
      payload,
    };
  });
}

/** A command topic back to its device, entity and command, or undefined when it is not one of ours. */
export function parseCommandTopic(topic: string, opts: Pick<DiscoveryOptions, "baseTopic"> = {}): { device: string; entity: string; command: string } | undefined {
  const base = `${opts.baseTopic ?? DEFAULT_BASE_TOPIC}/`;
  if (!topic.startsWith(base)) return undefined;
  const parts = topic.slice(base.length).split("/");
  if (parts.length !== 3) return undefined;
  const [device, entity, command] = parts as [string, string, string];
  return { device, entity, command };
}
