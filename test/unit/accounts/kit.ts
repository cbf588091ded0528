/**
 * A test kit for the accounts module without the web module: the real store (temp file), vault,
 * event bus, scheduler service and REST entity sink pointed at a small recording stand-in for
 * HA's REST API (states, persistent_notification services), a fake recorder for the energy
 * module's statistics, and a bare fastify app mounting the route registry with
 * `request.sessionId` taken from the `x-session` header (the web module's cookie in real use).
 * Every log line (pino, trace level) is kept in `logs` for the no-secret greps.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { pino } from "pino";
import { TokenVault } from "../../../src/auth/token-vault.js";
import type { HaLink } from "../../../src/homeassistant/connection.js";
import { restEntitySink, type EntitySink } from "../../../src/homeassistant/entities/sink.js";
import type { HaRest } from "../../../src/homeassistant/rest.js";
import type { Logger } from "../../../src/log.js";
import { AccountsModule, type AccountsModuleOptions } from "../../../src/modules/accounts/accounts-module.js";
import { LinkyModule } from "../../../src/modules/energy/linky-module.js";
import { EventBus, type BusEvents } from "../../../src/modules/events.js";
import type { ModuleContext } from "../../../src/modules/module.js";
import { createSchedulerService } from "../../../src/modules/scheduler-service.js";
import { createWebRoutes } from "../../../src/modules/web-routes.js";
import type { Settings } from "../../../src/settings.js";
import { openStore } from "../../../src/store/db.js";
import { fakeRecorder } from "../../helpers/fake-recorder.js";

/** A request the HA stand-in received. */
export interface HaCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
}

export interface AccountsKit {
  ctx: ModuleContext;
  accounts: AccountsModule;
  energy: LinkyModule | undefined;
  app: FastifyInstance;
  recorder: ReturnType<typeof fakeRecorder>;
  haCalls: HaCall[];
  /** Every event emitted, in order. */
  events: { name: keyof BusEvents; payload: unknown }[];
  logs: string[];
  /** `app.inject` with the session header. */
  api(method: "GET" | "POST", url: string, opts?: { session?: string; body?: unknown }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** Starts the kit; `energy: true` also prepares the Linky module (meters from accounts, first sync). */
export async function accountsKit(
  opts: {
    settings?: Partial<Settings>;
    now?: () => number;
    energy?: boolean;
    module?: AccountsModuleOptions;
    dataDir?: string;
    vaultKey?: Buffer;
    /** A real Home Assistant (integration tests): its link, REST API and an entity sink; `haCalls` stays empty then. */
    ha?: { link: HaLink; rest: HaRest; entities?: EntitySink };
  } = {},
): Promise<AccountsKit> {
  const now = opts.now ?? Date.now;
  const haCalls: HaCall[] = [];
  const ha = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      haCalls.push({ method: req.method ?? "GET", path: req.url ?? "", body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      res.writeHead(200, { "content-type": "application/json" });
      res.end("[]");
    });
  });
  await new Promise<void>((ok) => ha.listen(0, "127.0.0.1", ok));
  const haUrl = `http://127.0.0.1:${(ha.address() as AddressInfo).port}`;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "eb-accounts-"));
  const logs: string[] = [];
  const log = pino({ level: "trace", base: undefined }, { write: (s: string) => void logs.push(s) }) as unknown as Logger;
  const settings: Settings = {
    mode: "standalone",
    dataDir,
    homeAssistant: { wsUrl: "ws://127.0.0.1:1/api/websocket", apiUrl: `${haUrl}/api`, token: "ha-long-lived-token-for-tests" },
    meters: [],
    requestBudgetPerDay: 500,
    anomalyThresholdPercent: 120,
    retentionDays: 730,
    logLevel: "info",
    ...opts.settings,
  };
  const db = openStore(join(dataDir, "energy-bridge.sqlite"));
  const bus = new EventBus(log);
  const events: AccountsKit["events"] = [];
  for (const name of ["account_connected", "account_disconnected", "account_status", "token_expiring", "meter_synced"] as const) {
    bus.on(name, (payload) => void events.push({ name, payload }));
  }
  const recorder = fakeRecorder();
  if (opts.ha) settings.homeAssistant = { ...settings.homeAssistant, apiUrl: opts.ha.rest.apiUrl, token: opts.ha.rest.token };
  const rest = opts.ha?.rest ?? { apiUrl: settings.homeAssistant.apiUrl, token: settings.homeAssistant.token };
  const link: HaLink = opts.ha?.link ?? { connection: recorder.conn, haVersion: "2026.2.3", close: () => undefined };
  const scheduler = createSchedulerService(db, log, now);
  const ctx: ModuleContext = {
    settings,
    db,
    ha: link,
    rest,
    entities: opts.ha?.entities ?? restEntitySink(rest),
    events: bus,
    scheduler,
    vault: new TokenVault(db, opts.vaultKey ?? randomBytes(32), { now, log }),
    web: createWebRoutes(),
    log,
    now,
    providerRuntime: { retry: { minTimeout: 5, maxTimeout: 20, retries: 1 } },
  };
  let energy: LinkyModule | undefined;
  if (opts.energy) {
    energy = new LinkyModule();
    await energy.prepare(ctx);
  }
  const accounts = new AccountsModule({ schedule: false, ...opts.module });
  await accounts.start(ctx);
  const app = Fastify({ logger: false });
  app.decorateRequest("sessionId", "");
  app.addHook("onRequest", async (request) => {
    request.sessionId = String(request.headers["x-session"] ?? "");
  });
  for (const p of ctx.web.take()) await app.register(p.plugin);
  await app.ready();
  return {
    ctx,
    accounts,
    energy,
    app,
    recorder,
    haCalls,
    events,
    logs,
    api: (method, url, o = {}) =>
      app.inject({
        method,
        url,
        headers: { ...(o.session ? { "x-session": o.session } : {}), ...(o.body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
      }),
    async close() {
      await accounts.stop();
      await energy?.stop();
      await scheduler.stopAll(2_000);
      await app.close();
      db.close();
      ha.closeAllConnections();
      await new Promise<void>((ok) => ha.close(() => ok()));
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Fails with the offending line when any captured log line contains one of `secrets`. */
export function assertNoSecretInLogs(logs: readonly string[], secrets: readonly string[]): void {
  for (const s of secrets.filter((x) => x.length >= 6)) {
    const hit = logs.find((l) => l.includes(s));
    if (hit) throw new Error(`a log line contains a secret (${s.slice(0, 4)}…): ${hit}`);
  }
}
