/**
 * Ores account flow: OAuth 2.0 authorization code + PKCE (S256) + refresh, with openid-client on a
 * hand-built `Configuration` (no discovery document is known). HYPOTHETICAL PROVIDER: no public
 * Ores consumption API is known today (project provider reference §3); the endpoints below are
 * the KoproGo seed's (`/oauth/authorize`, `/oauth/token` on `ext.prod-eu.oresnet.be`, scope
 * `consumption`) and every one is configurable (`ores_authorize_url`, `ores_token_url`, the
 * account's API base URL) so the connector works the day Ores (or a partner) opens one.
 *
 * - `begin({ ean, baseUrl? })`: the EAN (14 or 18 digits) of the meter; needs `ores_client_id`.
 * - `callback`: `state` consumed (single use, bound to the session), code exchange; the account
 *   `ores_<ean>` gets config `{ prms: [ean], baseUrl? }` and becomes a meter of the energy module
 *   (statistic `energy_bridge:ores_<ean>_consumption`).
 * - `refresher`: `refreshTokenGrant`; a rotated refresh token is returned (the vault commits it
 *   before use), none returned = the old one is kept.
 * - `disconnect`: no revocation endpoint is known: the tokens are forgotten.
 */
import * as oidc from "openid-client";
import { FlowError, type AccountFlow } from "../flow.js";
import type { TokenSet } from "../token-vault.js";
import { saveConnectedAccount } from "./account-store.js";
import type { FlowDeps } from "./index.js";

/** The seed's authorize endpoint (unverified, see the file comment). */
export const ORES_AUTHORIZE_URL = "https://ext.prod-eu.oresnet.be/oauth/authorize";
/** The seed's token endpoint (unverified). */
export const ORES_TOKEN_URL = "https://ext.prod-eu.oresnet.be/oauth/token";
/** Scope asked for: the seed's `consumption`, plus `offline_access` for a refresh token on OIDC-style servers. */
export const ORES_SCOPE = "consumption offline_access";

/** openid-client's view of the configured Ores endpoints. Throws FlowError `not_configured`. */
export function oresConfiguration(deps: Pick<FlowDeps, "settings" | "fetch">): oidc.Configuration {
  const o = deps.settings.ores;
  if (!o?.clientId) throw new FlowError("not_configured", "Set ores_client_id in the add-on's options first (Ores has no public API yet).");
  const authorize = o.authorizeUrl ?? ORES_AUTHORIZE_URL;
  const token = o.tokenUrl ?? ORES_TOKEN_URL;
  const config = new oidc.Configuration(
    { issuer: new URL(authorize).origin, authorization_endpoint: authorize, token_endpoint: token, code_challenge_methods_supported: ["S256"] },
    o.clientId,
    o.clientSecret,
    o.clientSecret ? oidc.ClientSecretPost(o.clientSecret) : oidc.None(),
  );
  if (authorize.startsWith("http://") || token.startsWith("http://")) oidc.allowInsecureRequests(config);
  const f = deps.fetch;
  if (f) config[oidc.customFetch] = (url, init) => f(url, init as RequestInit);
  return config;
}

function tokenSet(t: oidc.TokenEndpointResponse, now: number): TokenSet {
  return {
    accessToken: t.access_token,
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    ...(typeof t.expires_in === "number" ? { expiresAt: now + t.expires_in * 1000 } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
  };
}

/** See the file comment. */
export function createOresFlow(deps: FlowDeps): AccountFlow {
  return {
    provider: "ores",
    ui: {
      label: "Ores (no public API yet)",
      kind: "redirect",
      inputs: [
        { name: "ean", label: { en: "Meter EAN (18 digits, on the Ores bill)", fr: "EAN du compteur (18 chiffres, sur la facture Ores)" }, type: "text" },
        { name: "baseUrl", label: { en: "Ores API address (optional)", fr: "Adresse de l'API Ores (facultatif)" }, type: "url", optional: true },
      ],
    },

    async begin(input, req) {
      const ean = (input.ean ?? input.prm ?? "").replace(/\s+/g, "");
      if (!/^[0-9]{14}(?:[0-9]{4})?$/.test(ean)) throw new FlowError("invalid_ean", "Enter the EAN of the meter (18 digits, starting with 54, on the Ores bill).");
      const baseUrl = input.baseUrl?.trim();
      if (baseUrl && !/^https?:\/\/\S+$/.test(baseUrl)) throw new FlowError("invalid_url", "The Ores API address must be a URL.");
      const config = oresConfiguration(deps);
      const { state, codeChallenge } = await deps.states.create({
        provider: "ores",
        sessionId: req.sessionId,
        pkce: true,
        data: { ean, redirectUri: req.callbackUrl, ...(baseUrl ? { baseUrl } : {}) },
      });
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: req.callbackUrl,
        scope: deps.settings.ores?.scope ?? ORES_SCOPE,
        state,
        code_challenge: codeChallenge!,
        code_challenge_method: "S256",
      });
      return { kind: "redirect", url: url.href };
    },

    async callback(query, req) {
      const entry = deps.states.consume<{ ean: string; redirectUri: string; baseUrl?: string }>(query.state, { provider: "ores", sessionId: req.sessionId });
      if (query.error) {
        const denied = query.error === "access_denied";
        throw new FlowError(denied ? "access_denied" : "provider_error", denied ? "You refused access at Ores. Nothing was connected." : `Ores answered: ${query.error_description ?? query.error}.`);
      }
      if (!query.code) throw new FlowError("provider_error", "Ores came back without an authorization code. Start again.");
      const config = oresConfiguration(deps);
      const current = new URL(entry.data.redirectUri);
      for (const [k, v] of Object.entries(query)) current.searchParams.set(k, v);
      let t: oidc.TokenEndpointResponse;
      try {
        t = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: entry.codeVerifier!, expectedState: query.state! });
      } catch (err) {
        const why = err instanceof oidc.ResponseBodyError ? (err.error_description ?? err.error) : (err as Error).message;
        throw new FlowError("provider_error", `Ores refused the sign-in (${why}). Start connecting again.`);
      }
      const { ean, baseUrl } = entry.data;
      return saveConnectedAccount(
        deps,
        { id: `ores_${ean}`, provider: "ores", label: `Ores ${ean}`, config: { prms: [ean], ...(baseUrl ? { baseUrl } : {}) } },
        tokenSet(t, deps.now()),
      );
    },

    async refresher(_account, current) {
      if (!current.refreshToken) throw new FlowError("not_connected", "This Ores account has no refresh token: connect it again.");
      return tokenSet(await oidc.refreshTokenGrant(oresConfiguration(deps), current.refreshToken), deps.now());
    },

    async disconnect(account) {
      deps.vault.remove(account.id);
    },
  };
}
