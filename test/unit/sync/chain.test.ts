/**
 * Three instances in a ring (A → B → C → A), in process: real sync servers, real clients
 * (Follower: pairing over HTTP, WebSocket link, mirror), fake HA state maps. By default a mirrored
 * entity is never re-exposed, so nothing of A's reaches C; with re-export switched on, A's entity
 * reaches C with its origin and path, and never comes back into A.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Follower } from "../../../src/sync/client/follower.js";
import { deviceKeyFor, entityKeyFor } from "../../../src/sync/client/mirror.js";
import { waitFor, sleep } from "../../helpers/wait.js";
import { fakeSink, makeInstance, quietLog, serve, type Instance } from "./fixture.js";
import { startTcpProxy } from "./tcp-proxy.js";

const TIMING = { heartbeatMs: 500, heartbeatTimeoutMs: 1000, maxBackoffMs: 500, connectTimeoutMs: 2000, authTimeoutMs: 2000, snapshotTimeoutMs: 2000 };

describe("three instances in a chain", () => {
  const followers: Follower[] = [];
  const instances: Instance[] = [];

  afterEach(async () => {
    for (const f of followers.splice(0)) await f.stop();
    for (const i of instances.splice(0)) await i.server?.http.close();
  });

  async function follow(client: Instance, server: Instance, name: string): Promise<Follower> {
    const { code } = server.server!.clients.createPairingCode();
    const f = new Follower(
      { url: server.server!.url, name, pairingCode: code },
      { db: client.db, vault: client.vault, entities: fakeSink(client.ha), log: quietLog, now: Date.now, instanceId: client.id, clientName: `client of ${name}`, timing: TIMING },
    );
    followers.push(f);
    await f.start();
    return f;
  }

  const mirroredId = (from: Instance, entityId: string) => `${entityId.split(".")[0]}.energy_bridge_${deviceKeyFor(from.id)}_${entityKeyFor(entityId)}`;

  for (const reexport of [false, true]) {
    it(`produces no loop (re-export of mirrored entities ${reexport ? "on" : "off"})`, async () => {
      const [a, b, c] = [makeInstance(), makeInstance(), makeInstance()];
      instances.push(a, b, c);
      await serve(a);
      await serve(b, { reexportMirrored: reexport });
      await serve(c, { reexportMirrored: reexport });
      a.ha.set("sensor.a_temp", "20.5", { unit_of_measurement: "°C", friendly_name: "A temperature" });
      a.server!.exposure.set("all", "", ["sensor.a_temp"], true);

      const onB = mirroredId(a, "sensor.a_temp");
      const onC = mirroredId(b, onB);
      const onA = mirroredId(c, onC);
      b.server!.exposure.set("all", "", [onB], true);
      c.server!.exposure.set("all", "", [onC], true);

      const fb = await follow(b, a, "A");
      await follow(c, b, "B");
      const fa = await follow(a, c, "C");
      await waitFor("B mirrors A", async () => b.ha.entities[onB]?.state === "20.5", 5000);
      expect(b.ha.entities[onB]!.attributes.eb_sync_origin).toBe(a.id);
      expect(b.ha.entities[onB]!.attributes.eb_sync_path).toEqual([a.id]);
      await waitFor("A's link to C up", async () => fa.link?.status === "connected", 5000);

      if (reexport) {
        await waitFor("C mirrors A through B", async () => c.ha.entities[onC]?.state === "20.5", 5000);
        expect(c.ha.entities[onC]!.attributes.eb_sync_origin).toBe(a.id);
        expect(c.ha.entities[onC]!.attributes.eb_sync_path).toEqual([a.id, b.id]);
      }
      // Changes keep flowing one way only.
      for (let i = 0; i < 5; i++) {
        a.ha.set("sensor.a_temp", String(21 + i), { unit_of_measurement: "°C", friendly_name: "A temperature" });
        await sleep(50);
      }
      await waitFor("B follows", async () => b.ha.entities[onB]?.state === "25", 5000);
      if (reexport) await waitFor("C follows", async () => c.ha.entities[onC]?.state === "25", 5000);
      await sleep(500);
      if (!reexport) expect(c.ha.entities[onC]).toBeUndefined();
      // A never gets its own entity back, under any id.
      expect(a.ha.entities[onA]).toBeUndefined();
      expect(Object.keys(a.ha.entities)).toEqual(["sensor.a_temp"]);
      // C's server filtered it out (A is on its path), so A's client had nothing to refuse.
      expect(fa.view().entities).toEqual([]);
      expect(fb.refusedLoops).toBe(0);
      // Each instance's HA holds a bounded number of entities (no prefix chains growing).
      expect(Object.keys(b.ha.entities)).toEqual([onB]);
      expect(Object.keys(c.ha.entities)).toEqual(reexport ? [onC] : []);
    }, 20_000);
  }

  it("a client refuses states that come from itself even when a server sends them", async () => {
    const [a, b] = [makeInstance(), makeInstance()];
    instances.push(a, b);
    // B re-exports a state whose origin is A but whose path lost A (a careless or old server),
    // so the server-side path filter does not catch it: the client's own guard must.
    await serve(b, { reexportMirrored: true });
    b.ha.set("sensor.fake_mirror", "1", { eb_sync_origin: a.id, eb_sync_path: ["99999999-0000-4000-8000-000000000099"] });
    b.ha.set("sensor.b_own", "2", {});
    b.server!.exposure.set("all", "", ["sensor.fake_mirror", "sensor.b_own"], true);
    const { code } = b.server!.clients.createPairingCode();
    const sink = fakeSink(a.ha);
    const f = new Follower(
      { url: b.server!.url, name: "B", pairingCode: code },
      { db: a.db, vault: a.vault, entities: sink, log: quietLog, now: Date.now, instanceId: a.id, clientName: "A", timing: TIMING },
    );
    followers.push(f);
    await f.start();
    await waitFor("B's own entity mirrored", async () => a.ha.entities[mirroredId(b, "sensor.b_own")]?.state === "2", 5000);
    expect(a.ha.entities[mirroredId(b, "sensor.fake_mirror")]).toBeUndefined();
    expect(f.refusedLoops).toBeGreaterThanOrEqual(1);
  });

  it("a client renews its token before expiry with no gap, and the old token dies once the new one is used", async () => {
    const [a, b] = [makeInstance(), makeInstance()];
    instances.push(a, b);
    await serve(b);
    b.ha.set("sensor.b_own", "2", {});
    b.server!.exposure.set("all", "", ["sensor.b_own"], true);
    const first = await follow(a, b, "B");
    await waitFor("connected", async () => first.link?.status === "connected", 5000);
    const oldToken = first.registration()!.token;
    await first.stop();
    // Restart with a renewal window wider than the token's life: it rotates at start.
    const f = new Follower(
      { url: b.server!.url, name: "B" },
      { db: a.db, vault: a.vault, entities: fakeSink(a.ha), log: quietLog, now: Date.now, instanceId: a.id, clientName: "A", timing: TIMING, rotateWithinDays: 400 },
    );
    followers.push(f);
    await f.start();
    expect(f.registration()!.token).not.toBe(oldToken);
    await waitFor("connected with the new token", async () => f.link?.status === "connected", 5000);
    const status = await fetch(`${b.server!.url}/api/home_assistant_sync/auth`, { headers: { authorization: `Bearer ${oldToken}` } }).then((r) => r.status);
    expect(status).toBe(401);
  });

  it("a blip within the grace period never makes entities unavailable; a longer outage does", async () => {
    const [a, b] = [makeInstance(), makeInstance()];
    instances.push(a, b);
    await serve(b);
    b.ha.set("sensor.b_own", "2", {});
    b.server!.exposure.set("all", "", ["sensor.b_own"], true);
    const proxy = await startTcpProxy(b.server!.http.port);
    const { code } = b.server!.clients.createPairingCode();
    const sink = fakeSink(a.ha);
    const seen: boolean[] = [];
    const setAvailable = sink.setDeviceAvailable.bind(sink);
    sink.setDeviceAvailable = async (k, on) => {
      seen.push(on);
      await setAvailable(k, on);
    };
    const f = new Follower(
      { url: proxy.url, name: "B", pairingCode: code },
      { db: a.db, vault: a.vault, entities: sink, log: quietLog, now: Date.now, instanceId: a.id, clientName: "A", timing: TIMING, unavailableGraceMs: 2500 },
    );
    followers.push(f);
    try {
      await f.start();
      await waitFor("connected", async () => f.link?.status === "connected", 5000);
      const connects = f.link!.connects;
      proxy.cutAll();
      await waitFor("reconnected", async () => f.link!.connects > connects && f.link!.status === "connected", 5000);
      await sleep(2600);
      expect(seen).not.toContain(false);
      proxy.mode = "blackhole";
      proxy.cutAll();
      await waitFor("unavailable after the grace", async () => seen.at(-1) === false, 8000);
      proxy.mode = "pass";
      await waitFor("available again", async () => seen.at(-1) === true && f.link!.status === "connected", 8000);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it("one client follows several servers, one device each, and one server's outage does not touch the other", async () => {
    const [a, b, c] = [makeInstance(), makeInstance(), makeInstance()];
    instances.push(a, b, c);
    for (const [srv, id] of [[b, "sensor.b_temp"], [c, "sensor.c_temp"]] as const) {
      await serve(srv);
      srv.ha.set(id, "1", {});
      srv.server!.exposure.set("all", "", [id], true);
    }
    const sink = fakeSink(a.ha);
    const fs = await Promise.all(
      [b, c].map(async (srv, i) => {
        const { code } = srv.server!.clients.createPairingCode();
        const f = new Follower({ url: srv.server!.url, name: `S${i}`, pairingCode: code }, { db: a.db, vault: a.vault, entities: sink, log: quietLog, now: Date.now, instanceId: a.id, clientName: "A", timing: TIMING, unavailableGraceMs: 300 });
        followers.push(f);
        await f.start();
        return f;
      }),
    );
    await waitFor("both mirrored", async () => a.ha.entities[mirroredId(b, "sensor.b_temp")]?.state === "1" && a.ha.entities[mirroredId(c, "sensor.c_temp")]?.state === "1", 5000);
    expect([...sink.specs.keys()].sort()).toEqual([deviceKeyFor(b.id), deviceKeyFor(c.id)].sort());
    await b.server!.http.close();
    await waitFor("b's device unavailable", async () => sink.available.get(deviceKeyFor(b.id)) === false, 8000);
    expect(sink.available.get(deviceKeyFor(c.id))).toBe(true);
    c.ha.set("sensor.c_temp", "2", {});
    await waitFor("c still flowing", async () => a.ha.entities[mirroredId(c, "sensor.c_temp")]?.state === "2", 5000);
    expect(fs[1]!.link!.status).toBe("connected");
    b.server = undefined;
  });
});
