/**
 * A local Ores API simulator in the KoproGo seed's annex C format (hypothetical API, see
 * src/providers/ores.ts): `GET /v1/consumption_load_curve?prm=&start=&end=` (and
 * `production_load_curve`) with `Authorization: Bearer <token>` → `{usage_point_id, start, end,
 * reading_type: {unit: "Wh", aggregate: "Sum", measuring_period: "PT30M"}, interval_readings:
 * [{value, start, end}]}` for the half hours starting in [start, end). Serves a real 30-min series
 * (Wh, null = missing → absent) shifted by whole weeks to end before today (Europe/Brussels).
 * 401 for another token, 404 `{"error":"unknown usage point"}` for another meter; `fail` injects
 * the next answer (malformed JSON, negative loads…).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { DateTime } from "luxon";
import type { HalfHourPoint } from "../dataset.js";

const WEEK = 7 * 86_400_000;

/** The running simulator. `prm`/`token`/`baseUrl` fit the `meters` option of an ores meter. */
export interface OresSimulator {
  prm: string;
  token: string;
  baseUrl: string;
  /** Added to every source start (whole weeks). */
  shiftMs: number;
  requests: number;
  fail(status: number, body: string): void;
  close(): Promise<void>;
}

/** Starts it on 127.0.0.1 (free port). */
export async function startOresSimulator(opts: { series: HalfHourPoint[]; prm?: string; token?: string; now?: () => number }): Promise<OresSimulator> {
  const now = opts.now ?? Date.now;
  const prm = opts.prm ?? "541449011000012345";
  const token = opts.token ?? "ores-test-token";
  const todayStart = DateTime.fromMillis(now(), { zone: "Europe/Brussels" }).startOf("day").toMillis();
  const end = opts.series.at(-1)!.start + 1_800_000;
  const shiftMs = Math.floor((todayStart - end) / WEEK) * WEEK;
  const points = opts.series.filter((p) => p.wh !== null).map((p) => ({ start: p.start + shiftMs, wh: p.wh! }));
  const failures: { status: number; body: string }[] = [];
  const sim: OresSimulator = {
    prm,
    token,
    baseUrl: "",
    shiftMs,
    requests: 0,
    fail: (status, body) => void failures.push({ status, body }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server = createServer((req, res) => {
    sim.requests++;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const u = new URL(req.url ?? "/", "http://x");
    const f = failures.shift();
    if (f) return send(f.status, f.body);
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: "invalid_token", error_description: "The access token expired" });
    if (!/^\/v1\/(consumption|production)_load_curve$/.test(u.pathname)) return send(404, { error: "not found" });
    if (u.searchParams.get("prm") !== prm) return send(404, { error: "unknown usage point" });
    const from = Date.parse(u.searchParams.get("start") ?? "");
    const to = Date.parse(u.searchParams.get("end") ?? "");
    if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return send(400, { error: "start and end must be RFC 3339 instants, start before end" });
    const production = u.pathname.includes("production");
    const readings = production ? [] : points.filter((p) => p.start >= from && p.start < to && p.start + 1_800_000 <= now());
    const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
    send(200, {
      usage_point_id: prm,
      start: iso(from),
      end: iso(to),
      reading_type: { unit: "Wh", aggregate: "Sum", measuring_period: "PT30M" },
      interval_readings: readings.map((p) => ({ value: p.wh, start: iso(p.start), end: iso(p.start + 1_800_000) })),
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  sim.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return sim;
}
