/**
 * The tado module's Home Assistant devices (generic device API of the entity sink):
 * - one device per Tado home, `tado_<homeId>`, with diagnostic sensors: Tado's remaining quota
 *   (`quota_remaining`, the `RateLimit` r value), when it resets (`quota_reset`, timestamp), and
 *   the calls the add-on counted in the current budget day (`requests_today`);
 * - one device per heating zone, `tado_<homeId>_zone_<zoneId>`, `viaDevice` the home, with
 *   inside temperature (°C), humidity (%) and heating power (%) — the shapes of the project's MQTT
 *   discovery reference §2.3 (heating power has no device_class: power_factor is another quantity).
 * Zone devices go unavailable when the Tado link is down; they are never removed on disconnect.
 */
import type { DeviceSpec, EntitySpec } from "../../homeassistant/entities/device-sink.js";

/** Device key of a home. */
export const homeDeviceKey = (homeId: number): string => `tado_${homeId}`;
/** Device key of a zone. */
export const zoneDeviceKey = (homeId: number, zoneId: number): string => `tado_${homeId}_zone_${zoneId}`;

/** The home device. */
export function homeDevice(homeId: number, homeName: string, generation?: string): DeviceSpec {
  return {
    key: homeDeviceKey(homeId),
    name: `Tado ${homeName}`,
    manufacturer: "tado°",
    model: generation === "LINE_X" ? "tado X home" : "tado home",
    serialNumber: String(homeId),
  };
}

/** The home device's diagnostic entities (meaningful while the link is down, so on the home device). */
export const HOME_ENTITIES: EntitySpec[] = [
  {
    key: "quota_remaining",
    component: "sensor",
    name: "API quota remaining",
    config: { entity_category: "diagnostic", state_class: "measurement", unit_of_measurement: "requests", icon: "mdi:counter" },
  },
  { key: "quota_reset", component: "sensor", name: "API quota reset", config: { entity_category: "diagnostic", device_class: "timestamp" } },
  {
    key: "requests_today",
    component: "sensor",
    name: "API requests today",
    config: { entity_category: "diagnostic", state_class: "total_increasing", unit_of_measurement: "requests", icon: "mdi:api" },
  },
];

/** A zone device under its home. */
export function zoneDevice(homeId: number, zoneId: number, zoneName: string): DeviceSpec {
  return { key: zoneDeviceKey(homeId, zoneId), name: zoneName, manufacturer: "tado°", model: "Heating zone", viaDevice: homeDeviceKey(homeId), suggestedArea: zoneName };
}

/** A zone's measurements. */
export const ZONE_ENTITIES: EntitySpec[] = [
  {
    key: "temperature",
    component: "sensor",
    name: "Temperature",
    config: { device_class: "temperature", state_class: "measurement", unit_of_measurement: "°C", suggested_display_precision: 1 },
  },
  {
    key: "humidity",
    component: "sensor",
    name: "Humidity",
    config: { device_class: "humidity", state_class: "measurement", unit_of_measurement: "%", suggested_display_precision: 0 },
  },
  {
    key: "heating_power",
    component: "sensor",
    name: "Heating power",
    config: { state_class: "measurement", unit_of_measurement: "%", icon: "mdi:radiator" },
  },
];

/** A value as a state payload: the number, or `None` (HA's "unknown") when not reported. */
export function numberPayload(v: number | null): string {
  return v === null ? "None" : String(v);
}

/** An instant as a timestamp-sensor payload (ISO 8601 with offset, UTC). */
export function timestampPayload(at: number | null): string {
  return at === null ? "None" : new Date(at).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
