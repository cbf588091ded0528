/**
 * In-process sync servers and instances for the unit tests (no Home Assistant): the real store,
 * vault, token authority, exposure, ledger and listener on a loopback port; a fake "HA" per
 * instance is a plain entity map fed to the real StateHub, and a fake device sink writes mirrored
 * entities back into that map the way HA's MQTT integration would (state + attributes), so chains
 * of instances can be built. Used for edge cases; the real-HA proof is test/integration/sync-*.
 */
import { randomBytes } from "node:crypto";
import type { HassEntities, HassEntity } from "home-assistant-js-websocket";
import { TokenVault } from "../../../src/auth/token-vault.js";
import type { DeviceSink, DeviceStateMessage, EntitySpec } from "../../../src/homeassistant/entities/device-sink.js";
import { createLogger } from "../../../src/log.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { Exposure } from "../../../src/sync/server/acl.js";
import { CallLedger } from "../../../src/sync/server/calls.js";
import { ClientRegistry } from "../../../src/sync/server/clients.js";
import { startSyncHttp, type SyncHttp } from "../../../src/sync/server/http.js";
import { StateHub } from "../../../src/sync/server/states.js";
import { TokenAuthority } from "../../../src/sync/server/tokens.js";
import { instanceId, migrateSync } from "../../../src/sync/store.js";

export const quietLog = createLogger("silent");

/** A fake HA: entities by id; `set` makes a new object (as subscribe_entities does). */
export class FakeHa {
  entities: HassEntities = {};
  private listeners = new Set<(e: HassEntities) => void>();
  subscribe(cb: (e: HassEntities) => void): void {
    this.listeners.add(cb);
    cb(this.entities);
  }
  set(entityId: string, state: string, attributes: Record<string, unknown> = {}): void {
    const now = new Date().toISOString();
    const e: HassEntity = { entity_id: entityId, state, attributes, last_changed: now, last_updated: now, context: { id: "x", parent_id: null, user_id: null } };
    this.entities = { ...this.entities, [entityId]: e };
    for (const l of this.listeners) l(this.entities);
  }
}

/** A device sink writing into a FakeHa like HA's MQTT integration would. */
export function fakeSink(ha: FakeHa): DeviceSink & { available: Map<string, boolean>; specs: Map<string, EntitySpec[]>; commands: Map<string, (e: string, c: string, p: string) => void> } {
  const specs = new Map<string, EntitySpec[]>();
  const available = new Map<string, boolean>();
  const commands = new Map<string, (e: string, c: string, p: string) => void>();
  const attrs = new Map<string, Record<string, unknown>>();
  return {
    specs,
    available,
    commands,
    async declareDevice(device, entities) {
      specs.set(device.key, entities);
    },
    async publishDeviceStates(deviceKey: string, messages: readonly DeviceStateMessage[]) {
      for (const m of messages) {
        const spec = specs.get(deviceKey)?.find((e) => e.key === m.entity);
        if (!spec) throw new Error(`undeclared entity ${m.entity}`);
        const id = `${spec.component}.energy_bridge_${deviceKey}_${m.entity}`;
        if (m.topic === "attributes") {
          attrs.set(id, JSON.parse(m.payload) as Record<string, unknown>);
          const cur = ha.entities[id];
          if (cur) ha.set(id, cur.state, attrs.get(id));
        } else if ((m.topic ?? "state") === "state") {
          ha.set(id, m.payload === "None" ? "unknown" : m.payload, attrs.get(id) ?? {});
        }
      }
    },
    async setDeviceAvailable(deviceKey, on) {
      available.set(deviceKey, on);
    },
    onCommand(deviceKey, handler) {
      commands.set(deviceKey, handler);
      return () => commands.delete(deviceKey);
    },
    async removeDevice() {
      /* never on disconnect */
    },
  };
}

/** One in-process instance: store, vault, and (after `serve`) a sync server over its FakeHa. */
export interface Instance {
  db: Db;
  vault: TokenVault;
  id: string;
  ha: FakeHa;
  server?: {
    http: SyncHttp;
    url: string;
    authority: TokenAuthority;
    clients: ClientRegistry;
    exposure: Exposure;
    ledger: CallLedger;
    hub: StateHub;
    calls: { domain: string; service: string; entityId: string; data: Record<string, unknown> }[];
  };
}

/** A fresh instance (in-memory store, random vault key). */
export function makeInstance(): Instance {
  const db = openStore(":memory:");
  migrateSync(db);
  const vault = new TokenVault(db, randomBytes(32));
  return { db, vault, id: instanceId(db), ha: new FakeHa() };
}

/** Starts the instance's sync server on a free loopback port. */
export async function serve(
  inst: Instance,
  opts: { reexportMirrored?: boolean; registrationSecret?: string; snapshotChunkBytes?: number; failCalls?: boolean; authTimeoutMs?: number; tls?: { certPath: string; keyPath: string } } = {},
): Promise<NonNullable<Instance["server"]>> {
  const authority = await TokenAuthority.load(inst.db, inst.vault, inst.id);
  const clients = new ClientRegistry(inst.db);
  const exposure = new Exposure(inst.db, opts.reexportMirrored ?? false);
  const ledger = new CallLedger(inst.db);
  const hub = new StateHub(inst.id);
  inst.ha.subscribe((e) => hub.apply(e));
  const calls: NonNullable<Instance["server"]>["calls"] = [];
  const http = await startSyncHttp({
    host: "127.0.0.1",
    port: 0,
    ...(opts.registrationSecret ? { registrationSecret: opts.registrationSecret } : {}),
    ...(opts.tls ? { tls: opts.tls } : {}),
    defaultTokenDays: 365,
    serverId: inst.id,
    serverName: `Instance ${inst.id.slice(0, 4)}`,
    temperatureUnit: "C",
    authority,
    clients,
    exposure,
    hub,
    ledger,
    callService: async (domain, service, entityId, data) => {
      calls.push({ domain, service, entityId, data });
      if (opts.failCalls) throw Object.assign(new Error("Service failed"), { code: "home_assistant_error" });
    },
    log: quietLog,
    authTimeoutMs: opts.authTimeoutMs ?? 5000,
    idleTimeoutMs: 60_000,
    snapshotChunkBytes: opts.snapshotChunkBytes ?? 128 * 1024,
  });
  inst.server = { http, url: `${opts.tls ? "https" : "http"}://127.0.0.1:${http.port}`, authority, clients, exposure, ledger, hub, calls };
  return inst.server;
}

/** Registers a client directly (no HTTP) and returns its id and token. */
export async function directClient(server: NonNullable<Instance["server"]>, name = "client", instance = "aaaaaaaa-0000-4000-8000-000000000001", group: string | null = null) {
  const c = server.clients.add(name, instance, group, 365);
  const t = await server.authority.issue(c.id, 365);
  return { client: c, token: t.token, jti: t.jti };
}
