/**
 * MyElectricalData, two generations.
 *
 * **v2 gateway** (`apps/api/src/routers/enedis.py`, `format_negotiation.py`, `services/enedis_legacy.py`):
 * `GET /api/enedis/{consumption/daily|consumption/detail|production/daily|production/detail|power}/{pdl}?start=&end=`,
 * `Authorization: Bearer <secret>`. `end` is capped to today (Paris); `start ≥ end` moves `start` to
 * `end - 1`. With `X-MED-Format: 2026` → `{success: true, data: <v2 object>, error: null, timestamp}`;
 * without → `{success: true, data: {meter_reading: <v5 compatibility>}}` + `Deprecation: true`.
 * Curve `d` is the interval START. Errors (both modes) `{success: false, data: null, error: {code, message}, timestamp}`,
 * HTTP 200 by default (the reference says "likely 200, unverified"; `medErrorStatus: "http"` maps them to 4xx).
 *
 * **Legacy v1 gateway** (MED-import `src/external_services/myelectricaldata/*.py`), unchanged:
 * `GET /{daily_consumption|consumption_load_curve}/{prm}/start/{d}/end/{d}/[cache/]`, raw
 * `Authorization: <token>`; 200 = `{"meter_reading": {...}}` (v5); errors `{"detail": "..."}`
 * (403 for a bad token or PRM). Detail texts and non-403 statuses are illustrative.
 */
import { DateTime } from "luxon";
import { bearer, dateParam, type Reply, type SimRequest, type SimState } from "./context.js";
import { queryV2, resourceKind, v5CompatFromV2, type EnedisError, type Stamp, type V2Resource } from "./enedis-v2.js";
import { queryV5, type V5Kind } from "./enedis-v5.js";
import { ZONE } from "./store.js";

const MED2_RE = /^\/api\/enedis\/(consumption\/daily|consumption\/detail|production\/daily|production\/detail|power)\/([^/]+)\/?$/;
const RESOURCE: Record<string, V2Resource> = {
  "consumption/daily": "consommation_quotidienne",
  "consumption/detail": "courbe_de_charge_consommation",
  "production/daily": "production_quotidienne",
  "production/detail": "courbe_de_charge_production",
  power: "puissance_conso_max_quotidienne",
};
/** MED route ("consumption/detail") and PDL of a v2 gateway path, or null. */
export function med2Route(url: URL): { route: string; pdl: string } | null {
  const m = MED2_RE.exec(url.pathname);
  return m ? { route: m[1]!, pdl: m[2]! } : null;
}

const LEGACY_RE = /^\/(daily_consumption|consumption_load_curve)\/([^/]+)\/start\/([^/]+)\/end\/([^/]+)(?:\/cache)?\/?$/;
export function medLegacyRoute(url: URL): { type: V5Kind; pdl: string; start: string; end: string } | null {
  const m = LEGACY_RE.exec(url.pathname);
  return m ? { type: m[1] as V5Kind, pdl: m[2]!, start: m[3]!, end: m[4]! } : null;
}

/** MED error codes (`routers/enedis.py`) and the HTTP status used with `medErrorStatus: "http"`. */
const MED_STATUS: Record<string, number> = {
  ACCESS_DENIED: 403,
  INVALID_DATE_FORMAT: 400,
  INVALID_DATE_RANGE: 400,
  "ADAM-ERR0123": 400,
  NO_DATA: 404,
  RATE_LIMIT_EXCEEDED: 429,
  ENEDIS_ERROR: 502,
};

export function handleMed2(req: SimRequest, st: SimState, route: string, pdl: string): Reply {
  const timestamp = new Date(st.now()).toISOString();
  const fail = (code: string, message: string, headers?: Record<string, string>): Reply => ({
    status: st.med.errorStatus === "200" ? 200 : MED_STATUS[code]!,
    body: { success: false, data: null, error: { code, message }, timestamp },
    ...(headers ? { headers } : {}),
  });
  if (req.method !== "GET") return { status: 405, body: { detail: "Method Not Allowed" } };
  if (bearer(req) !== st.token || pdl !== st.v2.prm) {
    return fail("ACCESS_DENIED", "Accès refusé : ce point de livraison n'est pas associé à votre compte.");
  }
  const startRaw = req.url.searchParams.get("start") ?? "";
  const endRaw = req.url.searchParams.get("end") ?? "";
  if (!dateParam.safeParse(startRaw).success || !dateParam.safeParse(endRaw).success) {
    return fail("INVALID_DATE_FORMAT", "Format de date invalide (YYYY-MM-DD attendu).");
  }
  const today = st.v2.today();
  let end: DateTime = DateTime.fromISO(endRaw, { zone: ZONE });
  if (end > today) end = today;
  let start: DateTime = DateTime.fromISO(startRaw, { zone: ZONE });
  if (start >= end) start = end.minus({ days: 1 });
  const resource = RESOURCE[route]!;
  const { kind } = resourceKind(resource);
  if (kind === "curve" && end.diff(start, "days").days > 7) {
    return fail("INVALID_DATE_RANGE", "La période demandée ne doit pas dépasser 7 jours (utilisez la route batch).");
  }
  const retryAfter = st.overQuota();
  if (retryAfter !== null) {
    return fail("RATE_LIMIT_EXCEEDED", "Quota journalier d'appels atteint.", { "Retry-After": String(retryAfter) });
  }
  const r = queryV2(st.v2, { resource, dateDebut: start.toISODate()!, dateFin: end.toISODate()! });
  if (!r.ok) return failFromEnedis(r.err, fail);
  const stamp: Stamp = st.med.startStamps === "naive" ? "start-naive" : "start";
  let data = r.render(stamp);
  if (st.med.minimal) {
    // Rebuilt from the gateway cache (`enedis_format.py` `build_measure`): only these fields.
    const { idPrm, periode, grandeur, pas } = data;
    data = pas === undefined ? { idPrm, periode, grandeur } : { idPrm, periode, grandeur, pas };
  }
  if (req.headers["x-med-format"] === "2026") return { status: 200, body: { success: true, data, error: null, timestamp } };
  const metier = resourceKind(resource).flow === "production" ? "PROD" : "CONS";
  return { status: 200, body: { success: true, data: v5CompatFromV2(data, metier) }, headers: { Deprecation: "true" } };
}

function failFromEnedis(e: EnedisError, fail: (code: string, message: string) => Reply): Reply {
  if (e.body.error === "ADAM-ERR0123") return fail("ADAM-ERR0123", e.body.error_description!);
  if (e.status === 404) return fail("NO_DATA", "Aucune donnée disponible pour cette période.");
  if (e.status === 429) return fail("RATE_LIMIT_EXCEEDED", e.body.message ?? "Quota Enedis atteint.");
  return fail("ENEDIS_ERROR", `${e.body.error ?? e.body.code}: ${e.body.error_description ?? e.body.message}`);
}

export function handleMedLegacy(req: SimRequest, st: SimState, m: NonNullable<ReturnType<typeof medLegacyRoute>>): Reply {
  if (req.method !== "GET") return { status: 405, body: { detail: "Method Not Allowed" } };
  if (req.headers.authorization !== st.token || m.pdl !== st.v2.prm) {
    return { status: 403, body: { detail: "Vous n'avez pas accès à ce point de livraison." } };
  }
  if (!dateParam.safeParse(m.start).success || !dateParam.safeParse(m.end).success) {
    return { status: 400, body: { detail: "Format de date invalide (YYYY-MM-DD attendu)." } };
  }
  const r = queryV5(st.v2.cons, st.v2.prm, st.v2.today(), m.type, m.start, m.end);
  if (r.ok) return { status: 200, body: { meter_reading: r.meterReading } };
  return { status: r.err.status, body: { detail: r.err.body.error_description } };
}
