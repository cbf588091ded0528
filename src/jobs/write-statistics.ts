import type { Connection } from "home-assistant-js-websocket";
import { addDays, dayStart, localDay } from "../analysis/days.js";
import { rebuildDays, type DayEnergy } from "../analysis/hourly.js";
import { planStatistics, runningSums, type HourSum, type StatisticsPlan } from "../analysis/statistics.js";
import type { Meter } from "../domain/types.js";
import type { Logger } from "../log.js";
import { adjustSums, fetchStatisticRows, importRows, waitForRow, type StatisticMeta } from "../homeassistant/statistics.js";
import type { Db } from "../store/db.js";
import { clearDirty, dirtyRange, energyBetween, readingsExtent } from "../store/readings.js";
import { mirrorRowBefore, replaceMirrorFrom } from "../store/statistic-rows.js";

/** Local days read back from the store at a time: a 3-year backfill never holds all its readings at once. */
const WINDOW_DAYS = 31;

/**
 * `rebuildDays` over [fromDay, toDay), reading the store one window of {@link WINDOW_DAYS} days at a
 * time. Same days as one read of the whole range (each day is rebuilt from the readings inside it).
 */
function rebuildWindowed(db: Db, meterId: string, zone: string, fromDay: string, toDay: string): DayEnergy[] {
  const days: DayEnergy[] = [];
  for (let a = fromDay; a < toDay; ) {
    const b = addDays(a, WINDOW_DAYS) < toDay ? addDays(a, WINDOW_DAYS) : toDay;
    for (const d of rebuildDays(energyBetween(db, meterId, dayStart(a, zone), dayStart(b, zone)), zone, a, b)) days.push(d);
    a = b;
  }
  return days;
}

/** Outcome of one statistics pass. */
export interface StatisticsOutcome {
  /** Rows sent with `recorder/import_statistics`. */
  rowsSent: number;
  /** `recorder/adjust_sum_statistics` calls (later sums shifted without resending rows). */
  adjustments: number;
  /** Local days rebuilt (dirty days through the end of data), for the anomaly pass. */
  days: DayEnergy[];
  /** First rebuilt day, or null when nothing was dirty. */
  fromDay: string | null;
}

/**
 * The statistics writer: for a meter's dirty hours only, rebuild the hourly rows from the store
 * (from the first dirty local day to the end of data, with running sums continuing the last row
 * already written), diff them against what Home Assistant actually holds, and send only the
 * difference: changed hours as imports, shifted later sums as `adjust_sum_statistics`. Never
 * clears or re-imports everything. If HA's row before the dirty window does not match what we
 * wrote (its database was reset or the statistic deleted), the whole series is rebuilt and diffed.
 * Dirty hours are cleared only after HA recorded the last row, so a dropped connection mid-write
 * loses nothing: the next pass redoes the diff.
 */
export function writeStatistics(
  db: Db,
  conn: Connection,
  haVersion: string,
  meter: Meter,
  meta: StatisticMeta,
  opts: { log: Logger; chunkSize?: number; full?: boolean },
): Promise<StatisticsOutcome> {
  // One pass per statistic at a time, whoever calls (the daily cycle, a portal import, a manual
  // sync): two interleaved passes would each diff against HA and shift later sums twice.
  const key = meta.statisticId;
  const run = (passes.get(key) ?? Promise.resolve()).then(() => writePass(db, conn, haVersion, meter, meta, opts));
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  passes.set(key, settled);
  void settled.then(() => {
    if (passes.get(key) === settled) passes.delete(key);
  });
  return run;
}

/** The pass running or queued last per statistic id (see writeStatistics). */
const passes = new Map<string, Promise<void>>();

async function writePass(...[db, conn, haVersion, meter, meta, opts]: Parameters<typeof writeStatistics>): Promise<StatisticsOutcome> {
  const dirty = dirtyRange(db, meter.id);
  const extent = readingsExtent(db, meter.id);
  const none: StatisticsOutcome = { rowsSent: 0, adjustments: 0, days: [], fromDay: null };
  if (!dirty && !opts.full) return none;
  if (!extent) {
    if (dirty) clearDirty(db, meter.id, dirty.last);
    return none;
  }
  const zone = meter.timezone;
  const firstDay = localDay(extent.first, zone);
  let fromDay = opts.full || !dirty ? firstDay : localDay(dirty.first, zone);
  if (fromDay < firstDay) fromDay = firstDay;
  const toDay = addDays(localDay(extent.last - 1, zone), 1);
  const from = dayStart(fromDay, zone);
  const to = dayStart(toDay, zone);

  const previous = opts.full ? null : mirrorRowBefore(db, meta.statisticId, from);
  if (previous) {
    const [anchor] = await fetchStatisticRows(conn, meta, previous.start, previous.start + 3_600_000);
    if (!anchor || Math.abs(anchor.sum - previous.sumWh / 1000) > 1e-6) {
      opts.log.warn(
        `${meta.statisticId}: Home Assistant's row at ${new Date(previous.start).toISOString()} does not match what was written; rebuilding the whole series`,
      );
      return writePass(db, conn, haVersion, meter, meta, { ...opts, full: true }); // inside the lock already
    }
  }
  // Without a row of ours before the window (full rebuild, fresh store), continue from HA's own
  // last row before it, if HA has older rows than the store (readings pruned by retention, an
  // earlier install): restarting at 0 there would be a negative hour.
  let baseWh = previous?.sumWh ?? 0;
  if (!previous) {
    const older = await fetchStatisticRows(conn, meta, from - 31 * 86_400_000, from);
    baseWh = (older.at(-1)?.sum ?? 0) * 1000;
  }
  const days = rebuildWindowed(db, meter.id, zone, fromDay, toDay);
  const desired = runningSums(toMilliUnits(days, meta), baseWh);
  // The plan (as many rows as the window in a backfill) is dropped once sent: it is not held while
  // HA's recorder commits.
  const { rowsSent, adjustments } = await sendPlan(conn, meta, haVersion, planStatistics(desired, await fetchStatisticRows(conn, meta, from, to)), opts);
  const last = desired.at(-1);
  if (last && (rowsSent > 0 || adjustments > 0)) {
    if (rowsSent > 1000) {
      opts.log.info(`${meta.statisticId}: waiting for Home Assistant's recorder to write ${rowsSent} rows (about 1.5 ms each)…`);
    }
    // HA's recorder commits imports at ~1.5 ms per row here; allow a slow SD-card Pi 10× that.
    const timeoutMs = 30_000 + 20 * rowsSent;
    await waitForRow(conn, meta, { start: last.start, state: last.stateWh / 1000, sum: last.sumWh / 1000 }, timeoutMs);
  }
  replaceMirrorFrom(db, meta.statisticId, from, dayAnchors(days, desired));
  if (dirty) clearDirty(db, meter.id, dirty.last);
  opts.log.info(`${meta.statisticId}: ${fromDay}…${addDays(toDay, -1)} rebuilt, ${rowsSent} row(s) sent, ${adjustments} sum adjustment(s)`);
  return { rowsSent, adjustments, days, fromDay };
}

/**
 * The last row of each rebuilt day that has one: what the mirror keeps (`store/statistic-rows.ts`).
 * A pass always starts at a local midnight, so the row it continues from is always some day's
 * last row; the hours inside a day are never looked up again. `rows` = `runningSums(days)`: one
 * row per hour of each day, in day order.
 */
function dayAnchors(days: readonly DayEnergy[], rows: readonly HourSum[]): HourSum[] {
  const out: HourSum[] = [];
  let i = 0;
  for (const d of days) {
    i += d.hours.size;
    if (d.hours.size > 0) out.push(rows[i - 1]!);
  }
  return out;
}

/**
 * The rebuilt days in thousandths of the statistic's unit, the scale the writer's arithmetic
 * works in (named `…Wh` after electricity: Wh are thousandths of kWh). Electricity (Wh → kWh) and
 * volumes stored in L sent in m³ are already there (`storeUnitsPerUnit` 1000, the default): the
 * days are returned as they are. Water stored in L and sent in L (1) is scaled ×1000. The days
 * returned to the caller (anomalies) keep the store's unit.
 */
function toMilliUnits(days: DayEnergy[], meta: StatisticMeta): DayEnergy[] {
  const k = 1000 / (meta.storeUnitsPerUnit ?? 1000);
  if (k === 1) return days;
  return days.map((d) => {
    const hours = new Map<number, number>();
    d.hours.forEach((v, h) => hours.set(h, v * k));
    return { ...d, total: d.total === null ? null : d.total * k, hours };
  });
}

/** Sends a plan: the flattened-hours warning, the sum adjustments, then the imports. Returns the counts. */
async function sendPlan(
  conn: Connection,
  meta: StatisticMeta,
  haVersion: string,
  plan: StatisticsPlan,
  opts: { log: Logger; chunkSize?: number },
): Promise<{ rowsSent: number; adjustments: number }> {
  if (plan.flattened > 0) {
    opts.log.warn(`${meta.statisticId}: ${plan.flattened} hour(s) in Home Assistant have no data in the store any more; kept flat`);
  }
  for (const a of plan.adjustments) await adjustSums(conn, meta, a.start, a.adjustmentKwh);
  if (plan.imports.length > 0) {
    await importRows(conn, meta, haVersion, plan.imports, {
      ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
      onChunk: (sent, total) => {
        if (total > (opts.chunkSize ?? 2000)) opts.log.info(`${meta.statisticId}: sent ${sent}/${total} rows`);
      },
    });
  }
  return { rowsSent: plan.imports.length, adjustments: plan.adjustments.length };
}
