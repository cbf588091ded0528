/**
 * A local Linky gateway simulator: serves a real 30-min series (see `test/helpers/dataset.ts`)
 * through the documented HTTP contracts of the two gateways individuals use, on 127.0.0.1 with a
 * free port. Used by integration tests and by the demo.
 *
 * Contracts (sources in the project's provider reference, §1.4–§1.7 and §2):
 * - **Conso API** (bokub/conso-api `functions/api/[type].ts`):
 *   `GET /api/{daily_consumption|consumption_load_curve}?prm=&start=YYYY-MM-DD&end=YYYY-MM-DD`,
 *   `Authorization: Bearer <token>`; 200 = the UNWRAPPED Enedis `meter_reading`; errors
 *   `{"status","message"[,"error"]}`, Enedis errors wrapped as
 *   `{"status","message":"The Enedis API returned an error","error":{"error","error_description"}}`
 *   with Enedis's HTTP status. Checks run in the gateway's order: method, parameters (zod), auth.
 * - **MyElectricalData legacy** (MED-import `src/external_services/myelectricaldata/*.py`):
 *   `GET /{daily_consumption|consumption_load_curve}/{prm}/start/{d}/end/{d}/` (optional `cache/`
 *   suffix), raw `Authorization: <token>` (no "Bearer"); 200 = `{"meter_reading": {...}}`; errors
 *   `{"detail": "..."}`, 403 for a bad token or a PRM the token does not cover. The exact detail
 *   texts and the statuses other than 403 are illustrative (not recorded).
 *
 * Enedis semantics (Data Connect v5): `[start, end[` in Europe/Paris local days; data up to D-1
 * (end must be ≤ today); load curve ≤ 7 days per call, daily ≤ 365 days; load-curve `value` is the
 * interval's average power in W (= Wh × 2) as a string, `date` the END of the interval as naive
 * Europe/Paris wall-clock time (so the October repeated hour appears twice, March has 46 points);
 * daily `value` is Wh as a string, only for local days whose every half-hour is present.
 * Values keep their decimals (the dataset has 0.001 Wh resolution), unlike real Enedis integers,
 * so totals are exact. Missing half-hours are absent, never zero.
 *
 * Time: the series is shifted by a whole number of weeks so that it ends at or after today (local);
 * local days are computed with luxon in Europe/Paris, never with the process zone.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { DateTime } from "luxon";
import { z } from "zod";

const HALF_HOUR = 30 * 60_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** Options of {@link startProviderSimulator}. */
export interface ProviderSimulatorOptions {
  /** The real series: UTC start ms of each half-hour and its energy in Wh (null = missing). */
  series: { start: number; wh: number | null }[];
  /** 14-digit usage point id served. Default "12345678901234". */
  prm?: string;
  /** Token accepted by both contracts. Default: a fixed HS256 JWT whose `sub` is `[prm]`. */
  token?: string;
  /** Injectable clock (UTC ms). Read at start (for the shift) and at every request. */
  now?: () => number;
  /** Zone of the provider's local days; only Europe/Paris (Enedis). */
  timezone?: "Europe/Paris";
  /** Port on 127.0.0.1; default 0 (a free port, what tests should use). */
  port?: number;
}

/** An injected failure, answered instead of the next `times` requests (default 1). */
export interface FailSpec {
  status: number;
  /** A string is sent verbatim (to simulate malformed bodies); anything else as JSON. */
  body: unknown;
  headers?: Record<string, string>;
  times?: number;
}

/** A running simulator. */
export interface ProviderSimulator {
  /** "http://127.0.0.1:<port>", base URL of both contracts (Conso API under /api/). */
  baseUrl: string;
  prm: string;
  token: string;
  /** Shift applied to every source start (UTC ms), a whole number of weeks. */
  shiftMs: number;
  /** Half-hours currently available: shifted UTC start ms and Wh, non-null, ending ≤ today's local midnight; sorted. */
  served(): { start: number; wh: number }[];
  /** Every request received, in order: path with query string, and the HTTP status answered. */
  requests: { path: string; status: number }[];
  /** Replaces (or fills) values at shifted UTC starts, as Enedis sometimes corrects data. Wh, ≥ 0. */
  override(values: Map<number, number>): void;
  /** Answers the next request(s) with this failure instead of the normal response. */
  failNext(spec: FailSpec): void;
  close(): Promise<void>;
}

/** The PRM served when none is given. */
export const DEFAULT_PRM = "12345678901234";

/**
 * A deterministic Conso-API-like token for a PRM: an HS256 JWT `{"sub":[prm]}` signed with a fixed
 * test secret, so clients that decode the token to read their PRMs (as bokub/linky does) work.
 */
export function simulatorToken(prm: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: [prm] })}`;
  const sig = createHmac("sha256", "energy-bridge-simulator").update(unsigned).digest("base64url");
  return `${unsigned}.${sig}`;
}

/** Formats an integer number of milli-units as a decimal string without trailing zeros. */
function fmtMilli(milli: number): string {
  const int = Math.floor(milli / 1000);
  const frac = milli - int * 1000;
  if (frac === 0) return String(int);
  return `${int}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
}

function toMilli(wh: number): number {
  if (!Number.isFinite(wh) || wh < 0) throw new Error(`bad Wh value ${wh}`);
  return Math.round(wh * 1000);
}

const DATE_RE = /^20[0-9]{2}-[0-9]{2}-[0-9]{2}$/;
const dateParam = z
  .string()
  .regex(DATE_RE)
  .refine((s) => DateTime.fromISO(s, { zone: "UTC" }).isValid, { message: "Invalid date" });
/** Conso API's own parameter schema (anchored and calendar-checked here; the gateway's regex is not). */
const consoSchema = z.object({
  type: z.enum([
    "daily_consumption",
    "consumption_load_curve",
    "consumption_max_power",
    "daily_production",
    "production_load_curve",
  ]),
  prm: z.string().length(14),
  start: dateParam,
  end: dateParam,
});

type Kind = "daily_consumption" | "consumption_load_curve";
interface EnedisError {
  status: number;
  body: { error: string; error_description: string };
}
type QueryResult = { ok: true; meterReading: Record<string, unknown> } | { ok: false; err: EnedisError };

const enedisError = (status: number, error: string, error_description: string): QueryResult => ({
  ok: false,
  err: { status, body: { error, error_description } },
});

/**
 * Starts the simulator on 127.0.0.1 (free port). See the module docstring for the contracts.
 * The shift is computed once, at start, from `now()`; what is served grows as `now()` advances.
 */
export async function startProviderSimulator(opts: ProviderSimulatorOptions): Promise<ProviderSimulator> {
  const zone = opts.timezone ?? "Europe/Paris";
  const now = opts.now ?? Date.now;
  const prm = opts.prm ?? DEFAULT_PRM;
  const token = opts.token ?? simulatorToken(prm);
  if (opts.series.length === 0) throw new Error("empty series");

  const todayStart = (): DateTime => DateTime.fromMillis(now(), { zone }).startOf("day");
  const seriesEnd = opts.series.reduce((m, p) => Math.max(m, p.start), -Infinity) + HALF_HOUR;
  const shiftMs = Math.ceil((todayStart().toMillis() - seriesEnd) / WEEK) * WEEK;

  /** Shifted UTC start ms → energy in milli-Wh (integers keep sums exact). */
  const values = new Map<number, number>();
  for (const p of opts.series) if (p.wh !== null) values.set(p.start + shiftMs, toMilli(p.wh));
  if (values.size === 0) throw new Error("series has no value");
  const firstStart = [...values.keys()].reduce((m, t) => Math.min(m, t), Infinity);

  const requests: { path: string; status: number }[] = [];
  const failures: { spec: FailSpec; left: number }[] = [];

  /** Shared Enedis logic for both gateways; `start`/`end` are valid "YYYY-MM-DD". */
  function query(kind: Kind, start: string, end: string): QueryResult {
    const s = DateTime.fromISO(start, { zone });
    const e = DateTime.fromISO(end, { zone });
    const today = todayStart();
    const days = Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY);
    if (days <= 0) return enedisError(400, "Invalid_request", "Start date should be before end date.");
    if (e > today) {
      return enedisError(400, "Invalid_request", "The end date parameter must be earlier than the current date");
    }
    if (kind === "consumption_load_curve" && days > 7) {
      return enedisError(400, "ADAM-DC-0015", "The requested period must be less than 7 days for an access to the load curve.");
    }
    if (kind === "daily_consumption" && days > 365) {
      // Illustrative text: the recorded one is the load-curve variant above.
      return enedisError(400, "ADAM-DC-0015", "The requested period must be less than 365 days for an access to the daily consumption.");
    }
    const firstDay = DateTime.fromMillis(firstStart, { zone }).startOf("day");
    if (e <= firstDay) {
      return enedisError(400, "ADAM-ERR0123", "The requested period cannot be anterior to the meter's last activation date");
    }
    const limit = today.toMillis();
    const points: Record<string, string>[] = [];
    if (kind === "consumption_load_curve") {
      for (let t = s.toMillis(); t < e.toMillis() && t + HALF_HOUR <= limit; t += HALF_HOUR) {
        const milli = values.get(t);
        if (milli === undefined) continue;
        points.push({
          value: fmtMilli(milli * 2),
          date: DateTime.fromMillis(t + HALF_HOUR, { zone }).toFormat("yyyy-MM-dd HH:mm:ss"),
          interval_length: "PT30M",
          measure_type: "B",
        });
      }
    } else {
      for (let d = s; d < e; d = d.plus({ days: 1 })) {
        const from = d.toMillis();
        const to = d.plus({ days: 1 }).toMillis();
        if (to > limit) break;
        let sum = 0;
        let complete = true;
        for (let t = from; t < to; t += HALF_HOUR) {
          const milli = values.get(t);
          if (milli === undefined) {
            complete = false;
            break;
          }
          sum += milli;
        }
        if (complete) points.push({ value: fmtMilli(sum), date: d.toISODate()! });
      }
    }
    const reading_type =
      kind === "consumption_load_curve"
        ? { unit: "W", measurement_kind: "power", aggregate: "average" }
        : { unit: "Wh", measurement_kind: "energy", aggregate: "sum", measuring_period: "P1D" };
    return {
      ok: true,
      meterReading: { usage_point_id: prm, start, end, quality: "BRUT", reading_type, interval_reading: points },
    };
  }

  function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const type = typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
    res.writeHead(status, { "content-type": type, ...headers });
    res.end(text);
    requests.push({ path: req.url ?? "", status });
  }

  function handleConso(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== "GET") {
      return send(req, res, 405, { status: 405, message: "Seule la méthode GET est autorisée" });
    }
    const input = consoSchema.safeParse({
      type: url.pathname.slice("/api/".length),
      prm: url.searchParams.get("prm"),
      start: url.searchParams.get("start"),
      end: url.searchParams.get("end"),
    });
    if (!input.success) {
      return send(req, res, 400, { status: 400, message: "Paramètres invalides", error: input.error });
    }
    // Same parsing as the gateway: the second word of the header, whatever the scheme.
    const userToken = req.headers.authorization?.split(" ")[1];
    if (!userToken) {
      return send(req, res, 400, { status: 400, message: "Le header 'Authorization' est manquant ou invalide" });
    }
    if (userToken !== token || input.data.prm !== prm) {
      return send(req, res, 401, { status: 401, message: "Votre token est invalide ou ne permet pas d'accéder à ce PRM" });
    }
    const { type, start, end } = input.data;
    if (type !== "daily_consumption" && type !== "consumption_load_curve") {
      // Illustrative: Enedis's answer for a consumption-only PRM (ADAM-ERR0069) or unserved data.
      const err = { error: "ADAM-ERR0069", error_description: "Not served by the simulator." };
      return send(req, res, 400, { status: 400, message: "The Enedis API returned an error", error: err });
    }
    const r = query(type, start, end);
    if (r.ok) return send(req, res, 200, r.meterReading);
    return send(req, res, r.err.status, { status: r.err.status, message: "The Enedis API returned an error", error: r.err.body });
  }

  const MED_RE = /^\/(daily_consumption|consumption_load_curve)\/([^/]+)\/start\/([^/]+)\/end\/([^/]+)(?:\/cache)?\/?$/;

  function handleMed(req: IncomingMessage, res: ServerResponse, m: RegExpExecArray): void {
    if (req.method !== "GET") return send(req, res, 405, { detail: "Method Not Allowed" });
    const [, type, pdl, start, end] = m as unknown as [string, Kind, string, string, string];
    if (req.headers.authorization !== token || pdl !== prm) {
      return send(req, res, 403, { detail: "Vous n'avez pas accès à ce point de livraison." });
    }
    if (!dateParam.safeParse(start).success || !dateParam.safeParse(end).success) {
      return send(req, res, 400, { detail: "Format de date invalide (YYYY-MM-DD attendu)." });
    }
    const r = query(type, start, end);
    if (r.ok) return send(req, res, 200, { meter_reading: r.meterReading });
    return send(req, res, r.err.status, { detail: r.err.body.error_description });
  }

  const server = createServer((req, res) => {
    req.resume();
    const failure = failures[0];
    if (failure) {
      if (--failure.left <= 0) failures.shift();
      return send(req, res, failure.spec.status, failure.spec.body, failure.spec.headers);
    }
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname.startsWith("/api/")) return handleConso(req, res, url);
      const m = MED_RE.exec(url.pathname);
      if (m) return handleMed(req, res, m);
      return send(req, res, 404, { status: 404, message: "Not found" });
    } catch (e) {
      return send(req, res, 500, { status: 500, message: `Simulator error: ${String(e)}` });
    }
  });
  await new Promise<void>((ok, ko) => {
    server.once("error", ko);
    server.listen(opts.port ?? 0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    prm,
    token,
    shiftMs,
    requests,
    served() {
      const limit = todayStart().toMillis();
      return [...values.entries()]
        .filter(([start]) => start + HALF_HOUR <= limit)
        .sort((a, b) => a[0] - b[0])
        .map(([start, milli]) => ({ start, wh: milli / 1000 }));
    },
    override(next) {
      for (const [start, wh] of next) {
        if ((start - firstStart) % HALF_HOUR !== 0) throw new Error(`override: ${start} is off the 30-min grid`);
        values.set(start, toMilli(wh));
      }
    },
    failNext(spec) {
      failures.push({ spec, left: spec.times ?? 1 });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((ok, ko) => server.close((err) => (err ? ko(err) : ok())));
    },
  };
}
