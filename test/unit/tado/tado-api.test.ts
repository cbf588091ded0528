/** The Tado REST client against the simulator in-process: shapes, errors, headers reported. */
import { describe, expect, it } from "vitest";
import { createTadoApi, TadoApiError } from "../../../src/providers/tado-api.js";
import { SIM_HOME_ID, TadoSimulator } from "../../helpers/simulator/tado.js";

const thrown = async (p: Promise<unknown>): Promise<TadoApiError> => {
  try {
    await p;
  } catch (err) {
    return err as TadoApiError;
  }
  throw new Error("expected a failure");
};

describe("Tado REST client", () => {
  it("reads /me, the home, its zones and every zone state in one call; reports the headers", async () => {
    const sim = new TadoSimulator();
    const seen: number[] = [];
    const api = createTadoApi({ baseUrl: "http://tado.test/api/v2", fetch: sim.fetch, onResponse: (_s, rl) => seen.push(rl.remaining!) });
    expect((await api.me("t")).data.homes).toEqual([{ id: SIM_HOME_ID, name: "Test Home" }]);
    expect((await api.home("t", SIM_HOME_ID)).data).toEqual({ id: SIM_HOME_ID, name: "Test Home", generation: "PRE_LINE_X" });
    expect((await api.zones("t", SIM_HOME_ID)).data.map((z) => z.id)).toEqual([1, 2, 5]);
    const states = await api.zoneStates("t", SIM_HOME_ID);
    expect(states.data.map((z) => z.zoneId)).toEqual([1, 2, 5]);
    expect(states.data[2]).toEqual({ zoneId: 5, online: true, temperature: null, humidity: null, heatingPower: null });
    expect(states.rateLimit).toMatchObject({ quota: 100, remaining: 96 });
    expect(seen).toEqual([99, 98, 97, 96]);
    expect(sim.requests.length).toBe(4);
  });

  it("a homeId-only /me (PyTado fallback)", async () => {
    const api = createTadoApi({ fetch: async () => new Response(JSON.stringify({ homeId: 77 }), { status: 200 }) });
    expect((await api.me("t")).data.homes).toEqual([{ id: 77, name: "Home 77" }]);
  });

  it("maps failures to codes with plain messages, never the token", async () => {
    const sim = new TadoSimulator({ quota: 2 });
    const api = createTadoApi({ baseUrl: "http://tado.test/api/v2", fetch: sim.fetch });
    const e404 = await thrown(api.home("secret-token", 999));
    expect(e404.code).toBe("not_found");
    sim.faults.add("malformed_json");
    const bad = await thrown(api.zoneStates("secret-token", SIM_HOME_ID));
    expect(bad.code).toBe("bad_response");
    expect(bad.message).toMatch(/not valid JSON/);
    const limited = await thrown(api.me("secret-token"));
    expect(limited.code).toBe("rate_limited");
    expect(limited.details.rateLimit?.remaining).toBe(0);
    expect(limited.details.rateLimit?.resetS).toBe(Math.ceil((sim.nextReset() - Date.now()) / 1000));
    expect(limited.details.retryAfterS).toBeGreaterThan(0);
    for (const e of [e404, bad, limited]) expect(e.message).not.toContain("secret-token");
    const offline = await thrown(createTadoApi({ baseUrl: "http://127.0.0.1:1/api/v2", timeoutMs: 2_000 }).me("t"));
    expect(offline.code).toBe("network");
  });

  it("401 → unauthorized; an OFFLINE zone link is reported", async () => {
    const sim = new TadoSimulator();
    const api = createTadoApi({ baseUrl: "http://tado.test/api/v2", fetch: sim.fetch });
    sim.faults.add("offline");
    const s = await api.zoneStates("t", SIM_HOME_ID);
    expect(s.data[0]).toMatchObject({ online: false, offlineReason: "Disconnected" });
    sim.faults.add("expired_token");
    expect((await thrown(api.me("t"))).code).toBe("unauthorized");
  });
});
