/**
 * The meter series of one connected Ecolyo (Cozy) account: electricity, gas and water, each a
 * MeterJob of the shared jobs/ pipeline (provider → store → analysis → statistics writer), with
 * one request gate per instance and the token read from the vault at every call (renewed there
 * on a 401 with the Cozy flow's refresher).
 *
 * Names: meter id `ecolyo_<instance>_<kind>` (store, entities), statistic
 * `energy_bridge:ecolyo_<instance>_<kind>` with `<instance>` the host in statistic-id form
 * (`alice.mycozy.cloud` → `alice_mycozy_cloud`). Units: electricity kWh (energy); gas kWh
 * (energy) or m³ (volume) per ECOLYO_GAS_LOAD_UNIT; water L (volume).
 */
import { refreshCozyTokens } from "../../auth/flows/cozy.js";
import type { TokenVault } from "../../auth/token-vault.js";
import { ProviderError } from "../../domain/errors.js";
import type { Account, EnergyKind, Meter } from "../../domain/types.js";
import { statisticId, type StatisticMeta } from "../../homeassistant/statistics.js";
import type { MeterJob } from "../../jobs/sync-meter.js";
import type { HttpOptions } from "../../providers/http.js";
import { CozyClient } from "../../providers/cozy-client.js";
import { ECOLYO_GAS_LOAD_UNIT, ECOLYO_TIMEZONE, ecolyoUnit } from "../../providers/cozy-docs.js";
import { CozyProvider } from "../../providers/cozy.js";
import type { Db } from "../../store/db.js";
import { upsertMeter } from "../../store/meters.js";
import { createRequestGate } from "../../store/request-budget.js";

/** The energies an Ecolyo account has, in the order they are synced. */
export const ECOLYO_KINDS: readonly EnergyKind[] = ["electricity", "gas", "water"];

const LABEL: Record<EnergyKind, string> = { electricity: "electricity", gas: "gas", water: "water" };

/** The `<instance>` part of ids: the account's host, lower-case, `[a-z0-9_]` only. */
export function ecolyoKey(instance: string): string {
  return new URL(instance).host.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
}

/** The statistic of one energy of an instance (see the file comment). */
export function ecolyoStatistic(instance: string, kind: EnergyKind, gasUnit: "kWh" | "m³" = ECOLYO_GAS_LOAD_UNIT): StatisticMeta {
  const name = `Ecolyo ${LABEL[kind]}`;
  const id = statisticId("ecolyo", ecolyoKey(instance), kind);
  if (kind === "water") return { statisticId: id, name, unit: "L", unitClass: "volume", storeUnitsPerUnit: 1 };
  if (kind === "gas" && gasUnit === "m³") return { statisticId: id, name, unit: "m³", unitClass: "volume", storeUnitsPerUnit: 1000 };
  return { statisticId: id, name, unit: "kWh", unitClass: "energy", storeUnitsPerUnit: 1000 };
}

/** Options of {@link buildEcolyoJobs}. */
export interface EcolyoJobOptions {
  now: () => number;
  http?: HttpOptions;
  /** fetch for the refresh call (tests); the data calls use global fetch. */
  fetch?: typeof fetch;
  gasUnit?: "kWh" | "m³";
}

/**
 * The three jobs of a Cozy account (meters recorded in the store). Throws Error when the account
 * has no instance URL in its config.
 */
export function buildEcolyoJobs(db: Db, account: Account, vault: TokenVault, opts: EcolyoJobOptions): MeterJob[] {
  const instance = account.config.instance;
  if (typeof instance !== "string" || !instance) throw new Error(`account ${account.id} has no Cozy instance address`);
  const gasUnit = opts.gasUnit ?? ECOLYO_GAS_LOAD_UNIT;
  const client = new CozyClient({
    instance,
    ...opts.http,
    token: {
      async get() {
        const t = vault.get(account.id);
        if (!t) throw new ProviderError("auth", `the Cozy account ${account.label} is not connected: connect it from the add-on's page`);
        return t.accessToken;
      },
      async renew() {
        const t = await vault.refresh(account.id, (current) =>
          refreshCozyTokens(account, current, { now: opts.now, ...(opts.fetch ? { fetch: opts.fetch } : {}) }),
        ).catch((err: Error) => {
          throw new ProviderError("auth", `the Cozy refused to renew the access of ${account.label} (${err.message}); reconnect it from the add-on's page`);
        });
        return t.accessToken;
      },
    },
  });
  const key = ecolyoKey(instance);
  const probe = new CozyProvider({ client, kind: "electricity" });
  const gate = createRequestGate(db, {
    providerKey: `cozy@${instance}`,
    limit: probe.capabilities.dailyBudget,
    timezone: ECOLYO_TIMEZONE,
    now: opts.now,
  });
  return ECOLYO_KINDS.map((kind) => {
    const provider = kind === "electricity" ? probe : new CozyProvider({ client, kind, gasUnit });
    const meter: Meter = {
      id: `ecolyo_${key}_${kind}`,
      provider: "cozy",
      kind,
      unit: ecolyoUnit(kind, gasUnit).unit,
      timezone: ECOLYO_TIMEZONE,
      name: `Ecolyo ${LABEL[kind]} (${account.label})`,
    };
    upsertMeter(db, meter, opts.now());
    return { meter, provider, gate, statistic: ecolyoStatistic(instance, kind, gasUnit) };
  });
}
