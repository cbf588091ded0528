import { describe, expect, it } from "vitest";
import { parseEnedisBody, parseEnedisMaxPowerBody, recogniseEnedisBody, type EnedisBodyOptions } from "../../../src/providers/enedis-body.js";
import { errorInfo, isEndOfHistory, isNotSubscribed } from "../../../src/providers/enedis-errors.js";
import { fixture, medEnvelope, meterReading, PRM, thrown } from "./fixtures/helpers.js";

const utc = (iso: string): number => Date.parse(iso);
const opts = (resolution: EnedisBodyOptions["resolution"], extra: Partial<EnedisBodyOptions> = {}): EnedisBodyOptions => ({
  usagePoint: PRM,
  resolution,
  timezone: "Europe/Paris",
  now: () => utc("2030-01-01T00:00:00Z"),
  ...extra,
});


describe("parseEnedisBody — recognises the shape, not the URL", () => {
  it("v2 raw, v5 wrapped, v5 inner", () => {
    expect(recogniseEnedisBody(fixture("v2-daily.json")).shape).toBe("v2");
    expect(recogniseEnedisBody(fixture("daily-3-days.json")).shape).toBe("v5");
    expect(recogniseEnedisBody(fixture("daily-3-days.json").meter_reading).shape).toBe("v5");
    expect(parseEnedisBody(fixture("v2-daily.json"), opts("daily")).readings.map((x) => x.value)).toEqual([33495, 38022]);
    // A v5 body (an older or self-hosted gateway) is still read.
    expect(parseEnedisBody(fixture("daily-3-days.json"), opts("daily")).readings.map((x) => x.value)).toEqual([11776, 14401, 12820]);
    expect(parseEnedisBody(fixture("load-curve-excerpt.json").meter_reading, opts("load_curve")).readings.map((x) => x.value)).toEqual([376, 173, 72, 44]);
  });

  it("MED envelope around v2 and around the v5 compatibility body: start stamps give the same readings", () => {
    const v2 = parseEnedisBody(fixture("med-v2-load-curve.json"), opts("load_curve", { stamp: "start" }));
    const v5 = parseEnedisBody(fixture("med-v5-compat-load-curve.json"), opts("load_curve", { stamp: "start" }));
    const conso = parseEnedisBody(fixture("v2-load-curve.json"), opts("load_curve"));
    expect(v2.rejected).toEqual([]);
    expect(v2.readings).toEqual(conso.readings);
    expect(v5.readings).toEqual(conso.readings);
  });

  it("MED success:false NO_DATA / ADAM-ERR0123 → end of history; RATE_LIMIT_EXCEEDED → quota_exceeded", () => {
    const noData = { success: false, data: null, error: { code: "NO_DATA", message: "Aucune donnée" } };
    expect(parseEnedisBody(noData, opts("daily"))).toEqual({ readings: [], rejected: [], endOfHistory: true });
    const adam = { success: false, error: { code: "ADAM-ERR0123", message: "période antérieure à la mise en service" } };
    expect(parseEnedisMaxPowerBody(adam, opts("daily")).endOfHistory).toBe(true);
    const rate = thrown(() => parseEnedisBody({ success: false, error: { code: "RATE_LIMIT_EXCEEDED", message: "Daily rate limit exceeded (50/50)" } }, opts("daily")));
    expect(rate.code).toBe("quota_exceeded");
  });

  it("neither shape → invalid_response naming the keys; a wrong idPrm in either shape → invalid_prm", () => {
    const e = thrown(() => parseEnedisBody({ readings: [] }, opts("daily", { source: "Gateway" })));
    expect(e.code).toBe("invalid_response");
    expect(e.message).toContain("Gateway returned neither an Enedis v2 nor a v5 meter_reading body (keys readings)");
    expect(thrown(() => parseEnedisBody(medEnvelope({ ...fixture("v2-daily.json"), idPrm: "22222222222222" }), opts("daily"))).code).toBe("invalid_prm");
    expect(thrown(() => parseEnedisBody({ meter_reading: { ...meterReading([]), usage_point_id: "2" } }, opts("daily"))).code).toBe("invalid_prm");
  });

  it("v5 max power (daily_consumption_max_power) is read too", () => {
    const body = { meter_reading: meterReading([{ value: "4638", date: "2023-04-01 12:06:20" }], { reading_type: { unit: "VA" } }) };
    expect(parseEnedisMaxPowerBody(body, opts("daily")).points).toEqual([{ day: "2023-04-01", valueVa: 4638, at: utc("2023-04-01T10:06:20Z") }]);
  });
});

describe("errorInfo — the error bodies of Enedis and its gateways (enedis-2026.md §6)", () => {
  it("Enedis shape A {error, error_description}", () => {
    const i = errorInfo({ error: "ADAM-ERR0002", error_description: "La date de fin doit être supérieure à la date de début." }, "");
    expect(i.code).toBe("ADAM-ERR0002");
    expect(i.message).toBe("ADAM-ERR0002: La date de fin doit être supérieure à la date de début.");
  });

  it("Enedis shape B {code, message, description}: 900908 = not subscribed", () => {
    const i = errorInfo({ code: "900908", message: "Resource forbidden ", description: "User is NOT authorized to access the Resource. API Subscription validation failed." }, "");
    expect(i.code).toBe("900908");
    expect(i.message).toBe("900908: Resource forbidden: User is NOT authorized to access the Resource. API Subscription validation failed.");
    expect(isNotSubscribed(i)).toBe(true);
  });

  it("Conso API wrapper around an Enedis body or a text", () => {
    const a = errorInfo({ status: 400, message: "The Enedis API returned an error", error: { error: "ADAM-ERR0123", error_description: "before activation" } }, "");
    expect(a.code).toBe("ADAM-ERR0123");
    expect(a.message).toBe("The Enedis API returned an error: ADAM-ERR0123: before activation");
    expect(isEndOfHistory(a)).toBe(true);
    const b = errorInfo({ status: 500, message: "The Enedis API returned an error", error: "Problème technique dans l'interrogation du SI coeur" }, "");
    expect(b.message).toBe("The Enedis API returned an error: Problème technique dans l'interrogation du SI coeur");
  });

  it("MED {success:false, error:{code,message}} and legacy {detail}", () => {
    const m = errorInfo({ success: false, error: { code: "NO_DATA", message: "Pas de données" } }, "");
    expect(m).toEqual({ code: "NO_DATA", message: "NO_DATA: Pas de données", medFailure: true });
    expect(isEndOfHistory(m)).toBe(true);
    expect(errorInfo({ detail: "Token invalide" }, "").message).toBe("Token invalide");
    expect(errorInfo(undefined, "<html>502</html>").message).toBe("<html>502</html>");
  });

  it("404 'Pas de mesure trouvée pour ce point' is end of history; ADAM-ERR0002 is not", () => {
    expect(isEndOfHistory(errorInfo({ code: "SGT404", message: "Pas de mesure trouvée pour ce point" }, ""))).toBe(true);
    expect(isEndOfHistory(errorInfo({ error: "ADAM-ERR0002", error_description: "La date de fin…" }, ""))).toBe(false);
  });
});
