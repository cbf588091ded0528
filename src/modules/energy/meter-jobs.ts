/**
 * The energy module's meter series from the settings: one consumption job per configured Linky
 * meter and, unless `production: off`, one production job for the same usage point; one provider
 * per meter and one request gate per gateway (shared by the meters behind it).
 */
import { statisticSource } from "../../domain/meter-providers.js";
import type { Meter, Provider, RequestGate } from "../../domain/types.js";
import { statisticId } from "../../homeassistant/statistics.js";
import type { MeterJob } from "../../jobs/sync-meter.js";
import type { Logger } from "../../log.js";
import { createProvider, type ProviderRuntimeOptions } from "../../providers/index.js";
import type { MeterSettings, Settings } from "../../settings.js";
import type { Db } from "../../store/db.js";
import { upsertMeter } from "../../store/meters.js";
import { createRequestGate, effectiveDailyBudget, gatewayBudgetKey } from "../../store/request-budget.js";

/** The Meter record of a configured Linky meter's consumption series (id = PRM). */
export function meterFromSettings(m: MeterSettings, provider: Provider): Meter {
  return { id: m.prm, provider: m.provider, kind: "electricity", unit: "Wh", timezone: provider.capabilities.timezone, name: m.name };
}

/** The Meter record of the production series of the same usage point (id `<prm>_production`). */
export function productionMeterFromSettings(m: MeterSettings, provider: Provider): Meter {
  return { ...meterFromSettings(m, provider), id: `${m.prm}_production`, usagePoint: m.prm, flow: "production" };
}

/**
 * Builds (and records in the store) every meter series of the settings.
 * @throws Error `option meters[<i>]: <what is missing>` for a missing credential.
 */
export function buildMeterJobs(
  db: Db,
  settings: Settings,
  opts: { now: () => number; log: Logger; providerRuntime?: ProviderRuntimeOptions; gates?: Map<string, RequestGate> },
  /** Meters of connected accounts (account-meters.ts), after the configured ones; errors name the account. */
  accountMeters: readonly (MeterSettings & { accountId: string })[] = [],
): MeterJob[] {
  const gates = opts.gates ?? new Map<string, RequestGate>();
  const sources: (MeterSettings & { accountId?: string })[] = [...settings.meters, ...accountMeters];
  return sources.flatMap((m, i) => {
    let provider: Provider;
    try {
      provider = createProvider(
        {
          provider: m.provider,
          ...(m.token ? { token: m.token } : {}),
          ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
          ...(m.provider === "ores" ? { accountId: `ores_${m.prm}` } : {}),
          ...(settings.enedis ? { enedisClientId: settings.enedis.clientId, enedisClientSecret: settings.enedis.clientSecret } : {}),
        },
        { now: opts.now, ...opts.providerRuntime },
      );
    } catch (err) {
      throw new Error(`${m.accountId ? `account ${m.accountId}` : `option meters[${i}]`}: ${(err as Error).message}`);
    }
    const meter = meterFromSettings(m, provider);
    upsertMeter(db, meter, opts.now());
    const key = gatewayBudgetKey(m.provider, m.baseUrl);
    let gate = gates.get(key);
    if (!gate) {
      const budget = effectiveDailyBudget(provider.capabilities, settings.requestBudgetPerDay);
      if (budget.clamped) {
        opts.log.warn(
          `request_budget_per_day ${settings.requestBudgetPerDay} is above what ${m.provider} tolerates; using its hard cap of ${budget.limit} calls a day`,
        );
      }
      gate = createRequestGate(db, { providerKey: key, limit: budget.limit, timezone: provider.capabilities.timezone, now: opts.now });
      gates.set(key, gate);
    }
    const consumption: MeterJob = {
      meter,
      provider,
      gate,
      statistic: { statisticId: statisticId(statisticSource(m.provider), m.prm, "consumption"), name: `${m.name} consumption`, unit: "kWh", unitClass: "energy" },
    };
    if (m.production === "off" || !provider.capabilities.flows.includes("production")) return [consumption];
    const production = productionMeterFromSettings(m, provider);
    upsertMeter(db, production, opts.now());
    return [
      consumption,
      {
        meter: production,
        provider,
        gate,
        productionMode: m.production,
        statistic: { statisticId: statisticId(statisticSource(m.provider), m.prm, "production"), name: `${m.name} production`, unit: "kWh", unitClass: "energy" },
      },
    ];
  });
}
