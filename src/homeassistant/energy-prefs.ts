import type { Connection } from "home-assistant-js-websocket";
import { haVersionAtLeast } from "./connection.js";

/** One issue of `energy/validate`: `{type, affected_entities: [[id, value]], translation_placeholders}`. */
export interface EnergyValidationIssue {
  type: string;
  affected_entities: [string, unknown][];
  translation_placeholders?: Record<string, string> | null;
}

/**
 * Adds `statisticId` as a grid consumption source of the Energy dashboard, unless it is already
 * there. Keeps every other source. Returns true when prefs were changed. See {@link addGridSource}.
 */
export function addGridConsumption(conn: Connection, haVersion: string, statisticId: string): Promise<boolean> {
  return addGridSource(conn, haVersion, statisticId, "consumption");
}

/**
 * Adds `statisticId` as the grid's "return to grid" (production fed into the grid) source of the
 * Energy dashboard, unless it is already there. Returns true when prefs were changed.
 */
export function addReturnToGrid(conn: Connection, haVersion: string, statisticId: string): Promise<boolean> {
  return addGridSource(conn, haVersion, statisticId, "return");
}

/**
 * Adds a grid source (`consumption` = energy from the grid, `return` = energy to the grid) unless
 * `statisticId` is already used somewhere in the prefs; keeps every other source. The grid shape
 * changed in core PR #162200 (unified grid objects, HA 2026.3, unverified release): older cores
 * use `flow_from[]` / `flow_to[]` in one grid source. Source: core energy/data.py,
 * energy/websocket_api.py. Admin only. Returns true when prefs were changed.
 */
async function addGridSource(conn: Connection, haVersion: string, statisticId: string, direction: "consumption" | "return"): Promise<boolean> {
  const prefs = await conn
    .sendMessagePromise<{ energy_sources: Record<string, unknown>[]; device_consumption: unknown[] }>({ type: "energy/get_prefs" })
    .catch(() => ({ energy_sources: [] as Record<string, unknown>[], device_consumption: [] as unknown[] }));
  const sources = prefs.energy_sources ?? [];
  if (JSON.stringify(sources).includes(`"${statisticId}"`)) return false;
  const unified = haVersionAtLeast(haVersion, 2026, 3);
  const grid = sources.find((s) => s.type === "grid");
  const price = { entity_energy_price: null, number_energy_price: null };
  if (unified) {
    sources.push({
      type: "grid",
      stat_energy_from: direction === "consumption" ? statisticId : null,
      stat_energy_to: direction === "return" ? statisticId : null,
      stat_cost: null,
      ...price,
      stat_compensation: null,
      entity_energy_price_export: null,
      number_energy_price_export: null,
      cost_adjustment_day: 0,
    });
  } else {
    const from = { stat_energy_from: statisticId, stat_cost: null, ...price };
    const to = { stat_energy_to: statisticId, stat_compensation: null, ...price };
    if (grid) {
      if (direction === "consumption") ((grid.flow_from ??= []) as unknown[]).push(from);
      else ((grid.flow_to ??= []) as unknown[]).push(to);
    } else {
      sources.push({
        type: "grid",
        flow_from: direction === "consumption" ? [from] : [],
        flow_to: direction === "return" ? [to] : [],
        cost_adjustment_day: 0,
      });
    }
  }
  await conn.sendMessagePromise({ type: "energy/save_prefs", energy_sources: sources });
  return true;
}

/**
 * Adds `statisticId` (unit class `volume` or `energy`) as a gas source of the Energy dashboard,
 * unless it is already used in the prefs; keeps every other source. Returns true when prefs were
 * changed. See {@link addFlowSource}.
 */
export function addGasSource(conn: Connection, statisticId: string): Promise<boolean> {
  return addFlowSource(conn, "gas", statisticId);
}

/**
 * Adds `statisticId` (unit class `volume`: L, m³…) as a water source of the Energy dashboard,
 * unless it is already used in the prefs; keeps every other source. Returns true when prefs were
 * changed. See {@link addFlowSource}.
 */
export function addWaterSource(conn: Connection, statisticId: string): Promise<boolean> {
  return addFlowSource(conn, "water", statisticId);
}

/**
 * Gas and water sources have the same shape on every supported core (core energy/data.py
 * `GasSourceType` / `WaterSourceType`: `stat_energy_from`, `stat_cost`, `entity_energy_price`,
 * `number_energy_price`; prices must stay null for an external statistic). Admin only.
 */
async function addFlowSource(conn: Connection, type: "gas" | "water", statisticId: string): Promise<boolean> {
  const prefs = await conn
    .sendMessagePromise<{ energy_sources: Record<string, unknown>[] }>({ type: "energy/get_prefs" })
    .catch(() => ({ energy_sources: [] as Record<string, unknown>[] }));
  const sources = prefs.energy_sources ?? [];
  if (JSON.stringify(sources).includes(`"${statisticId}"`)) return false;
  sources.push({ type, stat_energy_from: statisticId, stat_cost: null, entity_energy_price: null, number_energy_price: null });
  await conn.sendMessagePromise({ type: "energy/save_prefs", energy_sources: sources });
  return true;
}

/**
 * Runs `energy/validate` and returns the issues that mention `statisticId` (empty = the Energy
 * dashboard accepts it).
 */
export async function energyIssuesFor(conn: Connection, statisticId: string): Promise<EnergyValidationIssue[]> {
  const result = await conn.sendMessagePromise<{ energy_sources: EnergyValidationIssue[][]; device_consumption: EnergyValidationIssue[][] }>({
    type: "energy/validate",
  });
  return [...result.energy_sources.flat(), ...result.device_consumption.flat()].filter((i) =>
    JSON.stringify(i).includes(statisticId),
  );
}
