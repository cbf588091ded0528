/**
 * Entities of the Ecolyo series. Electricity goes through the meter entities every Linky meter
 * has (the sink's `declareMeter` / `publish`, kWh). Gas and water are not energy in Wh, so they
 * are declared as generic devices (one per series, `ecolyo_<instance>_<kind>`) with:
 * - `daily`: the latest complete local day's total in the statistic's unit (L, m³ or kWh),
 *   device_class `water` / `gas` (no state_class, for the reason given in discovery.ts);
 * - `anomaly`: binary_sensor, device_class `problem`, the seed 001 rule on that day;
 * - `leak` (water): binary_sensor, device_class `moisture`, the night-flow flag
 *   (analysis/leak.ts) — `unknown` while only daily water data exists;
 * - `last_sync`: timestamp, diagnostic, with the sync status and last error as attributes.
 * The wrapper is an EntitySink, so the shared jobs/sync-meter.ts publishes through it unchanged.
 */
import type { Meter } from "../../domain/types.js";
import type { StatisticMeta } from "../../homeassistant/statistics.js";
import type { EntitySink, MeterEntities } from "../../homeassistant/entities/sink.js";
import { PAYLOAD_NONE } from "../../homeassistant/entities/states.js";

/** Binary sensor payloads that are also valid REST states (the REST fallback writes them as given). */
const ON_OFF = { payload_on: "on", payload_off: "off", json_attributes_topic: "~/attributes" };

/** The night-flow verdict of a water series: null when the data cannot tell (daily data only). */
export type LeakState = { leak: boolean; day: string; minFlowLPerHour: number } | null;

/** Wraps `base`: electricity unchanged, gas/water as devices (see the file comment). */
export function ecolyoEntitySink(
  base: EntitySink,
  statistics: ReadonlyMap<string, StatisticMeta>,
  leakOf: (meterId: string) => LeakState,
): EntitySink {
  const isVolume = (m: Meter) => m.kind !== "electricity";
  const metaOf = (id: string) => statistics.get(id);
  return {
    ...base,
    async declareMeter(meter, features) {
      if (!isVolume(meter)) return base.declareMeter(meter, features);
      const meta = metaOf(meter.id);
      await base.declareDevice({ key: meter.id, name: meter.name, manufacturer: "Ecolyo (Cozy)", model: meter.kind }, [
        {
          key: "daily",
          component: "sensor",
          name: "Latest day",
          config: {
            device_class: meter.kind === "water" ? "water" : meta?.unit === "kWh" ? "energy" : "gas",
            unit_of_measurement: meta?.unit ?? meter.unit,
            json_attributes_topic: "~/attributes",
          },
        },
        { key: "anomaly", component: "binary_sensor", name: "Consumption anomaly", config: { device_class: "problem", ...ON_OFF } },
        ...(meter.kind === "water"
          ? [{ key: "leak", component: "binary_sensor" as const, name: "Night-flow leak", config: { device_class: "moisture", ...ON_OFF } }]
          : []),
        { key: "last_sync", component: "sensor", name: "Last sync", config: { device_class: "timestamp", entity_category: "diagnostic", json_attributes_topic: "~/attributes" } },
      ]);
    },
    async publish(e: MeterEntities) {
      if (!isVolume(e.meter)) return base.publish(e);
      const meta = metaOf(e.meter.id);
      const per = meta?.storeUnitsPerUnit ?? 1000;
      const value = (v: number) => String(Math.round((v / per) * 1000) / 1000);
      const a = e.latestAnomaly;
      const leak = e.meter.kind === "water" ? leakOf(e.meter.id) : null;
      await base.publishDeviceStates(e.meter.id, [
        { entity: "daily", payload: e.latestDay ? value(e.latestDay.totalWh) : "unknown" },
        { entity: "daily", topic: "attributes", payload: JSON.stringify({ day: e.latestDay?.day ?? null }) },
        { entity: "anomaly", payload: a ? "on" : "off" },
        {
          entity: "anomaly",
          topic: "attributes",
          payload: JSON.stringify({
            day: e.latestDay?.day ?? null,
            severity: a?.severity ?? null,
            variance_percent: a ? Math.round(a.variancePercent * 10) / 10 : null,
            value: a ? Number(value(a.value)) : null,
            avg_7d: a ? Number(value(a.average7d)) : null,
            unit: meta?.unit ?? e.meter.unit,
          }),
        },
        ...(e.meter.kind === "water"
          ? [
              // "None" is unknown for an MQTT binary sensor (and becomes `unknown` over REST).
              { entity: "leak", payload: leak === null ? PAYLOAD_NONE : leak.leak ? "on" : "off" },
              {
                entity: "leak",
                topic: "attributes",
                payload: JSON.stringify(
                  leak === null
                    ? { reason: "only daily water data: a night flow cannot be seen in daily totals" }
                    : { night_of: leak.day, min_flow_l_per_hour: leak.minFlowLPerHour },
                ),
              },
            ]
          : []),
        { entity: "last_sync", payload: e.sync.lastSuccessAt ? new Date(e.sync.lastSuccessAt).toISOString() : "unknown" },
        { entity: "last_sync", topic: "attributes", payload: JSON.stringify({ status: e.sync.status, last_error: e.sync.lastError }) },
      ]);
    },
    async setAvailable(meterId, available) {
      if (statistics.get(meterId) && /_(gas|water)$/.test(meterId)) return base.setDeviceAvailable(meterId, available);
      return base.setAvailable(meterId, available);
    },
  };
}
