/**
 * The Mirror pages (server and client) through fastify's inject: English and French, relative
 * URLs only (served under an ingress prefix), dark-mode aware; the server page's API shares an
 * entity, makes a one-time pairing code that registers a client, shows what each client sees,
 * and revokes it.
 */
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverPagePlugin } from "../../../src/sync/server/page.js";
import { clientPagePlugin } from "../../../src/sync/client/page.js";
import { API_PREFIX } from "../../../src/sync/protocol.js";
import { makeInstance, serve, type Instance } from "./fixture.js";

describe("Mirror pages", () => {
  let inst: Instance;
  let srv: NonNullable<Instance["server"]>;
  const app = Fastify();

  beforeAll(async () => {
    inst = makeInstance();
    srv = await serve(inst);
    inst.ha.set("light.kitchen", "on", { friendly_name: "Kitchen" });
    inst.ha.set("sensor.power", "3", { friendly_name: "Power" });
    await app.register(
      serverPagePlugin({
        clients: srv.clients,
        exposure: srv.exposure,
        hub: srv.hub,
        sessions: srv.http.sessions,
        revoke: (id) => {
          const ok = srv.clients.revoke(id);
          srv.http.sessions.disconnectClient(id);
          return ok;
        },
        now: Date.now,
      }),
    );
    await app.register(clientPagePlugin({ followers: () => [], mode: "rest" }));
  });
  afterAll(async () => {
    await app.close();
    await srv.http.close();
  });

  it("serves both pages in English and French with relative URLs only", async () => {
    for (const [path, en, fr] of [["/sync", "Mirror — server", "Miroir — serveur"], ["/sync-client", "Mirror — client", "Miroir — client"]] as const) {
      const e = await app.inject({ url: path, headers: { "accept-language": "en-GB" } });
      const f = await app.inject({ url: path, headers: { "accept-language": "fr-FR,fr;q=0.9" } });
      expect(e.body).toContain(en);
      expect(f.body).toContain(fr);
      expect(f.body).toContain('lang="fr"');
      expect(e.body).toContain("prefers-color-scheme:dark");
      // No absolute paths in fetches, links or forms.
      expect(e.body).not.toMatch(/(?:api|fetch)\(\s*["']\//);
      expect(e.body).not.toMatch(/(?:href|src|action)=["']\//);
    }
    expect((await app.inject({ url: "/sync-client", headers: { "accept-language": "en" } })).body).toContain("No MQTT broker");
  });

  it("shares an entity, pairs a client with a one-time code, shows what it sees, revokes it", async () => {
    const share = await app.inject({ method: "POST", url: "/sync/api/expose", payload: { scope: "all", target: "", entity_ids: ["light.kitchen"], on: true } });
    expect(share.statusCode).toBe(200);
    const bad = await app.inject({ method: "POST", url: "/sync/api/expose", payload: { scope: "everyone", entity_ids: ["x"], on: true } });
    expect(bad.statusCode).toBe(400);
    const { code } = JSON.parse((await app.inject({ method: "POST", url: "/sync/api/pairing", payload: {} })).body) as { code: string };
    const reg = await fetch(`${srv.url}${API_PREFIX}/register_client`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Wall display", instance_id: "77777777-0000-4000-8000-000000000007", pairing_code: code }),
    });
    expect(reg.status).toBe(200);
    const view = JSON.parse((await app.inject({ url: "/sync/api/server" })).body) as {
      clients: { id: string; name: string; sees: string[]; revokedAt: number | null }[];
      entities: { entity_id: string; global: boolean }[];
    };
    expect(view.entities).toEqual([
      { entity_id: "light.kitchen", name: "Kitchen", state: "on", global: true },
      { entity_id: "sensor.power", name: "Power", state: "3", global: false },
    ]);
    expect(view.clients).toHaveLength(1);
    expect(view.clients[0]).toMatchObject({ name: "Wall display", sees: ["light.kitchen"], revokedAt: null });
    const rev = await app.inject({ method: "POST", url: "/sync/api/revoke", payload: { client_id: view.clients[0]!.id } });
    expect(rev.statusCode).toBe(200);
    const after = JSON.parse((await app.inject({ url: "/sync/api/server" })).body) as { clients: { revokedAt: number | null }[] };
    expect(after.clients[0]!.revokedAt).not.toBeNull();
    expect((await app.inject({ method: "POST", url: "/sync/api/revoke", payload: { client_id: "nope" } })).statusCode).toBe(404);
  });
});
