/**
 * THE composition root: settings → store → shared services (Home Assistant link, event bus,
 * scheduler) → modules, started in order; stopped in reverse on SIGTERM within
 * {@link SHUTDOWN_BOUND_MS}. A module whose `start` throws is reported by name and the others
 * still run. `cli.ts` only parses the command line and calls {@link runService} or {@link syncOnce}.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connectHomeAssistant, type HaLink } from "./homeassistant/connection.js";
import type { HaRest } from "./homeassistant/rest.js";
import { createEntitySink, type EntitySink } from "./homeassistant/entities/sink.js";
import { ENERGY_BRIDGE_VERSION } from "./providers/http.js";
import { mqttEntityMemory } from "./store/mqtt-entities.js";
import { formatSummary, type MeterSummary } from "./jobs/sync-meter.js";
import { createLogger, type Logger } from "./log.js";
import { LinkyModule } from "./modules/energy/linky-module.js";
import { EventBus } from "./modules/events.js";
import type { Module, ModuleContext, ModuleHealth } from "./modules/module.js";
import { createSchedulerService, type SchedulerService } from "./modules/scheduler-service.js";
import { createWebRoutes } from "./modules/web-routes.js";
import { TokenVault } from "./auth/token-vault.js";
import { loadOrCreateVaultKey } from "./auth/vault-key.js";
import type { ProviderRuntimeOptions } from "./providers/index.js";
import { loadSettings, SettingsError, type Settings } from "./settings.js";
import { openStore, type Db } from "./store/db.js";

/** The Supervisor sends SIGKILL about 10 s after SIGTERM: everything stops within this bound. */
export const SHUTDOWN_BOUND_MS = 9_000;

/** A running add-on: its shared services and modules. */
export interface App {
  db: Db;
  ha: HaLink;
  events: EventBus;
  scheduler: SchedulerService;
  entities: EntitySink;
  modules: readonly Module[];
  /** The Linky module (the CLI, the demo and tests drive its cycle directly). */
  energy: LinkyModule;
  /** Health per module, by name (a module that failed to start is `failed`). */
  health(): Record<string, ModuleHealth>;
  /** Stops the modules in reverse order, then the scheduler, HA link and store; bounded. */
  stop(opts?: { keepEntitiesOnline?: boolean }): Promise<void>;
}

/** Options of {@link startApp}. */
export interface AppOptions {
  log: Logger;
  now?: () => number;
  providerRuntime?: ProviderRuntimeOptions;
  dbPath?: string;
  /** Wait for Home Assistant forever at start (the service) instead of failing after ~20 s. */
  waitForHomeAssistant?: boolean;
  /** The modules after the energy module (later issues add web, ecolyo, tado, sync). */
  extraModules?: Module[];
  /** false: build the context and prepare the energy module without starting anything (`sync --once`). */
  start?: boolean;
}

/**
 * Opens the store in `settings.dataDir`, connects to Home Assistant (re-emitting `ha_ready` after
 * every reconnect), and starts the modules in order.
 * @throws the connection error ("Home Assistant rejected the access token…", "cannot reach…").
 */
export async function startApp(settings: Settings, opts: AppOptions): Promise<App> {
  const log = opts.log;
  const now = opts.now ?? Date.now;
  const db = openStore(opts.dbPath ?? join(settings.dataDir, "energy-bridge.sqlite"));
  const events = new EventBus(log);
  let ha: HaLink;
  try {
    if (opts.waitForHomeAssistant) log.info(`connecting to Home Assistant at ${settings.homeAssistant.wsUrl} (waiting until it is up)`);
    ha = await connectHomeAssistant({
      ...(opts.waitForHomeAssistant ? { initialRetries: -1 } : {}),
      wsUrl: settings.homeAssistant.wsUrl,
      token: settings.homeAssistant.token,
      onReady: () => events.emit("ha_ready", { haVersion: ha?.haVersion ?? "" }),
      onDisconnected: () => log.warn("connection to Home Assistant lost; reconnecting"),
      onReconnectError: (err) => log.error(err.message),
      onProtocolError: (err) => log.error(`Home Assistant link: ${err.message}`),
    });
  } catch (err) {
    db.close();
    throw err;
  }
  log.info(`connected to Home Assistant ${ha.haVersion} (${settings.mode} mode), ${settings.meters.length} meter(s)`);
  const rest: HaRest = { apiUrl: settings.homeAssistant.apiUrl, token: settings.homeAssistant.token };
  const scheduler = createSchedulerService(db, log);
  mkdirSync(settings.dataDir, { recursive: true });
  const vaultKey = loadOrCreateVaultKey(settings.dataDir, settings.vaultKey);
  const vault = new TokenVault(db, vaultKey.key, { now, log });
  const entities = await createEntitySink({
    rest,
    log,
    deleted: mqttEntityMemory(db, now),
    swVersion: ENERGY_BRIDGE_VERSION,
    ...(settings.mode === "addon" ? { supervisorToken: settings.homeAssistant.token } : {}),
    ...(settings.mqtt ? { mqtt: settings.mqtt } : {}),
  });
  const ctx: ModuleContext = {
    settings,
    db,
    ha,
    rest,
    entities,
    events,
    scheduler,
    vault,
    web: createWebRoutes(),
    log,
    now,
    ...(opts.providerRuntime ? { providerRuntime: opts.providerRuntime } : {}),
  };
  const energy = new LinkyModule();
  const modules: Module[] = [energy, ...(opts.extraModules ?? [])];
  const failed = new Map<string, string>();
  const started: Module[] = [];
  if (opts.start === false) {
    try {
      await energy.prepare(ctx);
    } catch (err) {
      await entities.stop();
      ha.close();
      db.close();
      throw err;
    }
  } else {
    for (const m of modules) {
      try {
        await m.start(ctx);
        started.push(m);
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        failed.set(m.name, message);
        log.error(`module ${m.name} failed to start: ${message}; the other modules keep running`);
      }
    }
    log.info(
      `ready: ${started.map((m) => m.name).join(", ") || "no module"} started (${entities.mode === "mqtt" ? "MQTT discovery" : "REST states"}), ` +
        `${Math.round(process.uptime() * 1000)} ms after the process started`,
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    db,
    ha,
    events,
    scheduler,
    entities,
    modules,
    energy,
    health() {
      const out: Record<string, ModuleHealth> = {};
      for (const m of modules) {
        out[m.name] = failed.has(m.name)
          ? { status: "failed", detail: failed.get(m.name)! }
          : (m.health?.() ?? { status: "ok", detail: null });
      }
      return out;
    },
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        const deadline = Date.now() + SHUTDOWN_BOUND_MS;
        const left = () => Math.max(0, deadline - Date.now());
        for (const m of [...started].reverse()) {
          await withBound(m.stop(), left()).catch((err: Error) => log.error(`module ${m.name} failed to stop: ${err.message}`));
        }
        if (!(await scheduler.stopAll(left()))) log.warn("a sync cycle was still running; stopping without waiting for it");
        await withBound(entities.stop(stopOpts.keepEntitiesOnline ? { offline: false } : {}), left());
        ha.close();
        db.close();
      })();
      return stopping;
    },
  };
}

/** Resolves when `p` settles or after `ms`, whichever comes first. */
function withBound(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]).finally(() => clearTimeout(timer));
}

/** Reads settings; exit code 2 with the option named when they are invalid. */
function settingsOrExit(optionsPath: string | undefined): Settings | number {
  try {
    return loadSettings(process.env, optionsPath);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(`energy-bridge: cannot start: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

/**
 * `energy-bridge run`: the service until SIGTERM/SIGINT. Returns the exit code (0 after a clean
 * stop, 2 for invalid settings).
 */
export async function runService(optionsPath?: string): Promise<number> {
  const settings = settingsOrExit(optionsPath);
  if (typeof settings === "number") return settings;
  const log = createLogger(settings.logLevel);
  // The service's other modules (accounts, dashboard, Ecolyo, Tado, the web server…) are imported
  // here, not at the top: `sync --once` runs the Linky module alone and should not load them
  // (importing dist/main.js: 82.7 → 69.0 MB RSS without them).
  const { defaultModules } = await import("./modules/catalog.js");
  const app = await startApp(settings, { log, waitForHomeAssistant: true, extraModules: await defaultModules(settings) });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal} received, stopping`);
      void app.stop().then(resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}

/**
 * `energy-bridge sync --once`: one full cycle; one summary line per meter series on stdout (logs
 * on stderr). Exit 1 when a series failed, 2 for invalid settings.
 */
export async function syncOnce(optionsPath?: string): Promise<number> {
  const settings = settingsOrExit(optionsPath);
  if (typeof settings === "number") return settings;
  const log = createLogger(settings.logLevel === "info" ? "warning" : settings.logLevel, 2);
  const app = await startApp(settings, { log, start: false });
  try {
    const summaries: MeterSummary[] = await app.energy.runCycle();
    for (const s of summaries) console.log(formatSummary(s));
    return summaries.some((s) => s.status === "error" || s.status === "auth_error") ? 1 : 0;
  } finally {
    // A cron-driven run: the entities keep their state until the next run instead of `unavailable`.
    await app.stop({ keepEntitiesOnline: true });
  }
}
