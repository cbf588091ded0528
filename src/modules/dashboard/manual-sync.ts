/**
 * The dashboard's manual sync of a range of local days for a configured Linky meter: the load
 * curve of [from, to) is fetched in calls of the provider's `maxDaysPerCall` days, newest first,
 * each admitted by the same persistent request gate as the energy module's cycle (same gateway key
 * `<provider>@<baseUrl|default>` in `request_log`, same daily limit), so a manual sync spends the
 * day's budget, never more. Readings are stored as facts (upsert, dirty hours, day coverage) and
 * then handed to `write` (the statistics writer). Provider → store → HA, as a cycle does.
 */
import { addDays, today as todayIn } from "../../analysis/days.js";
import { ProviderError } from "../../domain/errors.js";
import type { LocalDate, Meter } from "../../domain/types.js";
import { storeFetched } from "../../jobs/fetch-meter.js";
import { chunkNewestFirst } from "../../jobs/plan-requests.js";
import type { Logger } from "../../log.js";
import { createProvider, type ProviderRuntimeOptions } from "../../providers/index.js";
import type { Settings } from "../../settings.js";
import type { Db } from "../../store/db.js";
import { createRequestGate, effectiveDailyBudget, gatewayBudgetKey } from "../../store/request-budget.js";
import type { ManualSync, SyncReport } from "./api.js";
import { ApiError } from "./meter-lookup.js";

/** What the manual sync needs. `write` sends a meter's dirty hours to HA and returns the rows sent. */
export interface ManualSyncDeps {
  db: Db;
  settings: Pick<Settings, "meters" | "requestBudgetPerDay" | "enedis">;
  now: () => number;
  log: Logger;
  providerRuntime?: ProviderRuntimeOptions;
  write: (meter: Meter) => Promise<number>;
}

/** See the file comment. Throws ProviderError (→ 503/429/400) when nothing could be fetched. */
export function createManualSync(deps: ManualSyncDeps): ManualSync {
  return async (meter, range): Promise<SyncReport> => {
    const prm = meter.usagePoint ?? meter.id.replace(/_production$/, "");
    const m = deps.settings.meters.find((x) => x.prm === prm);
    if (!m) throw new ApiError(404, "unknown_meter", `meter ${meter.id} is not a configured Linky meter; only those can be synced by hand`);
    const provider = createProvider(
      {
        provider: m.provider,
        ...(m.token ? { token: m.token } : {}),
        ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
        ...(deps.settings.enedis ? { enedisClientId: deps.settings.enedis.clientId, enedisClientSecret: deps.settings.enedis.clientSecret } : {}),
      },
      { now: deps.now, ...deps.providerRuntime },
    );
    const cap = provider.capabilities.resolutions.load_curve;
    if (!cap) throw new ApiError(400, "invalid_parameter", `${m.provider} has no load curve to sync`);
    const zone = provider.capabilities.timezone;
    const today = todayIn(zone, deps.now());
    const from = range.from < addDays(today, -cap.historyDays) ? addDays(today, -cap.historyDays) : range.from;
    const to = range.to > today ? today : range.to;
    if (to <= from) throw new ApiError(400, "invalid_parameter", `nothing to sync: the provider serves ${addDays(today, -cap.historyDays)} … ${addDays(today, -1)}`);
    const gate = createRequestGate(deps.db, {
      providerKey: gatewayBudgetKey(m.provider, m.baseUrl),
      limit: effectiveDailyBudget(provider.capabilities, deps.settings.requestBudgetPerDay).limit,
      timezone: zone,
      now: deps.now,
    });
    const days: LocalDate[] = [];
    for (let d = addDays(to, -1); d >= from; d = addDays(d, -1)) days.push(d);
    const chunks = chunkNewestFirst(days, cap.maxDaysPerCall);
    let requests = 0;
    let synced = 0;
    let stopped: ProviderError | null = null;
    for (const chunk of chunks) {
      const fetchRange = { resolution: "load_curve" as const, ...chunk };
      try {
        const before = gate.remaining();
        const result = await provider.fetch(meter, fetchRange, gate);
        requests += before - gate.remaining();
        // Readings and their day coverage in one transaction, as the scheduled fetch does.
        const stored = storeFetched(deps.db, meter, fetchRange, result.readings, deps.now());
        synced += stored.inserted + stored.updated;
        if (result.endOfHistory) break;
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        if (err.code === "budget_exhausted" || requests > 0) {
          stopped = err;
          break;
        }
        throw err;
      }
    }
    if (stopped && requests === 0) throw stopped;
    const rowsSent = synced > 0 ? await deps.write(meter).catch((err: Error) => {
      deps.log.warn(`manual sync of ${meter.id}: Home Assistant not updated yet (${err.message}); the hours stay queued`);
      return 0;
    }) : 0;
    const message =
      `${requests} request(s) for ${from} … ${addDays(to, -1)}, ${synced} reading(s) new or corrected, ${rowsSent} hour(s) sent to Home Assistant` +
      (stopped ? `; stopped early: ${stopped.message}` : "");
    deps.log.info(`manual sync of ${meter.id}: ${message}`);
    return {
      meter_id: meter.id,
      status: "done",
      date_range: { start: from, end: to },
      requests_made: requests,
      synced_readings: synced,
      requests_left_today: gate.remaining(),
      message,
    };
  };
}
