import type { Connection } from "home-assistant-js-websocket";
import { DateTime } from "luxon";
import { addDays, today as todayIn } from "../analysis/days.js";
import type { Meter, Provider, RequestGate, Resolution } from "../domain/types.js";
import { fireAnomalyEvent } from "../homeassistant/entities.js";
import type { EntitySink } from "../homeassistant/entities/sink.js";
import type { HaRest } from "../homeassistant/rest.js";
import type { StatisticMeta } from "../homeassistant/statistics.js";
import type { Logger } from "../log.js";
import { listAnomalies, markNotified } from "../store/anomalies.js";
import { historyExtent } from "../store/history-extent.js";
import { latestMaxPower } from "../store/max-power.js";
import type { Db } from "../store/db.js";
import { pruneReadings } from "../store/readings.js";
import { getSyncState, recordSyncOutcome, type SyncStatus } from "../store/sync-state.js";
import { latestCompleteDay, updateAnomalies } from "./detect-anomalies.js";
import { fetchMeter, type FetchOutcome } from "./fetch-meter.js";
import type { MaxPowerOutcome } from "./fetch-max-power.js";
import type { ProductionMode } from "./production-probe.js";
import { writeStatistics } from "./write-statistics.js";

/** A meter with the provider, request gate and statistic it syncs through. */
export interface MeterJob {
  meter: Meter;
  provider: Provider;
  gate: RequestGate;
  statistic: StatisticMeta;
  /** Set on a production series (`meter.flow` production): whether to fetch it (see production-probe.ts). */
  productionMode?: ProductionMode;
}

/** The live link to Home Assistant used by a cycle. */
export interface HaTarget {
  conn: Connection;
  haVersion: string;
  rest: HaRest;
}

/** Shared context of sync cycles. */
export interface SyncContext {
  db: Db;
  ha: HaTarget;
  /** Where entities go (MQTT discovery, or the REST-state fallback). */
  entities: EntitySink;
  log: Logger;
  now: () => number;
  /** Raw readings older than this many days are pruned from the store (never from HA). */
  retentionDays: number;
  anomalyThresholdPercent: number;
  chunkSize?: number;
}

/** What one meter's cycle did, for the log and `sync --once`. */
export interface MeterSummary {
  meterId: string;
  requests: number;
  fetched: number;
  stored: number;
  rejected: number;
  /** Planned provider requests left for later cycles (backfill in progress). */
  remaining: number;
  rowsSent: number;
  adjustments: number;
  /** New anomalies found in this cycle (events fired for the recent ones). */
  anomalies: number;
  /** True when yesterday (the newest day the provider can have) is complete in the store. */
  upToDate: boolean;
  status: SyncStatus;
  error: string | null;
}

/**
 * One full cycle for a meter: provider → store (fetch what is missing), store → analysis →
 * Home Assistant (statistics for dirty hours, anomalies, entities, events). Provider failures stop
 * the fetch but the statistics of what is stored are still written. A Home Assistant failure
 * leaves the dirty hours for the next cycle. Never throws for provider or HA errors: they end up
 * in the summary and in `sensor.energy_bridge_<prm>_last_sync`.
 *
 * `opts.resolutions` limits this cycle's fetch (the cycle runner fetches every meter's daily
 * totals first, see run-cycle.ts); `opts.earlier` is that earlier pass's outcome and
 * `opts.maxPower` the max-power pass's, both merged into the summary. Anomalies are judged for
 * consumption series only. Retention prunes raw readings already written to HA, afterwards.
 */
export async function syncMeter(
  ctx: SyncContext,
  job: MeterJob,
  opts: { resolutions?: readonly Resolution[]; earlier?: FetchOutcome; maxPower?: MaxPowerOutcome } = {},
): Promise<MeterSummary> {
  const { db, log } = ctx;
  const meter = job.meter;
  const now = ctx.now();
  let fetched = await fetchMeter(db, meter, job.provider, job.gate, {
    now: ctx.now,
    log,
    ...(opts.resolutions ? { resolutions: opts.resolutions } : {}),
  });
  if (opts.earlier) fetched = mergeFetch(opts.earlier, fetched);
  if (opts.maxPower) fetched.requests += opts.maxPower.requests;
  const summary: MeterSummary = {
    meterId: meter.id,
    requests: fetched.requests,
    fetched: fetched.fetched,
    stored: fetched.stored,
    rejected: fetched.rejected,
    remaining: fetched.remaining,
    rowsSent: 0,
    adjustments: 0,
    anomalies: 0,
    upToDate: false,
    status: fetched.status,
    error: fetched.error,
  };
  const before = new Set(listAnomalies(db, meter.id).map((a) => a.day));
  try {
    const written = await writeStatistics(db, ctx.ha.conn, ctx.ha.haVersion, meter, job.statistic, {
      log,
      ...(ctx.chunkSize ? { chunkSize: ctx.chunkSize } : {}),
    });
    summary.rowsSent = written.rowsSent;
    summary.adjustments = written.adjustments;
    if (written.fromDay && (meter.flow ?? "consumption") === "consumption") {
      const toDay = written.days.length ? addDays(written.days.at(-1)!.day, 1) : written.fromDay;
      const recent = updateAnomalies(db, meter, written.fromDay, toDay, {
        thresholdPercent: ctx.anomalyThresholdPercent,
        now,
        days: written.days,
      });
      summary.anomalies = listAnomalies(db, meter.id).filter((a) => !before.has(a.day)).length;
      for (const a of recent) {
        await fireAnomalyEvent(ctx.ha.rest, a);
        log.warn(`meter ${meter.id}: ${a.severity} anomaly on ${a.day}: ${(a.value / 1000).toFixed(2)} kWh, +${a.variancePercent.toFixed(0)} % vs 7-day average`);
      }
      markNotified(db, meter.id, recent.map((a) => a.day), now);
    }
  } catch (err) {
    summary.status = "error";
    summary.error = `Home Assistant: ${describeHaError(err)}`;
    log.error({ meter: meter.id, err }, `meter ${meter.id}: writing to Home Assistant failed; will retry next cycle`);
  }
  summary.upToDate = latestCompleteDay(db, meter, now)?.day === addDays(todayIn(meter.timezone, now), -1);
  // Retention: only the local store, only what Home Assistant already has (dirty hours are kept).
  pruneReadings(db, meter.id, DateTime.fromMillis(now).minus({ days: ctx.retentionDays }).toMillis());
  const ok = summary.status === "ok" || summary.status === "partial";
  recordSyncOutcome(db, meter.id, { status: summary.status, error: summary.error, at: now, success: ok });
  await publishSnapshot(ctx, job).catch((err: Error) => log.error(`meter ${meter.id}: publishing entities failed: ${err.message}`));
  return summary;
}

/** One fetch outcome for two passes of the same cycle (the later pass's status wins unless it is ok). */
function mergeFetch(a: FetchOutcome, b: FetchOutcome): FetchOutcome {
  const worst = b.status !== "ok" ? b : a;
  return {
    requests: a.requests + b.requests,
    fetched: a.fetched + b.fetched,
    stored: a.stored + b.stored,
    rejected: a.rejected + b.rejected,
    remaining: a.remaining + b.remaining,
    status: worst.status,
    error: worst.error,
  };
}

/**
 * Publishes a meter's entities from the store (latest complete day, its anomaly, max power, sync
 * health, history coverage) through the entity sink, and its availability: a series whose token
 * or consent is refused (`auth_error`) shows `unavailable` until the user fixes it. Also used
 * after Home Assistant restarts or reconnects (REST states do not survive a restart).
 */
export async function publishSnapshot(ctx: Pick<SyncContext, "db" | "entities" | "now">, job: MeterJob): Promise<void> {
  const now = ctx.now();
  const latest = latestCompleteDay(ctx.db, job.meter, now);
  const anomaly = latest ? (listAnomalies(ctx.db, job.meter.id, 30).find((a) => a.day === latest.day) ?? null) : null;
  const state = getSyncState(ctx.db, job.meter.id);
  await ctx.entities.publish({
    meter: job.meter,
    latestDay: latest,
    latestAnomaly: anomaly,
    maxPower: (job.meter.flow ?? "consumption") === "consumption" ? latestMaxPower(ctx.db, job.meter.id) : null,
    sync: {
      status: state.status,
      lastError: state.lastError,
      lastSuccessAt: state.lastSuccessAt,
      requestsRemaining: job.gate.remaining(),
    },
    history: historyExtent(ctx.db, job.meter.id),
  });
  await ctx.entities.setAvailable(job.meter.id, state.status !== "auth_error");
}

/**
 * A readable message for what home-assistant-js-websocket rejects with: an Error, an HA error
 * `{code, message}` (e.g. `invalid_format`), a js-ws numeric code (3 = connection lost), or a
 * result frame carrying one of those.
 */
export function describeHaError(err: unknown): string {
  if (err instanceof Error) return err.message;
  const e = (err as { error?: unknown })?.error ?? err;
  if (e && typeof e === "object") {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 3) return "the connection was lost during the write (it is retried next cycle)";
    if (typeof message === "string") return code !== undefined ? `${message} (${String(code)})` : message;
  }
  return JSON.stringify(err);
}

/** One summary line per meter, as printed by `energy-bridge sync --once`. */
export function formatSummary(s: MeterSummary): string {
  const parts = [
    `meter ${s.meterId}: ${s.status}`,
    `fetched ${s.fetched} points in ${s.requests} request(s)`,
    `stored ${s.stored}`,
    `rejected ${s.rejected}`,
    `statistics rows sent ${s.rowsSent}`,
    `sum adjustments ${s.adjustments}`,
    `anomalies ${s.anomalies}`,
  ];
  if (s.remaining > 0) parts.push(`${s.remaining} request(s) left for the next cycles`);
  if (s.error) parts.push(`error: ${s.error}`);
  return parts.join(" | ");
}
