/**
 * The statistics, readings and anomalies API over three years of real 30-min data: every period
 * total equals a sum computed here from the data file (luxon for the local calendar, not the
 * implementation's code), DST days are 23 h / 25 h long, comparisons stay right across a missing
 * week, pagination is stable, and every response matches the served OpenAPI document.
 */
import type { FastifyInstance } from "fastify";
import { DateTime } from "luxon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../../src/store/db.js";
import { deleteReadings } from "../../../src/store/readings.js";
import type { HalfHourPoint } from "../../helpers/dataset.js";
import { apiApp, PRM, series, storeWith } from "./fixture.js";
import { checkResponse } from "./schema-check.js";

const ZONE = "Europe/Paris";
const points = series();
const localCache = new Map<number, DateTime>();
/** The luxon local time of an instant in Paris (memoised: luxon is the independent reference here). */
const local = (t: number) => {
  let d = localCache.get(t);
  if (!d) localCache.set(t, (d = DateTime.fromMillis(t, { zone: ZONE })));
  return d;
};

/** Independent sums (kWh) by a key of the local start of each half-hour. */
function sums(pts: readonly HalfHourPoint[], key: (d: DateTime) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of pts) {
    if (p.wh === null) continue;
    const k = key(local(p.start));
    out.set(k, (out.get(k) ?? 0) + p.wh / 1000);
  }
  return out;
}

let db: Db;
let app: FastifyInstance;
let doc: Record<string, unknown>;

async function get(url: string, template: string) {
  const res = await app.inject({ method: "GET", url });
  const body = res.json();
  expect(checkResponse(doc, template, "get", res.statusCode, body)).toEqual([]);
  return { status: res.statusCode, body };
}

beforeAll(async () => {
  db = storeWith(points);
  app = await apiApp({ db, now: () => Date.parse("2009-01-01T12:00:00Z") });
  doc = (await app.inject({ method: "GET", url: "/api/openapi.json" })).json();
});
afterAll(async () => {
  await app.close();
});

describe("period statistics equal independent sums", () => {
  it("every month of three years", async () => {
    const expected = sums(points, (d) => d.toFormat("yyyy-MM"));
    const { status, body } = await get(`/api/meters/${PRM}/statistics?period=month&from=2006-01-01&to=2009-01-01`, "/api/meters/{id}/statistics");
    expect(status).toBe(200);
    expect(body.data_points).toHaveLength(36);
    for (const p of body.data_points) expect(p.value).toBeCloseTo(expected.get(p.period)!, 6);
    const total = body.data_points.reduce((a: number, p: { value: number }) => a + p.value, 0);
    expect(body.statistics.total).toBeCloseTo(total, 6);
    expect(body.statistics.count).toBe(36);
    expect(body.unit).toBe("kWh");
  });

  it("every ISO week and every year", async () => {
    const weeks = sums(points, (d) => `${d.weekYear}-W${String(d.weekNumber).padStart(2, "0")}`);
    const w = await get(`/api/meters/${PRM}/statistics?period=week&from=2006-01-02&to=2008-12-29`, "/api/meters/{id}/statistics");
    expect(w.body.data_points.length).toBeGreaterThan(150);
    for (const p of w.body.data_points) expect(p.value).toBeCloseTo(weeks.get(p.period)!, 6);
    const years = sums(points, (d) => d.toFormat("yyyy"));
    const y = await get(`/api/meters/${PRM}/statistics?period=year&from=2006-01-01&to=2009-01-01`, "/api/meters/{id}/statistics");
    expect(y.body.data_points.map((p: { period: string }) => p.period)).toEqual(["2006", "2007", "2008"]);
    for (const p of y.body.data_points) expect(p.value).toBeCloseTo(years.get(p.period)!, 6);
  });

  it("DST days of March and October (Paris) are 23 h and 25 h, with their own half-hours", async () => {
    const days = sums(points, (d) => d.toISODate()!);
    for (const [month, dstDay, hours] of [
      ["2008-03", "2008-03-30", 23],
      ["2008-10", "2008-10-26", 25],
      ["2007-03", "2007-03-25", 23],
      ["2007-10", "2007-10-28", 25],
    ] as const) {
      const from = `${month}-01`;
      const to = DateTime.fromISO(from, { zone: ZONE }).plus({ months: 1 }).toISODate()!;
      const { body } = await get(`/api/meters/${PRM}/statistics?period=day&from=${from}&to=${to}`, "/api/meters/{id}/statistics");
      const p = body.data_points.find((x: { period: string }) => x.period === dstDay);
      expect((Date.parse(p.end_utc) - Date.parse(p.start_utc)) / 3_600_000).toBe(hours);
      expect(p.value).toBeCloseTo(days.get(dstDay)!, 6);
      const monthly = await get(`/api/meters/${PRM}/statistics?period=month&from=${from}&to=${to}`, "/api/meters/{id}/statistics");
      expect(monthly.body.data_points[0].value).toBeCloseTo(sums(points, (d) => d.toFormat("yyyy-MM")).get(month)!, 6);
      // The month's UTC bounds follow the local midnights on either side of the change.
      expect(monthly.body.data_points[0].start_utc).toBe(DateTime.fromISO(from, { zone: ZONE }).toUTC().toISO({ suppressMilliseconds: true })!.replace("Z", ".000Z"));
    }
  });
});

describe("comparisons across a missing week", () => {
  it("reports the week as missing and compares daily averages, not totals", async () => {
    const gappy = storeWith(points);
    const gapFrom = DateTime.fromISO("2008-10-06", { zone: ZONE });
    deleteReadings(gappy, PRM, gapFrom.toMillis(), gapFrom.plus({ days: 7 }).toMillis());
    const gapApp = await apiApp({ db: gappy, now: () => Date.parse("2009-01-01T12:00:00Z") });
    try {
      const res = await gapApp.inject({ method: "GET", url: `/api/meters/${PRM}/statistics?period=month&from=2008-10-01&to=2008-12-01` });
      const body = res.json();
      expect(checkResponse(doc, "/api/meters/{id}/statistics", "get", 200, body)).toEqual([]);
      const [oct, nov] = body.data_points;
      // Independent: Paris days of the kept data, complete when they have all their half-hours.
      const byDay = new Map<string, { kwh: number; n: number }>();
      for (const p of points) {
        if (p.wh === null) continue;
        const d = local(p.start).toISODate()!;
        if (d >= "2008-10-06" && d <= "2008-10-12") continue;
        const e = byDay.get(d) ?? { kwh: 0, n: 0 };
        e.kwh += p.wh / 1000;
        e.n++;
        byDay.set(d, e);
      }
      const halfHours = (d: string) => DateTime.fromISO(d, { zone: ZONE }).plus({ days: 1 }).diff(DateTime.fromISO(d, { zone: ZONE }), "minutes").minutes / 30;
      // Missing: the removed week plus the days the real data itself has gaps in.
      const octDays = Array.from({ length: 31 }, (_, i) => `2008-10-${String(i + 1).padStart(2, "0")}`);
      const incomplete = octDays.filter((d) => (byDay.get(d)?.n ?? 0) !== halfHours(d));
      expect(incomplete).toEqual(expect.arrayContaining(["2008-10-06", "2008-10-12"]));
      expect(oct.missing_days).toEqual(incomplete);
      expect(oct.complete).toBe(false);
      const avgOf = (prefix: string) => {
        const full = [...byDay.entries()].filter(([d, e]) => d.startsWith(prefix) && e.n === halfHours(d));
        return full.reduce((a, [, e]) => a + e.kwh, 0) / full.length;
      };
      expect(oct.value).toBeCloseTo([...byDay.entries()].filter(([d]) => d.startsWith("2008-10")).reduce((a, [, e]) => a + e.kwh, 0), 6);
      const detail = body.comparison.previous_period;
      expect(detail.basis).toBe("daily_average");
      const expected = Math.round((avgOf("2008-11") / avgOf("2008-10") - 1) * 1000) / 10;
      expect(detail.percent).toBeCloseTo(expected, 6);
      expect(body.comparison.vs_previous_period).toBe(`${expected > 0 ? "+" : ""}${expected.toFixed(1)}%`);
      // A naive total comparison would differ by the missing week's share: make sure we are not it.
      const naive = Math.round((nov.value / oct.value - 1) * 1000) / 10;
      expect(Math.abs(naive - expected)).toBeGreaterThan(5);
      // vs last year: November 2007 is complete; November 2008 too → totals.
      const ly = body.comparison.same_period_last_year;
      const months = sums(points, (d) => d.toFormat("yyyy-MM"));
      if (ly.basis === "total") expect(ly.percent).toBeCloseTo(Math.round((months.get("2008-11")! / months.get("2007-11")! - 1) * 1000) / 10, 6);
      expect(ly.reference_period).toBe("2007-11");
      // A period without any reading is missing (null), never zero.
      const empty = (await gapApp.inject({ method: "GET", url: `/api/meters/${PRM}/statistics?period=week&from=2008-10-06&to=2008-10-13` })).json();
      expect(empty.data_points[0].value).toBeNull();
      expect(empty.statistics.count).toBe(0);
      expect(empty.comparison.vs_previous_period).toBeNull();
    } finally {
      await gapApp.close();
    }
  });
});

describe("readings pagination", () => {
  it("pages are stable, disjoint, ordered and cover the range exactly", async () => {
    const from = "2008-03-01";
    const to = "2008-04-01";
    const expected = points
      .filter((p) => p.wh !== null && local(p.start).toISODate()! >= from && local(p.start).toISODate()! < to)
      .map((p) => new Date(p.start).toISOString());
    const seen: string[] = [];
    let page = 1;
    let totalPages = 1;
    do {
      const { status, body } = await get(`/api/meters/${PRM}/readings?from=${from}&to=${to}&per_page=1000&page=${page}`, "/api/meters/{id}/readings");
      expect(status).toBe(200);
      expect(body.pagination.total).toBe(expected.length);
      totalPages = body.pagination.total_pages;
      const again = (await app.inject({ method: "GET", url: `/api/meters/${PRM}/readings?from=${from}&to=${to}&per_page=1000&page=${page}` })).json();
      expect(again).toEqual(body);
      seen.push(...body.readings.map((r: { start: string }) => r.start));
      page++;
    } while (page <= totalPages);
    expect(seen).toEqual(expected);
    expect((await app.inject({ method: "GET", url: `/api/meters/${PRM}/readings?from=${from}&to=${to}&per_page=1001` })).statusCode).toBe(400);
  });
});

describe("anomalies and errors", () => {
  it("anomalies of the last 30 days match the 7-day rule computed here", async () => {
    const { body } = await get(`/api/meters/${PRM}/anomalies?days=30&threshold=120`, "/api/meters/{id}/anomalies");
    const daily = new Map<string, { kwh: number; n: number }>();
    for (const p of points) {
      if (p.wh === null) continue;
      const d = local(p.start).toISODate()!;
      const e = daily.get(d) ?? { kwh: 0, n: 0 };
      e.kwh += p.wh / 1000;
      e.n++;
      daily.set(d, e);
    }
    const full = (d: string) => {
      const e = daily.get(d);
      const n = DateTime.fromISO(d, { zone: ZONE }).plus({ days: 1 }).diff(DateTime.fromISO(d, { zone: ZONE }), "minutes").minutes / 30;
      return e && e.n === n ? e.kwh : null;
    };
    const expected: string[] = [];
    for (let d = DateTime.fromISO("2008-12-02"); d.toISODate()! <= "2008-12-31"; d = d.plus({ days: 1 })) {
      const v = full(d.toISODate()!);
      const prev = [1, 2, 3, 4, 5, 6, 7].map((k) => full(d.minus({ days: k }).toISODate()!)).filter((x): x is number => x !== null);
      if (v === null || prev.length < 4) continue;
      if ((v / (prev.reduce((a, b) => a + b, 0) / prev.length)) * 100 >= 120) expected.push(d.toISODate()!);
    }
    expect(body.anomalies.map((a: { day: string }) => a.day).sort()).toEqual(expected.sort());
    expect(body.analysis_period).toBe("2008-12-02 to 2008-12-31");
  });

  it("invalid PRM 400, unknown meter 404, bad parameter 400, each with a plain message", async () => {
    const bad = await get(`/api/meters/123/statistics?period=month&from=2008-01-01&to=2008-02-01`, "/api/meters/{id}/statistics");
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: "invalid_prm", message: expect.stringContaining("14 digits") });
    const unknown = await get(`/api/meters/99999999999999/readings?from=2008-01-01&to=2008-02-01`, "/api/meters/{id}/readings");
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/no meter "99999999999999"/);
    const period = await get(`/api/meters/${PRM}/statistics?period=decade&from=2008-01-01&to=2008-02-01`, "/api/meters/{id}/statistics");
    expect(period.status).toBe(400);
    expect(period.body.message).toMatch(/period/);
    const feb30 = await get(`/api/meters/${PRM}/statistics?period=month&from=2008-02-30&to=2008-03-01`, "/api/meters/{id}/statistics");
    expect(feb30.status).toBe(400);
    expect(feb30.body.message).toMatch(/not a calendar date/);
    const order = await get(`/api/meters/${PRM}/statistics?period=month&from=2008-02-01&to=2008-01-01`, "/api/meters/{id}/statistics");
    expect(order.status).toBe(400);
    const meters = await get(`/api/meters`, "/api/meters");
    expect(meters.body.meters[0]).toMatchObject({ id: PRM, kind: "electricity", unit: "Wh", display_unit: "kWh", last_day: "2008-12-31" });
  });
});
