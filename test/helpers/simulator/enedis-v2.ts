/**
 * Enedis "mesure synchrone v2" semantics shared by the three access paths (direct, Conso API, MED
 * gateway): range rules, history depth, errors, and the flat v2 body. The paths only parse their own
 * parameters, check their own auth and wrap what this returns.
 *
 * Reference: the project's `enedis-2026.md` (§2 endpoints, §3 shape, §4 timestamps, §6 errors,
 * §7 limits). Error bodies marked "illustrative" have no recorded text; their shape is the recorded one.
 */
import { DateTime } from "luxon";
import { fmtMilli, naiveLocal, type CurvePoint, type resolveSpans, type SeriesStore, ZONE } from "./store.js";

/** v2 resources the simulator serves (Conso API `type`, direct path segment). */
export const V2_RESOURCES = [
  "consommation_quotidienne",
  "courbe_de_charge_consommation",
  "puissance_conso_max_quotidienne",
  "production_quotidienne",
  "courbe_de_charge_production",
] as const;
export type V2Resource = (typeof V2_RESOURCES)[number];
/** v2 index resources: exist at Enedis, not simulated (answered with the technical 500). */
export const INDEX_RESOURCES = ["index_consommation", "index_production"] as const;
/** The v5-era Conso API type names (routed to the retired v5 paths). */
export const V5_TYPES = [
  "daily_consumption",
  "consumption_load_curve",
  "consumption_max_power",
  "daily_production",
  "production_load_curve",
] as const;
export type V5Type = (typeof V5_TYPES)[number];

const KIND: Record<V2Resource, { kind: "daily" | "curve" | "pmax"; flow: "consumption" | "production" }> = {
  consommation_quotidienne: { kind: "daily", flow: "consumption" },
  courbe_de_charge_consommation: { kind: "curve", flow: "consumption" },
  puissance_conso_max_quotidienne: { kind: "pmax", flow: "consumption" },
  production_quotidienne: { kind: "daily", flow: "production" },
  courbe_de_charge_production: { kind: "curve", flow: "production" },
};
export const resourceKind = (r: V2Resource) => KIND[r];

/** An Enedis error: HTTP status and body (either `{error, error_description}` or `{code, message}`). */
export interface EnedisError {
  status: number;
  body: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * Enedis v2 error bodies. Recorded: ADAM-ERR0002 (LINKY fixtures), ADAM-ERR0123 code (MED README),
 * 404/403/429/500 messages (Swagger). The `code` values of the `{code, message}` shape and the
 * ADAM-ERR texts other than ADAM-ERR0002 are illustrative (mock servers use SGT4xx).
 */
export const ENEDIS_ERRORS = {
  endNotAfterStart: (): EnedisError => ({
    status: 400,
    body: { error: "ADAM-ERR0002", error_description: "La date de fin doit être supérieure à la date de début." },
  }),
  /** Illustrative code and text (data is published up to D-1). */
  endAfterToday: (): EnedisError => ({
    status: 400,
    body: { error: "ADAM-ERR0003", error_description: "La date de fin doit être inférieure ou égale à la date du jour." },
  }),
  /** Illustrative code and text (Swagger: 7 consecutive days per curve call). */
  curveTooLong: (): EnedisError => ({
    status: 400,
    body: { error: "ADAM-ERR0025", error_description: "La période demandée ne doit pas dépasser 7 jours pour la courbe de charge." },
  }),
  /** Illustrative code and text (daily span per call not stated; v5 allowed 365 days). */
  dailyTooLong: (maxDays: number): EnedisError => ({
    status: 400,
    body: { error: "ADAM-ERR0025", error_description: `La période demandée ne doit pas dépasser ${maxDays} jours.` },
  }),
  /** Before the meter's activation or past the published history depth (code from MED README, text illustrative). */
  beforeHistory: (): EnedisError => ({
    status: 400,
    body: {
      error: "ADAM-ERR0123",
      error_description: "La période demandée est antérieure à la date de mise en service du compteur ou à l'historique disponible.",
    },
  }),
  noData: (): EnedisError => ({ status: 404, body: { code: "SGT404", message: "Pas de mesure trouvée pour ce point" } }),
  notHolder: (): EnedisError => ({ status: 403, body: { code: "SGT403", message: "Le client n'est pas titulaire du point demandé" } }),
  rateLimited: (retryAfterS: number): EnedisError => ({
    status: 429,
    body: { code: "SGT429", message: "SLA dépassé" },
    headers: { "Retry-After": String(retryAfterS) },
  }),
  /** Swagger 500; also what any off-Swagger request gets (MED README) — e.g. the retired v5 paths. */
  technical: (): EnedisError => ({
    status: 500,
    body: { code: "SGT500", message: "Problème technique dans l'interrogation du SI coeur" },
  }),
};

/** How curve `d` is stamped: interval end (Enedis, Conso API), start instant, or end minus `p` in naive wall time. */
export type Stamp = "end" | "start" | "start-naive";

export interface V2Context {
  prm: string;
  cons: SeriesStore;
  prod: SeriesStore | null;
  spans: ReturnType<typeof resolveSpans>;
  nulls: boolean;
  /** Today's local midnight. */
  today(): DateTime;
  history: Required<HistoryOptions>;
  dailyMaxDays: number;
}

/** History depth published by Enedis (Swagger: daily/max power 36 months + 15 days, curve 24 months + 15 days). */
export interface HistoryOptions {
  dailyMonths?: number;
  curveMonths?: number;
  extraDays?: number;
}

export interface V2Query {
  resource: V2Resource;
  dateDebut: string;
  dateFin: string;
  /** Max power only: P1D (default) or P1M. */
  mesuresPas?: "P1D" | "P1M";
}

export type V2Result = { ok: true; render(stamp: Stamp): Record<string, unknown> } | { ok: false; err: EnedisError };

const dayDiff = (a: string, b: string) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

function stampOf(p: CurvePoint, stamp: Stamp): string {
  if (stamp === "end") return naiveLocal(p.end);
  if (stamp === "start") return naiveLocal(p.start);
  // MED's `_shift_timestamps_to_interval_start`: strptime(d) - timedelta(p), naive wall-clock arithmetic.
  const end = DateTime.fromFormat(naiveLocal(p.end), "yyyy-MM-dd HH:mm:ss", { zone: "UTC" });
  return end.minus({ minutes: Number(p.step.slice(2, -1)) }).toFormat("yyyy-MM-dd HH:mm:ss");
}

/** Answers one v2 request with valid `YYYY-MM-DD` dates, as Enedis would. */
export function queryV2(ctx: V2Context, q: V2Query): V2Result {
  const { kind, flow } = KIND[q.resource];
  const days = dayDiff(q.dateDebut, q.dateFin);
  const fail = (err: EnedisError): V2Result => ({ ok: false, err });
  if (days <= 0) return fail(ENEDIS_ERRORS.endNotAfterStart());
  const today = ctx.today();
  const e = DateTime.fromISO(q.dateFin, { zone: ZONE });
  if (e > today) return fail(ENEDIS_ERRORS.endAfterToday());
  if (kind === "curve" && days > 7) return fail(ENEDIS_ERRORS.curveTooLong());
  if (kind !== "curve" && days > ctx.dailyMaxDays) return fail(ENEDIS_ERRORS.dailyTooLong(ctx.dailyMaxDays));
  const store = flow === "production" ? ctx.prod : ctx.cons;
  if (store === null) return fail(ENEDIS_ERRORS.noData());
  const h = ctx.history;
  const depth = today.minus({ months: kind === "curve" ? h.curveMonths : h.dailyMonths, days: h.extraDays });
  const floor = DateTime.max(depth, store.activationDay());
  if (e <= floor) return fail(ENEDIS_ERRORS.beforeHistory());
  const s = DateTime.max(DateTime.fromISO(q.dateDebut, { zone: ZONE }), depth);
  const limit = today.toMillis();
  const metier = flow === "production" ? "PROD" : "CONS";
  const head = { idPrm: ctx.prm, etapeMetier: "BRUT", periode: { dateDebut: q.dateDebut, dateFin: q.dateFin } };

  if (kind === "curve") {
    const pts = store.curve(s.toMillis(), e.toMillis(), limit, ctx.spans, ctx.nulls);
    if (pts.length === 0) return fail(ENEDIS_ERRORS.noData());
    return {
      ok: true,
      render: (stamp) => ({
        ...head,
        modeCalcul: "MESURE",
        grandeur: [
          {
            grandeurMetier: metier,
            grandeurPhysique: "PA",
            unite: "W",
            points: pts.map((p) => ({
              v: p.milliW === null ? null : fmtMilli(p.milliW),
              d: stampOf(p, stamp),
              p: p.step,
              n: "B",
              iv: "0",
              ec: "0",
            })),
            calendrier: [],
          },
        ],
        contexte: [],
      }),
    };
  }

  if (kind === "daily") {
    const pts: { v: string; d: string }[] = [];
    for (let d = s; d < e; d = d.plus({ days: 1 })) {
      const to = d.plus({ days: 1 }).toMillis();
      if (to > limit) break;
      const total = store.dayTotal(d.toMillis(), to);
      if (total !== null) pts.push({ v: fmtMilli(total), d: d.toISODate()! });
    }
    if (pts.length === 0) return fail(ENEDIS_ERRORS.noData());
    const body = {
      ...head,
      typeValeur: "GLOBALE",
      modeCalcul: "DIFF.INDEX",
      pas: "P1D",
      grandeur: [{ grandeurMetier: metier, grandeurPhysique: "EA", unite: "Wh", points: pts, calendrier: [] }],
      contexte: [],
    };
    return { ok: true, render: () => structuredClone(body) };
  }

  // Max power: the highest half-hour average power of each local day (or month), in VA = W
  // (cos φ = 1 assumed), `d` = naive local START of that half-hour (always inside the day).
  const pas = q.mesuresPas ?? "P1D";
  const pts: { v: string; d: string }[] = [];
  for (let d = s; d < e; d = pas === "P1D" ? d.plus({ days: 1 }) : d.plus({ months: 1 }).startOf("month")) {
    const next = pas === "P1D" ? d.plus({ days: 1 }) : DateTime.min(d.plus({ months: 1 }).startOf("month"), e);
    const to = Math.min(next.toMillis(), limit);
    const best = store.maxPower(d.toMillis(), to);
    if (best !== null) pts.push({ v: fmtMilli(best.milliW), d: naiveLocal(best.start) });
  }
  if (pts.length === 0) return fail(ENEDIS_ERRORS.noData());
  const body = {
    ...head,
    modeCalcul: "MESURE",
    pas,
    grandeur: [{ grandeurMetier: "CONS", grandeurPhysique: "PMA", unite: "VA", points: pts }],
    contexte: [],
  };
  return { ok: true, render: () => structuredClone(body) };
}

/**
 * MED's v5 compatibility body rebuilt from a v2 object (`services/enedis_legacy.py`): `reading_type`
 * has only `unit` (+ `measuring_period` when `pas` exists); points `{value, date[, interval_length, measure_type]}`.
 */
export function v5CompatFromV2(v2: Record<string, unknown>, metier: "CONS" | "PROD"): Record<string, unknown> {
  const periode = v2.periode as { dateDebut: string; dateFin: string };
  const g = (v2.grandeur as { grandeurMetier: string; unite: string; points: Record<string, unknown>[] }[]).find(
    (x) => x.grandeurMetier === metier,
  )!;
  const reading_type: Record<string, string> = { unit: g.unite };
  if (typeof v2.pas === "string") reading_type.measuring_period = v2.pas;
  return {
    meter_reading: {
      usage_point_id: v2.idPrm,
      start: periode.dateDebut,
      end: periode.dateFin,
      quality: v2.etapeMetier ?? "BRUT",
      reading_type,
      interval_reading: g.points.map((p) =>
        p.p === undefined
          ? { value: p.v, date: p.d }
          : { value: p.v, date: p.d, interval_length: p.p, measure_type: p.n },
      ),
    },
  };
}

