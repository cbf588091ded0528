/**
 * The "sync-server" module: shares chosen entities of this Home Assistant with other instances
 * (entity mirror, server side; src/sync/server). Enabled by `sync_server_enabled`. States come
 * from HA's `subscribe_entities` through ctx.ha (home-assistant-js-websocket `subscribeEntities`);
 * forwarded calls go out through `callService` on the same link. Its page (Mirror) is added to the
 * shared web registry.
 */
import { callService, getConfig, subscribeEntities, type UnsubscribeFunc } from "home-assistant-js-websocket";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { Exposure } from "../../sync/server/acl.js";
import { CallLedger } from "../../sync/server/calls.js";
import { ClientRegistry } from "../../sync/server/clients.js";
import { startSyncHttp, type SyncHttp } from "../../sync/server/http.js";
import { StateHub } from "../../sync/server/states.js";
import { TokenAuthority } from "../../sync/server/tokens.js";
import { instanceId, migrateSync } from "../../sync/store.js";
import { DEFAULT_SNAPSHOT_CHUNK_BYTES } from "../../sync/protocol.js";
import { serverPagePlugin } from "../../sync/server/page.js";

/** Knobs for tests and the bench (defaults in brackets). */
export interface SyncServerOptions {
  /** Listen address [0.0.0.0]. */
  host?: string;
  /** Port; overrides the setting (0 = any free port). */
  port?: number;
  authTimeoutMs?: number;
  idleTimeoutMs?: number;
  snapshotChunkBytes?: number;
  reexportMirrored?: boolean;
  /** Settings override (tests): registration secret, token days. */
  registrationSecret?: string;
  tokenDays?: number;
}

/** See the file comment. */
export class SyncServerModule implements Module {
  readonly name = "sync-server";
  private http?: SyncHttp;
  private unsubscribe?: UnsubscribeFunc;
  private prune?: NodeJS.Timeout;
  private detail: string | null = null;
  /** Live parts, for the page and tests. */
  parts?: {
    serverId: string;
    clients: ClientRegistry;
    exposure: Exposure;
    ledger: CallLedger;
    hub: StateHub;
    authority: TokenAuthority;
    http: SyncHttp;
    revoke(clientId: string): boolean;
  };

  constructor(private readonly opts: SyncServerOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    const cfg = ctx.settings.sync?.server;
    migrateSync(ctx.db);
    const serverId = instanceId(ctx.db);
    const authority = await TokenAuthority.load(ctx.db, ctx.vault, serverId, ctx.now);
    const clients = new ClientRegistry(ctx.db, ctx.now);
    const exposure = new Exposure(ctx.db, this.opts.reexportMirrored ?? false);
    const ledger = new CallLedger(ctx.db, ctx.now);
    const hub = new StateHub(serverId);
    const haConfig = await getConfig(ctx.ha.connection);
    const temperatureUnit = haConfig.unit_system?.temperature === "°F" ? "F" : "C";
    this.unsubscribe = subscribeEntities(ctx.ha.connection, (entities) => hub.apply(entities));
    const http = await startSyncHttp({
      host: this.opts.host ?? "0.0.0.0",
      port: this.opts.port ?? cfg?.port ?? 8765,
      ...(cfg?.tls ? { tls: cfg.tls } : {}),
      ...((this.opts.registrationSecret ?? cfg?.registrationSecret) ? { registrationSecret: this.opts.registrationSecret ?? cfg?.registrationSecret } : {}),
      defaultTokenDays: this.opts.tokenDays ?? cfg?.tokenDays ?? 365,
      serverId,
      serverName: haConfig.location_name || "Home Assistant",
      temperatureUnit,
      authority,
      clients,
      exposure,
      hub,
      ledger,
      callService: async (domain, service, entityId, data) => {
        await callService(ctx.ha.connection, domain, service, data, { entity_id: entityId });
      },
      log: ctx.log,
      authTimeoutMs: this.opts.authTimeoutMs ?? 10_000,
      idleTimeoutMs: this.opts.idleTimeoutMs ?? 90_000,
      snapshotChunkBytes: this.opts.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES,
    });
    this.http = http;
    this.prune = setInterval(() => ledger.prune(), 3600_000);
    this.prune.unref();
    const revoke = (clientId: string) => {
      const ok = clients.revoke(clientId);
      http.sessions.disconnectClient(clientId);
      if (ok) ctx.log.info(`sync: client ${clientId} revoked`);
      return ok;
    };
    this.parts = { serverId, clients, exposure, ledger, hub, authority, http, revoke };
    ctx.web.add("sync-server", serverPagePlugin({ clients, exposure, hub, sessions: http.sessions, revoke, now: ctx.now }), {
      path: "sync",
      label: { en: "Mirror", fr: "Miroir" },
    });
    ctx.log.info(`sync server ${serverId} listening on port ${http.port}${cfg?.tls ? " (TLS)" : ""}`);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.prune) clearInterval(this.prune);
    await this.http?.close();
  }

  health(): ModuleHealth {
    return { status: this.http ? "ok" : "failed", detail: this.detail };
  }
}
