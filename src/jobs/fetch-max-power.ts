import { addDays, today as todayIn } from "../analysis/days.js";
import { ProviderError } from "../domain/errors.js";
import type { LocalDate, Meter, Provider, RequestGate } from "../domain/types.js";
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import { getKv, setKv } from "../store/kv.js";
import { maxPowerDays, upsertMaxPower } from "../store/max-power.js";
import { chunkNewestFirst } from "./plan-requests.js";

/** Days before today re-read every cycle (late corrections of the peak). */
const RECHECK_DAYS = 2;

/** Outcome of one max-power pass. */
export interface MaxPowerOutcome {
  requests: number;
  stored: number;
  error: string | null;
}

const historyKey = (meterId: string) => `max_power_history_start:${meterId}`;
/** [from, until) local days already asked successfully: their gaps are not asked again. */
const askedKey = (meterId: string) => `max_power_asked:${meterId}`;

/**
 * Fetches the daily peak power (Enedis `puissance_conso_max_quotidienne`) the store lacks for a
 * consumption meter: the provider's whole max-power history newest-first in calls of at most
 * `capabilities.maxPower.maxDaysPerCall` days, then one small call a day. "No data before" ends the
 * history (remembered in kv); days missing from an answer are not asked again (a peak-power sensor
 * does not need old gaps filled). Provider errors end the pass and are returned, never thrown; a
 * provider without `fetchMaxPower` costs nothing. provider → store only.
 */
export async function fetchMaxPower(
  db: Db,
  meter: Meter,
  provider: Provider,
  gate: RequestGate,
  opts: { now: () => number; log: Logger },
): Promise<MaxPowerOutcome> {
  const out: MaxPowerOutcome = { requests: 0, stored: 0, error: null };
  const cap = provider.capabilities.maxPower;
  if (!provider.fetchMaxPower || !cap || (meter.flow ?? "consumption") !== "consumption") return out;
  const today = todayIn(meter.timezone, opts.now());
  let first = addDays(today, -cap.historyDays);
  const known = getKv(db, historyKey(meter.id));
  if (known && known > first) first = known;
  const have = maxPowerDays(db, meter.id, first, today);
  const recheckFrom = addDays(today, -RECHECK_DAYS);
  const asked = JSON.parse(getKv(db, askedKey(meter.id)) ?? "null") as { from: LocalDate; until: LocalDate } | null;
  const wanted: LocalDate[] = [];
  for (let d = addDays(today, -1); d >= first; d = addDays(d, -1)) {
    if (d >= recheckFrom || (!have.has(d) && (!asked || d < asked.from || d >= asked.until))) wanted.push(d);
  }
  const remember = (range: { start: LocalDate; end: LocalDate }) => {
    const now = JSON.parse(getKv(db, askedKey(meter.id)) ?? "null") as { from: LocalDate; until: LocalDate } | null;
    const from = now && now.from < range.start ? now.from : range.start;
    const until = now && now.until > range.end ? now.until : range.end;
    setKv(db, askedKey(meter.id), JSON.stringify({ from, until }));
  };
  for (const range of chunkNewestFirst(wanted, cap.maxDaysPerCall)) {
    try {
      const result = await provider.fetchMaxPower(meter, range, gate);
      out.requests++;
      if (result.endOfHistory) {
        if (range.end <= addDays(today, -7)) {
          setKv(db, historyKey(meter.id), range.end);
          break;
        }
        continue; // recent "no data": not published yet
      }
      out.stored += upsertMaxPower(db, meter.id, result.points, opts.now());
      remember(range);
      for (const r of result.rejected) opts.log.warn(`meter ${meter.id}: rejected max power point ${r.raw}: ${r.reason}`);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      out.error = `max power ${range.start}…${range.end}: ${err.message}`;
      opts.log.warn(`meter ${meter.id}: ${out.error}`);
      break;
    }
  }
  if (out.requests > 0) opts.log.info(`meter ${meter.id}: daily max power: ${out.stored} day(s) stored in ${out.requests} request(s)`);
  return out;
}
