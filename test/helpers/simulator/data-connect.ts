/**
 * Enedis Data Connect direct (reference §2, §8):
 * - `POST /oauth2/v3/token`, form `grant_type=client_credentials`, client credentials as HTTP Basic
 *   or as `client_id`/`client_secret` form fields → `{access_token, token_type: "Bearer", expires_in}`.
 *   Errors `{error, error_description}` (OAuth 2 names; texts illustrative).
 * - `GET /mesure_synchrone_auto/v2/{resource}?pointId=&dateDebut=&dateFin=` (+ `mesuresPas` and
 *   `grandeurPhysique`, required for max power), `Authorization: Bearer <access_token>` → the raw v2
 *   object; Enedis errors raw. A request off the Swagger (missing/malformed parameter, unknown
 *   resource, the retired v5 `metering_data_*` paths) gets the technical 500 (MED README).
 *   Expired/unknown token → 401 `{code: "900901", message: "Invalid Credentials", …}` (the gateway's
 *   WSO2 style, as the recorded 403 `900908`; illustrative).
 */
import { randomBytes } from "node:crypto";
import { dateParam, type Reply, type SimRequest, type SimState } from "./context.js";
import { ENEDIS_ERRORS, queryV2, V2_RESOURCES, type EnedisError, type V2Resource } from "./enedis-v2.js";

export const isDirectPath = (url: URL): boolean =>
  url.pathname.startsWith("/mesure_synchrone_auto/") || /^\/metering_data_[a-z]+\/v[0-9]+\//.test(url.pathname);
export const isTokenPath = (url: URL): boolean => url.pathname === "/oauth2/v3/token";

const raw = (e: EnedisError): Reply => ({ status: e.status, body: e.body, ...(e.headers ? { headers: e.headers } : {}) });

export function handleToken(req: SimRequest, st: SimState): Reply {
  if (req.method !== "POST") return { status: 405, body: { error: "invalid_request", error_description: "POST required" } };
  const form = new URLSearchParams(req.body);
  let id = form.get("client_id");
  let secret = form.get("client_secret");
  const auth = req.headers.authorization;
  if (auth?.startsWith("Basic ")) {
    const [u, p] = Buffer.from(auth.slice(6), "base64").toString("utf8").split(":");
    id = decodeURIComponent(u ?? "");
    secret = decodeURIComponent(p ?? "");
  }
  if (form.get("grant_type") !== "client_credentials") {
    return { status: 400, body: { error: "unsupported_grant_type", error_description: "grant_type must be client_credentials" } };
  }
  if (id !== st.direct.clientId || secret !== st.direct.clientSecret) {
    return { status: 401, body: { error: "invalid_client", error_description: "Client authentication failed" } };
  }
  const accessToken = randomBytes(16).toString("hex");
  st.direct.tokens.set(accessToken, st.now() + st.direct.tokenLifetimeS * 1000);
  return {
    status: 200,
    body: { access_token: accessToken, token_type: "Bearer", expires_in: st.direct.tokenLifetimeS, scope: "" },
  };
}

export function handleDirect(req: SimRequest, st: SimState): Reply {
  const auth = req.headers.authorization;
  const at = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
  const expiry = at === undefined ? undefined : st.direct.tokens.get(at);
  if (expiry === undefined || st.now() >= expiry) {
    return {
      status: 401,
      body: { code: "900901", message: "Invalid Credentials", description: "Invalid Credentials. Make sure you have provided the correct security credentials" },
    };
  }
  const m = /^\/mesure_synchrone_auto\/v2\/([a-z_]+)$/.exec(req.url.pathname);
  const resource = m?.[1];
  if (req.method !== "GET" || !resource || !(V2_RESOURCES as readonly string[]).includes(resource)) {
    return raw(ENEDIS_ERRORS.technical());
  }
  const q = req.url.searchParams;
  const pointId = q.get("pointId");
  const dateDebut = q.get("dateDebut") ?? "";
  const dateFin = q.get("dateFin") ?? "";
  const mesuresPas = q.get("mesuresPas");
  const grandeurPhysique = q.get("grandeurPhysique");
  const pmax = resource === "puissance_conso_max_quotidienne";
  const badPmax = pmax && (!["P1D", "P1M"].includes(mesuresPas ?? "") || !["PMA", "TOUT"].includes(grandeurPhysique ?? ""));
  if (!pointId || !/^[0-9]{14}$/.test(pointId) || !dateParam.safeParse(dateDebut).success || !dateParam.safeParse(dateFin).success || badPmax) {
    return raw(ENEDIS_ERRORS.technical());
  }
  if (pointId !== st.v2.prm) return raw(ENEDIS_ERRORS.notHolder());
  const retryAfter = st.overQuota();
  if (retryAfter !== null) return raw(ENEDIS_ERRORS.rateLimited(retryAfter));
  const r = queryV2(st.v2, {
    resource: resource as V2Resource,
    dateDebut,
    dateFin,
    ...(pmax ? { mesuresPas: mesuresPas as "P1D" | "P1M" } : {}),
  });
  return r.ok ? { status: 200, body: r.render("end") } : raw(r.err);
}
