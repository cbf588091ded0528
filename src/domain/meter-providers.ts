/**
 * Which providers serve which meters — the one list every module reads (settings, the energy
 * module's statistic ids, the dashboard, the portal import).
 */
import type { ProviderId } from "./types.js";

/** Every path to Enedis (Linky) data: their meters are Linky usage points (PRM). */
export const ENEDIS_PROVIDERS = ["conso_api", "myelectricaldata", "myelectricaldata_legacy", "enedis_data_connect"] as const satisfies readonly ProviderId[];

/** Providers of the energy module's meter series (Linky and Ores): the `meters` option's `provider`. */
export const GRID_METER_PROVIDERS = [...ENEDIS_PROVIDERS, "ores"] as const satisfies readonly ProviderId[];

/** True when `provider` serves Linky usage points (one of {@link ENEDIS_PROVIDERS}). */
export function isEnedisProvider(provider: ProviderId): boolean {
  return (ENEDIS_PROVIDERS as readonly ProviderId[]).includes(provider);
}

/** True when `provider` is one of {@link GRID_METER_PROVIDERS} (the energy module writes its statistics). */
export function isGridMeterProvider(provider: ProviderId): boolean {
  return (GRID_METER_PROVIDERS as readonly ProviderId[]).includes(provider);
}

/**
 * The `<source>` part of a grid meter's statistic ids (`energy_bridge:<source>_<prm>_<flow>`):
 * `ores` for Ores meters, `linky` for every Enedis path.
 */
export function statisticSource(provider: ProviderId): "linky" | "ores" {
  return provider === "ores" ? "ores" : "linky";
}
