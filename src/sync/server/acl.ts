/**
 * What each client may see and control (server side). Nothing is shared until chosen: an entity
 * is visible to a client when it is exposed globally (`all`), to that client (`client`), or to
 * the client's group (`group`). Filtering happens here, on the server, for snapshots, diffs,
 * `GET entities` and every service call. Mirrored entities (states that came from another
 * server through our own client, marked by their `eb_sync_origin` attribute) are never
 * re-exposed unless `reexportMirrored` is on.
 */
import type { Db } from "../../store/db.js";
import type { EntityState } from "../protocol.js";
import type { SyncClient } from "./clients.js";

/** Scope of one exposure row. */
export type ExposureScope = "all" | "client" | "group";

/** One row of `sync_exposure`. */
export interface ExposureRow {
  scope: ExposureScope;
  target: string;
  entityId: string;
}

/**
 * Services a client may call per entity domain, and the `data` keys each accepts. Sensors and
 * binary sensors are read-only (absent).
 */
export const ALLOWED_SERVICES: Record<string, Record<string, readonly string[]>> = {
  switch: { turn_on: [], turn_off: [], toggle: [] },
  light: {
    turn_on: ["brightness", "brightness_pct", "rgb_color", "color_temp_kelvin", "hs_color", "xy_color", "transition"],
    turn_off: ["transition"],
    toggle: [],
  },
  climate: { set_temperature: ["temperature", "target_temp_low", "target_temp_high", "hvac_mode"], set_hvac_mode: ["hvac_mode"], turn_on: [], turn_off: [] },
  cover: { open_cover: [], close_cover: [], stop_cover: [], set_cover_position: ["position"], toggle: [] },
};

/**
 * Checks a forwarded call against {@link ALLOWED_SERVICES}: the service's domain must be the
 * entity's, the service listed, every data key allowed. Returns null when fine, else a reason.
 */
export function serviceRefusal(domain: string, service: string, entityId: string, data: Record<string, unknown>): string | null {
  if (entityId.split(".")[0] !== domain) return `service ${domain}.${service} does not apply to ${entityId}`;
  const keys = ALLOWED_SERVICES[domain]?.[service];
  if (!keys) return `service ${domain}.${service} cannot be called through the mirror`;
  const extra = Object.keys(data).filter((k) => !keys.includes(k));
  return extra.length ? `data key(s) ${extra.join(", ")} not accepted by ${domain}.${service}` : null;
}

/** The exposure table with a cache of each client's allowed set. */
export class Exposure {
  private version = 0;
  private readonly cache = new Map<string, { version: number; set: Set<string> }>();

  constructor(
    private readonly db: Db,
    readonly reexportMirrored = false,
  ) {}

  /** Exposes (`on`) or hides entity ids in one scope. `target` is '' for `all`. */
  set(scope: ExposureScope, target: string, entityIds: readonly string[], on: boolean): void {
    const t = scope === "all" ? "" : target;
    const stmt = on
      ? this.db.prepare("INSERT OR IGNORE INTO sync_exposure (scope, target, entity_id) VALUES (?, ?, ?)")
      : this.db.prepare("DELETE FROM sync_exposure WHERE scope = ? AND target = ? AND entity_id = ?");
    this.db.transaction(() => {
      for (const id of entityIds) stmt.run(scope, t, id);
    })();
    this.version++;
  }

  /** Every exposure row. */
  list(): ExposureRow[] {
    return this.db.prepare("SELECT scope, target, entity_id AS entityId FROM sync_exposure ORDER BY entity_id").all() as ExposureRow[];
  }

  /** Entity ids visible to `client` (cached until the next {@link set}). */
  allowedFor(client: Pick<SyncClient, "id" | "group">): Set<string> {
    const key = `${client.id}\u0000${client.group ?? ""}`;
    const hit = this.cache.get(key);
    if (hit && hit.version === this.version) return hit.set;
    const rows = this.db
      .prepare(
        `SELECT entity_id AS id FROM sync_exposure WHERE scope = 'all'
           OR (scope = 'client' AND target = ?) OR (scope = 'group' AND target = ?)`,
      )
      .all(client.id, client.group ?? "\u0000none") as { id: string }[];
    const set = new Set(rows.map((r) => r.id));
    this.cache.set(key, { version: this.version, set });
    return set;
  }

  /**
   * Whether `state` may go to a client with this allowed set and instance id: exposed, not a
   * mirrored entity (unless re-export is on), and never back to an instance already on its path.
   */
  visible(state: EntityState, allowed: Set<string>, clientInstance: string): boolean {
    if (!allowed.has(state.entity_id)) return false;
    if (state.path.length > 1 && !this.reexportMirrored) return false;
    return !state.path.includes(clientInstance);
  }
}
