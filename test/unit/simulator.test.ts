/**
 * The provider simulator serves the real 2008 Sceaux series through the Enedis "mesure synchrone v2"
 * contracts (Conso API, MyElectricalData v2 gateway, Data Connect direct), plus the legacy v5 ones.
 * Expectations are computed here from the raw CSV text with integer milli-Wh arithmetic, hard-coded
 * UTC instants and hand-written wall-clock labels, not through the simulator's code paths.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { loadHalfHourSeries, loadThreeYearSeries, repeatSeries, SCEAUX_2008_30MIN, THREE_YEAR_DAYS, type HalfHourPoint } from "../helpers/dataset.js";
import { startProviderSimulator, type ProviderSimulator, type ProviderSimulatorOptions } from "../helpers/provider-simulator.js";

const MIN = 60_000;
const HH = 30 * MIN;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
const ZONE = "Europe/Paris";

/** Raw CSV → Map<UTC start ms, milli-Wh | null>, parsed with string operations only. */
function rawCsv(): { map: Map<number, number | null>; first: number; last: number } {
  const text = readFileSync(new URL("../../data/sceaux-household-2008-30min.csv", import.meta.url), "utf8");
  const map = new Map<number, number | null>();
  for (const line of text.trim().split("\n").slice(1)) {
    const [stamp, wh] = line.split(",") as [string, string];
    const [int, frac = ""] = wh.split(".");
    map.set(Date.parse(stamp), wh === "" ? null : Number(int) * 1000 + Number(frac.padEnd(3, "0")));
  }
  const keys = [...map.keys()];
  return { map, first: keys[0]!, last: keys[keys.length - 1]! };
}
/** Daily CSV → Map<local day, milli-Wh | null>. */
function rawDaily(): Map<string, number | null> {
  const text = readFileSync(new URL("../../data/sceaux-household-2008-daily.csv", import.meta.url), "utf8");
  const map = new Map<string, number | null>();
  for (const line of text.trim().split("\n").slice(1)) {
    const [date, kwh] = line.split(",") as [string, string];
    const [int, frac = ""] = kwh.split(".");
    map.set(date, kwh === "" ? null : Number(int) * 1_000_000 + Number(frac.padEnd(6, "0")));
  }
  return map;
}
/** "1565.4" → 1565400 (exact). */
const milliOf = (s: string): number => {
  const [int, frac = ""] = s.split(".");
  expect(frac.length).toBeLessThanOrEqual(3);
  return Number(int) * 1000 + Number(frac.padEnd(3, "0"));
};
/** Naive "YYYY-MM-DD HH:MM:SS" ± minutes, in naive (UTC-like) arithmetic. */
const naivePlus = (d: string, minutes: number) =>
  new Date(Date.parse(`${d.replace(" ", "T")}Z`) + minutes * MIN).toISOString().slice(0, 19).replace("T", " ");
const stepMin = (p: string) => Number(p.slice(2, -1));

const csv = rawCsv();
const csvDaily = rawDaily();
const series = loadHalfHourSeries(SCEAUX_2008_30MIN);

// 2026-11-20 10:00 Paris (CET), after the v2 switch: today's local midnight is 2026-11-19T23:00Z.
const NOW = Date.UTC(2026, 10, 20, 9, 0);
const TODAY_MIDNIGHT = Date.UTC(2026, 10, 19, 23, 0);

type V2Point = { v: string | null; d: string; p?: string; n?: string; iv?: string; ec?: string };
type V2Body = {
  idPrm: string;
  periode: { dateDebut: string; dateFin: string };
  pas?: string;
  grandeur: { grandeurMetier: string; grandeurPhysique: string; unite: string; points: V2Point[] }[];
  [k: string]: unknown;
};
const pts = (b: V2Body): V2Point[] => b.grandeur[0]!.points;

let sim: ProviderSimulator;

async function get(path: string, auth: string | null = `Bearer ${sim.token}`, s = sim, headers: Record<string, string> = {}) {
  const res = await fetch(s.baseUrl + path, { headers: { ...(auth === null ? {} : { Authorization: auth }), ...headers } });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* verbatim */
  }
  return { status: res.status, body, headers: res.headers };
}
const conso = (type: string, start: string, end: string, s = sim, prm = s.prm) =>
  get(`/api/${type}?pointId=${prm}&dateDebut=${start}&dateFin=${end}`, `Bearer ${s.token}`, s);
const med = (route: string, start: string, end: string, s = sim, format: string | null = "2026", pdl = s.prm) =>
  get(`/api/enedis/${route}/${pdl}?start=${start}&end=${end}`, `Bearer ${s.token}`, s, format ? { "X-MED-Format": format } : {});
/** Source milli-Wh of the shifted UTC start `t`. */
const src = (t: number) => csv.map.get(t - sim.shiftMs);
const withSim = async (opts: Partial<ProviderSimulatorOptions>, fn: (s: ProviderSimulator) => Promise<void>) => {
  const s = await startProviderSimulator({ series, now: () => NOW, ...opts });
  try {
    await fn(s);
  } finally {
    await s.close();
  }
};

beforeAll(async () => {
  sim = await startProviderSimulator({ series, now: () => NOW });
});
afterAll(async () => {
  await sim.close();
});

describe("shift, availability and the v2 bodies (Conso API)", () => {
  it("shifts by whole weeks so the series ends at or after today, and serves up to yesterday", async () => {
    expect(process.env.TZ).toBe("Pacific/Chatham");
    expect(sim.shiftMs % WEEK).toBe(0);
    const shiftedEnd = csv.last + HH + sim.shiftMs;
    expect(shiftedEnd).toBeGreaterThanOrEqual(TODAY_MIDNIGHT);
    expect(shiftedEnd - WEEK).toBeLessThan(TODAY_MIDNIGHT);
    const served = sim.served();
    expect(served.at(-1)!.start + HH).toBe(TODAY_MIDNIGHT);
    expect(served[0]!.start).toBe(csv.first + sim.shiftMs);
    const nonNull = [...csv.map].filter(([t, v]) => v !== null && t + sim.shiftMs + HH <= TODAY_MIDNIGHT);
    expect(served.length).toBe(nonNull.length);
    expect(new Date(served[0]!.start + HH).getUTCDay()).toBe(new Date(csv.first + HH).getUTCDay());

    const r = await conso("consommation_quotidienne", "2026-11-18", "2026-11-20");
    expect(r.status).toBe(200);
    expect(pts(r.body).map((p) => p.d)).toEqual(["2026-11-18", "2026-11-19"]);
    let sum = 0;
    for (let t = Date.UTC(2026, 10, 18, 23); t < TODAY_MIDNIGHT; t += HH) sum += src(t)!;
    expect(milliOf(pts(r.body)[1]!.v!)).toBe(sum);
  });

  it("answers a load curve with exactly the v2 fields, end-stamped, and accepts the prm/start/end aliases", async () => {
    const r = await conso("courbe_de_charge_consommation", "2026-11-18", "2026-11-19");
    expect(r.status).toBe(200);
    const body = r.body as V2Body;
    expect(Object.keys(body).sort()).toEqual(["contexte", "etapeMetier", "grandeur", "idPrm", "modeCalcul", "periode"]);
    expect(body).toMatchObject({ idPrm: sim.prm, etapeMetier: "BRUT", modeCalcul: "MESURE", periode: { dateDebut: "2026-11-18", dateFin: "2026-11-19" }, contexte: [] });
    expect(body.grandeur).toHaveLength(1);
    expect(Object.keys(body.grandeur[0]!).sort()).toEqual(["calendrier", "grandeurMetier", "grandeurPhysique", "points", "unite"]);
    expect(body.grandeur[0]).toMatchObject({ grandeurMetier: "CONS", grandeurPhysique: "PA", unite: "W", calendrier: [] });
    const p = pts(body);
    expect(p).toHaveLength(48);
    expect(p[0]).toEqual({ v: expect.any(String), d: "2026-11-18 00:30:00", p: "PT30M", n: "B", iv: "0", ec: "0" });
    expect(p.at(-1)!.d).toBe("2026-11-19 00:00:00");
    // W = 2 × Wh, decimals kept: the first interval starts 2026-11-17T23:00Z.
    expect(milliOf(p[0]!.v!)).toBe(2 * src(Date.UTC(2026, 10, 17, 23))!);
    const alias = await get(`/api/courbe_de_charge_consommation?prm=${sim.prm}&start=2026-11-18&end=2026-11-19`);
    expect(alias.body).toEqual(body);
  });

  it("answers a daily series with exactly the v2 fields", async () => {
    const body = (await conso("consommation_quotidienne", "2026-11-10", "2026-11-12")).body as V2Body;
    expect(Object.keys(body).sort()).toEqual(["contexte", "etapeMetier", "grandeur", "idPrm", "modeCalcul", "pas", "periode", "typeValeur"]);
    expect(body).toMatchObject({ typeValeur: "GLOBALE", modeCalcul: "DIFF.INDEX", pas: "P1D" });
    expect(body.grandeur[0]).toMatchObject({ grandeurMetier: "CONS", grandeurPhysique: "EA", unite: "Wh", calendrier: [] });
    expect(pts(body).map((p) => Object.keys(p).sort())).toEqual([["d", "v"], ["d", "v"]]);
  });
});

describe("daily vs load curve vs the dataset", () => {
  it("per local day, Σ W × p/60 of the curve equals the daily v (exactly) and the dataset's day total (to 1 Wh)", async () => {
    const curve = pts((await conso("courbe_de_charge_consommation", "2026-06-01", "2026-06-08")).body);
    const daily = pts((await conso("consommation_quotidienne", "2026-06-01", "2026-06-08")).body);
    expect(daily).toHaveLength(7);
    expect(curve).toHaveLength(7 * 48);
    for (const [i, d] of daily.entries()) {
      const day = curve.slice(i * 48, i * 48 + 48);
      expect(day[0]!.d).toBe(`${d.d} 00:30:00`);
      const energy = day.reduce((a, p) => a + (milliOf(p.v!) * stepMin(p.p!)) / 60, 0);
      expect(milliOf(d.v!)).toBe(energy);
      // The same local day of 2008 (June: CEST both years, so the shift keeps local midnight).
      const srcDay = DateTime.fromMillis(DateTime.fromISO(d.d, { zone: ZONE }).toMillis() - sim.shiftMs, { zone: ZONE });
      expect(srcDay.toFormat("HH:mm")).toBe("00:00");
      const kwhMilli = csvDaily.get(srcDay.toISODate()!)!;
      expect(Math.abs(kwhMilli - milliOf(d.v!))).toBeLessThanOrEqual(1000);
    }
  });

  it("has no daily value for a day with a gap, the curve lacks the missing points, and a range with no value is 404", async () => {
    const gaps = [...csv.map].filter(([, v]) => v === null).map(([t]) => t + sim.shiftMs).filter((t) => t + HH <= TODAY_MIDNIGHT);
    const gapDays = [...new Set(gaps.map((t) => DateTime.fromMillis(t, { zone: ZONE }).toISODate()!))];
    expect(gapDays.length).toBeGreaterThanOrEqual(2);
    for (const day of gapDays) {
      const d = DateTime.fromISO(day, { zone: ZONE });
      const next = d.plus({ days: 1 }).toISODate()!;
      const daily = pts((await conso("consommation_quotidienne", d.minus({ days: 1 }).toISODate()!, d.plus({ days: 2 }).toISODate()!)).body);
      expect(daily.map((p) => p.d)).not.toContain(day);
      expect(await conso("consommation_quotidienne", day, next)).toMatchObject({
        status: 404,
        body: { status: 404, message: "The Enedis API returned an error", error: { code: expect.any(String), message: "Pas de mesure trouvée pour ce point" } },
      });
      const curve = pts((await conso("courbe_de_charge_consommation", day, next)).body);
      const inDay = gaps.filter((t) => t >= d.toMillis() && t < d.plus({ days: 1 }).toMillis()).length;
      const slots = (d.plus({ days: 1 }).toMillis() - d.toMillis()) / HH;
      expect(curve).toHaveLength(slots - inDay);
      expect(curve.every((p) => typeof p.v === "string" && Number(p.v) >= 0)).toBe(true);
    }
  });
});

/** End-stamp labels of a local day's half-hours: "D 00:30" … "D+1 00:00", with the spring skip or the autumn repeat. */
function endLabels(day: string, next: string, dst: "none" | "spring" | "autumn"): string[] {
  const out: string[] = [];
  for (let k = 1; k <= 48; k++) {
    const hm = `${String(Math.floor(k / 2)).padStart(2, "0")}:${k % 2 ? "30" : "00"}:00`;
    if (dst === "spring" && (hm === "02:00:00" || hm === "02:30:00")) continue;
    out.push(k === 48 ? `${next} 00:00:00` : `${day} ${hm}`);
    if (dst === "autumn" && hm === "02:30:00") out.push(`${day} 02:00:00`, `${day} 02:30:00`);
  }
  return out;
}
/** Start-stamp labels: "D 00:00" … "D 23:30". */
function startLabels(day: string, dst: "none" | "spring" | "autumn"): string[] {
  const out: string[] = [];
  for (let k = 0; k < 48; k++) {
    const hm = `${String(Math.floor(k / 2)).padStart(2, "0")}:${k % 2 ? "30" : "00"}:00`;
    if (dst === "spring" && (hm === "02:00:00" || hm === "02:30:00")) continue;
    out.push(`${day} ${hm}`);
    if (dst === "autumn" && hm === "02:30:00") out.push(`${day} 02:00:00`, `${day} 02:30:00`);
  }
  return out;
}

describe("DST days of the target year", () => {
  it.each([
    { day: "2026-03-29", next: "2026-03-30", from: Date.UTC(2026, 2, 28, 23), to: Date.UTC(2026, 2, 29, 22), n: 46, dst: "spring" as const },
    { day: "2026-10-25", next: "2026-10-26", from: Date.UTC(2026, 9, 24, 22), to: Date.UTC(2026, 9, 25, 23), n: 50, dst: "autumn" as const },
  ])("$day has $n points, repeated stamps in array order, on Conso (end) and MED (start)", async ({ day, next, from, to, n, dst }) => {
    const starts: number[] = [];
    for (let t = from; t < to; t += HH) starts.push(t);
    expect(starts).toHaveLength(n);
    expect(starts.every((t) => src(t) != null)).toBe(true); // precondition: no gap in the source
    const r = await conso("courbe_de_charge_consommation", day, next);
    expect(r.status).toBe(200);
    const c = pts(r.body);
    expect(c.map((p) => p.d)).toEqual(endLabels(day, next, dst));
    expect(c.map((p) => milliOf(p.v!))).toEqual(starts.map((t) => 2 * src(t)!));
    const daily = pts((await conso("consommation_quotidienne", day, next)).body);
    expect(milliOf(daily[0]!.v!)).toBe(starts.reduce((a, t) => a + src(t)!, 0));

    const m = await med("consumption/detail", day, next);
    expect(m.body.success).toBe(true);
    const mp = pts(m.body.data);
    expect(mp.map((p) => p.d)).toEqual(startLabels(day, dst));
    expect(mp.map((p) => p.v)).toEqual(c.map((p) => p.v));
  });

  it("with med.startStamps 'naive', MED stamps are Conso's minus p in naive wall time (MED's v5-era shift)", async () => {
    await withSim({ med: { startStamps: "naive" } }, async (s) => {
      const c = pts((await conso("courbe_de_charge_consommation", "2026-10-25", "2026-10-26", s)).body);
      const m = pts((await med("consumption/detail", "2026-10-25", "2026-10-26", s)).body.data);
      expect(m.map((p) => p.d)).toEqual(c.map((p) => naivePlus(p.d, -30)));
      // The CET 02:00 (01:00Z) interval is stamped 01:30, as the CEST 01:30 one: stamps go backwards.
      expect(m.slice(3, 9).map((p) => p.d.slice(11))).toEqual(["01:30:00", "02:00:00", "01:30:00", "02:00:00", "02:30:00", "03:00:00"]);
    });
  });
});

describe("MyElectricalData v2 gateway", () => {
  it("serves the v2 object start-stamped (one step before Conso's end stamps) with X-MED-Format: 2026", async () => {
    const c = await conso("courbe_de_charge_consommation", "2026-11-10", "2026-11-12");
    const m = await med("consumption/detail", "2026-11-10", "2026-11-12");
    expect(m.status).toBe(200);
    expect(Object.keys(m.body).sort()).toEqual(["data", "error", "success", "timestamp"]);
    expect(m.body).toMatchObject({ success: true, error: null, timestamp: new Date(NOW).toISOString() });
    expect(Object.keys(m.body.data).sort()).toEqual(Object.keys(c.body).sort());
    const cp = pts(c.body), mp = pts(m.body.data);
    expect(mp).toHaveLength(96);
    expect(mp[0]!.d).toBe("2026-11-10 00:00:00");
    expect(mp.at(-1)!.d).toBe("2026-11-11 23:30:00");
    mp.forEach((p, i) => {
      expect(p.d).toBe(naivePlus(cp[i]!.d, -stepMin(cp[i]!.p!)));
      expect({ ...p, d: "" }).toEqual({ ...cp[i]!, d: "" });
    });
    const daily = await med("consumption/daily", "2026-11-10", "2026-11-12");
    expect(daily.body.data).toEqual((await conso("consommation_quotidienne", "2026-11-10", "2026-11-12")).body);
  });

  it("without the header answers the v5 compatibility body with Deprecation: true", async () => {
    const m = await med("consumption/detail", "2026-11-10", "2026-11-11", sim, null);
    expect(m.headers.get("deprecation")).toBe("true");
    expect(Object.keys(m.body).sort()).toEqual(["data", "success"]);
    const mr = m.body.data.meter_reading;
    expect(mr).toMatchObject({ usage_point_id: sim.prm, start: "2026-11-10", end: "2026-11-11", quality: "BRUT", reading_type: { unit: "W" } });
    expect(Object.keys(mr.reading_type)).toEqual(["unit"]);
    expect(mr.interval_reading).toHaveLength(48);
    expect(mr.interval_reading[0]).toEqual({ value: expect.any(String), date: "2026-11-10 00:00:00", interval_length: "PT30M", measure_type: "B" });
    const d = await med("consumption/daily", "2026-11-10", "2026-11-11", sim, null);
    expect(d.body.data.meter_reading.reading_type).toEqual({ unit: "Wh", measuring_period: "P1D" });
    expect(Object.keys(d.body.data.meter_reading.interval_reading[0]).sort()).toEqual(["date", "value"]);
  });

  it("caps end to today, moves start to end-1, and can answer the cache-rebuilt minimal data", async () => {
    const r = await med("consumption/daily", "2026-11-25", "2026-11-30");
    expect(r.body.data.periode).toEqual({ dateDebut: "2026-11-19", dateFin: "2026-11-20" });
    await withSim({ med: { minimal: true } }, async (s) => {
      expect(Object.keys((await med("consumption/daily", "2026-11-10", "2026-11-12", s)).body.data).sort()).toEqual(["grandeur", "idPrm", "pas", "periode"]);
      expect(Object.keys((await med("consumption/detail", "2026-11-10", "2026-11-12", s)).body.data).sort()).toEqual(["grandeur", "idPrm", "periode"]);
    });
  });

  it("answers errors as {success: false, error: {code, message}} (HTTP 200 by default, 4xx with errorStatus 'http')", async () => {
    const err = (code: string) => ({ status: 200, body: { success: false, data: null, error: { code, message: expect.any(String) } } });
    expect(await get(`/api/enedis/consumption/daily/${sim.prm}?start=2026-11-10&end=2026-11-12`, "Bearer nope")).toMatchObject(err("ACCESS_DENIED"));
    expect(await med("consumption/daily", "2026-11-10", "2026-11-12", sim, "2026", "98765432109876")).toMatchObject(err("ACCESS_DENIED"));
    expect(await med("consumption/daily", "10/11/2026", "2026-11-12")).toMatchObject(err("INVALID_DATE_FORMAT"));
    expect(await med("consumption/detail", "2026-11-01", "2026-11-10")).toMatchObject(err("INVALID_DATE_RANGE"));
    expect(await med("consumption/daily", "2024-01-01", "2024-01-10")).toMatchObject(err("ADAM-ERR0123"));
    expect(await med("production/daily", "2026-11-10", "2026-11-12")).toMatchObject(err("NO_DATA"));
    expect(await med("production/detail", "2026-11-10", "2026-11-12", sim, null)).toMatchObject(err("NO_DATA"));
    await withSim({ med: { errorStatus: "http" }, rateLimit: { max: 1, per: "utc-day" } }, async (s) => {
      expect((await med("consumption/daily", "2026-11-10", "2026-11-12", s)).status).toBe(200);
      const r = await med("consumption/daily", "2026-11-10", "2026-11-12", s);
      expect(r).toMatchObject({ status: 429, body: { success: false, error: { code: "RATE_LIMIT_EXCEEDED" } } });
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await med("production/daily", "2026-11-10", "2026-11-12", s, "2026", "98765432109876")).status).toBe(403);
    });
  });
});

describe("errors and limits (Conso API)", () => {
  const wrapped = (status: number, error: unknown) => ({ status, body: { status, message: "The Enedis API returned an error", error } });
  it("rejects missing and invalid authorization", async () => {
    const path = `/api/consommation_quotidienne?pointId=${sim.prm}&dateDebut=2026-11-01&dateFin=2026-11-02`;
    expect(await get(path, null)).toMatchObject({ status: 400, body: { status: 400, message: "Le header 'Authorization' est manquant ou invalide" } });
    expect((await get(path, sim.token)).status).toBe(400); // no scheme → no second word
    const bad = { status: 401, body: { status: 401, message: "Votre token est invalide ou ne permet pas d'accéder à ce PRM" } };
    expect(await get(path, "Bearer nope")).toMatchObject(bad);
    expect(await conso("consommation_quotidienne", "2026-11-01", "2026-11-02", sim, "98765432109876")).toMatchObject(bad);
  });
  it("rejects malformed parameters with the zod issues", async () => {
    for (const [prm, s, e] of [["123", "2026-11-01", "2026-11-02"], [sim.prm, "2026-13-01", "2026-11-02"], [sim.prm, "01/11/2026", "2026-11-02"]]) {
      const r = await conso("consommation_quotidienne", s!, e!, sim, prm!);
      expect(r).toMatchObject({ status: 400, body: { status: 400, message: "Paramètres invalides", error: { issues: expect.any(Array) } } });
    }
    expect((await conso("weekly_consumption", "2026-11-01", "2026-11-02")).body.message).toBe("Paramètres invalides");
    expect((await get(`/api/puissance_conso_max_quotidienne?pointId=${sim.prm}&dateDebut=2026-11-01&dateFin=2026-11-02&mesuresPas=PT1H`)).body.message).toBe("Paramètres invalides");
  });
  it("answers the v5-era type names with the retired v5 paths' Enedis 500, wrapped", async () => {
    for (const type of ["daily_consumption", "consumption_load_curve", "consumption_max_power", "daily_production", "production_load_curve"]) {
      expect(await conso(type, "2026-11-01", "2026-11-02")).toMatchObject(
        wrapped(500, { code: expect.any(String), message: "Problème technique dans l'interrogation du SI coeur" }),
      );
    }
  });
  it("enforces Enedis ranges with the ADAM-ERR shape", async () => {
    const adam = (code: string) => ({ error: code, error_description: expect.any(String) });
    expect((await conso("courbe_de_charge_consommation", "2026-11-01", "2026-11-08")).status).toBe(200);
    expect(await conso("courbe_de_charge_consommation", "2026-11-01", "2026-11-09")).toMatchObject(wrapped(400, adam("ADAM-ERR0025")));
    expect((await conso("consommation_quotidienne", "2025-11-20", "2026-11-19")).status).toBe(200);
    expect(await conso("consommation_quotidienne", "2025-11-19", "2026-11-20")).toMatchObject(wrapped(400, adam("ADAM-ERR0025")));
    expect(await conso("consommation_quotidienne", "2026-11-02", "2026-11-02")).toMatchObject(
      wrapped(400, { error: "ADAM-ERR0002", error_description: "La date de fin doit être supérieure à la date de début." }),
    );
    expect((await conso("consommation_quotidienne", "2026-11-19", "2026-11-21")).status).toBe(400);
    const firstDay = DateTime.fromMillis(csv.first + sim.shiftMs, { zone: ZONE });
    expect(firstDay.toFormat("HH:mm")).toBe("00:00");
    const first = firstDay.toISODate()!;
    expect(await conso("consommation_quotidienne", firstDay.minus({ days: 6 }).toISODate()!, first)).toMatchObject(wrapped(400, adam("ADAM-ERR0123")));
    const edge = await conso("consommation_quotidienne", firstDay.minus({ days: 6 }).toISODate()!, firstDay.plus({ days: 1 }).toISODate()!);
    expect(pts(edge.body).map((p) => p.d)).toEqual([first]);
  });
  it("answers 429 with Retry-After beyond the simulated quota", async () => {
    await withSim({ rateLimit: { max: 2, retryAfterSeconds: 3600 } }, async (s) => {
      for (let i = 0; i < 2; i++) expect((await conso("consommation_quotidienne", "2026-11-10", "2026-11-11", s)).status).toBe(200);
      const r = await conso("consommation_quotidienne", "2026-11-10", "2026-11-11", s);
      expect(r).toMatchObject(wrapped(429, { code: expect.any(String), message: "SLA dépassé" }));
      expect(r.headers.get("retry-after")).toBe("3600");
    });
  });
});

/** A synthetic PV profile on the consumption grid (no real production data is bundled): 0 at night, a daily bell up to 1.2 kWh per half-hour. */
const solar = (s: HalfHourPoint[]): HalfHourPoint[] =>
  s.map((p) => {
    const h = ((p.start / 3_600_000) % 24) + 1; // ≈ Paris winter hour
    return { start: p.start, wh: h < 7 || h > 19 ? 0 : Math.round(1200 * Math.sin((Math.PI * (h - 7)) / 12) * 1000) / 1000 };
  });

describe("production and max power", () => {
  it("serves a production series as PROD, and max power per day from the curve", async () => {
    await withSim({ production: solar(series) }, async (s) => {
      const c = await conso("courbe_de_charge_production", "2026-06-10", "2026-06-11", s);
      expect(c.body.grandeur[0]).toMatchObject({ grandeurMetier: "PROD", grandeurPhysique: "PA", unite: "W" });
      const prodServed = new Map(s.servedProduction().map((p) => [p.start, p.wh]));
      const cp = pts(c.body);
      expect(cp).toHaveLength(48);
      const day = DateTime.fromISO("2026-06-10", { zone: ZONE }).toMillis();
      cp.forEach((p, i) => expect(milliOf(p.v!)).toBe(Math.round(2 * prodServed.get(day + i * HH)! * 1000)));
      const d = pts((await conso("production_quotidienne", "2026-06-10", "2026-06-11", s)).body);
      expect(milliOf(d[0]!.v!)).toBe(cp.reduce((a, p) => a + milliOf(p.v!) / 2, 0));
      const m = await med("production/detail", "2026-06-10", "2026-06-11", s);
      expect(m.body.data.grandeur[0].grandeurMetier).toBe("PROD");
    });
    expect(await conso("courbe_de_charge_production", "2026-06-10", "2026-06-11")).toMatchObject({
      status: 404, body: { error: { code: expect.any(String), message: "Pas de mesure trouvée pour ce point" } },
    });
  });

  it("max power: per local day the max half-hour average power in VA, d = that interval's start", async () => {
    const r = await conso("puissance_conso_max_quotidienne", "2026-11-10", "2026-11-13");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ modeCalcul: "MESURE", pas: "P1D", periode: { dateDebut: "2026-11-10", dateFin: "2026-11-13" } });
    expect(r.body.grandeur[0]).toMatchObject({ grandeurMetier: "CONS", grandeurPhysique: "PMA", unite: "VA" });
    const curve = pts((await conso("courbe_de_charge_consommation", "2026-11-10", "2026-11-13")).body);
    const pm = pts(r.body);
    expect(pm).toHaveLength(3);
    pm.forEach((p, i) => {
      const day = curve.slice(i * 48, i * 48 + 48);
      const max = Math.max(...day.map((x) => milliOf(x.v!)));
      expect(milliOf(p.v!)).toBe(max);
      const at = day.find((x) => milliOf(x.v!) === max)!;
      expect(p.d).toBe(naivePlus(at.d, -30));
      expect(p.d.slice(0, 10)).toBe(`2026-11-${10 + i}`);
    });
    const monthly = await get(`/api/puissance_conso_max_quotidienne?pointId=${sim.prm}&dateDebut=2026-10-01&dateFin=2026-11-01&mesuresPas=P1M`);
    expect(monthly.body.pas).toBe("P1M");
    expect(pts(monthly.body)).toHaveLength(1);
    expect((await med("power", "2026-11-10", "2026-11-13")).body.data).toEqual(r.body);
  });
});

describe("steps and null values", () => {
  it("serves spans at PT60M and PT10M inside a series; energy per day still equals the daily value", async () => {
    const steps = [
      { from: "2026-06-02", to: "2026-06-03", step: "PT60M" as const },
      { from: "2026-06-03T12:00", to: "2026-06-03T13:00", step: "PT10M" as const },
    ];
    await withSim({ steps }, async (s) => {
      const c = pts((await conso("courbe_de_charge_consommation", "2026-06-01", "2026-06-04", s)).body);
      const daily = pts((await conso("consommation_quotidienne", "2026-06-01", "2026-06-04", s)).body);
      const byDay = (day: string, next: string) => c.filter((p) => (p.d > `${day} 00:00:00` && p.d <= `${next} 00:00:00`));
      const d1 = byDay("2026-06-01", "2026-06-02"), d2 = byDay("2026-06-02", "2026-06-03"), d3 = byDay("2026-06-03", "2026-06-04");
      expect([d1.length, d2.length, d3.length]).toEqual([48, 24, 46 + 6]);
      expect(d2.every((p) => p.p === "PT60M")).toBe(true);
      expect(d2[0]!.d).toBe("2026-06-02 01:00:00");
      const t0 = DateTime.fromISO("2026-06-02", { zone: ZONE }).toMillis();
      expect(milliOf(d2[0]!.v!)).toBe(src(t0)! + src(t0 + HH)!); // Wh over one hour = average W
      const ten = d3.filter((p) => p.p === "PT10M");
      expect(ten.map((p) => p.d.slice(11))).toEqual(["12:10:00", "12:20:00", "12:30:00", "12:40:00", "12:50:00", "13:00:00"]);
      [d1, d2, d3].forEach((day, i) => {
        const energy = day.reduce((a, p) => a + (milliOf(p.v!) * stepMin(p.p!)) / 60, 0);
        expect(Math.abs(energy - milliOf(daily[i]!.v!))).toBeLessThan(1);
      });
      const m = pts((await med("consumption/detail", "2026-06-02", "2026-06-03", s)).body.data);
      expect(m[0]).toMatchObject({ d: "2026-06-02 00:00:00", p: "PT60M" });
    });
  });

  it("emits v: null for missing intervals only with nullForMissing", async () => {
    const gap = [...csv.map].find(([t, v]) => v === null && t + sim.shiftMs + DAY < TODAY_MIDNIGHT)![0] + sim.shiftMs;
    const day = DateTime.fromMillis(gap, { zone: ZONE }).startOf("day");
    const [a, b] = [day.toISODate()!, day.plus({ days: 1 }).toISODate()!];
    const slots = (day.plus({ days: 1 }).toMillis() - day.toMillis()) / HH;
    await withSim({ nullForMissing: true }, async (s) => {
      const c = pts((await conso("courbe_de_charge_consommation", a, b, s)).body);
      expect(c).toHaveLength(slots);
      const nulls = c.filter((p) => p.v === null);
      expect(nulls.length).toBeGreaterThan(0);
      expect(nulls).toContainEqual({ v: null, d: DateTime.fromMillis(gap + HH, { zone: ZONE }).toFormat("yyyy-MM-dd HH:mm:ss"), p: "PT30M", n: "B", iv: "0", ec: "0" });
    });
    expect(pts((await conso("courbe_de_charge_consommation", a, b)).body).every((p) => p.v !== null)).toBe(true);
  });
});

describe("three-year history", () => {
  const long = loadThreeYearSeries();
  it("repeats the real year with 52-week shifts on a continuous grid", () => {
    expect(long).toHaveLength(THREE_YEAR_DAYS * 48);
    expect(long.at(-1)!.start).toBe(csv.last);
    expect(long.every((p, i) => i === 0 || p.start - long[i - 1]!.start === HH)).toBe(true);
    const byStart = new Map(long.map((p) => [p.start, p.wh]));
    for (const t of [csv.first, Date.UTC(2008, 5, 3, 12), csv.last]) {
      expect(Math.round(byStart.get(t)! * 1000)).toBe(csv.map.get(t)!);
    }
    // Earlier copies repeat the source 52 and 104 weeks back (except the 2-day overlaps, where the later copy wins).
    for (const t of [csv.first, Date.UTC(2008, 5, 3, 12)]) {
      expect(Math.round(byStart.get(t - 52 * WEEK)! * 1000)).toBe(csv.map.get(t)!);
      expect(Math.round(byStart.get(t - 104 * WEEK)! * 1000)).toBe(csv.map.get(t)!);
    }
    expect(Math.round(byStart.get(csv.last - 52 * WEEK)! * 1000)).toBe(csv.map.get(csv.last - 52 * WEEK)!);
    expect(repeatSeries(series, 400).length).toBe(400 * 48);
  });

  it("answers daily 36 months + 15 days back and curves 24 months + 15 days, then ADAM-ERR0123", async () => {
    await withSim({ series: long }, async (s) => {
      // today 2026-11-20: daily depth 2023-11-05, curve depth 2024-11-05.
      expect(s.served()[0]!.start).toBeLessThan(Date.UTC(2023, 10, 4));
      const d = pts((await conso("consommation_quotidienne", "2023-11-01", "2023-11-08", s)).body);
      expect(d[0]!.d).toBe("2023-11-05");
      expect((await conso("consommation_quotidienne", "2023-10-01", "2023-11-05", s)).body.error.error).toBe("ADAM-ERR0123");
      let days = 0;
      for (const [a, b] of [["2023-11-05", "2024-11-04"], ["2024-11-04", "2025-11-04"], ["2025-11-04", "2026-11-04"], ["2026-11-04", "2026-11-20"]] as const) {
        const r = await conso("consommation_quotidienne", a, b, s);
        expect(r.status).toBe(200);
        days += pts(r.body).length;
      }
      expect(days).toBeGreaterThan(36 * 30);
      const c = pts((await conso("courbe_de_charge_consommation", "2024-11-03", "2024-11-06", s)).body);
      expect(c[0]!.d).toBe("2024-11-05 00:30:00");
      expect((await conso("courbe_de_charge_consommation", "2024-10-29", "2024-11-05", s)).body.error.error).toBe("ADAM-ERR0123");
      expect((await med("consumption/detail", "2024-10-29", "2024-11-05", s)).body.error.code).toBe("ADAM-ERR0123");
    });
  });
});

describe("Data Connect direct", () => {
  it("issues a client-credentials token and serves the raw v2 object; errors raw", async () => {
    let clock = NOW;
    const s = await startProviderSimulator({ series, now: () => clock, dataConnect: { tokenLifetimeS: 60 } });
    try {
      const basic = Buffer.from(`${s.clientId}:${s.clientSecret}`).toString("base64");
      const tok = await fetch(`${s.baseUrl}/oauth2/v3/token`, {
        method: "POST",
        headers: { Authorization: `Basic ${basic}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
      expect(tok.status).toBe(200);
      const t = (await tok.json()) as { access_token: string; token_type: string; expires_in: number };
      expect(t).toMatchObject({ token_type: "Bearer", expires_in: 60 });
      const bad = await fetch(`${s.baseUrl}/oauth2/v3/token`, { method: "POST", body: `grant_type=client_credentials&client_id=${s.clientId}&client_secret=x` });
      expect(bad.status).toBe(401);
      const q = `pointId=${s.prm}&dateDebut=2026-11-10&dateFin=2026-11-11`;
      const at = `Bearer ${t.access_token}`;
      const r = await get(`/mesure_synchrone_auto/v2/courbe_de_charge_consommation?${q}`, at, s);
      expect(r.status).toBe(200);
      expect(r.body).toEqual((await conso("courbe_de_charge_consommation", "2026-11-10", "2026-11-11", s)).body);
      expect(await get(`/mesure_synchrone_auto/v2/courbe_de_charge_production?${q}`, at, s)).toMatchObject({
        status: 404, body: { code: expect.any(String), message: "Pas de mesure trouvée pour ce point" },
      });
      expect((await get(`/mesure_synchrone_auto/v2/puissance_conso_max_quotidienne?${q}`, at, s)).status).toBe(500);
      expect((await get(`/mesure_synchrone_auto/v2/puissance_conso_max_quotidienne?${q}&mesuresPas=P1D&grandeurPhysique=PMA`, at, s)).status).toBe(200);
      expect(await get(`/mesure_synchrone_auto/v2/consommation_quotidienne?pointId=98765432109876&dateDebut=2026-11-10&dateFin=2026-11-11`, at, s)).toMatchObject({
        status: 403, body: { message: "Le client n'est pas titulaire du point demandé" },
      });
      expect(await get(`/mesure_synchrone_auto/v2/consommation_quotidienne?pointId=${s.prm}&dateDebut=2026-11-11&dateFin=2026-11-10`, at, s)).toMatchObject({
        status: 400, body: { error: "ADAM-ERR0002" },
      });
      expect((await get(`/metering_data_dc/v5/daily_consumption?usage_point_id=${s.prm}&start=2026-11-10&end=2026-11-11`, at, s)).status).toBe(500);
      clock += 61_000;
      expect(await get(`/mesure_synchrone_auto/v2/consommation_quotidienne?${q}`, at, s)).toMatchObject({ status: 401, body: { code: "900901" } });
      expect(s.requestCounts()).toMatchObject({ "oauth token": 2, "direct courbe_de_charge_consommation": 1, "direct puissance_conso_max_quotidienne": 2 });
    } finally {
      await s.close();
    }
  });
});

describe("v5 gateways", () => {
  it("an older self-hosted Conso API (consoApi: 'v5') serves v5 meter_reading bodies for the v5 names only", async () => {
    await withSim({ consoApi: "v5" }, async (s) => {
      const r = await get(`/api/consumption_load_curve?prm=${s.prm}&start=2026-11-10&end=2026-11-11`, `Bearer ${s.token}`, s);
      expect(Object.keys(r.body).sort()).toEqual(["end", "interval_reading", "quality", "reading_type", "start", "usage_point_id"]);
      expect(r.body.reading_type).toEqual({ unit: "W", measurement_kind: "power", aggregate: "average" });
      expect(r.body.interval_reading[0]).toEqual({ value: expect.any(String), date: "2026-11-10 00:30:00", interval_length: "PT30M", measure_type: "B" });
      const v2 = pts((await conso("courbe_de_charge_consommation", "2026-11-10", "2026-11-11")).body);
      expect(r.body.interval_reading.map((p: { value: string }) => p.value)).toEqual(v2.map((p) => p.v));
      expect((await conso("courbe_de_charge_consommation", "2026-11-10", "2026-11-11", s)).body.message).toBe("Paramètres invalides");
    });
  });

  it("keeps the legacy MyElectricalData routes: v5 wrapper, raw token, {detail} 403", async () => {
    const path = `/consumption_load_curve/${sim.prm}/start/2026-11-17/end/2026-11-18/`;
    const ok = await get(path, sim.token);
    expect(ok.status).toBe(200);
    expect(ok.body.meter_reading.interval_reading).toHaveLength(48);
    expect(ok.body.meter_reading.interval_reading[0].date).toBe("2026-11-17 00:30:00");
    expect((await get(`/daily_consumption/${sim.prm}/start/2026-11-17/end/2026-11-18/cache/`, sim.token)).status).toBe(200);
    for (const r of [await get(path, `Bearer ${sim.token}`), await get(path, null), await get(path.replace(sim.prm, "98765432109876"), sim.token)]) {
      expect(r).toMatchObject({ status: 403, body: { detail: expect.any(String) } });
    }
    const longRange = await get(`/consumption_load_curve/${sim.prm}/start/2026-11-01/end/2026-11-10/`, sim.token);
    expect(longRange).toMatchObject({ status: 400, body: { detail: expect.stringContaining("less than 7 days") } });
  });
});

describe("failures, corrections, counters and the clock", () => {
  it("injects failures, counts requests per route and type, applies overrides and follows the clock", async () => {
    let now = NOW;
    const s = await startProviderSimulator({ series, now: () => now, prm: "11111111111111", token: "tok" });
    try {
      expect(s.requests).toEqual([]);
      const path = "/api/consommation_quotidienne?pointId=11111111111111&dateDebut=2026-11-18&dateFin=2026-11-19";
      s.failNext({ status: 429, body: { status: 429, message: "Quota" }, headers: { "Retry-After": "1" }, times: 2 });
      s.failNext({ status: 200, body: "<html>not json" });
      s.failNext({ status: 503, body: "down", route: "med" });
      const a = await get(path, "Bearer tok", s);
      expect(a.status).toBe(429);
      expect(a.headers.get("retry-after")).toBe("1");
      expect((await get(path, "Bearer tok", s)).status).toBe(429);
      expect((await get(path, "Bearer tok", s)).body).toBe("<html>not json");
      const ok = await get(path, "Bearer tok", s);
      expect(ok.status).toBe(200);
      expect((await med("consumption/daily", "2026-11-18", "2026-11-19", s)).status).toBe(503);
      expect(s.requests.map((r) => r.status)).toEqual([429, 429, 200, 200, 503]);
      expect(s.requests[0]).toEqual({ path, method: "GET", status: 429, route: "conso", type: "consommation_quotidienne" });
      expect(s.requestCount({ route: "conso" })).toBe(4);
      expect(s.requestCount({ route: "conso", status: 429 })).toBe(2);
      expect(s.requestCount({ type: "consumption/daily" })).toBe(1);

      const t = Date.UTC(2026, 10, 18, 12); // 13:00–13:30 Paris on 2026-11-18
      s.override(new Map([[t, 1000.5]]));
      const curve = await get("/api/courbe_de_charge_consommation?pointId=11111111111111&dateDebut=2026-11-18&dateFin=2026-11-19", "Bearer tok", s);
      expect(pts(curve.body).find((p) => p.d === "2026-11-18 13:30:00")!.v).toBe("2001");
      const daily = await get(path, "Bearer tok", s);
      expect(milliOf(pts(daily.body)[0]!.v!) - milliOf(pts(ok.body)[0]!.v!)).toBe(1_000_500 - (csv.map.get(t - s.shiftMs) as number));
      expect(s.served().find((p) => p.start === t)!.wh).toBe(1000.5);

      const before = s.served().length;
      now += DAY;
      const added = [...csv.map].filter(([u, v]) => v !== null && u + s.shiftMs >= TODAY_MIDNIGHT && u + s.shiftMs < TODAY_MIDNIGHT + DAY).length;
      expect(s.served().length).toBe(before + added);
      expect(s.served().at(-1)!.start + HH).toBe(TODAY_MIDNIGHT + DAY);
      expect((await get("/api/consommation_quotidienne?pointId=11111111111111&dateDebut=2026-11-20&dateFin=2026-11-21", "Bearer tok", s)).status).toBe(200);
      expect(s.requests).toHaveLength(8);
      expect(s.requestCounts()).toEqual({ "conso consommation_quotidienne": 6, "conso courbe_de_charge_consommation": 1, "med consumption/daily": 1 });
    } finally {
      await s.close();
    }
  });
});
