import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { delay, http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { ConsoApiProvider } from "../../../src/providers/conso-api.js";
import type { FetchRange } from "../../../src/domain/types.js";
import { CountingGate, fastRetry, fixture, meter, PRM, providerError, v2Body } from "./fixtures/helpers.js";

const BASE = "http://conso.test";
const DAILY = `${BASE}/api/consommation_quotidienne`;
const CURVE = `${BASE}/api/courbe_de_charge_consommation`;
const NOW = Date.parse("2026-11-03T09:00:00Z");
const daily: FetchRange = { resolution: "daily", start: "2026-09-29", end: "2026-10-01" };
const curve: FetchRange = { resolution: "load_curve", start: "2026-09-29", end: "2026-10-01" };
/** A v2 daily body with the given points. */
const dailyBody = (points: Array<{ v: string; d: string }>) => v2Body(points, { physique: "EA", unite: "Wh" });

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function provider(retries = 2, extra: { timeoutMs?: number; baseUrl?: string } = {}) {
  const retry = fastRetry(retries);
  const p = new ConsoApiProvider({ token: "tok-123", baseUrl: BASE, now: () => NOW, retry, ...extra });
  return { p, retry };
}

/** Answers with `responses` in turn (the last one repeats) and counts hits. */
function sequence(url: string, responses: Array<() => Response | Promise<Response>>) {
  const state = { hits: 0, requests: [] as Request[] };
  server.use(
    http.get(url, async ({ request }) => {
      state.requests.push(request.clone());
      const r = responses[Math.min(state.hits, responses.length - 1)]!;
      state.hits++;
      return r();
    }),
  );
  return state;
}

const enedisError = (status: number, error: string, description: string) => () =>
  HttpResponse.json({ status, message: "The Enedis API returned an error", error: { error, error_description: description } }, { status });

describe("ConsoApiProvider", () => {
  it("exposes the gateway's capabilities (default 20, cap 45 on the public host, 500 self-hosted)", () => {
    const p = new ConsoApiProvider({ token: "t" });
    expect(p.id).toBe("conso_api");
    expect(p.capabilities).toEqual({
      kinds: ["electricity"],
      flows: ["consumption", "production"],
      resolutions: {
        daily: { maxDaysPerCall: 365, historyDays: 1110 },
        load_curve: { maxDaysPerCall: 7, historyDays: 745 },
      },
      maxPower: { maxDaysPerCall: 365, historyDays: 1110 },
      dailyBudget: 20,
      hardDailyCap: 45,
      timezone: "Europe/Paris",
      scheduleWindow: ["06:00", "10:00"],
    });
    expect(new ConsoApiProvider({ token: "t", baseUrl: "https://conso.boris.sh/" }).capabilities.hardDailyCap).toBe(45);
    expect(provider().p.capabilities.hardDailyCap).toBe(500);
  });

  it("GETs the raw v2 body from /api/consommation_quotidienne with pointId/dateDebut/dateFin, Bearer and User-Agent", async () => {
    const s = sequence(DAILY, [() => HttpResponse.json(fixture("v2-daily.json"))]);
    const gate = new CountingGate();
    const { p } = provider();
    const r = await p.fetch(meter, daily, gate);
    expect(r.readings.map((x) => x.value)).toEqual([33495, 38022]);
    expect(r.endOfHistory).toBe(false);
    expect(gate.count).toBe(1);
    const req = s.requests[0]!;
    const url = new URL(req.url);
    expect(Object.fromEntries(url.searchParams)).toEqual({ pointId: PRM, dateDebut: "2026-09-29", dateFin: "2026-10-01" });
    expect(req.headers.get("authorization")).toBe("Bearer tok-123");
    expect(req.headers.get("user-agent")).toMatch(/^energy-bridge\/\d+\.\d+\.\d+/);
  });

  it.each([
    ["consumption", "daily", "consommation_quotidienne"],
    ["consumption", "load_curve", "courbe_de_charge_consommation"],
    ["production", "daily", "production_quotidienne"],
    ["production", "load_curve", "courbe_de_charge_production"],
  ] as const)("%s %s → /api/%s with meter.usagePoint as pointId (old type names never sent)", async (flow, resolution, resource) => {
    const seen: URL[] = [];
    server.use(
      http.get(`${BASE}/api/:resource`, ({ request }) => {
        seen.push(new URL(request.url));
        return HttpResponse.json(
          v2Body([], { metier: flow === "production" ? "PROD" : "CONS", physique: resolution === "daily" ? "EA" : "PA", unite: null, prm: "33333333333333" }),
        );
      }),
    );
    const m = { ...meter, id: "33333333333333_x", usagePoint: "33333333333333", flow };
    await provider().p.fetch(m, { resolution, start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(seen[0]!.pathname).toBe(`/api/${resource}`);
    expect(seen[0]!.searchParams.get("pointId")).toBe("33333333333333");
    expect(seen[0]!.pathname).not.toMatch(/daily_|load_curve|max_power/);
    expect(seen[0]!.searchParams.has("prm")).toBe(false);
  });

  it("fetchMaxPower → /api/puissance_conso_max_quotidienne with mesuresPas=P1D&grandeurPhysique=PMA", async () => {
    const s = sequence(`${BASE}/api/puissance_conso_max_quotidienne`, [() => HttpResponse.json(fixture("v2-max-power.json"))]);
    const r = await provider().p.fetchMaxPower(meter, { start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(r.points.map((x) => [x.day, x.valueVa])).toEqual([["2026-09-29", 4680], ["2026-09-30", 5120]]);
    expect(Object.fromEntries(new URL(s.requests[0]!.url).searchParams)).toEqual({
      pointId: PRM, dateDebut: "2026-09-29", dateFin: "2026-10-01", mesuresPas: "P1D", grandeurPhysique: "PMA",
    });
    const prod = await providerError(provider().p.fetchMaxPower({ ...meter, flow: "production" }, { start: "2026-09-29", end: "2026-10-01" }, new CountingGate()));
    expect(prod.code).toBe("bad_request");
    const tooLong = await providerError(provider().p.fetchMaxPower(meter, { start: "2025-01-01", end: "2026-10-01" }, new CountingGate()));
    expect(tooLong.message).toContain("at most 365 days of max power");
    expect(s.hits).toBe(1);
  });

  it("uses the load-curve endpoint and tolerates a trailing slash in baseUrl", async () => {
    const s = sequence(CURVE, [() => HttpResponse.json(fixture("v2-load-curve.json"))]);
    const { p } = provider(2, { baseUrl: `${BASE}/` });
    const r = await p.fetch(meter, curve, new CountingGate());
    expect(r.readings.map((x) => x.value)).toEqual([2039, 1424, 1987]);
    expect(s.hits).toBe(1);
  });

  it("401 → auth saying the token is invalid or does not cover the PRM, with no retry", async () => {
    sequence(DAILY, [() => HttpResponse.json({ status: 401, message: "Votre token est invalide ou ne permet pas d'accéder à ce PRM" }, { status: 401 })]);
    const gate = new CountingGate();
    const e = await providerError(provider().p.fetch(meter, daily, gate));
    expect(e.code).toBe("auth");
    expect(e.message).toMatch(/invalid or expired/);
    expect(e.message).toContain(PRM);
    expect(e.details.status).toBe(401);
    expect(gate.count).toBe(1);
  });

  it("403 with a wrapped Enedis consent error → auth, gate used once", async () => {
    sequence(DAILY, [enedisError(403, "ADAM-DC-0008", "No consent can be found for this customer and this usage point.")]);
    const gate = new CountingGate();
    const e = await providerError(provider().p.fetch(meter, daily, gate));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("No consent can be found");
    expect(gate.count).toBe(1);
  });

  it("400 Paramètres invalides and wrapped Enedis 400 → bad_request with the provider's message", async () => {
    sequence(DAILY, [() => HttpResponse.json({ status: 400, message: "Paramètres invalides", error: { prm: ["too short"] } }, { status: 400 })]);
    const e1 = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e1.code).toBe("bad_request");
    expect(e1.message).toContain("Paramètres invalides");
    sequence(DAILY, [enedisError(400, "Invalid_request", "Start date should be before end date.")]);
    const e2 = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e2.code).toBe("bad_request");
    expect(e2.message).toContain("Start date should be before end date.");
  });

  it("429 Retry-After: 1 then 200 → waits exactly 1 s, then succeeds (two admissions)", async () => {
    const inner = dailyBody([{ v: "5", d: "2026-09-29" }]);
    const s = sequence(DAILY, [
      () => HttpResponse.json({ status: 429, message: "Too many requests" }, { status: 429, headers: { "Retry-After": "1" } }),
      () => HttpResponse.json(inner),
    ]);
    const gate = new CountingGate();
    const { p, retry } = provider();
    const r = await p.fetch(meter, daily, gate);
    expect(r.readings).toHaveLength(1);
    expect(retry.sleeps).toEqual([1000]);
    expect(s.hits).toBe(2);
    expect(gate.count).toBe(2);
  });

  it("429 Retry-After as an HTTP date is waited relative to the clock", async () => {
    const at = new Date(NOW + 2000).toUTCString();
    sequence(DAILY, [
      () => new HttpResponse(null, { status: 429, headers: { "Retry-After": at } }),
      () => HttpResponse.json(dailyBody([])),
    ]);
    const { p, retry } = provider();
    await p.fetch(meter, daily, new CountingGate());
    expect(retry.sleeps).toEqual([2000]);
  });

  it("429 Retry-After: 3600 → quota_exceeded with retryAfterMs, no wait, no retry", async () => {
    const s = sequence(DAILY, [() => HttpResponse.json({ message: "slow down" }, { status: 429, headers: { "Retry-After": "3600" } })]);
    const { p, retry } = provider();
    const e = await providerError(p.fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("quota_exceeded");
    expect(e.details.retryAfterMs).toBe(3_600_000);
    expect(retry.sleeps).toEqual([]);
    expect(s.hits).toBe(1);
  });

  it("500 every time → unavailable after 1 + retries attempts, each admitted by the gate", async () => {
    const s = sequence(DAILY, [() => HttpResponse.json({ status: 500, message: "Impossible de rafraîchir le token. Réessayez plus tard" }, { status: 500 })]);
    const gate = new CountingGate();
    const e = await providerError(provider(3).p.fetch(meter, daily, gate));
    expect(e.code).toBe("unavailable");
    expect(e.message).toContain("Impossible de rafraîchir le token");
    expect(s.hits).toBe(4);
    expect(gate.count).toBe(4);
  });

  it("500 then 200 → success on the retry", async () => {
    const s = sequence(DAILY, [() => new HttpResponse("boom", { status: 502 }), () => HttpResponse.json(dailyBody([{ v: "7", d: "2026-09-29" }]))]);
    const r = await provider().p.fetch(meter, daily, new CountingGate());
    expect(r.readings[0]!.value).toBe(7);
    expect(s.hits).toBe(2);
  });

  it("network errors and timeouts → unavailable after retries", async () => {
    const net = sequence(DAILY, [() => HttpResponse.error()]);
    const e1 = await providerError(provider(1).p.fetch(meter, daily, new CountingGate()));
    expect(e1.code).toBe("unavailable");
    expect(net.hits).toBe(2);

    const slow = sequence(DAILY, [async () => {
      await delay(500);
      return HttpResponse.json(dailyBody([]));
    }]);
    const e2 = await providerError(provider(1, { timeoutMs: 30 }).p.fetch(meter, daily, new CountingGate()));
    expect(e2.code).toBe("unavailable");
    expect(e2.message).toContain("no answer within 30 ms");
    expect(slow.hits).toBe(2);
  });

  it.each([
    ["activation date", enedisError(400, "ADAM-ERR0123", "The requested period cannot be anterior to the meter's last activation date")],
    ["history deadline", enedisError(400, "ADAM-DC-0016", "The start date must be greater than the history deadline.")],
    ["no measure found", enedisError(404, "no_data_found", "no measure found for this usage point")],
    ["v2 404 Pas de mesure trouvée ({code, message})", () =>
      HttpResponse.json({ status: 404, message: "The Enedis API returned an error", error: { code: "SGT404", message: "Pas de mesure trouvée pour ce point" } }, { status: 404 })],
  ])("end of history (%s) → endOfHistory with no readings", async (_label, response) => {
    sequence(DAILY, [response]);
    const r = await provider().p.fetch(meter, daily, new CountingGate());
    expect(r).toEqual({ readings: [], rejected: [], endOfHistory: true });
  });

  it("403 900908 (API not subscribed on the DataHub) → auth explaining it, not 'token invalid'", async () => {
    sequence(DAILY, [() =>
      HttpResponse.json(
        { status: 403, message: "The Enedis API returned an error", error: { code: "900908", message: "Resource forbidden ", description: "User is NOT authorized to access the Resource. API Subscription validation failed." } },
        { status: 403 },
      )]);
    const e = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("not subscribed for the application on the Enedis DataHub (code 900908)");
    expect(e.message).toContain("API Subscription validation failed");
    expect(e.message).not.toContain("create a new one");
  });

  it("a relayed Enedis {code, message} 403 (not holder) → auth with Enedis' text; 400 ADAM-ERR0002 → bad_request", async () => {
    sequence(DAILY, [() =>
      HttpResponse.json({ status: 403, message: "The Enedis API returned an error", error: { code: "SGT403", message: "Le client n'est pas titulaire du point demandé" } }, { status: 403 })]);
    const e = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("SGT403: Le client n'est pas titulaire du point demandé");
    sequence(DAILY, [enedisError(400, "ADAM-ERR0002", "La date de fin doit être supérieure à la date de début.")]);
    const e2 = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e2.code).toBe("bad_request");
    expect(e2.message).toContain("ADAM-ERR0002: La date de fin doit être supérieure à la date de début.");
  });

  it("a gate throwing budget_exhausted stops before any HTTP", async () => {
    const s = sequence(DAILY, [() => HttpResponse.json(dailyBody([]))]);
    const e = await providerError(provider().p.fetch(meter, daily, new CountingGate(0)));
    expect(e.code).toBe("budget_exhausted");
    expect(s.hits).toBe(0);
  });

  it("refuses a range longer than maxDaysPerCall (or empty) without HTTP", async () => {
    const s = sequence(CURVE, [() => HttpResponse.json(v2Body([]))]);
    const gate = new CountingGate();
    const { p } = provider();
    const tooLong = await providerError(p.fetch(meter, { resolution: "load_curve", start: "2026-09-01", end: "2026-09-09" }, gate));
    expect(tooLong.code).toBe("bad_request");
    expect(tooLong.message).toContain("at most 7 days");
    const dailyTooLong = await providerError(p.fetch(meter, { resolution: "daily", start: "2023-01-01", end: "2024-01-02" }, gate));
    expect(dailyTooLong.message).toContain("at most 365 days");
    const empty = await providerError(p.fetch(meter, { resolution: "daily", start: "2023-01-02", end: "2023-01-02" }, gate));
    expect(empty.code).toBe("bad_request");
    expect(s.hits).toBe(0);
    expect(gate.count).toBe(0);
    // Exactly 7 days is allowed.
    await p.fetch(meter, { resolution: "load_curve", start: "2026-09-01", end: "2026-09-08" }, gate);
    expect(s.hits).toBe(1);
  });

  it("malformed JSON → invalid_response; another usage point → invalid_prm", async () => {
    sequence(DAILY, [() => new HttpResponse("{not json", { status: 200, headers: { "Content-Type": "application/json" } })]);
    const e1 = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e1.code).toBe("invalid_response");
    sequence(DAILY, [() => HttpResponse.json({ ...dailyBody([]), idPrm: "99999999999999" })]);
    const e2 = await providerError(provider().p.fetch(meter, daily, new CountingGate()));
    expect(e2.code).toBe("invalid_prm");
    expect(e2.message).toContain("99999999999999");
  });
});
