import { DateTime } from "luxon";
import { ProviderError } from "../domain/errors.js";
import type { ProviderCapabilities, RequestGate } from "../domain/types.js";
import type { Db } from "./db.js";

/**
 * The budget key of a gateway: `<provider>@<base URL>` (`default` for the provider's own URL).
 * Every caller that spends a gateway's requests (daily cycles, manual syncs) must count under this
 * one key, or the gateway's ban threshold is approached from two counters.
 */
export function gatewayBudgetKey(provider: string, baseUrl?: string): string {
  return `${provider}@${baseUrl ?? "default"}`;
}

/**
 * A persistent per-day request budget for one provider key (e.g. "conso_api@https://conso.boris.sh"),
 * shared by all meters using that gateway. Days are counted in `timezone` (the provider's zone),
 * so the budget resets at the provider's local midnight. `acquire` throws ProviderError
 * `budget_exhausted` once `limit` requests were made that day; the count survives restarts.
 */
export function createRequestGate(
  db: Db,
  opts: { providerKey: string; limit: number; timezone: string; now?: () => number },
): RequestGate & { used(): number } {
  const now = opts.now ?? Date.now;
  const day = () => DateTime.fromMillis(now(), { zone: opts.timezone }).toISODate()!;
  const read = db.prepare(`SELECT count FROM request_log WHERE provider_key = ? AND day = ?`);
  const bump = db.prepare(
    `INSERT INTO request_log (provider_key, day, count) VALUES (?, ?, 1)
     ON CONFLICT(provider_key, day) DO UPDATE SET count = count + 1`,
  );
  const used = () => ((read.get(opts.providerKey, day()) as { count: number } | undefined)?.count ?? 0);
  return {
    used,
    remaining: () => Math.max(0, opts.limit - used()),
    acquire() {
      if (used() >= opts.limit) {
        throw new ProviderError(
          "budget_exhausted",
          `daily request budget of ${opts.limit} calls for ${opts.providerKey} is spent; the rest continues tomorrow`,
        );
      }
      bump.run(opts.providerKey, day());
    },
  };
}

/** Upper bound of the `request_budget_per_day` option (settings.ts), also the cap of a self-hosted gateway. */
export const MAX_BUDGET_OPTION = 500;

/**
 * The daily request limit of one gateway: the `request_budget_per_day` option when set, else the
 * provider's `dailyBudget`, never above the provider's `hardDailyCap` (its ban or quota rule).
 * `clamped` is true when the option asked for more than the cap (the caller logs it once).
 */
export function effectiveDailyBudget(
  capabilities: Pick<ProviderCapabilities, "dailyBudget" | "hardDailyCap">,
  option: number | undefined,
): { limit: number; clamped: boolean } {
  const wanted = option ?? capabilities.dailyBudget;
  const cap = Math.min(capabilities.hardDailyCap, MAX_BUDGET_OPTION);
  return { limit: Math.max(1, Math.min(wanted, cap)), clamped: wanted > cap };
}
