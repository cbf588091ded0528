import { addDays, dayStart, today as todayIn } from "../analysis/days.js";
import { ProviderError } from "../domain/errors.js";
import type { FetchRange, LocalDate, Meter, Provider, Reading, RequestGate, Resolution } from "../domain/types.js";
import type { Logger } from "../log.js";
import { transactionOf, type Db } from "../store/db.js";
import { coverageBetween, recordCoverage } from "../store/coverage.js";
import { upsertReadings, type UpsertResult } from "../store/readings.js";
import { getSyncState, setHistoryStart, type SyncStatus } from "../store/sync-state.js";
import { planRequests } from "./plan-requests.js";

/** A "no data" answer for a range ending within this many days means "not published yet". */
const RECENT_DAYS = 7;

/**
 * Consecutive non-retryable answers (400, malformed body) after which a cycle stops: the same
 * mistake on every call would otherwise spend the rest of the day's budget for nothing.
 */
export const MAX_NON_RETRYABLE_IN_A_ROW = 3;

/** Days of coverage looked up: more than any provider's history depth (Enedis daily: 1110). */
const COVERAGE_HORIZON_DAYS = 1200;

/** Outcome of fetching one meter. */
export interface FetchOutcome {
  requests: number;
  /** Readings returned by the provider (valid ones). */
  fetched: number;
  /** Readings inserted or changed in the store. */
  stored: number;
  rejected: number;
  /** Requests still planned when the cycle stopped (backfill continues next cycle). */
  remaining: number;
  status: SyncStatus;
  error: string | null;
}

/**
 * Fetches what the meter's history still lacks (see planRequests: the provider's whole history,
 * whatever the retention) and stores it: provider → store. Stops at the first budget, quota, auth
 * or availability error (the rest continues next cycle); skips a request the provider rejected as
 * malformed (logged, status `error`), and stops after {@link MAX_NON_RETRYABLE_IN_A_ROW} such
 * answers in a row. Rejected points are logged and never stored. Never touches Home Assistant.
 * `resolutions` limits the pass (default: daily, then load curve).
 */
export async function fetchMeter(
  db: Db,
  meter: Meter,
  provider: Provider,
  gate: RequestGate,
  opts: { now: () => number; log: Logger; recheckDays?: number; resolutions?: readonly Resolution[] },
): Promise<FetchOutcome> {
  const now = opts.now();
  const zone = meter.timezone;
  const today = todayIn(zone, now);
  const state = getSyncState(db, meter.id);
  const horizon = addDays(today, -COVERAGE_HORIZON_DAYS);
  const plan = planRequests({
    today,
    capabilities: provider.capabilities,
    ...(opts.resolutions ? { resolutions: opts.resolutions } : {}),
    historyStart: state.historyStart,
    coverage: {
      daily: coverageBetween(db, meter.id, "daily", horizon, today),
      load_curve: coverageBetween(db, meter.id, "load_curve", horizon, today),
    },
    now,
    recheckDays: opts.recheckDays ?? 7,
  });
  const out: FetchOutcome = { requests: 0, fetched: 0, stored: 0, rejected: 0, remaining: plan.length, status: "ok", error: null };
  if (plan.length > 0) {
    const curves = plan.filter((p) => p.resolution === "load_curve").length;
    opts.log.info(
      { meter: meter.id, requests: plan.length, loadCurveChunks: curves, budgetLeft: gate.remaining() },
      `meter ${meter.id}: ${plan.length} request(s) planned (${plan.length - curves} daily, ${curves} load curve), ${gate.remaining()} left in today's budget`,
    );
  }
  const historyEnded = new Set<Resolution>();
  let nonRetryableInARow = 0;
  for (const [index, range] of plan.entries()) {
    if (historyEnded.has(range.resolution)) {
      out.remaining--; // older than a range the provider already called "before history"
      continue;
    }
    try {
      const result = await provider.fetch(meter, range, gate);
      out.requests++;
      out.remaining--;
      nonRetryableInARow = 0;
      if (result.endOfHistory && range.end > addDays(today, -RECENT_DAYS)) {
        // Before Enedis publishes D-1 (about 08:00) a recent range answers "no measure found":
        // that is "not yet", not the start of history. Record the days as incomplete and go on.
        recordCoverage(db, meter.id, range.resolution, dayCompleteness([], range, zone), now);
        opts.log.info(`meter ${meter.id}: no ${range.resolution} data yet for ${range.start}…${addDays(range.end, -1)}`);
        continue;
      }
      if (result.endOfHistory) {
        // Requests are newest-first: everything older is before the history start too.
        historyEnded.add(range.resolution);
        const known = state.historyStart[range.resolution];
        if (!known || range.end > known) setHistoryStart(db, meter.id, range.resolution, range.end);
        opts.log.info(`meter ${meter.id}: ${range.resolution} history starts at ${range.end} (provider has nothing before)`);
        continue;
      }
      for (const r of result.rejected) {
        opts.log.warn({ meter: meter.id, point: r.raw }, `meter ${meter.id}: rejected point ${r.raw}: ${r.reason}`);
      }
      const rangeStart = dayStart(range.start, zone);
      const readings = result.readings.filter((r) => r.start >= rangeStart);
      const up = storeFetched(db, meter, range, readings, now);
      out.fetched += readings.length;
      out.stored += up.inserted + up.updated;
      out.rejected += result.rejected.length;
      opts.log.info(
        `meter ${meter.id}: ${range.resolution} ${range.start}…${addDays(range.end, -1)}: ${readings.length} points ` +
          `(${up.inserted} new, ${up.updated} corrected) [${index + 1}/${plan.length}, budget left ${gate.remaining()}]`,
      );
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      const msg = `${range.resolution} ${range.start}…${range.end}: ${err.message}`;
      if (err.code === "bad_request" || err.code === "invalid_response") {
        out.remaining--;
        if (err.details.status !== undefined) out.requests++; // the provider answered (not a pre-check)
        out.status = "error";
        out.error = msg;
        opts.log.error({ meter: meter.id, code: err.code }, `meter ${meter.id}: ${msg}`);
        if (++nonRetryableInARow >= MAX_NON_RETRYABLE_IN_A_ROW) {
          out.error = `stopped after ${nonRetryableInARow} refused requests in a row (${msg}); ${out.remaining} request(s) left for the next cycle`;
          opts.log.error(`meter ${meter.id}: ${out.error}`);
          break;
        }
        continue;
      }
      out.status =
        err.code === "auth" ? "auth_error" : err.code === "budget_exhausted" || err.code === "quota_exceeded" ? "partial" : "error";
      out.error = err.message;
      const level = out.status === "partial" ? "warn" : "error";
      opts.log[level]({ meter: meter.id, code: err.code }, `meter ${meter.id}: ${msg}; ${out.remaining} request(s) left for the next cycle`);
      break;
    }
  }
  return out;
}

/**
 * Stores one provider response: its readings (`upsertReadings`) and the completeness of each local
 * day of `range` (`recordCoverage`), in one transaction, so a killed process leaves either both or
 * neither (the range is then fetched again). Returns the upsert counts.
 */
export function storeFetched(db: Db, meter: Meter, range: FetchRange, readings: readonly Reading[], now: number): UpsertResult {
  return transactionOf(db, storeInTransaction)(db, meter, range, readings, now);
}

function storeInTransaction(db: Db, meter: Meter, range: FetchRange, readings: readonly Reading[], now: number): UpsertResult {
  const up = upsertReadings(db, meter.id, readings);
  recordCoverage(db, meter.id, range.resolution, dayCompleteness(readings, range, meter.timezone), now);
  return up;
}

/** Completeness of each local day of `range` from the readings the provider returned for it. */
export function dayCompleteness(readings: readonly Reading[], range: FetchRange, zone: string): { day: LocalDate; complete: boolean }[] {
  const days: LocalDate[] = [];
  const bounds: number[] = []; // bounds[k] = start of days[k], bounds[days.length] = end of the range
  for (let d = range.start; d < range.end; d = addDays(d, 1)) {
    days.push(d);
    bounds.push(dayStart(d, zone));
  }
  bounds.push(dayStart(range.end, zone));
  const covered = new Array<number>(days.length).fill(0);
  const daily = new Array<boolean>(days.length).fill(false);
  let k = 0; // readings come in time order: the day of the previous one is tried first
  for (const r of readings) {
    if (!(r.start >= bounds[k]! && r.start < bounds[k + 1]!)) {
      k = bounds.findIndex((b, i) => i < days.length && r.start >= b && r.start < bounds[i + 1]!);
      if (k < 0) {
        k = 0;
        continue;
      }
    }
    if (r.start === bounds[k] && r.durationMs === bounds[k + 1]! - bounds[k]!) daily[k] = true;
    else covered[k]! += r.durationMs;
  }
  const byDay = isDaily(range.resolution);
  return days.map((day, i) => ({ day, complete: byDay ? daily[i]! : covered[i]! >= bounds[i + 1]! - bounds[i]! }));
}

const isDaily = (r: Resolution) => r === "daily";
