/**
 * Ecolyo / Cozy account flow (cozy-stack `docs/auth.md`; project provider reference §4.1–4.4, §6):
 *
 * 1. `begin({ instance })`: dynamic client registration at the user's own instance —
 *    `POST {instance}/auth/register` (JSON `redirect_uris: [callbackUrl]`, `client_name`,
 *    `software_id`, `client_kind: "web"`) → 201 `client_id`, `client_secret`,
 *    `registration_access_token` (plain fetch: openid-client's `dynamicClientRegistration` always
 *    discovers first and the stack has no discovery) — then the authorize URL built by
 *    openid-client on a hand-built `Configuration` (`/auth/authorize`, `/auth/access_token`,
 *    S256 only) with `state` and PKCE from the shared state store (auth/oauth-state.ts).
 * 2. `callback`: `state` consumed (single use, bound to the session), code exchange with
 *    `authorizationCodeGrant` (client_secret_post, the only client auth the stack reads) — no
 *    `iss` and no `expires_in` in the answer: the access token is a JWT and its expiry is taken as
 *    `iat` + {@link COZY_ACCESS_TOKEN_LIFETIME_MS}. Tokens, client id/secret and registration token
 *    go to the vault (`extra`), the instance URL to the account's config.
 * 3. `refresher`: `refreshTokenGrant`; the stack returns no new refresh token, so none is given
 *    back and the vault keeps the old one. Its non-RFC errors (`{"error":"invalid refresh token"}`)
 *    arrive as openid-client `ResponseBodyError` and are thrown as is (the refresh job marks the
 *    account revoked).
 * 4. `disconnect`: `DELETE {instance}/auth/register/{client_id}` with the registration access
 *    token as Bearer (204; revokes every token of the client), then the tokens are forgotten —
 *    also when the Cozy cannot be reached (logged: the user can remove the client in the Cozy's
 *    settings, "Connected devices").
 *    Reconnecting an account unregisters the client of the previous connection the same way.
 * Scopes: read-only on Ecolyo's doctypes, {@link COZY_SCOPES}.
 */
import { decodeJwt } from "jose";
import * as oidc from "openid-client";
import type { Account } from "../../domain/types.js";
import { ENERGY_BRIDGE_VERSION } from "../../providers/http.js";
import { FlowError, type AccountFlow } from "../flow.js";
import type { StoredTokens, TokenSet } from "../token-vault.js";
import { saveConnectedAccount } from "./account-store.js";
import type { FlowDeps } from "./index.js";

/** Read-only access to Ecolyo's electricity (Enedis), gas (GRDF) and water (Eau du Grand Lyon) doctypes. */
export const COZY_SCOPES = "com.grandlyon.enedis.*:GET com.grandlyon.grdf.*:GET com.grandlyon.egl.*:GET";

/**
 * Lifetime assumed for a Cozy access token (the answer has no `expires_in`): 24 h, what
 * docs/auth.md says (the code says 7 days, `AccessTokenValidityDuration`); the shorter one makes
 * the refresh job renew in time either way.
 */
export const COZY_ACCESS_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

/** What the registration gives (kept in the vault's `extra`, never logged). */
interface CozyClientSecrets {
  clientId: string;
  clientSecret: string;
  registrationAccessToken: string;
}

/**
 * The instance's base URL from what the user typed (`alice.mycozy.cloud`, `https://alice.mycozy.cloud/`…):
 * https unless it is a loopback address (tests, a local stack). Throws FlowError `invalid_instance`.
 */
export function normaliseInstance(input: string | undefined): string {
  const raw = (input ?? "").trim();
  if (!raw) throw new FlowError("invalid_instance", "Enter the address of your Cozy, e.g. alice.mycozy.cloud.");
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new FlowError("invalid_instance", `"${raw}" is not the address of a Cozy (e.g. alice.mycozy.cloud).`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new FlowError("invalid_instance", "The Cozy address must start with https://.");
  }
  return `${url.protocol}//${url.host}`;
}

/** The account id and label of an instance: `cozy_<host>`, `<host>`. */
export function cozyAccountId(instance: string): { id: string; label: string } {
  const host = new URL(instance).host;
  return { id: `cozy_${host}`, label: host };
}

/** openid-client's view of one instance (no discovery: hand-built). */
export function cozyConfiguration(instance: string, clientId: string, clientSecret: string, fetchImpl?: typeof fetch): oidc.Configuration {
  const config = new oidc.Configuration(
    {
      issuer: instance,
      authorization_endpoint: `${instance}/auth/authorize`,
      token_endpoint: `${instance}/auth/access_token`,
      code_challenge_methods_supported: ["S256"],
    },
    clientId,
    clientSecret,
    oidc.ClientSecretPost(clientSecret),
  );
  if (instance.startsWith("http://")) oidc.allowInsecureRequests(config);
  if (fetchImpl) config[oidc.customFetch] = (url, init) => fetchImpl(url, init as RequestInit);
  return config;
}

/** Token response → TokenSet (expiry from the JWT's `iat`, see {@link COZY_ACCESS_TOKEN_LIFETIME_MS}). */
function tokenSet(t: oidc.TokenEndpointResponse, now: number, extra?: CozyClientSecrets): TokenSet {
  let issuedAt = now;
  try {
    const iat = decodeJwt(t.access_token).iat;
    if (typeof iat === "number" && iat * 1000 <= now + 60_000) issuedAt = iat * 1000;
  } catch {
    // not a JWT: count from now
  }
  const expiresIn = typeof t.expires_in === "number" ? t.expires_in * 1000 : undefined;
  return {
    accessToken: t.access_token,
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    expiresAt: expiresIn !== undefined ? now + expiresIn : issuedAt + COZY_ACCESS_TOKEN_LIFETIME_MS,
    ...(t.scope ? { scope: t.scope } : {}),
    ...(extra ? { extra: { ...extra } } : {}),
  };
}

/** The stored client secrets of a Cozy account. Throws FlowError `not_connected` when absent. */
function secretsOf(tokens: StoredTokens | undefined): CozyClientSecrets {
  const e = tokens?.extra as Partial<CozyClientSecrets> | undefined;
  if (!e?.clientId || !e.clientSecret || !e.registrationAccessToken) {
    throw new FlowError("not_connected", "This Cozy account has no registered client any more: connect it again.");
  }
  return { clientId: e.clientId, clientSecret: e.clientSecret, registrationAccessToken: e.registrationAccessToken };
}

/** The instance URL in an account's config. Throws FlowError when missing. */
export function instanceOf(account: Pick<Account, "config">): string {
  const i = account.config.instance;
  if (typeof i !== "string" || !i) throw new FlowError("not_connected", "This Cozy account has no instance address: connect it again.");
  return i;
}

/**
 * Renews a Cozy account's access token (refresh_token grant, client_secret_post). Returns no
 * refresh token when the stack gave none (the vault then keeps the old one). Throws openid-client's
 * error as is (`ResponseBodyError` with Cozy's sentence in `.error`, e.g. "invalid refresh token").
 */
export async function refreshCozyTokens(
  account: Pick<Account, "config">,
  current: StoredTokens,
  opts: { now: () => number; fetch?: typeof fetch },
): Promise<TokenSet> {
  const secrets = secretsOf(current);
  if (!current.refreshToken) throw new FlowError("not_connected", "This Cozy account has no refresh token: connect it again.");
  const config = cozyConfiguration(instanceOf(account), secrets.clientId, secrets.clientSecret, opts.fetch);
  const t = await oidc.refreshTokenGrant(config, current.refreshToken);
  return tokenSet(t, opts.now());
}

/** See the file comment. */
export function createCozyFlow(deps: FlowDeps): AccountFlow {
  const fetchImpl = deps.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  return {
    provider: "cozy",

    async begin(input, req) {
      const instance = normaliseInstance(input.instance);
      let res: Response;
      try {
        res = await fetchImpl(`${instance}/auth/register`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({
            redirect_uris: [req.callbackUrl],
            client_name: "Energy Bridge (Home Assistant)",
            software_id: "github.com/energy-bridge/energy-bridge",
            software_version: ENERGY_BRIDGE_VERSION,
            client_kind: "web",
          }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw new FlowError("provider_unreachable", `Your Cozy at ${instance} cannot be reached (${(err as Error).message}). Check the address.`);
      }
      const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
      if (res.status !== 201 && res.status !== 200) {
        const why = typeof body?.error === "string" ? body.error : `HTTP ${res.status}`;
        throw new FlowError("provider_error", `Your Cozy refused to register Energy Bridge (${why}).`);
      }
      const clientId = body?.client_id;
      const clientSecret = body?.client_secret;
      const registrationAccessToken = body?.registration_access_token;
      if (typeof clientId !== "string" || typeof clientSecret !== "string" || typeof registrationAccessToken !== "string") {
        throw new FlowError("provider_error", "Your Cozy answered the registration without a client id, secret or registration token.");
      }
      const { state, codeChallenge } = await deps.states.create({
        provider: "cozy",
        sessionId: req.sessionId,
        pkce: true,
        data: { instance, clientId, clientSecret, registrationAccessToken, redirectUri: req.callbackUrl },
      });
      const config = cozyConfiguration(instance, clientId, clientSecret, deps.fetch);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: req.callbackUrl,
        scope: COZY_SCOPES,
        state,
        code_challenge: codeChallenge!,
        code_challenge_method: "S256",
      });
      deps.log.info({ instance }, `Cozy ${instance}: client registered, sending the browser to its authorize page`);
      return { kind: "redirect", url: url.href };
    },

    async callback(query, req) {
      const entry = deps.states.consume<CozyClientSecrets & { instance: string; redirectUri: string }>(query.state, {
        provider: "cozy",
        sessionId: req.sessionId,
      });
      const { instance, clientId, clientSecret, registrationAccessToken, redirectUri } = entry.data;
      if (query.error) throw new FlowError("access_denied", `Your Cozy did not give access (${query.error}). Nothing was connected.`);
      if (!query.code) throw new FlowError("provider_error", "Your Cozy came back without an authorization code. Start again.");
      const config = cozyConfiguration(instance, clientId, clientSecret, deps.fetch);
      const current = new URL(redirectUri);
      current.searchParams.set("code", query.code);
      current.searchParams.set("state", query.state!);
      let t: oidc.TokenEndpointResponse;
      try {
        t = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: entry.codeVerifier!, expectedState: query.state! });
      } catch (err) {
        const why = err instanceof oidc.ResponseBodyError ? err.error : (err as Error).message;
        throw new FlowError("provider_error", `Your Cozy refused the sign-in (${why}). Start connecting again.`);
      }
      const { id, label } = cozyAccountId(instance);
      // Reconnecting: the client registered last time would stay at the Cozy with nobody able to remove it.
      let previous: CozyClientSecrets | undefined;
      try {
        previous = secretsOf(deps.vault.get(id));
      } catch {
        previous = undefined;
      }
      if (previous && previous.clientId !== clientId) await unregister(instance, previous, fetchImpl, deps.log, label);
      return saveConnectedAccount(
        deps,
        { id, provider: "cozy", label, config: { instance } },
        tokenSet(t, deps.now(), { clientId, clientSecret, registrationAccessToken }),
      );
    },

    refresher(account, current) {
      return refreshCozyTokens(account, current, { now: deps.now, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    },

    async disconnect(account) {
      try {
        await unregister(instanceOf(account), secretsOf(deps.vault.get(account.id)), fetchImpl, deps.log, account.label);
      } catch (err) {
        deps.log.warn(`${account.label}: the client could not be unregistered (${(err as Error).message}); remove "Energy Bridge" from the Cozy's connected devices`);
      } finally {
        deps.vault.remove(account.id);
      }
    },
  };
}

/**
 * `DELETE {instance}/auth/register/{client_id}` with the registration access token (204; revokes
 * every token of the client). Never throws: a failure is logged with what the user can do.
 */
async function unregister(instance: string, secrets: CozyClientSecrets, fetchImpl: typeof fetch, log: FlowDeps["log"], label: string): Promise<void> {
  try {
    const res = await fetchImpl(`${instance}/auth/register/${encodeURIComponent(secrets.clientId)}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${secrets.registrationAccessToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 204 && res.status !== 200 && res.status !== 404) {
      log.warn(`Cozy ${instance}: unregistering the client answered HTTP ${res.status}; remove "Energy Bridge" from the Cozy's connected devices`);
    }
  } catch (err) {
    log.warn(`${label}: the client could not be unregistered (${(err as Error).message}); remove "Energy Bridge" from the Cozy's connected devices`);
  }
}
