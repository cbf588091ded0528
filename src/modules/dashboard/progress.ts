/**
 * Backfill progress of a meter for the dashboard's bar: per resolution, the complete local days
 * held (store/coverage day_coverage) against the days the provider keeps, the requests still
 * needed (days missing / days per call) and the expected finish date at the daily request budget.
 * Also the account rows (store/accounts.ts) the status area shows.
 */
import { addDays, today as todayIn } from "../../analysis/days.js";
import type { LocalDate, Meter, ProviderCapabilities, Resolution } from "../../domain/types.js";
import { enedisCapabilities } from "../../providers/enedis-common.js";
import { listAccounts } from "../../store/accounts.js";
import type { Db } from "../../store/db.js";
import { getSyncState } from "../../store/sync-state.js";

/** One resolution's progress. */
export interface ResolutionProgress {
  resolution: Resolution;
  /** Complete local days held within the provider's history window. */
  days_held: number;
  /** Days the provider keeps (from its known history start when it said so), or null when unknown. */
  days_available: number | null;
  /** days_held / days_available × 100 (0–100), or null. */
  percent: number | null;
  /** Provider requests still needed at `max_days_per_call` days each. */
  requests_needed: number | null;
  max_days_per_call: number | null;
}

/** The progress body of one meter. */
export interface MeterProgress {
  meter_id: string;
  resolutions: ResolutionProgress[];
  /** The provider's daily request budget for this meter's gateway, and what is left today. */
  daily_budget: number | null;
  requests_left_today: number | null;
  /** Local date the backfill should be done at the budget (today when nothing is missing), or null. */
  expected_finish: LocalDate | null;
  sync_status: string;
  last_sync: string | null;
}

/** What the dashboard knows of a provider (null for providers outside the Linky family). */
export function capabilitiesOf(provider: string, budgetOption?: number): ProviderCapabilities | null {
  switch (provider) {
    case "enedis_data_connect":
      return withBudget(enedisCapabilities(200, 500), budgetOption);
    case "conso_api":
    case "myelectricaldata":
    case "myelectricaldata_legacy":
      return withBudget(enedisCapabilities(20, 45), budgetOption);
    default:
      return null;
  }
}

function withBudget(c: ProviderCapabilities, option: number | undefined): ProviderCapabilities {
  return option ? { ...c, dailyBudget: Math.min(option, c.hardDailyCap) } : c;
}

/** Requests used today by every gateway key of `provider` (request_log, provider's local day). */
function usedToday(db: Db, provider: string, day: LocalDate): number {
  const row = db
    .prepare(`SELECT COALESCE(SUM(count), 0) AS n FROM request_log WHERE provider_key LIKE ? AND day = ?`)
    .get(`${provider}@%`, day) as { n: number };
  return row.n;
}

/** See the file comment. `now` UTC ms. */
export function meterProgress(db: Db, meter: Meter, now: number, budgetOption?: number): MeterProgress {
  const caps = capabilitiesOf(meter.provider, budgetOption);
  const zone = caps?.timezone ?? meter.timezone;
  const today = todayIn(zone, now);
  const state = getSyncState(db, meter.id);
  const resolutions: ResolutionProgress[] = [];
  let requests = 0;
  const kinds: Resolution[] = caps ? (Object.keys(caps.resolutions) as Resolution[]) : ["daily", "load_curve"];
  for (const resolution of kinds) {
    const cap = caps?.resolutions[resolution];
    let first = cap ? addDays(today, -cap.historyDays) : null;
    const known = state.historyStart[resolution];
    if (first && known && known > first) first = known;
    const held = (
      db
        .prepare(`SELECT COUNT(*) AS n FROM day_coverage WHERE meter_id = ? AND resolution = ? AND complete = 1 AND day >= ? AND day < ?`)
        .get(meter.id, resolution, first ?? "0000-00-00", today) as { n: number }
    ).n;
    if (!cap && held === 0) continue;
    const available = first ? Math.max(0, Math.round((Date.parse(today) - Date.parse(first)) / 86_400_000)) : null;
    const needed = cap && available !== null ? Math.ceil(Math.max(0, available - held) / cap.maxDaysPerCall) : null;
    if (needed) requests += needed;
    resolutions.push({
      resolution,
      days_held: held,
      days_available: available,
      percent: available ? Math.min(100, Math.round((held / available) * 1000) / 10) : null,
      requests_needed: needed,
      max_days_per_call: cap?.maxDaysPerCall ?? null,
    });
  }
  const left = caps ? Math.max(0, caps.dailyBudget - usedToday(db, meter.provider, today)) : null;
  let finish: LocalDate | null = null;
  if (caps) {
    if (requests === 0) finish = today;
    else {
      const afterToday = Math.max(0, requests - (left ?? 0));
      finish = addDays(today, Math.ceil(afterToday / caps.dailyBudget));
    }
  }
  return {
    meter_id: meter.id,
    resolutions,
    daily_budget: caps?.dailyBudget ?? null,
    requests_left_today: left,
    expected_finish: finish,
    sync_status: state.status,
    last_sync: state.lastSuccessAt === null ? null : new Date(state.lastSuccessAt).toISOString(),
  };
}

/** One account as the status area shows it (no secret: tokens stay in the vault). */
export interface ApiAccount {
  id: string;
  provider: string;
  label: string;
  status: string;
  detail: string | null;
  /** Consent / token expiry when the account's public config records one (`consentExpiresAt`, ms). */
  consent_expires: string | null;
  updated: string;
}

/** Every connected account, oldest first. */
export function accountsStatus(db: Db): ApiAccount[] {
  return listAccounts(db).map((a) => {
    const exp = a.config["consentExpiresAt"] ?? a.config["consent_expires_at"];
    return {
      id: a.id,
      provider: a.provider,
      label: a.label,
      status: a.status,
      detail: a.detail,
      consent_expires: typeof exp === "number" ? new Date(exp).toISOString() : typeof exp === "string" ? exp : null,
      updated: new Date(a.updatedAt).toISOString(),
    };
  });
}
