import type { Connection } from "home-assistant-js-websocket";
import type { StatisticRow } from "../domain/types.js";
import { haVersionAtLeast } from "./connection.js";

/** Metadata of one external statistic we own. */
export interface StatisticMeta {
  /** `energy_bridge:<provider>_<meter>_<kind>`, e.g. `energy_bridge:linky_12345678901234_consumption`. */
  statisticId: string;
  name: string;
  /** Unit of the rows sent: "kWh" for electricity (and gas given as energy), "m³" or "L" for gas and water volumes. */
  unit: "kWh" | "m³" | "L";
  /** HA's unit class of `unit` (`energy` for kWh, `volume` for m³ / L); never null (null hides it from the Energy pickers). */
  unitClass: "energy" | "volume";
  /**
   * Store units per statistic unit: the stored readings' unit (the meter's `unit`) divided by
   * `unit`. Default 1000 (Wh per kWh; also L per m³). 1 for water stored in L and sent in L.
   */
  storeUnitsPerUnit?: number;
}

/** `source` of every statistic we write: the domain part of the external statistic id. */
export const STATISTIC_SOURCE = "energy_bridge";

/**
 * The external statistic id of a meter, e.g. `energy_bridge:linky_12345678901234_consumption`.
 * Ids must match HA's `^(?!.+__)(?!_)[\da-z_]+(?<!_):(?!_)[\da-z_]+(?<!_)$` (core recorder/statistics.py).
 */
export function statisticId(provider: string, meterId: string, kind: string): string {
  const object = `${provider}_${meterId}_${kind}`.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/_+/g, "_");
  return `${STATISTIC_SOURCE}:${object.replace(/^_|_$/g, "")}`;
}

/**
 * The `metadata` object of `recorder/import_statistics` for the HA version seen at auth:
 * HA ≥ 2025.11 takes `mean_type` (0 = none) + `unit_class` and warns without them (removal
 * announced for 2026.11); older cores require `has_mean` and reject the new keys.
 * Source: core recorder/websocket_api.py, developers blog 2025-10-16.
 */
export function importMetadata(meta: StatisticMeta, haVersion: string): Record<string, unknown> {
  const base = {
    statistic_id: meta.statisticId,
    source: STATISTIC_SOURCE,
    name: meta.name,
    has_sum: true,
    unit_of_measurement: meta.unit,
  };
  return haVersionAtLeast(haVersion, 2025, 11)
    ? { ...base, mean_type: 0, unit_class: meta.unitClass }
    : { ...base, has_mean: false };
}

/**
 * Hourly rows HA holds for `statisticId` with start in [from, to) (UTC ms), converted to `unit`.
 * Uses `recorder/statistics_during_period` (period "hour", types state+sum); `start` comes back in
 * ms on current cores (ISO strings on old ones; both accepted). Empty when the statistic is unknown.
 */
export async function fetchStatisticRows(
  conn: Connection,
  meta: StatisticMeta,
  from: number,
  to: number,
): Promise<StatisticRow[]> {
  const result = await conn.sendMessagePromise<Record<string, { start: number | string; state?: number | null; sum?: number | null }[]>>({
    type: "recorder/statistics_during_period",
    start_time: new Date(from).toISOString(),
    end_time: new Date(to).toISOString(),
    statistic_ids: [meta.statisticId],
    period: "hour",
    types: ["state", "sum"],
    units: { [meta.unitClass]: meta.unit },
  });
  return (result[meta.statisticId] ?? []).map((r) => ({
    start: typeof r.start === "number" ? r.start : Date.parse(r.start),
    state: r.state ?? 0,
    sum: r.sum ?? 0,
  }));
}

/**
 * Sends rows with `recorder/import_statistics` in chunks of `chunkSize` (default 2000 rows, well
 * under HA's WebSocket message limit). HA upserts per (statistic, hour). Resolves after HA
 * accepted every chunk (the recorder then commits them asynchronously). Throws the HA error
 * (`{code, message}`) of the first rejected chunk; earlier chunks stay written (idempotent).
 */
export async function importRows(
  conn: Connection,
  meta: StatisticMeta,
  haVersion: string,
  rows: readonly StatisticRow[],
  opts: { chunkSize?: number; onChunk?: (sent: number, total: number) => void } = {},
): Promise<void> {
  const size = opts.chunkSize ?? 2000;
  const metadata = importMetadata(meta, haVersion);
  const iso = hourIso();
  for (let i = 0; i < rows.length; i += size) {
    const end = Math.min(i + size, rows.length);
    const stats: { start: string; state: number; sum: number }[] = new Array(end - i);
    for (let k = i; k < end; k++) {
      const r = rows[k]!;
      stats[k - i] = { start: iso(r.start), state: r.state, sum: r.sum };
    }
    await conn.sendMessagePromise({ type: "recorder/import_statistics", metadata, stats });
    opts.onChunk?.(end, rows.length);
  }
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const HOUR_SUFFIX = Array.from({ length: 24 }, (_, h) => `T${String(h).padStart(2, "0")}:00:00.000Z`);

/**
 * `new Date(ms).toISOString()` for row starts, with the date part computed once per UTC day
 * (consecutive hourly rows share it): whole UTC hours are the UTC day's prefix + a fixed suffix.
 * Anything else (not on the hour, outside years 0–9999) goes through `toISOString`.
 */
function hourIso(): (ms: number) => string {
  let day = Number.NaN;
  let prefix = "";
  return (ms) => {
    const d = Math.floor(ms / DAY_MS) * DAY_MS;
    const h = (ms - d) / HOUR_MS;
    if (!Number.isInteger(h) || ms < -62_167_219_200_000 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
    if (d !== day) {
      day = d;
      prefix = new Date(d).toISOString().slice(0, 10);
    }
    return prefix + HOUR_SUFFIX[h]!;
  };
}

/**
 * Adds `adjustment` (in `meta.unit`) to the sum of every row of the statistic with start ≥ `start`
 * (UTC ms), via `recorder/adjust_sum_statistics`. Used to shift later running sums after an earlier
 * hour changed, without resending them.
 */
export async function adjustSums(conn: Connection, meta: StatisticMeta, start: number, adjustment: number): Promise<void> {
  await conn.sendMessagePromise({
    type: "recorder/adjust_sum_statistics",
    statistic_id: meta.statisticId,
    start_time: new Date(start).toISOString(),
    adjustment,
    adjustment_unit_of_measurement: meta.unit,
  });
}

/**
 * Waits until HA's recorder has committed `row` (its sum is visible), polling every 200 ms up to
 * `timeoutMs` (default 30 s). The recorder writes imports on its own thread after replying, so a
 * caller that reads back (or diffs on the next pass) must wait. Throws on timeout.
 */
export async function waitForRow(conn: Connection, meta: StatisticMeta, row: StatisticRow, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await fetchStatisticRows(conn, meta, row.start, row.start + 3_600_000);
    if (rows.length > 0 && Math.abs(rows[0]!.sum - row.sum) < 1e-6) return;
    if (Date.now() > deadline) {
      throw new Error(`Home Assistant did not record ${meta.statisticId} at ${new Date(row.start).toISOString()} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
