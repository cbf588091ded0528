/**
 * The Module contract (the pattern of zigbee2mqtt's `lib/extension/*` under one controller): each
 * feature (energy, and later ecolyo, tado, web, sync-server, sync-client) is one module, started in
 * order by the composition root (`src/main.ts`) and stopped in reverse. Modules never import each
 * other: they talk through the {@link EventBus} and the shared services of {@link ModuleContext}.
 */
import type { HaRest } from "../homeassistant/rest.js";
import type { HaLink } from "../homeassistant/connection.js";
import type { EntitySink } from "../homeassistant/entities/sink.js";
import type { Logger } from "../log.js";
import type { ProviderRuntimeOptions } from "../providers/index.js";
import type { Settings } from "../settings.js";
import type { Db } from "../store/db.js";
import type { TokenVault } from "../auth/token-vault.js";
import type { EventBus } from "./events.js";
import type { SchedulerService } from "./scheduler-service.js";
import type { WebRoutes } from "./web-routes.js";

/** A module's own view of its health (shown in logs now, later on the add-on's page). */
export interface ModuleHealth {
  /** `ok`, `degraded` (works with limits, e.g. a meter in auth_error), `failed` (start threw). */
  status: "ok" | "degraded" | "failed";
  /** One plain sentence for the user, or null. */
  detail: string | null;
}

/** The shared services the composition root hands every module. */
export interface ModuleContext {
  settings: Settings;
  /** The SQLite store (one file, shared; each module owns its tables). */
  db: Db;
  /** The authenticated, self-reconnecting Home Assistant WebSocket link. */
  ha: HaLink;
  /** Home Assistant's REST API (states, events). */
  rest: HaRest;
  /** Entities: MQTT discovery when a broker exists, REST states otherwise. */
  entities: EntitySink;
  events: EventBus;
  scheduler: SchedulerService;
  /** Encrypted account tokens (auth/token-vault.ts); accounts themselves are in store/accounts.ts. */
  vault: TokenVault;
  /** Route registry the web module mounts (modules/web-routes.ts); the web module starts last. */
  web: WebRoutes;
  log: Logger;
  /** Clock, UTC epoch ms (tests inject a fake). */
  now: () => number;
  /** Provider knobs for tests (retry timing, timeouts). */
  providerRuntime?: ProviderRuntimeOptions;
}

/** One feature of the add-on. `start` may throw: the root reports it by name and goes on. */
export interface Module {
  /** Short stable name used in logs and health, e.g. "energy". */
  readonly name: string;
  start(ctx: ModuleContext): Promise<void>;
  /** Stops timers and waits for running work, within the root's shutdown bound. */
  stop(): Promise<void>;
  health?(): ModuleHealth;
}
