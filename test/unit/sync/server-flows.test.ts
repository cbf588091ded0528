/**
 * Sync server flows in process (real listener, store, tokens; fake HA state map): pairing codes
 * are single-use, 5 failed registrations lock an address out, the seed's registration secret
 * works and is not the signing key, per-client and per-group exposure filter snapshots and calls,
 * snapshots are chunked under the size bound, a correlation id runs once, rotation has no gap,
 * and sensors are read-only.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { API_PREFIX, type EntityState, type ServerMessage } from "../../../src/sync/protocol.js";
import { LOCKOUT_FAILURES } from "../../../src/sync/server/clients.js";
import { directClient, makeInstance, serve, type Instance } from "./fixture.js";

type Srv = NonNullable<Instance["server"]>;

async function post(url: string, path: string, body: unknown, token?: string) {
  const r = await fetch(`${url}${API_PREFIX}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Connects, authenticates, collects the snapshot; returns the socket and all frames so far. */
async function session(url: string, token: string, instance = "abababab-0000-4000-8000-00000000000a") {
  const ws = new WebSocket(`${url.replace("http", "ws")}${API_PREFIX}/ws`);
  const frames: ServerMessage[] = [];
  const raw: string[] = [];
  ws.on("message", (d) => {
    raw.push(d.toString());
    frames.push(JSON.parse(d.toString()) as ServerMessage);
  });
  await new Promise<void>((res, rej) => {
    ws.on("open", () => res());
    ws.on("error", rej);
  });
  ws.send(JSON.stringify({ type: "auth", token, instance_id: instance, protocol: 1 }));
  const deadline = Date.now() + 5000;
  while (!frames.some((f) => f.type === "snapshot" && f.last) && !frames.some((f) => f.type === "auth_invalid") && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const snapshot = (): EntityState[] => frames.flatMap((f) => (f.type === "snapshot" ? f.entities : []));
  return { ws, frames, raw, snapshot };
}

describe("sync server flows", () => {
  let inst: Instance;
  let srv: Srv;

  beforeEach(async () => {
    inst = makeInstance();
    srv = await serve(inst, { registrationSecret: "seed-compat-secret" });
    inst.ha.set("light.kitchen", "off", { friendly_name: "Kitchen", supported_color_modes: ["brightness"] });
    inst.ha.set("switch.heater", "on", {});
    inst.ha.set("sensor.power", "412", { unit_of_measurement: "W" });
    inst.ha.set("lock.front_door", "locked", {});
  });
  afterEach(async () => {
    await srv.http.close();
  });

  it("pairing codes register once; 5 failures lock the address out, even with a good code", async () => {
    const { code } = srv.clients.createPairingCode();
    const ok = await post(srv.url, "register_client", { name: "Wall", instance_id: "11111111-0000-4000-8000-000000000001", pairing_code: code.toLowerCase() });
    expect(ok.status).toBe(200);
    expect(typeof ok.body.token).toBe("string");
    expect(ok.body.server_id).toBe(inst.id);
    const again = await post(srv.url, "register_client", { name: "Wall 2", instance_id: "11111111-0000-4000-8000-000000000002", pairing_code: code });
    expect(again.status).toBe(401);
    for (let i = 1; i < LOCKOUT_FAILURES; i++) {
      expect((await post(srv.url, "register_client", { name: "x", instance_id: "11111111-0000-4000-8000-000000000003", pairing_code: `WRONG${i}XX` })).status).toBe(401);
    }
    const fresh = srv.clients.createPairingCode().code;
    const locked = await post(srv.url, "register_client", { name: "x", instance_id: "11111111-0000-4000-8000-000000000003", pairing_code: fresh });
    expect(locked.status).toBe(429);
    expect(srv.clients.list()).toHaveLength(1);
  });

  it("accepts the seed-compatible registration secret, which is not the signing key", async () => {
    const r = await post(srv.url, "register_client", { name: "Old", instance_id: "22222222-0000-4000-8000-000000000001", registration_secret: "seed-compat-secret" });
    expect(r.status).toBe(200);
    const signing = inst.vault.get("sync_server_signing_key")!.accessToken;
    expect(signing).not.toContain("seed-compat-secret");
    expect((await post(srv.url, "register_client", { name: "Bad", instance_id: "22222222-0000-4000-8000-000000000002", registration_secret: "guess" })).status).toBe(401);
  });

  it("filters snapshots, diffs and calls per client and per group; nothing is shared until chosen", async () => {
    const a = await directClient(srv, "a", "33333333-0000-4000-8000-000000000001");
    const b = await directClient(srv, "b", "33333333-0000-4000-8000-000000000002", "upstairs");
    const none = await session(srv.url, a.token);
    expect(none.snapshot()).toEqual([]);
    none.ws.terminate();
    srv.exposure.set("all", "", ["sensor.power"], true);
    srv.exposure.set("client", a.client.id, ["light.kitchen"], true);
    srv.exposure.set("group", "upstairs", ["switch.heater"], true);
    const sa = await session(srv.url, a.token, a.client.instanceId);
    const sb = await session(srv.url, b.token, b.client.instanceId);
    expect(sa.snapshot().map((s) => s.entity_id).sort()).toEqual(["light.kitchen", "sensor.power"]);
    expect(sb.snapshot().map((s) => s.entity_id).sort()).toEqual(["sensor.power", "switch.heater"]);
    // Diffs: a change to the light reaches a only.
    inst.ha.set("light.kitchen", "on", { friendly_name: "Kitchen", brightness: 10, supported_color_modes: ["brightness"] });
    inst.ha.set("lock.front_door", "unlocked", {});
    await new Promise((r) => setTimeout(r, 200));
    const diffs = (s: typeof sa) => s.frames.flatMap((f) => (f.type === "diff" ? f.changed.map((c) => c.entity_id) : []));
    expect(diffs(sa)).toEqual(["light.kitchen"]);
    expect(diffs(sb)).toEqual([]);
    // Calls: b cannot call the light; a can, once per correlation id.
    const nb = await post(srv.url, "call_service", { correlation_id: "b-light-0001", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: {} }, b.token);
    expect(nb.status).toBe(404);
    sa.ws.send(JSON.stringify({ type: "call_service", id: "a-light-0001", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: { brightness: 99 } }));
    sa.ws.send(JSON.stringify({ type: "call_service", id: "a-light-0001", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: { brightness: 99 } }));
    const http = await post(srv.url, "call_service", { correlation_id: "a-light-0001", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: { brightness: 99 } }, a.token);
    expect(http.body).toEqual({ success: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(srv.calls).toEqual([{ domain: "light", service: "turn_on", entityId: "light.kitchen", data: { brightness: 99 } }]);
    expect(sa.frames.filter((f) => f.type === "call_result")).toHaveLength(2);
    // Sensors are read-only; unknown data keys and foreign services are refused.
    const ro = await post(srv.url, "call_service", { correlation_id: "a-sensor-001", domain: "sensor", service: "set_value", entity_id: "sensor.power", data: {} }, a.token);
    expect(ro.status).toBe(403);
    const bad = await post(srv.url, "call_service", { correlation_id: "a-light-0002", domain: "light", service: "turn_on", entity_id: "light.kitchen", data: { script: "x" } }, a.token);
    expect(bad.status).toBe(403);
    const cross = await post(srv.url, "call_service", { correlation_id: "a-light-0003", domain: "homeassistant", service: "stop", entity_id: "light.kitchen", data: {} }, a.token);
    expect(cross.status).toBe(403);
    expect(srv.calls).toHaveLength(1);
    sa.ws.terminate();
    sb.ws.terminate();
  });

  it("chunks the snapshot under the size bound", async () => {
    await srv.http.close();
    inst = makeInstance();
    srv = await serve(inst, { snapshotChunkBytes: 4096 });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const id = `sensor.s${i}`;
      ids.push(id);
      inst.ha.set(id, String(i), { friendly_name: `Sensor ${i}`, unit_of_measurement: "W", note: "x".repeat(50) });
    }
    srv.exposure.set("all", "", ids, true);
    const c = await directClient(srv);
    const s = await session(srv.url, c.token);
    const chunks = s.raw.filter((r) => r.startsWith('{"type":"snapshot"'));
    expect(chunks.length).toBeGreaterThan(5);
    for (const ch of chunks) expect(Buffer.byteLength(ch)).toBeLessThanOrEqual(4096);
    expect(s.snapshot().map((e) => e.entity_id).sort()).toEqual([...ids].sort());
    s.ws.terminate();
  });

  it("rotates a token without a gap: the old one works until the new one is used", async () => {
    const c = await directClient(srv);
    const rotated = await post(srv.url, "rotate_token", {}, c.token);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.token as string;
    const auth = (t: string) => fetch(`${srv.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${t}` } }).then((r) => r.status);
    expect(await auth(c.token)).toBe(200);
    expect(await auth(fresh)).toBe(200);
    expect(await auth(c.token)).toBe(401);
  });

  it("revocation closes the client's sockets within 1 s", async () => {
    srv.exposure.set("all", "", ["sensor.power"], true);
    const c = await directClient(srv);
    const s = await session(srv.url, c.token);
    const closed = new Promise<number>((res) => s.ws.on("close", () => res(Date.now())));
    const t0 = Date.now();
    srv.clients.revoke(c.client.id);
    srv.http.sessions.disconnectClient(c.client.id);
    expect((await closed) - t0).toBeLessThan(1000);
    expect(s.frames.at(-1)).toMatchObject({ type: "auth_invalid", reason: "revoked" });
  });

  it("a revocation made elsewhere (store only) is enforced by the 1 s sweep", async () => {
    const c = await directClient(srv);
    const s = await session(srv.url, c.token);
    const closed = new Promise<number>((res) => s.ws.on("close", () => res(Date.now())));
    const t0 = Date.now();
    srv.clients.revoke(c.client.id);
    expect((await closed) - t0).toBeLessThan(1500);
  });
});
