/**
 * Reading a real Home Assistant's registries and states in tests: entity and device registry
 * entries (`config/entity_registry/list`, `config/device_registry/list` over the WebSocket API)
 * and one entity's state (`GET /api/states/<entity_id>`).
 */
import type { HaLink } from "../../src/homeassistant/connection.js";
import type { HomeAssistantInstance } from "./ha-harness.js";

/** The registry fields the tests read (HA `entity_registry` `as_partial_dict`). */
export interface RegEntity {
  entity_id: string;
  unique_id: string;
  platform: string;
  device_id: string | null;
  config_entry_id: string | null;
  name: string | null;
  original_name?: string | null;
  entity_category: string | null;
}

/** The device registry fields the tests read. */
export interface RegDevice {
  id: string;
  identifiers: [string, string][];
  name: string | null;
  name_by_user: string | null;
  manufacturer: string | null;
  model: string | null;
  serial_number?: string | null;
  sw_version: string | null;
  via_device_id: string | null;
  config_entries: string[];
  suggested_area?: string | null;
  area_id?: string | null;
}

/** MQTT entities whose unique id starts with `prefix`. */
export async function mqttEntities(link: HaLink, prefix = "energy_bridge_"): Promise<RegEntity[]> {
  const all = await link.connection.sendMessagePromise<RegEntity[]>({ type: "config/entity_registry/list" });
  return all.filter((e) => e.platform === "mqtt" && e.unique_id.startsWith(prefix));
}

/** Every device in the registry. */
export function registryDevices(link: HaLink): Promise<RegDevice[]> {
  return link.connection.sendMessagePromise<RegDevice[]>({ type: "config/device_registry/list" });
}

/** The MQTT device with identifier `ident` (e.g. `energy_bridge_12345678901234`), if any. */
export function mqttDevice(all: readonly RegDevice[], ident: string): RegDevice | undefined {
  return all.find((d) => d.identifiers.some(([a, b]) => a === "mqtt" && b === ident));
}

/** An entity's state and attributes, or null when HA has no such entity (404). */
export async function haState(
  ha: Pick<HomeAssistantInstance, "url" | "token">,
  entityId: string,
): Promise<{ state: string; attributes: Record<string, unknown> } | null> {
  const res = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { Authorization: `Bearer ${ha.token}` } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /api/states/${entityId}: HTTP ${res.status}`);
  return (await res.json()) as { state: string; attributes: Record<string, unknown> };
}
