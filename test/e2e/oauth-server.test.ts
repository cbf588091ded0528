/**
 * openid-client v6 against a real oidc-provider (test/helpers/oauth-server.ts), no Home Assistant:
 * dynamic registration; authorization code + PKCE S256 + state; refresh with rotation (the old
 * refresh token is rejected afterwards); the device flow — pending then approved, slow_down,
 * denied (access_denied), expired (expired_token).
 */
import * as client from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOAuthServer, type OAuthServer } from "../helpers/oauth-server.js";

const insecure = { execute: [client.allowInsecureRequests] };
const REDIRECT_URI = "http://127.0.0.1/callback";

/** Registers a public client (PKCE, no secret) with every grant type these tests use. */
async function registerPublicClient(server: OAuthServer): Promise<client.Configuration> {
  return client.dynamicClientRegistration(
    new URL(server.issuer),
    {
      application_type: "native",
      redirect_uris: [REDIRECT_URI],
      response_types: ["code"],
      grant_types: ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
      token_endpoint_auth_method: "none",
    },
    client.None(),
    insecure,
  );
}

/** The OAuth error code a rejected grant carries (`error` of the token endpoint's body). */
async function oauthError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { error?: string; code?: string }).error ?? String(err);
  }
  throw new Error("expected the grant to be rejected");
}

describe("OAuth against a real oidc-provider", () => {
  let server: OAuthServer;
  let config: client.Configuration;

  beforeAll(async () => {
    server = await startOAuthServer();
    config = await registerPublicClient(server);
  });
  afterAll(() => server?.close());

  it("registers a client dynamically, found again by discovery", async () => {
    const clientId = config.clientMetadata().client_id;
    expect(clientId).toBeTruthy();
    const discovered = await client.discovery(new URL(server.issuer), clientId, undefined, client.None(), insecure);
    expect(discovered.serverMetadata().registration_endpoint).toBe(`${server.issuer}/reg`);
    expect(discovered.serverMetadata().device_authorization_endpoint).toBe(`${server.issuer}/device/auth`);
  });

  it("authorization code + PKCE, then refresh with rotation", async () => {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: "openid",
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });
    const callback = await server.authorize(url);
    expect(callback.searchParams.get("state")).toBe(state);

    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.claims()?.sub).toBe(server.accountId);
    const first = tokens.refresh_token!;
    expect(first).toBeTruthy();

    const refreshed = await client.refreshTokenGrant(config, first);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    expect(await oauthError(client.refreshTokenGrant(config, first))).toBe("invalid_grant");
  });

  it("refuses a public client's authorization request without PKCE", async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: "openid", state: "s" });
    const callback = await server.authorize(url);
    expect(callback.searchParams.get("error")).toBe("invalid_request");
  });

  it("device flow: pending, then approved → tokens", async () => {
    const device = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    expect(device.interval).toBe(1);
    const polling = client.pollDeviceAuthorizationGrant(config, device);
    // Let it poll at least once while still pending (interval 1 s), then approve.
    await new Promise((r) => setTimeout(r, 1_500));
    await server.approveDeviceCode(device.user_code);
    const tokens = await polling;
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.claims()?.sub).toBe(server.accountId);
  });

  it("device flow: polling faster than the interval → slow_down", async () => {
    const device = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    const poll = () =>
      fetch(`${server.issuer}/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code: device.device_code,
          client_id: config.clientMetadata().client_id,
        }),
      }).then(async (r) => ((await r.json()) as { error?: string }).error);
    expect(await poll()).toBe("authorization_pending");
    expect(await poll()).toBe("slow_down");
  });

  it("device flow: denied → access_denied", async () => {
    const device = await client.initiateDeviceAuthorization(config, { scope: "openid" });
    await server.denyDeviceCode(device.user_code);
    expect(await oauthError(client.pollDeviceAuthorizationGrant(config, device))).toBe("access_denied");
  });

  it("device flow: expired → expired_token", async () => {
    const shortLived = await startOAuthServer({ deviceCodeTtl: 1 });
    try {
      const cfg = await registerPublicClient(shortLived);
      const device = await client.initiateDeviceAuthorization(cfg, { scope: "openid" });
      expect(device.expires_in).toBe(1);
      // openid-client's own polling stops at expires_in; give it a longer signal so the server answers.
      const error = await oauthError(
        client.pollDeviceAuthorizationGrant(cfg, { ...device, interval: 2 }, undefined, { signal: AbortSignal.timeout(10_000) }),
      );
      expect(error).toBe("expired_token");
    } finally {
      await shortLived.close();
    }
  });
});
