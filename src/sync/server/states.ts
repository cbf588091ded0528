/**
 * The server's view of its Home Assistant states: fed by `subscribe_entities` (home-assistant-js-
 * websocket `subscribeEntities` over ctx.ha), turned into protocol {@link EntityState}s with their
 * origin and path, diffed per entity, and fanned out to listeners (the WS sessions).
 *
 * `subscribeEntities` hands the whole collection on every event; an entity whose state did not
 * change keeps the same object, so a diff is "every entity whose object changed" plus removals.
 * A state mirrored into this HA by our own client carries `eb_sync_origin` / `eb_sync_path` in its
 * attributes (published by client/mirror.ts): its origin is kept and this server is appended to
 * its path; the markers are removed from the attributes sent on.
 */
import type { HassEntities, HassEntity } from "home-assistant-js-websocket";
import type { EntityState } from "../protocol.js";

/** Attribute names the client mirror writes onto mirrored entities. */
export const ORIGIN_ATTRIBUTE = "eb_sync_origin";
export const PATH_ATTRIBUTE = "eb_sync_path";

/** One change batch. `json` holds each changed state serialised once (shared by every session). */
export interface StateChange {
  changed: EntityState[];
  json: string[];
  removed: string[];
}

/** HA's state object → protocol state, given this server's instance id. */
export function toEntityState(e: HassEntity, self: string, area: string | null = null): EntityState {
  const attrs: Record<string, unknown> = { ...e.attributes };
  const origin = attrs[ORIGIN_ATTRIBUTE];
  const path = attrs[PATH_ATTRIBUTE];
  delete attrs[ORIGIN_ATTRIBUTE];
  delete attrs[PATH_ATTRIBUTE];
  const mirrored = typeof origin === "string" && Array.isArray(path) && path.every((p) => typeof p === "string") && path.length > 0;
  return {
    entity_id: e.entity_id,
    state: String(e.state).slice(0, 255),
    attributes: attrs,
    last_changed: e.last_changed,
    last_updated: e.last_updated,
    origin: mirrored ? origin : self,
    path: mirrored ? [...(path as string[]), self].slice(-16) : [self],
    ...(area ? { area } : {}),
  };
}

/** See the file comment. */
export class StateHub {
  private last: HassEntities = {};
  readonly states = new Map<string, EntityState>();
  readonly json = new Map<string, string>();
  private readonly listeners = new Set<(c: StateChange) => void>();
  private areas = new Map<string, string>();

  constructor(private readonly self: string) {}

  /** Entity id → area name (from the server's registries), applied to later states. */
  setAreas(areas: Map<string, string>): void {
    this.areas = areas;
  }

  /** Adds a listener of change batches; returns its remover. */
  onChange(listener: (c: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a full collection from `subscribeEntities`; emits one batch when something changed. */
  apply(entities: HassEntities): void {
    const changed: EntityState[] = [];
    const json: string[] = [];
    const removed: string[] = [];
    for (const id in entities) {
      const e = entities[id]!;
      if (this.last[id] === e) continue;
      const s = toEntityState(e, this.self, this.areas.get(id) ?? null);
      const text = JSON.stringify(s);
      this.states.set(id, s);
      this.json.set(id, text);
      changed.push(s);
      json.push(text);
    }
    for (const id in this.last) {
      if (!(id in entities)) {
        this.states.delete(id);
        this.json.delete(id);
        removed.push(id);
      }
    }
    this.last = entities;
    if (changed.length === 0 && removed.length === 0) return;
    const batch = { changed, json, removed };
    for (const l of this.listeners) l(batch);
  }
}
