import { join } from "node:path";
import type { Meter, Provider, RequestGate } from "./domain/types.js";
import { connectHomeAssistant, type HaLink } from "./homeassistant/connection.js";
import type { HaRest } from "./homeassistant/rest.js";
import { statisticId } from "./homeassistant/statistics.js";
import type { Logger } from "./log.js";
import { createProvider, type ProviderRuntimeOptions } from "./providers/index.js";
import type { MeterSettings, Settings } from "./settings.js";
import { openStore, type Db } from "./store/db.js";
import { upsertMeter } from "./store/meters.js";
import { createRequestGate, effectiveDailyBudget } from "./store/request-budget.js";
import { publishSnapshot, type MeterJob, type MeterSummary, type SyncContext } from "./jobs/sync-meter.js";
import { runCycle } from "./jobs/run-cycle.js";

/** A wired service: store, Home Assistant link, one job per meter. */
export interface Service {
  db: Db;
  link: HaLink;
  jobs: MeterJob[];
  ctx: SyncContext;
  /** Runs one full cycle over every meter series (see jobs/run-cycle.ts). */
  runCycle(): Promise<MeterSummary[]>;
  /** Re-publishes every meter's entities (after HA restarted: REST states are not persisted). */
  republish(): Promise<void>;
  close(): void;
}

/** The Meter record of a configured Linky meter's consumption series (id = PRM). */
export function meterFromSettings(m: MeterSettings, provider: Provider): Meter {
  return { id: m.prm, provider: m.provider, kind: "electricity", unit: "Wh", timezone: provider.capabilities.timezone, name: m.name };
}

/** The Meter record of the production series of the same usage point (id `<prm>_production`). */
export function productionMeterFromSettings(m: MeterSettings, provider: Provider): Meter {
  return { ...meterFromSettings(m, provider), id: `${m.prm}_production`, usagePoint: m.prm, flow: "production" };
}

/**
 * Wires the service from Settings: opens the store in `settings.dataDir`, builds one provider and
 * one shared per-gateway request gate, connects to Home Assistant (re-publishing entities after
 * every reconnect). Throws SettingsError-like messages for a missing credential, and the
 * connection error ("Home Assistant rejected the access token…", "cannot reach…") if HA refuses.
 */
export async function createService(
  settings: Settings,
  opts: {
    log: Logger;
    now?: () => number;
    provider?: ProviderRuntimeOptions;
    dbPath?: string;
    chunkSize?: number;
    /** Wait for Home Assistant forever at start (the service), instead of failing after ~20 s (`sync --once`). */
    waitForHomeAssistant?: boolean;
  },
): Promise<Service> {
  const now = opts.now ?? Date.now;
  const db = openStore(opts.dbPath ?? join(settings.dataDir, "energy-bridge.sqlite"));
  const gates = new Map<string, RequestGate>();
  const jobs: MeterJob[] = settings.meters.flatMap((m, i) => {
    let provider: Provider;
    try {
      provider = createProvider(
        {
          provider: m.provider,
          ...(m.token ? { token: m.token } : {}),
          ...(m.baseUrl ? { baseUrl: m.baseUrl } : {}),
          ...(settings.enedis ? { enedisClientId: settings.enedis.clientId, enedisClientSecret: settings.enedis.clientSecret } : {}),
        },
        { now, ...opts.provider },
      );
    } catch (err) {
      db.close();
      throw new Error(`option meters[${i}]: ${(err as Error).message}`);
    }
    const meter = meterFromSettings(m, provider);
    upsertMeter(db, meter, now());
    const key = `${m.provider}@${m.baseUrl ?? "default"}`;
    let gate = gates.get(key);
    if (!gate) {
      const budget = effectiveDailyBudget(provider.capabilities, settings.requestBudgetPerDay);
      if (budget.clamped) {
        opts.log.warn(
          `request_budget_per_day ${settings.requestBudgetPerDay} is above what ${m.provider} tolerates; using its hard cap of ${budget.limit} calls a day`,
        );
      }
      gate = createRequestGate(db, { providerKey: key, limit: budget.limit, timezone: provider.capabilities.timezone, now });
      gates.set(key, gate);
    }
    const consumption: MeterJob = {
      meter,
      provider,
      gate,
      statistic: { statisticId: statisticId("linky", m.prm, "consumption"), name: `${m.name} consumption`, unit: "kWh", unitClass: "energy" },
    };
    if (m.production === "off" || !provider.capabilities.flows.includes("production")) return [consumption];
    const production = productionMeterFromSettings(m, provider);
    upsertMeter(db, production, now());
    return [
      consumption,
      {
        meter: production,
        provider,
        gate,
        productionMode: m.production,
        statistic: { statisticId: statisticId("linky", m.prm, "production"), name: `${m.name} production`, unit: "kWh", unitClass: "energy" },
      },
    ];
  });
  const rest: HaRest = { apiUrl: settings.homeAssistant.apiUrl, token: settings.homeAssistant.token };
  let service: Service | undefined;
  let link: HaLink;
  try {
    if (opts.waitForHomeAssistant) opts.log.info(`connecting to Home Assistant at ${settings.homeAssistant.wsUrl} (waiting until it is up)`);
    link = await connectHomeAssistant({
      ...(opts.waitForHomeAssistant ? { initialRetries: -1 } : {}),
      wsUrl: settings.homeAssistant.wsUrl,
      token: settings.homeAssistant.token,
      onReady: () => void service?.republish(),
      onDisconnected: () => opts.log.warn("connection to Home Assistant lost; reconnecting"),
      onReconnectError: (err) => opts.log.error(err.message),
    });
  } catch (err) {
    db.close();
    throw err;
  }
  opts.log.info(`connected to Home Assistant ${link.haVersion} (${settings.mode} mode), ${jobs.length} meter(s)`);
  const ctx: SyncContext = {
    db,
    get ha() {
      return { conn: link.connection, haVersion: link.haVersion, rest };
    },
    log: opts.log,
    now,
    retentionDays: settings.retentionDays,
    anomalyThresholdPercent: settings.anomalyThresholdPercent,
    ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}),
  };
  service = {
    db,
    link,
    jobs,
    ctx,
    runCycle: () => runCycle(ctx, jobs),
    async republish() {
      for (const job of jobs) {
        await publishSnapshot(ctx, job).catch((err: Error) => opts.log.error(`publishing ${job.meter.id} failed: ${err.message}`));
      }
    },
    close() {
      link.close();
      db.close();
    },
  };
  return service;
}
