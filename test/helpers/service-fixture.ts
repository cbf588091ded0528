import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { Connection } from "home-assistant-js-websocket";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import type { HaLink } from "../../src/homeassistant/connection.js";
import type { MeterJob, MeterSummary } from "../../src/jobs/sync-meter.js";
import type { Db } from "../../src/store/db.js";
import type { Settings } from "../../src/settings.js";
import type { HomeAssistantInstance } from "./ha-harness.js";
import type { ProviderSimulator } from "./provider-simulator.js";

/** Settings of a standalone service pointing at a harness HA, no meter, a fresh temp data dir (`eb-<prefix>-…`). */
export function haSettings(ha: Pick<HomeAssistantInstance, "wsUrl" | "url" | "token">, overrides: Partial<Settings> = {}, prefix = "data"): Settings {
  return {
    mode: "standalone",
    dataDir: mkdtempSync(join(tmpdir(), `eb-${prefix}-`)),
    homeAssistant: { wsUrl: ha.wsUrl, apiUrl: `${ha.url}/api`, token: ha.token },
    meters: [],
    anomalyThresholdPercent: 120,
    retentionDays: 730,
    logLevel: "warning",
    ...overrides,
  };
}

/** {@link haSettings} with one Conso API meter on a provider simulator (tests and the demo): budget 500. */
export function testSettings(ha: HomeAssistantInstance, sim: ProviderSimulator, overrides: Partial<Settings> = {}): Settings {
  return haSettings(ha, {
    meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, baseUrl: sim.baseUrl, name: "Linky test", production: "off" }],
    requestBudgetPerDay: 500,
    ...overrides,
  });
}

/** What tests drive: the app's store, HA link, energy jobs and cycle (no schedule is started). */
export interface Service {
  app: App;
  db: Db;
  link: HaLink;
  jobs: MeterJob[];
  runCycle(): Promise<MeterSummary[]>;
  republish(): Promise<void>;
  close(): void;
}

/**
 * The composition root for tests: the real store, HA link and energy module, prepared but not
 * scheduled (tests run cycles themselves), fast retries, silent log; `dispose` also removes the
 * data dir.
 */
export async function testService(settings: Settings, now: () => number): Promise<Service & { dispose(): void }> {
  const app = await startApp(settings, {
    log: createLogger((process.env.EB_LOG as "info" | undefined) ?? "silent"),
    now,
    providerRuntime: { retry: { minTimeout: 5, maxTimeout: 20, retries: 2 } },
    start: false,
  });
  const service: Service = {
    app,
    db: app.db,
    link: app.ha,
    jobs: app.energy.jobs,
    runCycle: () => app.energy.runCycle(),
    republish: () => app.energy.republish(),
    close: () => void app.stop(),
  };
  return Object.assign(service, {
    dispose() {
      service.close();
      rmSync(settings.dataDir, { recursive: true, force: true });
    },
  });
}

/** Every hourly row HA holds for a statistic (kWh), oldest first. */
export async function haRows(conn: Connection, statisticId: string): Promise<{ start: number; state: number; sum: number }[]> {
  const res = await conn.sendMessagePromise<Record<string, { start: number; state: number; sum: number }[]>>({
    type: "recorder/statistics_during_period",
    start_time: "2000-01-01T00:00:00Z",
    end_time: "2100-01-01T00:00:00Z",
    statistic_ids: [statisticId],
    period: "hour",
    types: ["state", "sum"],
    units: { energy: "kWh" },
  });
  return res[statisticId] ?? [];
}

/** Sums hourly rows (kWh) per Europe/Paris local day → Wh. */
export function whPerParisDay(rows: readonly { start: number; state: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const day = DateTime.fromMillis(r.start, { zone: "Europe/Paris" }).toISODate()!;
    out.set(day, (out.get(day) ?? 0) + r.state * 1000);
  }
  return out;
}

/** Asserts-friendly check: every row's sum minus the previous sum equals its state, and no state is negative. */
export function continuityErrors(rows: readonly { start: number; state: number; sum: number }[]): string[] {
  const errors: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.state < -1e-9) errors.push(`negative hour at ${new Date(r.start).toISOString()}: ${r.state}`);
    const prev = i > 0 ? rows[i - 1]!.sum : 0;
    if (Math.abs(r.sum - prev - r.state) > 1e-6) {
      errors.push(`sum jump at ${new Date(r.start).toISOString()}: ${prev} → ${r.sum} with state ${r.state}`);
    }
  }
  return errors;
}
