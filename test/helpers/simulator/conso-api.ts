/**
 * Conso API (bokub/conso-api `functions/api/[type].ts`, `content/migration-2026.md`):
 * `GET /api/{type}?pointId=&dateDebut=&dateFin=` (aliases `prm`/`start`/`end`), `Authorization: Bearer <token>`.
 * 200 = the raw flat v2 object, passed through. Own errors `{status, message[, error]}`; Enedis
 * failures keep Enedis's status, wrapped as `{status, message: "The Enedis API returned an error", error: <Enedis body>}`.
 * Checks in the gateway's order: method, parameters (zod), auth.
 *
 * The v5-era type names are still accepted and routed to the v5 paths, which are retired: Enedis
 * answers those off-Swagger requests with its technical 500 (MED README: "any off-Swagger request
 * gets 500"), wrapped. `consoApi: "v5"` simulates an older self-hosted gateway instead: only the v5
 * names, answered with the v5 `meter_reading` (unwrapped), v5 error texts.
 */
import { z } from "zod";
import { bearer, dateParam, type Reply, type SimRequest, type SimState } from "./context.js";
import { ENEDIS_ERRORS, INDEX_RESOURCES, queryV2, V2_RESOURCES, V5_TYPES, type EnedisError, type V2Resource } from "./enedis-v2.js";
import { queryV5, type V5Kind } from "./enedis-v5.js";

const common = { prm: z.string().length(14), start: dateParam, end: dateParam };
const v2Schema = z.object({
  type: z.enum([...V2_RESOURCES, ...INDEX_RESOURCES, ...V5_TYPES]),
  ...common,
  mesuresPas: z.enum(["P1D", "P1M"]).optional(),
  grandeurPhysique: z.enum(["PMA", "TOUT"]).optional(),
});
const v5Schema = z.object({ type: z.enum(V5_TYPES), ...common });

const wrapped = (e: EnedisError): Reply => ({
  status: e.status,
  body: { status: e.status, message: "The Enedis API returned an error", error: e.body },
  ...(e.headers ? { headers: e.headers } : {}),
});
const own = (status: number, message: string, error?: unknown): Reply => ({
  status,
  body: error === undefined ? { status, message } : { status, message, error },
});

export const consoType = (url: URL): string | null =>
  url.pathname.startsWith("/api/") && !url.pathname.startsWith("/api/enedis/") ? url.pathname.slice("/api/".length) : null;

export function handleConso(req: SimRequest, st: SimState): Reply {
  if (req.method !== "GET") return own(405, "Seule la méthode GET est autorisée");
  const q = req.url.searchParams;
  const opt = (k: string) => q.get(k) ?? undefined;
  const raw = {
    type: consoType(req.url),
    prm: q.get("pointId") ?? q.get("prm"),
    start: q.get("dateDebut") ?? q.get("start"),
    end: q.get("dateFin") ?? q.get("end"),
  };
  const input =
    st.consoApi === "v2"
      ? v2Schema.safeParse({ ...raw, mesuresPas: opt("mesuresPas"), grandeurPhysique: opt("grandeurPhysique") })
      : v5Schema.safeParse(raw);
  if (!input.success) return own(400, "Paramètres invalides", input.error);
  const userToken = bearer(req);
  if (!userToken) return own(400, "Le header 'Authorization' est manquant ou invalide");
  if (userToken !== st.token || input.data.prm !== st.v2.prm) {
    return own(401, "Votre token est invalide ou ne permet pas d'accéder à ce PRM");
  }
  const retryAfter = st.overQuota();
  if (retryAfter !== null) return wrapped(ENEDIS_ERRORS.rateLimited(retryAfter));
  const { type, start, end } = input.data;

  if (st.consoApi === "v5") {
    if (type !== "daily_consumption" && type !== "consumption_load_curve") {
      // Illustrative: Enedis's v5 answer for data the simulator does not serve in v5 mode.
      return wrapped({ status: 400, body: { error: "ADAM-ERR0069", error_description: "Not served by the simulator." } });
    }
    const r = queryV5(st.v2.cons, st.v2.prm, st.v2.today(), type as V5Kind, start, end);
    return r.ok ? { status: 200, body: r.meterReading } : wrapped(r.err);
  }

  if ((V5_TYPES as readonly string[]).includes(type) || (INDEX_RESOURCES as readonly string[]).includes(type)) {
    return wrapped(ENEDIS_ERRORS.technical());
  }
  const mesuresPas = "mesuresPas" in input.data ? input.data.mesuresPas : undefined;
  const r = queryV2(st.v2, { resource: type as V2Resource, dateDebut: start, dateFin: end, ...(mesuresPas ? { mesuresPas } : {}) });
  return r.ok ? { status: 200, body: r.render("end") } : wrapped(r.err);
}
