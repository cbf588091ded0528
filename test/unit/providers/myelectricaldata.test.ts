import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { MyElectricalDataProvider, MYELECTRICALDATA_BASE_URL } from "../../../src/providers/myelectricaldata.js";
import { ConsoApiProvider } from "../../../src/providers/conso-api.js";
import {
  CountingGate,
  fastRetry,
  fixture,
  halfHourEndStamps,
  medEnvelope,
  medShift,
  meter,
  PRM,
  providerError,
  v2Body,
} from "./fixtures/helpers.js";

const BASE = "http://med.test/api";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const NOW = Date.parse("2026-11-03T09:00:00Z");
const provider = (extra: { baseUrl?: string } = {}) =>
  new MyElectricalDataProvider({ token: "med-secret", baseUrl: BASE, now: () => NOW, retry: fastRetry(1), ...extra });
const daily = { resolution: "daily", start: "2026-09-29", end: "2026-10-01" } as const;
const curve = { resolution: "load_curve", start: "2026-09-29", end: "2026-10-01" } as const;

/** Serves `body` on any MED route and records the requests. */
function serve(body: unknown, status = 200) {
  const seen: Request[] = [];
  server.use(
    http.get(`${BASE}/enedis/*`, ({ request }) => {
      seen.push(request);
      return HttpResponse.json(body as Record<string, unknown>, { status });
    }),
  );
  return seen;
}

describe("MyElectricalDataProvider (v2 gateway)", () => {
  it("defaults to www.v2.myelectricaldata.fr/api, capabilities 20 / cap 45", () => {
    expect(MYELECTRICALDATA_BASE_URL).toBe("https://www.v2.myelectricaldata.fr/api");
    const p = new MyElectricalDataProvider({ token: "t" });
    expect(p.id).toBe("myelectricaldata");
    expect(p.capabilities.dailyBudget).toBe(20);
    expect(p.capabilities.hardDailyCap).toBe(45);
    expect(p.capabilities.flows).toEqual(["consumption", "production"]);
    expect(p.capabilities.resolutions.load_curve?.maxDaysPerCall).toBe(7);
    expect(provider().capabilities.hardDailyCap).toBe(500);
  });

  it("GETs /enedis/consumption/daily/{pdl}?start&end with Bearer and X-MED-Format: 2026, unwraps the envelope", async () => {
    const seen = serve(medEnvelope(fixture("v2-daily.json")));
    const gate = new CountingGate();
    const r = await provider().fetch(meter, daily, gate);
    expect(r.readings.map((x) => x.value)).toEqual([33495, 38022]);
    const url = new URL(seen[0]!.url);
    expect(url.pathname).toBe(`/api/enedis/consumption/daily/${PRM}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ start: "2026-09-29", end: "2026-10-01" });
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer med-secret");
    expect(seen[0]!.headers.get("x-med-format")).toBe("2026");
    expect(gate.count).toBe(1);
  });

  it.each([
    ["consumption", "daily", "consumption/daily"],
    ["consumption", "load_curve", "consumption/detail"],
    ["production", "daily", "production/daily"],
    ["production", "load_curve", "production/detail"],
  ] as const)("%s %s → /enedis/%s/{usagePoint}", async (flow, resolution, route) => {
    const seen = serve(medEnvelope(v2Body([], { metier: flow === "production" ? "PROD" : "CONS", unite: null, physique: resolution === "daily" ? "EA" : "PA", prm: "44444444444444" })));
    await provider().fetch({ ...meter, usagePoint: "44444444444444", flow }, { resolution, start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(new URL(seen[0]!.url).pathname).toBe(`/api/enedis/${route}/44444444444444`);
  });

  it("fetchMaxPower → /enedis/power/{pdl}", async () => {
    const seen = serve(medEnvelope(fixture("v2-max-power.json")));
    const r = await provider().fetchMaxPower(meter, { start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(new URL(seen[0]!.url).pathname).toBe(`/api/enedis/power/${PRM}`);
    expect(r.points.map((x) => x.valueVa)).toEqual([4680, 5120]);
  });

  it("start-stamped curve = the Conso API end-stamped curve for the same data (autumn DST day included)", async () => {
    const ends = halfHourEndStamps("2026-10-25", "2026-10-26", "autumn");
    const points = ends.map((d, i) => ({ v: String(1000 + i), d, p: "PT30M" }));
    serve(medEnvelope(v2Body(points.map((p) => ({ ...p, d: medShift(p.d) })))));
    server.use(http.get("http://conso.test/api/courbe_de_charge_consommation", () => HttpResponse.json(v2Body(points))));
    const range = { resolution: "load_curve", start: "2026-10-25", end: "2026-10-26" } as const;
    const med = await provider().fetch(meter, range, new CountingGate());
    const conso = await new ConsoApiProvider({ token: "t", baseUrl: "http://conso.test", now: () => NOW }).fetch(meter, range, new CountingGate());
    expect(med.readings).toHaveLength(50);
    expect(med.readings).toEqual(conso.readings);
  });

  it("a v5 compatibility body (no X-MED-Format honoured) is still read, as start stamps", async () => {
    serve(fixture("med-v5-compat-load-curve.json"));
    const r = await provider().fetch(meter, curve, new CountingGate());
    expect(r.readings[0]!.start).toBe(Date.parse("2026-09-28T22:00:00Z"));
  });

  it("success:false decides, whatever the HTTP status: NO_DATA / ADAM-ERR0123 → end of history", async () => {
    serve({ success: false, data: null, error: { code: "NO_DATA", message: "Aucune donnée disponible" } }, 200);
    expect(await provider().fetch(meter, daily, new CountingGate())).toEqual({ readings: [], rejected: [], endOfHistory: true });
    serve({ success: false, error: { code: "ADAM-ERR0123", message: "La période demandée est antérieure à la date de mise en service" } }, 400);
    expect((await provider().fetch(meter, daily, new CountingGate())).endOfHistory).toBe(true);
  });

  it("success:false RATE_LIMIT_EXCEEDED → quota_exceeded; ACCESS_DENIED → auth; ENEDIS_ERROR 900908 → auth explained", async () => {
    serve({ success: false, error: { code: "RATE_LIMIT_EXCEEDED", message: "Daily rate limit exceeded (50/50)." } }, 200);
    const q = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(q.code).toBe("quota_exceeded");
    expect(q.message).toContain("Daily rate limit exceeded");
    serve({ success: false, error: { code: "ACCESS_DENIED", message: "PDL non autorisé" } }, 200);
    const a = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(a.code).toBe("auth");
    expect(a.message).toContain("PDL non autorisé");
    serve({ success: false, error: { code: "ENEDIS_ERROR", message: "900908: Resource forbidden" } }, 200);
    const n = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(n.code).toBe("auth");
    expect(n.message).toContain("not subscribed");
  });

  it("success:false with an unknown code and HTTP 200 → bad_request with the message, not retried", async () => {
    const seen = serve({ success: false, error: { code: "INVALID_DATE_RANGE", message: "Start date must be before or equal to end date" } }, 200);
    const e = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("bad_request");
    expect(e.message).toContain("INVALID_DATE_RANGE: Start date must be before");
    expect(seen).toHaveLength(1);
  });

  it("detail is ≤ 7 days per call (refused before HTTP); wrong idPrm in data → invalid_prm", async () => {
    const seen = serve(medEnvelope({ ...fixture("v2-daily.json"), idPrm: "22222222222222" }));
    const long = await providerError(provider().fetch(meter, { resolution: "load_curve", start: "2026-09-01", end: "2026-09-09" }, new CountingGate()));
    expect(long.code).toBe("bad_request");
    expect(seen).toHaveLength(0);
    expect((await providerError(provider().fetch(meter, daily, new CountingGate()))).code).toBe("invalid_prm");
  });
});
