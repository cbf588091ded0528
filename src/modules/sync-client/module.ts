/**
 * The "sync-client" module: mirrors entities of one or more sync servers into this Home Assistant
 * (src/sync/client), one device per server, through ctx.entities' generic device API. Enabled by
 * a non-empty `sync_client_servers`. Without an MQTT broker only sensors and binary sensors can be
 * shown (REST states) and nothing can be controlled; the page says so.
 */
import { getConfig } from "home-assistant-js-websocket";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { Follower, type FollowedServer } from "../../sync/client/follower.js";
import type { LinkTiming } from "../../sync/client/link.js";
import { clientPagePlugin } from "../../sync/client/page.js";
import { instanceId, migrateSync } from "../../sync/store.js";

/** Test and bench knobs. */
export interface SyncClientOptions {
  /** Servers to follow; overrides the settings. */
  servers?: FollowedServer[];
  timing?: Partial<LinkTiming>;
  /** Grace before mirrored entities turn unavailable after a drop (ms, default 10 s). */
  unavailableGraceMs?: number;
  /** Name this instance registers under (default: HA's location name). */
  clientName?: string;
}

/** See the file comment. */
export class SyncClientModule implements Module {
  readonly name = "sync-client";
  followers: Follower[] = [];

  constructor(private readonly opts: SyncClientOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    migrateSync(ctx.db);
    const self = instanceId(ctx.db);
    const servers = this.opts.servers ?? ctx.settings.sync?.clientServers ?? [];
    const clientName = this.opts.clientName ?? ((await getConfig(ctx.ha.connection).catch(() => null))?.location_name || "Home Assistant");
    this.followers = servers.map(
      (server) =>
        new Follower(server, {
          db: ctx.db,
          vault: ctx.vault,
          entities: ctx.entities,
          log: ctx.log,
          now: ctx.now,
          instanceId: self,
          clientName,
          ...(this.opts.timing ? { timing: this.opts.timing } : {}),
          ...(this.opts.unavailableGraceMs !== undefined ? { unavailableGraceMs: this.opts.unavailableGraceMs } : {}),
        }),
    );
    ctx.web.add("sync-client", clientPagePlugin({ followers: () => this.followers, mode: ctx.entities.mode }), {
      path: "sync-client",
      label: { en: "Mirror (client)", fr: "Miroir (client)" },
    });
    if (ctx.entities.mode === "rest") {
      ctx.log.warn("sync: no MQTT broker: mirrored sensors become REST states; switches, lights, climate and covers cannot be mirrored or controlled");
    }
    // Registration may wait on the network: never block the other modules' start.
    for (const f of this.followers) void f.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.stop()));
  }

  health(): ModuleHealth {
    const bad = this.followers.filter((f) => f.view().status !== "connected");
    return bad.length === 0
      ? { status: "ok", detail: null }
      : { status: "degraded", detail: `${bad.length} of ${this.followers.length} mirror server(s) not connected` };
  }
}
