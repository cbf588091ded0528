/**
 * Enedis Data Connect consent, v2 (project reference `enedis-2026.md` §8, `providers.md` §1.2–1.3,
 * §6): Data Connect gives no per-user token. The user consents on Enedis' page
 * `…/dataconnect/v2/oauth2/authorize?client_id&response_type=code&state&duration&redirect_uri`;
 * Enedis sends the browser back with `autorisation_id` and `state` only; the usage point(s) come
 * from `POST /subscribed_services/v1 {"autorisationId", "comptage": false}` with the application's
 * client-credentials token. Nothing secret is stored for the user: metering uses the application
 * credentials (options `enedis_client_id` / `enedis_client_secret`).
 *
 * Accounts: ONE ACCOUNT PER PRM, id `enedis_data_connect_<prm>`, config
 * `{ prms: [prm], autorisationId, consentExpiresAt }` (epoch ms). Enedis gives one PRM per consent
 * (a second share of a PRM fails on its page), and a new consent for the same PRM gets a new
 * `autorisation_id`: keying by PRM makes reconnecting replace the old account, and the meter (id =
 * PRM) keeps its history. Should a consent ever list several PRMs, each gets its account.
 *
 * openid-client: a hand-built `Configuration` (Enedis has no discovery), `buildAuthorizationUrl`
 * for the consent URL (adds `client_id`, `response_type=code`), `clientCredentialsGrant` and
 * `fetchProtectedResource` for the subscribed services.
 */
import { DateTime, Duration } from "luxon";
import * as oidc from "openid-client";
import { z } from "zod";
import type { Account } from "../../domain/types.js";
import { FlowError, type AccountFlow, type FlowRequest, type FlowStart } from "../flow.js";
import { saveConnectedAccount } from "./account-store.js";
import type { FlowDeps } from "./deps.js";

/** Where Enedis' consent page lives (production only). */
export const ENEDIS_AUTHORIZE_URL = "https://mon-compte-particulier.enedis.fr/dataconnect/v2/oauth2/authorize";
/** Token, subscribed services and metering host. */
export const ENEDIS_API_URL = "https://gw.ext.prod.api.enedis.fr";
/** Default consent duration (ISO 8601; Enedis allows at most 3 years). */
export const DEFAULT_CONSENT_DURATION = "P3Y";
const PROVIDER = "enedis_data_connect" as const;

const subscribedSchema = z.object({
  nbTotalServices: z.union([z.number(), z.string()]).optional(),
  serviceSouscrit: z
    .array(
      z
        .object({
          pointId: z.string().regex(/^[0-9]{14}$/),
          etatCode: z.string().optional(),
          serviceCode: z.string().optional(),
          dateDebut: z.string().optional(),
          dateFin: z.string().optional(),
        })
        .passthrough(),
    )
    .default([]),
});

/**
 * Plain words for the errors Enedis' page sends back (`error`, `error_description`), from the
 * consent troubleshooting (seed 003) and `providers.md` §1.2. Unknown codes get a generic sentence.
 */
export function consentErrorMessage(error: string, description?: string): FlowError {
  const d = (description ?? "").toLowerCase();
  if (error === "access_denied" && /(already|déjà|deja)/.test(d)) {
    return new FlowError(
      "already_shared",
      "This meter's data is already shared with this service under another consent. Delete the old share at mon-compte-particulier.enedis.fr/partage-donnees-tiers, then connect again.",
    );
  }
  if (/(expired|expir)/.test(error) || /(expired|expir)/.test(d)) {
    return new FlowError("consent_expired", "Your Enedis consent has expired. Give it again from the add-on's page.");
  }
  if (/(revoked|revoqu|révoqu)/.test(error) || /(revoked|revoqu|révoqu)/.test(d)) {
    return new FlowError("consent_revoked", "Your Enedis consent was withdrawn. Give it again from the add-on's page to resume the sync.");
  }
  if (error === "access_denied") {
    return new FlowError("access_denied", "You declined to share your meter's data on Enedis' page, so nothing was connected.");
  }
  if (error === "invalid_request") {
    return new FlowError("invalid_request", "Enedis refused the consent request (a setting such as the consent duration or the client id is wrong).");
  }
  return new FlowError("provider_error", "Enedis could not record the consent right now. Try again later.");
}

/** Where the consent and API calls go (options, defaults above; tests point them at a simulator). */
interface EnedisEndpoints {
  authorizeUrl: string;
  apiUrl: string;
  duration: string;
  redirectUri?: string;
  clientId: string;
  clientSecret: string;
}

function endpoints(deps: FlowDeps): EnedisEndpoints {
  const s = deps.settings;
  if (!s.enedis) {
    throw new FlowError(
      "not_configured",
      "Connecting to Enedis directly needs a Data Connect application: set enedis_client_id and enedis_client_secret in the add-on options first.",
    );
  }
  const c = s.enedisConsent;
  return {
    authorizeUrl: c?.authorizeUrl ?? ENEDIS_AUTHORIZE_URL,
    apiUrl: (c?.apiUrl ?? ENEDIS_API_URL).replace(/\/+$/, ""),
    duration: c?.duration ?? DEFAULT_CONSENT_DURATION,
    ...(c?.redirectUri ? { redirectUri: c.redirectUri } : {}),
    clientId: s.enedis.clientId,
    clientSecret: s.enedis.clientSecret,
  };
}

function configuration(e: EnedisEndpoints): oidc.Configuration {
  const config = new oidc.Configuration(
    { issuer: e.apiUrl, token_endpoint: `${e.apiUrl}/oauth2/v3/token`, authorization_endpoint: e.authorizeUrl },
    e.clientId,
    e.clientSecret,
  );
  if (e.apiUrl.startsWith("http://") || e.authorizeUrl.startsWith("http://")) oidc.allowInsecureRequests(config);
  return config;
}

/** Epoch ms the consent ends: the service's `dateFin` when it is a real date, else start + duration. */
function consentEnd(dateFin: string | undefined, duration: string, now: number): number {
  if (dateFin) {
    const d = DateTime.fromISO(dateFin, { zone: "Europe/Paris" });
    if (d.isValid && d.year > 2000) return d.toMillis();
  }
  const dur = Duration.fromISO(duration);
  return DateTime.fromMillis(now, { zone: "Europe/Paris" }).plus(dur.isValid ? dur : { years: 3 }).toMillis();
}

/** See the file comment. */
export function createEnedisConsentFlow(deps: FlowDeps): AccountFlow {
  const log = deps.log.child({ flow: PROVIDER });

  async function begin(_input: Record<string, string>, req: FlowRequest): Promise<FlowStart> {
    const e = endpoints(deps);
    const redirectUri = e.redirectUri ?? req.callbackUrl;
    const { state } = await deps.states.create({ provider: PROVIDER, sessionId: req.sessionId, data: { redirectUri } });
    const url = oidc.buildAuthorizationUrl(configuration(e), { state, duration: e.duration, redirect_uri: redirectUri });
    log.info("sending the browser to Enedis' consent page");
    return { kind: "redirect", url: url.href };
  }

  async function callback(query: Record<string, string>, req: FlowRequest): Promise<Account> {
    deps.states.consume(query.state, { provider: PROVIDER, sessionId: req.sessionId });
    if (query.error) {
      const err = consentErrorMessage(query.error, query.error_description);
      log.warn({ code: err.code }, "Enedis' consent page returned an error");
      throw err;
    }
    const autorisationId = query.autorisation_id;
    if (!autorisationId || !/^[A-Za-z0-9._:-]{1,100}$/.test(autorisationId)) {
      throw new FlowError("invalid_callback", "Enedis came back without a valid consent reference (autorisation_id). Start connecting again.");
    }
    const e = endpoints(deps);
    const config = configuration(e);
    const fetchImpl = deps.fetch;
    if (fetchImpl) config[oidc.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
    let body: unknown;
    try {
      const token = await oidc.clientCredentialsGrant(config);
      const res = await oidc.fetchProtectedResource(
        config,
        token.access_token,
        new URL(`${e.apiUrl}/subscribed_services/v1`),
        "POST",
        JSON.stringify({ autorisationId, comptage: false, autorisation: true, serviceType: "ACCES" }),
        new Headers({ "content-type": "application/json", accept: "application/json" }),
      );
      if (res.status === 401 || res.status === 403) {
        throw new FlowError("consent_revoked", "Enedis does not know this consent any more (it was withdrawn or it expired). Give it again.");
      }
      if (!res.ok) throw new FlowError("provider_error", `Enedis could not list the shared meters (HTTP ${res.status}). Try again later.`);
      body = await res.json();
    } catch (err) {
      if (err instanceof FlowError) throw err;
      if (err instanceof oidc.ResponseBodyError && (err.status === 400 || err.status === 401)) {
        throw new FlowError(
          "not_configured",
          "Enedis refused the application credentials: check enedis_client_id and enedis_client_secret in the add-on options.",
        );
      }
      log.warn(`subscribed services failed: ${(err as Error).name}`);
      throw new FlowError("provider_unreachable", "Enedis could not be reached to finish the consent. Try again in a few minutes.");
    }
    const parsed = subscribedSchema.safeParse(body);
    if (!parsed.success) throw new FlowError("provider_error", "Enedis answered the meter list in an unexpected shape. Try again later.");
    const services = parsed.data.serviceSouscrit.filter((s) => !s.etatCode || s.etatCode === "ACTIF" || s.etatCode === "DEMANDE");
    const byPrm = new Map<string, (typeof services)[number]>();
    for (const s of services) if (!byPrm.has(s.pointId)) byPrm.set(s.pointId, s);
    if (byPrm.size === 0) {
      throw new FlowError("no_meter", "Enedis lists no active meter under this consent (it may have expired or been withdrawn). Give it again.");
    }
    const now = deps.now();
    const accounts = [...byPrm.values()].map((s) =>
      saveConnectedAccount(deps, {
        id: `${PROVIDER}_${s.pointId}`,
        provider: PROVIDER,
        label: `Linky ${s.pointId}`,
        config: { prms: [s.pointId], autorisationId, consentExpiresAt: consentEnd(s.dateFin, e.duration, now) },
      }),
    );
    return accounts[0]!;
  }

  return {
    provider: PROVIDER,
    begin,
    callback,
    async disconnect(account) {
      // Data Connect has no API to withdraw a consent: the user deletes it on Enedis' site
      // (mon-compte-particulier.enedis.fr/partage-donnees-tiers). No user tokens exist.
      deps.vault.remove(account.id);
    },
  };
}
