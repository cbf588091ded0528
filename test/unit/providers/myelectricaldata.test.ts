import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { MyElectricalDataProvider } from "../../../src/providers/myelectricaldata.js";
import { CountingGate, fastRetry, fixture, meter, meterReading, PRM, providerError } from "./fixtures/helpers.js";

const BASE = "http://med.test";
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const provider = () =>
  new MyElectricalDataProvider({ token: "raw-med-token", baseUrl: BASE, now: () => Date.parse("2026-01-01T00:00:00Z"), retry: fastRetry(1) });

describe("MyElectricalDataProvider", () => {
  it("GETs the path-style URL with the raw Authorization header and unwraps meter_reading", async () => {
    const seen: Request[] = [];
    server.use(
      http.get(`${BASE}/daily_consumption/:prm/start/:start/end/:end/`, ({ request }) => {
        seen.push(request);
        return HttpResponse.json(fixture("daily-3-days.json"));
      }),
    );
    const gate = new CountingGate();
    const r = await provider().fetch(meter, { resolution: "daily", start: "2023-04-01", end: "2023-04-04" }, gate);
    expect(r.readings.map((x) => x.value)).toEqual([11776, 14401, 12820]);
    expect(new URL(seen[0]!.url).pathname).toBe(`/daily_consumption/${PRM}/start/2023-04-01/end/2023-04-04/`);
    expect(seen[0]!.headers.get("authorization")).toBe("raw-med-token");
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
    expect(gate.count).toBe(1);
  });

  it("uses the load-curve path", async () => {
    let path = "";
    server.use(
      http.get(`${BASE}/consumption_load_curve/*`, ({ request }) => {
        path = new URL(request.url).pathname;
        return HttpResponse.json(fixture("load-curve-excerpt.json"));
      }),
    );
    const r = await provider().fetch(meter, { resolution: "load_curve", start: "2023-04-01", end: "2023-04-02" }, new CountingGate());
    expect(path).toBe(`/consumption_load_curve/${PRM}/start/2023-04-01/end/2023-04-02/`);
    expect(r.readings).toHaveLength(4);
  });

  it("403 {detail} → auth with the gateway's message, no retry", async () => {
    let hits = 0;
    server.use(
      http.get(`${BASE}/*`, () => {
        hits++;
        return HttpResponse.json({ detail: "Token invalide" }, { status: 403 });
      }),
    );
    const gate = new CountingGate();
    const e = await providerError(provider().fetch(meter, { resolution: "daily", start: "2023-04-01", end: "2023-04-04" }, gate));
    expect(e.code).toBe("auth");
    expect(e.message).toContain("Token invalide");
    expect(hits).toBe(1);
    expect(gate.count).toBe(1);
  });

  it("an unwrapped body is an invalid_response; a detail naming the activation date is end of history", async () => {
    server.use(http.get(`${BASE}/*`, () => HttpResponse.json(meterReading([]))));
    const e = await providerError(provider().fetch(meter, { resolution: "daily", start: "2023-04-01", end: "2023-04-04" }, new CountingGate()));
    expect(e.code).toBe("invalid_response");
    server.use(
      http.get(`${BASE}/*`, () =>
        HttpResponse.json({ detail: "The requested period cannot be anterior to the meter's last activation date" }, { status: 400 }),
      ),
    );
    const r = await provider().fetch(meter, { resolution: "daily", start: "2020-04-01", end: "2020-04-04" }, new CountingGate());
    expect(r.endOfHistory).toBe(true);
  });
});
