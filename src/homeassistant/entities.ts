import type { Anomaly, DailyMaxPower, Meter } from "../domain/types.js";
import { fireEvent, setState, type HaRest } from "./rest.js";

/** Event fired on HA's bus for each new anomaly: data = AnomalyEventData. */
export const ANOMALY_EVENT = "energy_bridge_anomaly";

/** Entity ids of a meter (DESIGN naming): `binary_sensor.energy_bridge_<meter>_anomaly`, … */
export function entityIds(meterId: string): { anomaly: string; daily: string; lastSync: string; maxPower: string } {
  const key = meterId.toLowerCase().replace(/[^a-z0-9_]+/g, "_");
  return {
    anomaly: `binary_sensor.energy_bridge_${key}_anomaly`,
    daily: `sensor.energy_bridge_${key}_daily`,
    lastSync: `sensor.energy_bridge_${key}_last_sync`,
    maxPower: `sensor.energy_bridge_${key}_max_power`,
  };
}

/** What the add-on publishes about one meter. Energies in Wh (published in kWh). */
export interface MeterSnapshot {
  meter: Meter;
  /** The most recent complete local day and its total, if any. */
  latestDay: { day: string; totalWh: number } | null;
  /** The anomaly of that latest day, if it is one. */
  latestAnomaly: Anomaly | null;
  /** The latest day's peak power (consumption series with a provider that serves it), else null. */
  maxPower?: DailyMaxPower | null;
  sync: {
    status: string;
    lastError: string | null;
    lastSuccessAt: number | null;
    requestsRemaining: number | null;
  };
}

const kwh = (wh: number) => Math.round(wh) / 1000;

/**
 * Publishes a meter's entities as REST states (a production series, `meter.flow` production, has
 * no anomaly sensor; a consumption series with max-power data also gets
 * `sensor.energy_bridge_<prm>_max_power`, VA, attributes `day` and `peak_at`):
 * - `binary_sensor.energy_bridge_<prm>_anomaly` on when the latest complete day is an anomaly
 *   (attributes severity, variance_percent, value_kwh, avg_7d_kwh, day);
 * - `sensor.energy_bridge_<prm>_daily`: that day's total in kWh (device_class energy);
 * - `sensor.energy_bridge_<prm>_last_sync`: time of the last successful sync (device_class
 *   timestamp), with the sync status and last error.
 * Throws HaRestError when HA refuses or cannot be reached.
 */
export async function publishMeter(rest: HaRest, snap: MeterSnapshot): Promise<void> {
  const ids = entityIds(snap.meter.id);
  const a = snap.latestAnomaly;
  const production = snap.meter.flow === "production";
  const what = production ? "production" : "consumption";
  if (!production) await setState(rest, ids.anomaly, a ? "on" : "off", {
    friendly_name: `${snap.meter.name} consumption anomaly`,
    device_class: "problem",
    severity: a?.severity ?? null,
    variance_percent: a ? Math.round(a.variancePercent * 10) / 10 : null,
    value_kwh: a ? kwh(a.value) : null,
    avg_7d_kwh: a ? kwh(a.average7d) : null,
    day: snap.latestDay?.day ?? null,
  });
  await setState(rest, ids.daily, snap.latestDay ? String(kwh(snap.latestDay.totalWh)) : "unknown", {
    friendly_name: `${snap.meter.name} daily ${what}`,
    unit_of_measurement: "kWh",
    device_class: "energy",
    icon: production ? "mdi:solar-power" : "mdi:lightning-bolt",
    day: snap.latestDay?.day ?? null,
  });
  if (snap.maxPower) {
    await setState(rest, ids.maxPower, String(Math.round(snap.maxPower.valueVa)), {
      friendly_name: `${snap.meter.name} daily max power`,
      unit_of_measurement: "VA",
      device_class: "apparent_power",
      icon: "mdi:flash-alert",
      day: snap.maxPower.day,
      peak_at: new Date(snap.maxPower.at).toISOString(),
    });
  }
  await setState(
    rest,
    ids.lastSync,
    snap.sync.lastSuccessAt ? new Date(snap.sync.lastSuccessAt).toISOString() : "unknown",
    {
      friendly_name: `${snap.meter.name}${production ? " production" : ""} last sync`,
      device_class: "timestamp",
      status: snap.sync.status,
      last_error: snap.sync.lastError,
      requests_remaining_today: snap.sync.requestsRemaining,
    },
  );
}

/** Payload of the `energy_bridge_anomaly` event. */
export interface AnomalyEventData {
  meter: string;
  entity_id: string;
  day: string;
  severity: string;
  value_kwh: number;
  avg_7d_kwh: number;
  variance_percent: number;
}

/** Fires `energy_bridge_anomaly` for one anomaly. */
export async function fireAnomalyEvent(rest: HaRest, a: Anomaly): Promise<void> {
  const data: AnomalyEventData = {
    meter: a.meterId,
    entity_id: entityIds(a.meterId).anomaly,
    day: a.day,
    severity: a.severity,
    value_kwh: kwh(a.value),
    avg_7d_kwh: kwh(a.average7d),
    variance_percent: Math.round(a.variancePercent * 10) / 10,
  };
  await fireEvent(rest, ANOMALY_EVENT, data as unknown as Record<string, unknown>);
}
