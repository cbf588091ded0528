/**
 * The provider simulator serves the real 2008 Sceaux series through the Conso API and legacy
 * MyElectricalData contracts. Expectations are computed here from the raw CSV text with integer
 * milli-Wh arithmetic and hard-coded UTC instants, not through the simulator's code paths.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";

const MIN = 60_000;
const HH = 30 * MIN;
const DAY = 86_400_000;
const WEEK = 7 * DAY;

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
/** "1565.4" → 1565400 (exact). */
const milliOf = (s: string): number => {
  const [int, frac = ""] = s.split(".");
  expect(frac.length).toBeLessThanOrEqual(3);
  return Number(int) * 1000 + Number(frac.padEnd(3, "0"));
};

const csv = rawCsv();
const series = loadHalfHourSeries(SCEAUX_2008_30MIN);

// 2025-11-21 10:00 Paris (CET): today's local midnight is 2025-11-20T23:00Z.
const NOW = Date.UTC(2025, 10, 21, 9, 0);
const TODAY_MIDNIGHT = Date.UTC(2025, 10, 20, 23, 0);

type Point = { value: string; date: string; interval_length?: string; measure_type?: string };
type Reading = { usage_point_id: string; start: string; end: string; quality: string; reading_type: Record<string, string>; interval_reading: Point[] };

let sim: ProviderSimulator;
let clock = NOW;

async function get(path: string, auth: string | null = `Bearer ${sim.token}`, s = sim): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(s.baseUrl + path, { headers: auth === null ? {} : { Authorization: auth } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* verbatim */
  }
  return { status: res.status, body, headers: res.headers };
}
const conso = (type: string, start: string, end: string, prm = sim.prm) =>
  get(`/api/${type}?prm=${prm}&start=${start}&end=${end}`);
/** Source milli-Wh of the shifted UTC start `t`. */
const src = (t: number) => csv.map.get(t - sim.shiftMs);

beforeAll(async () => {
  sim = await startProviderSimulator({ series, now: () => clock });
});
afterAll(async () => {
  await sim.close();
});

describe("shift and availability", () => {
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
    // Weeks keep weekdays: the source's first start (Tue 2008-01-01 00:00 Paris) stays a Tuesday.
    expect(new Date(served[0]!.start + HH).getUTCDay()).toBe(new Date(csv.first + HH).getUTCDay());

    const r = await conso("daily_consumption", "2025-11-19", "2025-11-21");
    expect(r.status).toBe(200);
    expect(r.body.interval_reading.map((p: Point) => p.date)).toEqual(["2025-11-19", "2025-11-20"]);
    let sum = 0;
    for (let t = Date.UTC(2025, 10, 19, 23); t < TODAY_MIDNIGHT; t += HH) sum += src(t)!;
    expect(milliOf(r.body.interval_reading[1].value)).toBe(sum);
  });

  it("returns the unwrapped meter_reading of the Conso API", async () => {
    const r = await conso("consumption_load_curve", "2025-11-20", "2025-11-21");
    const body = r.body as Reading;
    expect(Object.keys(body).sort()).toEqual(["end", "interval_reading", "quality", "reading_type", "start", "usage_point_id"]);
    expect(body).toMatchObject({ usage_point_id: sim.prm, start: "2025-11-20", end: "2025-11-21", quality: "BRUT" });
    expect(body.reading_type).toEqual({ unit: "W", measurement_kind: "power", aggregate: "average" });
    expect(body.interval_reading).toHaveLength(48);
    expect(body.interval_reading[0]).toEqual({
      value: expect.any(String), date: "2025-11-20 00:30:00", interval_length: "PT30M", measure_type: "B",
    });
    expect(body.interval_reading.at(-1)!.date).toBe("2025-11-21 00:00:00");
    // W = 2 × Wh, decimals kept: the first interval starts 2025-11-19T23:00Z.
    expect(milliOf(body.interval_reading[0]!.value)).toBe(2 * src(Date.UTC(2025, 10, 19, 23))!);
  });
});

/** Wall-clock "HH:mm:ss" labels of interval ends over a day, end-stamped from 00:30 to 24:00. */
function labels(day: string, next: string, repeat: "none" | "skip" | "double"): string[] {
  const out: string[] = [];
  for (let k = 1; k <= 48; k++) {
    const h = Math.floor(k / 2), m = (k % 2) * 30;
    const hm = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:00`;
    if (repeat === "skip" && (hm === "02:00:00" || hm === "02:30:00")) continue;
    out.push(k === 48 ? `${next} 00:00:00` : `${day} ${hm}`);
    if (repeat === "double" && hm === "02:30:00") out.push(`${day} 02:00:00`, `${day} 02:30:00`);
  }
  return out;
}

describe("DST days of the target year", () => {
  it.each([
    { day: "2025-03-30", next: "2025-03-31", from: Date.UTC(2025, 2, 29, 23), to: Date.UTC(2025, 2, 30, 22), n: 46, rep: "skip" as const },
    { day: "2025-10-26", next: "2025-10-27", from: Date.UTC(2025, 9, 25, 22), to: Date.UTC(2025, 9, 26, 23), n: 50, rep: "double" as const },
  ])("$day has $n points with correct stamps and values", async ({ day, next, from, to, n, rep }) => {
    const starts: number[] = [];
    for (let t = from; t < to; t += HH) starts.push(t);
    expect(starts).toHaveLength(n);
    expect(starts.every((t) => src(t) != null)).toBe(true); // precondition: no gap in the source
    const r = await conso("consumption_load_curve", day, next);
    expect(r.status).toBe(200);
    const pts = (r.body as Reading).interval_reading;
    expect(pts.map((p) => p.date)).toEqual(labels(day, next, rep));
    expect(pts.map((p) => milliOf(p.value))).toEqual(starts.map((t) => 2 * src(t)!));
    const daily = await conso("daily_consumption", day, next);
    expect(milliOf(daily.body.interval_reading[0].value)).toBe(starts.reduce((a, t) => a + src(t)!, 0));
  });
});

describe("daily vs load curve", () => {
  it("the sum of W/2 over each day of a week equals the daily value", async () => {
    const curve = (await conso("consumption_load_curve", "2025-06-02", "2025-06-09")).body as Reading;
    const daily = (await conso("daily_consumption", "2025-06-02", "2025-06-09")).body as Reading;
    expect(daily.reading_type).toEqual({ unit: "Wh", measurement_kind: "energy", aggregate: "sum", measuring_period: "P1D" });
    expect(daily.interval_reading).toHaveLength(7);
    expect(curve.interval_reading).toHaveLength(7 * 48);
    for (const [i, d] of daily.interval_reading.entries()) {
      const day = curve.interval_reading.slice(i * 48, i * 48 + 48);
      const halfSum = day.reduce((a, p) => a + milliOf(p.value), 0) / 2;
      expect(milliOf(d.value)).toBe(halfSum);
    }
  });

  it("has no daily value for a day with a gap, and the curve simply lacks the missing points", async () => {
    const gaps = [...csv.map].filter(([, v]) => v === null).map(([t]) => t + sim.shiftMs).filter((t) => t + HH <= TODAY_MIDNIGHT);
    const gapDays = [...new Set(gaps.map((t) => DateTime.fromMillis(t, { zone: "Europe/Paris" }).toISODate()!))];
    expect(gapDays.length).toBeGreaterThanOrEqual(2);
    for (const day of gapDays) {
      const d = DateTime.fromISO(day, { zone: "Europe/Paris" });
      const start = d.minus({ days: 1 }).toISODate()!, end = d.plus({ days: 2 }).toISODate()!;
      const daily = (await conso("daily_consumption", start, end)).body as Reading;
      const dates = daily.interval_reading.map((p) => p.date);
      expect(dates).not.toContain(day);
      const curve = (await conso("consumption_load_curve", day, d.plus({ days: 1 }).toISODate()!)).body as Reading;
      const inDay = gaps.filter((t) => t >= d.toMillis() && t < d.plus({ days: 1 }).toMillis()).length;
      const slots = (d.plus({ days: 1 }).toMillis() - d.toMillis()) / HH;
      expect(curve.interval_reading).toHaveLength(slots - inDay);
      expect(curve.interval_reading.every((p) => Number(p.value) >= 0 && p.value !== "")).toBe(true);
    }
  });
});

describe("errors and limits (Conso API)", () => {
  const enedis = (error: string, error_description: string) => ({
    status: 400, message: "The Enedis API returned an error", error: { error, error_description },
  });
  it("rejects missing and invalid authorization", async () => {
    const path = `/api/daily_consumption?prm=${sim.prm}&start=2025-11-01&end=2025-11-02`;
    expect(await get(path, null)).toMatchObject({ status: 400, body: { status: 400, message: "Le header 'Authorization' est manquant ou invalide" } });
    expect((await get(path, sim.token)).status).toBe(400); // no scheme → no second word
    const bad = { status: 401, body: { status: 401, message: "Votre token est invalide ou ne permet pas d'accéder à ce PRM" } };
    expect(await get(path, "Bearer nope")).toMatchObject(bad);
    expect(await conso("daily_consumption", "2025-11-01", "2025-11-02", "98765432109876")).toMatchObject(bad);
  });
  it("rejects malformed parameters with the zod issues", async () => {
    for (const [prm, s, e] of [["123", "2025-11-01", "2025-11-02"], [sim.prm, "2025-13-01", "2025-11-02"], [sim.prm, "01/11/2025", "2025-11-02"]]) {
      const r = await conso("daily_consumption", s!, e!, prm!);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ status: 400, message: "Paramètres invalides", error: { issues: expect.any(Array) } });
    }
    expect((await conso("weekly_consumption", "2025-11-01", "2025-11-02")).body.message).toBe("Paramètres invalides");
  });
  it("enforces Enedis ranges", async () => {
    expect((await conso("consumption_load_curve", "2025-11-01", "2025-11-08")).status).toBe(200);
    expect(await conso("consumption_load_curve", "2025-11-01", "2025-11-09")).toMatchObject({
      status: 400, body: enedis("ADAM-DC-0015", "The requested period must be less than 7 days for an access to the load curve."),
    });
    expect((await conso("daily_consumption", "2024-11-20", "2025-11-20")).status).toBe(200);
    const long = await conso("daily_consumption", "2024-11-19", "2025-11-20");
    expect(long.status).toBe(400);
    expect(long.body.error.error).toBe("ADAM-DC-0015");
    expect(await conso("daily_consumption", "2025-11-02", "2025-11-02")).toMatchObject({
      status: 400, body: enedis("Invalid_request", "Start date should be before end date."),
    });
    expect(await conso("daily_consumption", "2025-11-20", "2025-11-22")).toMatchObject({
      status: 400, body: enedis("Invalid_request", "The end date parameter must be earlier than the current date"),
    });
    // First served day is 2024-11-26 (CSV first start 2007-12-31T23:00Z + shift; 366 days end 2025-11-26).
    expect(DateTime.fromMillis(csv.first + sim.shiftMs, { zone: "Europe/Paris" }).toISO()).toBe("2024-11-26T00:00:00.000+01:00");
    expect(await conso("daily_consumption", "2024-11-20", "2024-11-26")).toMatchObject({
      status: 400, body: enedis("ADAM-ERR0123", "The requested period cannot be anterior to the meter's last activation date"),
    });
    const edge = await conso("daily_consumption", "2024-11-20", "2024-11-27");
    expect(edge.body.interval_reading.map((p: Point) => p.date)).toEqual(["2024-11-26"]);
  });
});

describe("MyElectricalData legacy contract", () => {
  it("wraps meter_reading, takes a raw token and answers {detail} 403 otherwise", async () => {
    const path = `/consumption_load_curve/${sim.prm}/start/2025-11-18/end/2025-11-19/`;
    const ok = await get(path, sim.token);
    expect(ok.status).toBe(200);
    expect(ok.body.meter_reading.interval_reading).toHaveLength(48);
    const viaConso = await conso("consumption_load_curve", "2025-11-18", "2025-11-19");
    expect(ok.body.meter_reading).toEqual(viaConso.body);
    expect((await get(`/daily_consumption/${sim.prm}/start/2025-11-18/end/2025-11-19/cache/`, sim.token)).status).toBe(200);
    for (const r of [await get(path, `Bearer ${sim.token}`), await get(path, null), await get(path.replace(sim.prm, "98765432109876"), sim.token)]) {
      expect(r.status).toBe(403);
      expect(r.body).toEqual({ detail: expect.any(String) });
    }
    const long = await get(`/consumption_load_curve/${sim.prm}/start/2025-11-01/end/2025-11-10/`, sim.token);
    expect(long).toMatchObject({ status: 400, body: { detail: expect.stringContaining("less than 7 days") } });
  });
});

describe("failures, corrections, counters and the clock", () => {
  it("injects failures, counts every request, applies overrides and follows the clock", async () => {
    let now = NOW;
    const s = await startProviderSimulator({ series, now: () => now, prm: "11111111111111", token: "tok" });
    try {
      expect(s.requests).toEqual([]);
      const path = "/api/daily_consumption?prm=11111111111111&start=2025-11-19&end=2025-11-20";
      s.failNext({ status: 429, body: { status: 429, message: "Quota" }, headers: { "Retry-After": "1" }, times: 2 });
      s.failNext({ status: 200, body: "<html>not json" });
      const a = await get(path, "Bearer tok", s);
      expect(a.status).toBe(429);
      expect(a.headers.get("retry-after")).toBe("1");
      expect((await get(path, "Bearer tok", s)).status).toBe(429);
      expect((await get(path, "Bearer tok", s)).body).toBe("<html>not json");
      const ok = await get(path, "Bearer tok", s);
      expect(ok.status).toBe(200);
      expect(s.requests.map((r) => r.status)).toEqual([429, 429, 200, 200]);
      expect(s.requests[0]!.path).toBe(path);

      const t = Date.UTC(2025, 10, 19, 12); // 13:00–13:30 Paris on 2025-11-19
      s.override(new Map([[t, 1000.5]]));
      const curve = await get("/api/consumption_load_curve?prm=11111111111111&start=2025-11-19&end=2025-11-20", "Bearer tok", s);
      expect(curve.body.interval_reading.find((p: Point) => p.date === "2025-11-19 13:30:00").value).toBe("2001");
      const daily = await get(path, "Bearer tok", s);
      expect(milliOf(daily.body.interval_reading[0].value) - milliOf(ok.body.interval_reading[0].value)).toBe(1_000_500 - src(t)!);
      expect(s.served().find((p) => p.start === t)!.wh).toBe(1000.5);

      const before = s.served().length;
      now += DAY;
      const added = [...csv.map].filter(([u, v]) => v !== null && u + s.shiftMs >= TODAY_MIDNIGHT && u + s.shiftMs < TODAY_MIDNIGHT + DAY).length;
      expect(s.served().length).toBe(before + added);
      expect(s.served().at(-1)!.start + HH).toBe(TODAY_MIDNIGHT + DAY);
      expect((await get("/api/daily_consumption?prm=11111111111111&start=2025-11-21&end=2025-11-22", "Bearer tok", s)).status).toBe(200);
      expect(s.requests).toHaveLength(7);
    } finally {
      await s.close();
    }
  });
});
