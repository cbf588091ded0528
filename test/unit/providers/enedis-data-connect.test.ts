import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { EnedisDataConnectProvider } from "../../../src/providers/enedis-data-connect.js";
import type { FetchRange } from "../../../src/domain/types.js";
import { CountingGate, fastRetry, fixture, meter, PRM, providerError } from "./fixtures/helpers.js";

const BASE = "http://enedis.test";
const TOKEN = `${BASE}/oauth2/v3/token`;
const V2 = `${BASE}/mesure_synchrone_auto/v2`;
const DAILY = `${V2}/consommation_quotidienne`;
const CURVE = `${V2}/courbe_de_charge_consommation`;
const daily: FetchRange = { resolution: "daily", start: "2026-09-29", end: "2026-10-01" };
const curve: FetchRange = { resolution: "load_curve", start: "2026-09-29", end: "2026-10-01" };

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** Token endpoint issuing tok-1, tok-2, … and recording the form bodies. */
function tokenEndpoint() {
  const state = { hits: 0, bodies: [] as URLSearchParams[] };
  server.use(
    http.post(TOKEN, async ({ request }) => {
      state.hits++;
      state.bodies.push(new URLSearchParams(await request.text()));
      return HttpResponse.json({ access_token: `tok-${state.hits}`, token_type: "Bearer", expires_in: "12600", scope: "" });
    }),
  );
  return state;
}

/** Metering endpoints answering the recorded fixtures and recording Authorization headers. */
function metering() {
  const auth: string[] = [];
  const urls: URL[] = [];
  const accept: string[] = [];
  server.use(
    http.get(DAILY, ({ request }) => {
      auth.push(request.headers.get("authorization") ?? "");
      urls.push(new URL(request.url));
      accept.push(request.headers.get("accept") ?? "");
      return HttpResponse.json(fixture("v2-daily.json"));
    }),
    http.get(CURVE, ({ request }) => {
      auth.push(request.headers.get("authorization") ?? "");
      urls.push(new URL(request.url));
      accept.push(request.headers.get("accept") ?? "");
      return HttpResponse.json(fixture("v2-load-curve.json"));
    }),
  );
  return { auth, urls, accept };
}

function provider(clock = { t: Date.parse("2026-11-01T08:00:00Z") }) {
  return new EnedisDataConnectProvider({
    clientId: "app-id",
    clientSecret: "app-secret",
    baseUrl: BASE,
    now: () => clock.t,
    retry: fastRetry(1),
  });
}

describe("EnedisDataConnectProvider", () => {
  it("fetches the client-credentials token once and reuses it for two calls", async () => {
    const tok = tokenEndpoint();
    const m = metering();
    const gate = new CountingGate();
    const p = provider();
    const r1 = await p.fetch(meter, daily, gate);
    const r2 = await p.fetch(meter, curve, gate);
    expect(r1.readings.map((x) => x.value)).toEqual([33495, 38022]);
    expect(r2.readings.map((x) => x.value)).toEqual([2039, 1424, 1987]);
    expect(tok.hits).toBe(1);
    expect(tok.bodies[0]!.get("grant_type")).toBe("client_credentials");
    expect(tok.bodies[0]!.get("client_id")).toBe("app-id");
    expect(m.auth).toEqual(["Bearer tok-1", "Bearer tok-1"]);
    expect(m.urls[0]!.pathname).toBe("/mesure_synchrone_auto/v2/consommation_quotidienne");
    expect(Object.fromEntries(m.urls[0]!.searchParams)).toEqual({ pointId: PRM, dateDebut: "2026-09-29", dateFin: "2026-10-01" });
    expect(m.accept).toEqual(["application/json", "application/json"]);
    expect(gate.count).toBe(3); // token + two metering calls
  });

  it("fetches a new token once the string expires_in (12600 s) has run out", async () => {
    const tok = tokenEndpoint();
    const m = metering();
    const clock = { t: Date.parse("2026-11-01T08:00:00Z") };
    const p = provider(clock);
    await p.fetch(meter, daily, new CountingGate());
    clock.t += 3 * 3600_000; // still valid
    await p.fetch(meter, daily, new CountingGate());
    clock.t += 3600_000; // 4 h after issue: expired
    await p.fetch(meter, daily, new CountingGate());
    expect(tok.hits).toBe(2);
    expect(m.auth).toEqual(["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]);
  });

  it("token endpoint invalid_client → auth, no metering call", async () => {
    server.use(http.post(TOKEN, () => HttpResponse.json({ error: "invalid_client", error_description: "Bad credentials" }, { status: 401 })));
    const m = metering();
    const e = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("invalid_client");
    expect(m.auth).toEqual([]);
  });

  it("403 consent error → auth and the cached token is dropped", async () => {
    const tok = tokenEndpoint();
    let calls = 0;
    server.use(
      http.get(DAILY, () => {
        calls++;
        return calls === 1
          ? HttpResponse.json({ error: "ADAM-DC-0008", error_description: "No consent can be found for this customer and this usage point." }, { status: 403 })
          : HttpResponse.json(fixture("v2-daily.json"));
      }),
    );
    const p = provider();
    const e = await providerError(p.fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toMatch(/consent revoked/);
    await p.fetch(meter, daily, new CountingGate());
    expect(tok.hits).toBe(2);
  });

  it("429 Quota Q3 reached without Retry-After → quota_exceeded; no_data_found → end of history", async () => {
    tokenEndpoint();
    server.use(http.get(DAILY, () => HttpResponse.json({ error: "Quota Q3 reached", error_description: "Call threshold allowed on 0:00:01" }, { status: 429 })));
    const p = provider();
    const e = await providerError(p.fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("quota_exceeded");
    expect(e.message).toContain("Quota Q3 reached");
    server.use(http.get(DAILY, () => HttpResponse.json({ error: "no_data_found", error_description: "no measure found for this usage point" }, { status: 404 })));
    expect((await p.fetch(meter, daily, new CountingGate())).endOfHistory).toBe(true);
  });

  it("a response for another usage point → invalid_prm", async () => {
    tokenEndpoint();
    server.use(http.get(DAILY, () => HttpResponse.json({ ...fixture("v2-daily.json"), idPrm: "22222222222222" })));
    const e = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("invalid_prm");
  });

  it("capabilities: default 200, cap 500, max power 365 d per call", () => {
    const p = provider();
    expect(p.capabilities.dailyBudget).toBe(200);
    expect(p.capabilities.hardDailyCap).toBe(500);
    expect(p.capabilities.maxPower).toEqual({ maxDaysPerCall: 365, historyDays: 1110 });
    expect(p.capabilities.flows).toEqual(["consumption", "production"]);
  });

  it("production resources, meter.usagePoint as pointId; max power with mesuresPas/grandeurPhysique", async () => {
    tokenEndpoint();
    const seen: URL[] = [];
    server.use(
      http.get(`${V2}/:resource`, ({ request, params }) => {
        seen.push(new URL(request.url));
        if (params.resource === "puissance_conso_max_quotidienne") return HttpResponse.json(fixture("v2-max-power.json"));
        return HttpResponse.json({ idPrm: "55555555555555", grandeur: [] });
      }),
    );
    const p = provider();
    const prod = { ...meter, id: "55555555555555_production", usagePoint: "55555555555555", flow: "production" as const };
    await p.fetch(prod, daily, new CountingGate());
    await p.fetch(prod, curve, new CountingGate());
    const mp = await p.fetchMaxPower(meter, { start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(mp.points).toHaveLength(2);
    expect(seen.map((u) => u.pathname.split("/").pop())).toEqual(["production_quotidienne", "courbe_de_charge_production", "puissance_conso_max_quotidienne"]);
    expect(seen[0]!.searchParams.get("pointId")).toBe("55555555555555");
    expect(Object.fromEntries(seen[2]!.searchParams)).toEqual({
      pointId: PRM, dateDebut: "2026-09-29", dateFin: "2026-10-01", mesuresPas: "P1D", grandeurPhysique: "PMA",
    });
  });

  it("403 900908 → auth saying the API is not subscribed on the DataHub; 400 ADAM-ERR0123 → end of history", async () => {
    tokenEndpoint();
    server.use(
      http.get(DAILY, () =>
        HttpResponse.json(
          { code: "900908", message: "Resource forbidden ", description: "User is NOT authorized to access the Resource. API Subscription validation failed." },
          { status: 403 },
        ),
      ),
    );
    const e = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("not subscribed for the application on the Enedis DataHub");
    server.use(http.get(DAILY, () => HttpResponse.json({ error: "ADAM-ERR0123", error_description: "La période demandée est antérieure à la date de mise en service du compteur" }, { status: 400 })));
    expect((await provider().fetch(meter, daily, new CountingGate())).endOfHistory).toBe(true);
    server.use(http.get(DAILY, () => HttpResponse.json({ code: "SGT404", message: "Pas de mesure trouvée pour ce point" }, { status: 404 })));
    expect((await provider().fetch(meter, daily, new CountingGate())).endOfHistory).toBe(true);
  });

  it("budget exhausted → no token request and no metering call", async () => {
    const tok = tokenEndpoint();
    const m = metering();
    const e = await providerError(provider().fetch(meter, daily, new CountingGate(0)));
    expect(e.code).toBe("budget_exhausted");
    expect(tok.hits).toBe(0);
    expect(m.auth).toEqual([]);
  });
});
