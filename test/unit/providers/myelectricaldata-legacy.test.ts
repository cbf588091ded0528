import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { MyElectricalDataLegacyProvider } from "../../../src/providers/myelectricaldata-legacy.js";
import { CountingGate, fastRetry, fixture, meter, meterReading, PRM, providerError } from "./fixtures/helpers.js";

const BASE = "http://med-legacy.test";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const provider = () =>
  new MyElectricalDataLegacyProvider({ token: "raw-med-token", baseUrl: BASE, now: () => Date.parse("2026-11-01T00:00:00Z"), retry: fastRetry(1) });
const daily = { resolution: "daily", start: "2023-04-01", end: "2023-04-04" } as const;

describe("MyElectricalDataLegacyProvider", () => {
  it("GETs the path-style URL with the raw Authorization header and reads the v5 wrapper", async () => {
    const seen: Request[] = [];
    server.use(
      http.get(`${BASE}/daily_consumption/:prm/start/:start/end/:end/`, ({ request }) => {
        seen.push(request);
        return HttpResponse.json(fixture("daily-3-days.json"));
      }),
    );
    const p = provider();
    expect(p.id).toBe("myelectricaldata_legacy");
    const r = await p.fetch(meter, daily, new CountingGate());
    expect(r.readings.map((x) => x.value)).toEqual([11776, 14401, 12820]);
    expect(new URL(seen[0]!.url).pathname).toBe(`/daily_consumption/${PRM}/start/2023-04-01/end/2023-04-04/`);
    expect(seen[0]!.headers.get("authorization")).toBe("raw-med-token");
  });

  it("whatever shape it answers is read: a v2 body (end stamps) on the load-curve path", async () => {
    let path = "";
    server.use(
      http.get(`${BASE}/consumption_load_curve/*`, ({ request }) => {
        path = new URL(request.url).pathname;
        return HttpResponse.json(fixture("v2-load-curve.json"));
      }),
    );
    const r = await provider().fetch(meter, { resolution: "load_curve", start: "2026-09-29", end: "2026-10-01" }, new CountingGate());
    expect(path).toBe(`/consumption_load_curve/${PRM}/start/2026-09-29/end/2026-10-01/`);
    expect(r.readings[0]!.start).toBe(Date.parse("2026-09-28T22:00:00Z"));
  });

  it("production routes and daily_consumption_max_power (v5 VA body)", async () => {
    const paths: string[] = [];
    server.use(
      http.get(`${BASE}/*`, ({ request }) => {
        const path = new URL(request.url).pathname;
        paths.push(path);
        if (path.startsWith("/daily_consumption_max_power/")) {
          return HttpResponse.json({ meter_reading: meterReading([{ value: "4638", date: "2023-04-01 12:06:20" }], { reading_type: { unit: "VA" } }) });
        }
        return HttpResponse.json({ meter_reading: meterReading([]) });
      }),
    );
    const prod = { ...meter, flow: "production" as const };
    await provider().fetch(prod, daily, new CountingGate());
    await provider().fetch(prod, { resolution: "load_curve", start: "2023-04-01", end: "2023-04-02" }, new CountingGate());
    const mp = await provider().fetchMaxPower(meter, { start: "2023-04-01", end: "2023-04-04" }, new CountingGate());
    expect(mp.points).toEqual([{ day: "2023-04-01", valueVa: 4638, at: Date.parse("2023-04-01T10:06:20Z") }]);
    expect(paths.map((p) => p.split("/")[1])).toEqual(["daily_production", "production_load_curve", "daily_consumption_max_power"]);
  });

  it("403 {detail} → auth with the gateway's message; detail naming the activation date → end of history", async () => {
    server.use(http.get(`${BASE}/*`, () => HttpResponse.json({ detail: "Token invalide" }, { status: 403 })));
    const e = await providerError(provider().fetch(meter, daily, new CountingGate()));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("Token invalide");
    server.use(
      http.get(`${BASE}/*`, () =>
        HttpResponse.json({ detail: "The requested period cannot be anterior to the meter's last activation date" }, { status: 400 }),
      ),
    );
    expect((await provider().fetch(meter, daily, new CountingGate())).endOfHistory).toBe(true);
  });

  it("an unknown body shape → invalid_response", async () => {
    server.use(http.get(`${BASE}/*`, () => HttpResponse.json({ readings: [] })));
    expect((await providerError(provider().fetch(meter, daily, new CountingGate()))).code).toBe("invalid_response");
  });
});
