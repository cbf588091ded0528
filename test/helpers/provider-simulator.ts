/**
 * A local Linky gateway simulator: serves a real 30-min series (see `test/helpers/dataset.ts`)
 * through the HTTP contracts of the Linky access paths, on 127.0.0.1 with a free port. Used by the
 * integration tests, the demo and `scripts/simulator.ts`.
 *
 * Enedis replaced v5 by "mesure synchrone v2" on 2026-09-28; the contracts served (one file each
 * under `test/helpers/simulator/`, sources in their docstrings and in the project's Enedis 2026
 * reference):
 * - **Conso API** `GET /api/{v2 resource}?pointId=&dateDebut=&dateFin=` → raw v2 object
 *   (`conso-api.ts`); the v5 type names fail as they do once v5 is off; `consoApi: "v5"` = an
 *   older self-hosted gateway serving v5 `meter_reading` bodies.
 * - **MyElectricalData v2 gateway** `GET /api/enedis/{route}/{pdl}?start=&end=` (+ `X-MED-Format: 2026`)
 *   and the **legacy MED v1** routes (v5 wrapper) (`myelectricaldata.ts`).
 * - **Data Connect direct** `POST /oauth2/v3/token`, `GET /mesure_synchrone_auto/v2/{resource}` (`data-connect.ts`).
 *
 * Enedis semantics (`enedis-v2.ts`): `[dateDebut, dateFin[` in Europe/Paris local days; data up to
 * D-1; curve ≤ 7 days per call, daily/max power ≤ `dailyMaxDays` (365); history 36 months + 15 days
 * (daily, max power) and 24 months + 15 days (curve), then ADAM-ERR0123; curve `v` = average power
 * in W over the interval, `d` = END of the interval as naive local wall time (so the autumn DST day
 * has 50 half-hours with 02:00–03:00 stamps repeated, summer-time occurrences first, and the spring
 * day 46); daily `v` = Wh, only for local days whose every half-hour is present; an empty answer is
 * 404 "Pas de mesure trouvée pour ce point". Values keep their decimals (0.001 Wh resolution of the
 * dataset), unlike real Enedis integers, so totals are exact. Missing half-hours are absent (or
 * `v: null` with `nullForMissing`).
 *
 * Time: the consumption series is shifted by a whole number of weeks so that it ends at or after
 * today (local); the production series gets the same shift. Local days use luxon in Europe/Paris,
 * never the process zone.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { DateTime } from "luxon";
import type { HalfHourPoint } from "./dataset.js";
import type { Reply, Route, SimRequest, SimState } from "./simulator/context.js";
import type { HistoryOptions } from "./simulator/enedis-v2.js";
import { consoType, handleConso } from "./simulator/conso-api.js";
import { handleMed2, handleMedLegacy, med2Route, medLegacyRoute } from "./simulator/myelectricaldata.js";
import { handleDirect, handleToken, isDirectPath, isTokenPath } from "./simulator/data-connect.js";
import { DAY, HALF_HOUR, HOUR, resolveSpans, SeriesStore, WEEK, type Flow, type StepSpan } from "./simulator/store.js";

export { ENEDIS_ERRORS, V2_RESOURCES, V5_TYPES, type V2Resource, type HistoryOptions } from "./simulator/enedis-v2.js";
export type { Route } from "./simulator/context.js";
export type { StepSpan, Step, Flow } from "./simulator/store.js";

/** Options of {@link startProviderSimulator}. */
export interface ProviderSimulatorOptions {
  /** The real consumption series: UTC start ms of each half-hour and its energy in Wh (null = missing). */
  series: HalfHourPoint[];
  /** A production series (same grid), served on the production resources with `grandeurMetier: "PROD"`. Absent → those answer 404 "Pas de mesure trouvée pour ce point". */
  production?: HalfHourPoint[];
  /** 14-digit usage point id served. Default "12345678901234". */
  prm?: string;
  /** Token accepted by the Conso API (Bearer), the MED v2 gateway (Bearer) and legacy MED (raw). Default: a fixed HS256 JWT whose `sub` is `[prm]`. */
  token?: string;
  /** Injectable clock (UTC ms). Read at start (for the shift) and at every request. */
  now?: () => number;
  /** Zone of the provider's local days; only Europe/Paris (Enedis). */
  timezone?: "Europe/Paris";
  /** Port on 127.0.0.1; default 0 (a free port, what tests should use). */
  port?: number;
  /** Conso API generation: "v2" (default, the live gateway) or "v5" (an older self-hosted gateway: v5 type names and `meter_reading` bodies only). */
  consoApi?: "v2" | "v5";
  /** Spans of the served timeline published at another step (PT60M aggregated, PT5M/10M/15M split). */
  steps?: StepSpan[];
  /** Emit `v: null` points for missing intervals instead of leaving them out (not what Enedis does). */
  nullForMissing?: boolean;
  /** History depth (defaults: daily 36 months, curve 24 months, + 15 days). */
  history?: HistoryOptions;
  /** Max days per daily / max-power call. Default 365 (v5's limit; v2's is not stated). */
  dailyMaxDays?: number;
  /** MED v2 gateway: error HTTP status ("200" default, or "http" = 4xx/5xx), cache-rebuilt minimal `data`, and how start stamps are made ("instant" default = the interval's true start; "naive" = end minus `p` in naive wall time, as MED's v5-era code does). */
  med?: { errorStatus?: "200" | "http"; minimal?: boolean; startStamps?: "instant" | "naive" };
  /** Data Connect direct application credentials and token lifetime (defaults {@link DEFAULT_CLIENT_ID}, {@link DEFAULT_CLIENT_SECRET}, 12 600 s). */
  dataConnect?: { clientId?: string; clientSecret?: string; tokenLifetimeS?: number };
  /** Simulated quota on data requests (all paths except legacy MED): beyond `max` per clock hour (UTC) or UTC day → 429 with Retry-After. */
  rateLimit?: { max: number; per?: "hour" | "utc-day"; retryAfterSeconds?: number };
}

/** An injected failure, answered instead of the next `times` matching requests (default 1). */
export interface FailSpec {
  status: number;
  /** A string is sent verbatim (to simulate malformed bodies); anything else as JSON. */
  body: unknown;
  headers?: Record<string, string>;
  times?: number;
  /** Only requests of this access path (and type) are failed; default any. */
  route?: Route;
  type?: string;
}

/** One received request: path with query string, HTTP method, answered status, access path and type (Conso `type`, MED route, direct resource, "token"). */
export interface SimulatorRequest {
  path: string;
  method: string;
  status: number;
  route: Route;
  type: string;
}

/** A running simulator. */
export interface ProviderSimulator {
  /** "http://127.0.0.1:<port>", base URL of every contract (Conso API under /api/, MED v2 under /api/enedis/, direct at the root). */
  baseUrl: string;
  prm: string;
  token: string;
  /** Data Connect direct application credentials. */
  clientId: string;
  clientSecret: string;
  /** Shift applied to every source start (UTC ms), a whole number of weeks. */
  shiftMs: number;
  /** Consumption half-hours currently available: shifted UTC start ms and Wh, non-null, ending ≤ today's local midnight; sorted. */
  served(): { start: number; wh: number }[];
  /** Same for the production series ([] without one). */
  servedProduction(): { start: number; wh: number }[];
  /** Every request received, in order. */
  requests: SimulatorRequest[];
  /** Number of requests received, optionally only of one access path / type / status. */
  requestCount(filter?: { route?: Route; type?: string; status?: number }): number;
  /** Request counts keyed "route type" (e.g. "conso courbe_de_charge_consommation", "med consumption/detail", "direct token"). */
  requestCounts(): Record<string, number>;
  /** Replaces (or fills) values at shifted UTC starts, as Enedis sometimes corrects data. Wh, ≥ 0. */
  override(values: Map<number, number>, flow?: Flow): void;
  /** Answers the next matching request(s) with this failure instead of the normal response. */
  failNext(spec: FailSpec): void;
  close(): Promise<void>;
}

/** The PRM served when none is given. */
export const DEFAULT_PRM = "12345678901234";
export const DEFAULT_CLIENT_ID = "simulator-client-id";
export const DEFAULT_CLIENT_SECRET = "simulator-client-secret";

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

/** Access path and type of a URL (for counting and for `FailSpec` matching). */
function classify(url: URL): { route: Route; type: string } {
  const med = med2Route(url);
  if (med) return { route: "med", type: med.route };
  const conso = consoType(url);
  if (conso !== null) return { route: "conso", type: conso };
  const legacy = medLegacyRoute(url);
  if (legacy) return { route: "med-legacy", type: legacy.type };
  if (isTokenPath(url)) return { route: "oauth", type: "token" };
  if (isDirectPath(url)) return { route: "direct", type: url.pathname.split("/").at(-1) ?? "" };
  return { route: "unknown", type: url.pathname };
}

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
  const cons = new SeriesStore(opts.series, shiftMs);
  const prod = opts.production ? new SeriesStore(opts.production, shiftMs) : null;

  const quota = new Map<number, number>();
  const rl = opts.rateLimit;
  const state: SimState = {
    v2: {
      prm,
      cons,
      prod,
      spans: resolveSpans(opts.steps),
      nulls: opts.nullForMissing ?? false,
      today: todayStart,
      history: { dailyMonths: 36, curveMonths: 24, extraDays: 15, ...opts.history },
      dailyMaxDays: opts.dailyMaxDays ?? 365,
    },
    token,
    now,
    consoApi: opts.consoApi ?? "v2",
    med: { errorStatus: "200", minimal: false, startStamps: "instant", ...opts.med },
    direct: {
      clientId: opts.dataConnect?.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: opts.dataConnect?.clientSecret ?? DEFAULT_CLIENT_SECRET,
      tokenLifetimeS: opts.dataConnect?.tokenLifetimeS ?? 12_600,
      tokens: new Map(),
    },
    overQuota() {
      if (!rl) return null;
      const size = rl.per === "utc-day" ? DAY : HOUR;
      const window = Math.floor(now() / size);
      const n = (quota.get(window) ?? 0) + 1;
      quota.set(window, n);
      if (n <= rl.max) return null;
      return rl.retryAfterSeconds ?? Math.ceil(((window + 1) * size - now()) / 1000);
    },
  };

  const requests: SimulatorRequest[] = [];
  const failures: { spec: FailSpec; left: number }[] = [];

  function route(req: SimRequest): Reply {
    const { url } = req;
    const med = med2Route(url);
    if (med) return handleMed2(req, state, med.route, med.pdl);
    if (consoType(url) !== null) return handleConso(req, state);
    const legacy = medLegacyRoute(url);
    if (legacy) return handleMedLegacy(req, state, legacy);
    if (isTokenPath(url)) return handleToken(req, state);
    if (isDirectPath(url)) return handleDirect(req, state);
    return { status: 404, body: { status: 404, message: "Not found" } };
  }

  function send(res: ServerResponse, reply: Reply, entry: Omit<SimulatorRequest, "status">): void {
    const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    const type = typeof reply.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
    res.writeHead(reply.status, { "content-type": type, ...reply.headers });
    res.end(text);
    requests.push({ ...entry, status: reply.status });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const cls = classify(url);
    const entry = { path: req.url ?? "", method: req.method ?? "GET", ...cls };
    const i = failures.findIndex((f) => (!f.spec.route || f.spec.route === cls.route) && (!f.spec.type || f.spec.type === cls.type));
    if (i >= 0) {
      const f = failures[i]!;
      if (--f.left <= 0) failures.splice(i, 1);
      return send(res, { status: f.spec.status, body: f.spec.body, ...(f.spec.headers ? { headers: f.spec.headers } : {}) }, entry);
    }
    let reply: Reply;
    try {
      reply = route({ method: req.method ?? "GET", url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
    } catch (e) {
      reply = { status: 500, body: { status: 500, message: `Simulator error: ${String(e)}` } };
    }
    send(res, reply, entry);
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((ok, ko) => {
    server.once("error", ko);
    server.listen(opts.port ?? 0, "127.0.0.1", () => ok());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    prm,
    token,
    clientId: state.direct.clientId,
    clientSecret: state.direct.clientSecret,
    shiftMs,
    requests,
    served: () => cons.served(todayStart().toMillis()),
    servedProduction: () => prod?.served(todayStart().toMillis()) ?? [],
    requestCount(filter = {}) {
      return requests.filter(
        (r) =>
          (filter.route === undefined || r.route === filter.route) &&
          (filter.type === undefined || r.type === filter.type) &&
          (filter.status === undefined || r.status === filter.status),
      ).length;
    },
    requestCounts() {
      const out: Record<string, number> = {};
      for (const r of requests) out[`${r.route} ${r.type}`] = (out[`${r.route} ${r.type}`] ?? 0) + 1;
      return out;
    },
    override(values, flow = "consumption") {
      const store = flow === "production" ? prod : cons;
      if (!store) throw new Error("override: no production series");
      store.override(values);
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
