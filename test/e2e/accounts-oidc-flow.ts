/**
 * A generic authorization-code + PKCE + refresh flow built from the same pieces as the real
 * redirect flows (openid-client, the shared `state` store, saveConnectedAccount), pointed at the
 * test oidc-provider (test/helpers/oauth-server.ts), to drive the accounts module, the vault and
 * the refresh job through a real OAuth server. Registered under the provider id "ores" (any
 * AccountProvider works; the real Ores flow is the Ecolyo helper's).
 */
import * as oidc from "openid-client";
import type { AccountFlow } from "../../src/auth/flow.js";
import { saveConnectedAccount } from "../../src/auth/flows/account-store.js";
import type { FlowDeps } from "../../src/auth/flows/index.js";
import type { TokenSet } from "../../src/auth/token-vault.js";

/** A public client known to the test server: PKCE S256 required, refresh tokens rotated. */
export function testClient(clientId: string, redirectUris: string[]): Record<string, unknown> {
  return {
    client_id: clientId,
    application_type: "web",
    token_endpoint_auth_method: "none",
    redirect_uris: redirectUris,
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
  };
}

function tokenSet(t: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, now: number): TokenSet {
  const expiresIn = t.expiresIn();
  return {
    accessToken: t.access_token,
    ...(t.refresh_token ? { refreshToken: t.refresh_token } : {}),
    ...(expiresIn !== undefined ? { expiresAt: now + expiresIn * 1000 } : {}),
    ...(t.scope ? { scope: t.scope } : {}),
  };
}

/** See the file comment. */
export function oidcTestFlow(deps: FlowDeps, opts: { issuer: string; clientId: string }): AccountFlow {
  let config: Promise<oidc.Configuration> | undefined;
  const configuration = () =>
    (config ??= oidc.discovery(new URL(opts.issuer), opts.clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] }));
  return {
    provider: "ores",
    ui: { label: "Test OAuth", kind: "redirect", inputs: [] },
    async begin(_input, req) {
      const c = await configuration();
      const { state, codeChallenge } = await deps.states.create({ provider: "ores", sessionId: req.sessionId, pkce: true, data: { redirectUri: req.callbackUrl } });
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: req.callbackUrl,
        scope: "openid",
        state,
        code_challenge: codeChallenge!,
        code_challenge_method: "S256",
      });
      return { kind: "redirect", url: url.href };
    },
    async callback(query, req) {
      const entry = deps.states.consume<{ redirectUri: string }>(query.state, { provider: "ores", sessionId: req.sessionId });
      const current = new URL(entry.data.redirectUri);
      for (const [k, v] of Object.entries(query)) current.searchParams.set(k, v);
      const t = await oidc.authorizationCodeGrant(await configuration(), current, { pkceCodeVerifier: entry.codeVerifier!, expectedState: query.state! });
      const sub = t.claims()?.sub ?? "unknown";
      return saveConnectedAccount(deps, { id: `ores_${sub}`, provider: "ores", label: sub, config: {} }, tokenSet(t, deps.now()));
    },
    async refresher(_account, current) {
      if (!current.refreshToken) throw new Error("no refresh token");
      return tokenSet(await oidc.refreshTokenGrant(await configuration(), current.refreshToken), deps.now());
    },
    async disconnect(account) {
      const t = deps.vault.get(account.id);
      if (t?.refreshToken) await oidc.tokenRevocation(await configuration(), t.refreshToken).catch(() => undefined);
    },
  };
}
