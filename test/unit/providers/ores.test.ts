/** Ores annex C load curves: parsing (incl. malformed JSON, negative load) and the provider over msw. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { DateTime } from "luxon";
import { OresProvider, parseOresLoadCurve } from "../../../src/providers/ores.js";
import type { Meter } from "../../../src/domain/types.js";
import { CountingGate, fastRetry, providerError } from "./fixtures/helpers.js";

const EAN = "541449011000012345";
const BASE = "https://ores.test/v1";
const meter: Meter = { id: EAN, provider: "ores", kind: "electricity", unit: "Wh", timezone: "Europe/Brussels", name: "Ores" };
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** The seed's annex C example, verbatim apart from the usage point. */
const ANNEX_C = {
  usage_point_id: EAN,
  start: "2025-11-01T00:00:00Z",
  end: "2025-11-18T23:59:59Z",
  reading_type: { unit: "Wh", aggregate: "Sum", measuring_period: "PT30M" },
  interval_readings: [
    { value: 12500, start: "2025-11-01T00:00:00Z", end: "2025-11-01T00:30:00Z" },
    { value: 11800, start: "2025-11-01T00:30:00Z", end: "2025-11-01T01:00:00Z" },
  ],
};

describe("parseOresLoadCurve", () => {
  it("reads the annex C example: Wh per 30 min, UTC start/end", () => {
    const r = parseOresLoadCurve(ANNEX_C, EAN);
    expect(r.rejected).toEqual([]);
    expect(r.readings).toEqual([
      { start: Date.parse("2025-11-01T00:00:00Z"), durationMs: 1_800_000, value: 12500, quality: null },
      { start: Date.parse("2025-11-01T00:30:00Z"), durationMs: 1_800_000, value: 11800, quality: null },
    ]);
  });

  it("converts kWh, rejects negative, reversed, duplicate and non-numeric points and keeps the rest", () => {
    const r = parseOresLoadCurve(
      {
        ...ANNEX_C,
        reading_type: { unit: "kWh" },
        interval_readings: [
          { value: 0.25, start: "2025-11-01T00:00:00Z", end: "2025-11-01T00:30:00Z" },
          { value: -1, start: "2025-11-01T00:30:00Z", end: "2025-11-01T01:00:00Z" },
          { value: 1, start: "2025-11-01T01:30:00Z", end: "2025-11-01T01:00:00Z" },
          { value: 1, start: "2025-11-01T00:00:00Z", end: "2025-11-01T00:30:00Z" },
          { value: "12", start: "2025-11-01T02:00:00Z", end: "2025-11-01T02:30:00Z" },
        ],
      },
      EAN,
    );
    expect(r.readings.map((x) => x.value)).toEqual([250]);
    expect(r.rejected.map((x) => x.reason)).toEqual([
      expect.stringContaining("negative"),
      expect.stringContaining("not after its start"),
      expect.stringContaining("second value"),
      expect.stringContaining("must be a number"),
    ]);
  });

  it("an envelope that is not annex C, or for another meter, is an error", () => {
    expect(() => parseOresLoadCurve({ readings: [] }, EAN)).toThrow(/not a load curve/);
    expect(() => parseOresLoadCurve(ANNEX_C, "541449011000099999")).toThrow(/not 541449011000099999/);
  });
});

describe("OresProvider", () => {
  const range = { resolution: "load_curve" as const, start: "2025-11-01", end: "2025-11-02" };

  it("asks for the local days' UTC bounds with the Bearer token and keeps points inside the range", async () => {
    let seen: URL | undefined;
    let auth = "";
    server.use(
      http.get(`${BASE}/consumption_load_curve`, ({ request }) => {
        seen = new URL(request.url);
        auth = request.headers.get("authorization") ?? "";
        return HttpResponse.json({
          ...ANNEX_C,
          interval_readings: [
            { value: 5, start: "2025-10-31T22:30:00Z", end: "2025-10-31T23:00:00Z" }, // before 00:00 Brussels
            ...ANNEX_C.interval_readings,
          ],
        });
      }),
    );
    const p = new OresProvider({ token: async () => "vault-token", baseUrl: BASE, retry: fastRetry() });
    const r = await p.fetch(meter, range, new CountingGate());
    const dayStart = DateTime.fromISO("2025-11-01", { zone: "Europe/Brussels" }).toUTC();
    expect(seen?.searchParams.get("prm")).toBe(EAN);
    expect(seen?.searchParams.get("start")).toBe(dayStart.toISO({ suppressMilliseconds: true }));
    expect(auth).toBe("Bearer vault-token");
    expect(r.readings.map((x) => x.value)).toEqual([12500, 11800]);
  });

  it("malformed JSON → invalid_response; expired token (401) → auth with a reconnect hint", async () => {
    server.use(http.get(`${BASE}/consumption_load_curve`, () => new HttpResponse("{ not json", { status: 200 })));
    const p = new OresProvider({ token: "t", baseUrl: BASE, retry: fastRetry() });
    const bad = await providerError(p.fetch(meter, range, new CountingGate()));
    expect(bad.code).toBe("invalid_response");
    server.use(http.get(`${BASE}/consumption_load_curve`, () => HttpResponse.json({ error: "invalid_token", error_description: "expired" }, { status: 401 })));
    const expired = await providerError(p.fetch(meter, range, new CountingGate()));
    expect(expired.code).toBe("auth");
    expect(expired.message).toMatch(/reconnect the Ores account/);
  });

  it("production series use production_load_curve", async () => {
    let path = "";
    server.use(http.get(`${BASE}/production_load_curve`, ({ request }) => ((path = new URL(request.url).pathname), HttpResponse.json({ ...ANNEX_C, interval_readings: [] }))));
    const r = await new OresProvider({ token: "t", baseUrl: BASE }).fetch({ ...meter, id: `${EAN}_production`, usagePoint: EAN, flow: "production" }, range, new CountingGate());
    expect(path).toBe("/v1/production_load_curve");
    expect(r.endOfHistory).toBe(true);
  });
});
