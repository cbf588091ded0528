/**
 * Tado: OAuth 2.0 device authorization grant (RFC 8628) with Tado's public client id (providers
 * reference §5.1–5.2; support.tado.com article 8565472; PyTado `const.py` `CLIENT_ID_DEVICE`),
 * on openid-client: `initiateDeviceAuthorization` for `begin`, and ONE token request per
 * `poll` (`genericGrantRequest` with the device_code grant) — the page drives the loop, so
 * nothing sleeps on the server and `cancel` simply forgets the flow. `slow_down` raises the
 * interval by 5 s (RFC 8628 §3.5); a poll sooner than the interval is answered `pending`
 * without calling Tado.
 *
 * On success: `GET /me` → the home (the first one, or `input.homeId` from `begin`), `GET
 * /homes/{id}` → its `generation` (LINE_X = tado X, which is reported as not supported yet);
 * the account `tado_<homeId>` with config `{ homeId, homeName, generation, connectCalls }` is saved
 * with its tokens (account-store.ts) and `account_connected` is emitted. `connectCalls` (2) tells
 * the tado module those API calls were spent from today's budget.
 *
 * Tokens: access ≈ 10 min, refresh up to 30 days, ROTATED on every refresh (the old one is
 * revoked): {@link AccountFlow.refresher} is called only through `vault.refresh`, which commits
 * the rotated set durably before anything uses the new access token. Tado has no revocation
 * endpoint known; disconnect forgets the tokens.
 */
import { randomUUID } from "node:crypto";
import * as oidc from "openid-client";
import type { Account } from "../../domain/types.js";
import { createTadoApi, TADO_API_URL, TADO_X_GENERATION, tadoXNotSupported, TadoApiError } from "../../providers/tado-api.js";
import { FlowError, type AccountFlow, type DevicePoll, type FlowRequest, type FlowStart } from "../flow.js";
import type { StoredTokens, TokenSet } from "../token-vault.js";
import { changeAccountStatus, saveConnectedAccount } from "./account-store.js";
import type { FlowDeps } from "./deps.js";

/** Tado's public device-flow client (no secret): PyTado `CLIENT_ID_DEVICE`, tado support article. */
export const TADO_CLIENT_ID = "1bb50063-6b0c-4d11-bd99-387f4a91cc46";
export const TADO_DEVICE_AUTHORIZATION_URL = "https://login.tado.com/oauth2/device_authorize";
export const TADO_TOKEN_URL = "https://login.tado.com/oauth2/token";
/** `offline_access` is what makes Tado issue a refresh token. */
export const TADO_SCOPE = "offline_access";
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** Calls to the Tado API a successful connection makes (`/me`, `/homes/{id}`). */
export const TADO_CONNECT_CALLS = 2;
/** How long a finished flow's result is kept for a late poll (ms). */
const FINISHED_TTL_MS = 10 * 60_000;

/** The endpoints and client, from the `tado_*` options (defaults: Tado production). */
export interface TadoEndpoints {
  deviceAuthorizationUrl: string;
  tokenUrl: string;
  apiUrl: string;
  clientId: string;
}

/** Endpoints from the settings. */
export function tadoEndpoints(settings: FlowDeps["settings"]): TadoEndpoints {
  return {
    deviceAuthorizationUrl: settings.tado?.deviceAuthorizationUrl ?? TADO_DEVICE_AUTHORIZATION_URL,
    tokenUrl: settings.tado?.tokenUrl ?? TADO_TOKEN_URL,
    apiUrl: settings.tado?.apiUrl ?? TADO_API_URL,
    clientId: TADO_CLIENT_ID,
  };
}

/**
 * A hand-built openid-client Configuration (Tado has no discovery document we may rely on):
 * issuer = the token URL's origin, public client (`None()`); plain http allowed only for a
 * loopback host (tests).
 */
export function tadoOAuthConfig(e: TadoEndpoints, fetchImpl?: typeof fetch): oidc.Configuration {
  const issuer = new URL(e.tokenUrl).origin;
  const config = new oidc.Configuration(
    { issuer, token_endpoint: e.tokenUrl, device_authorization_endpoint: e.deviceAuthorizationUrl },
    e.clientId,
    undefined,
    oidc.None(),
  );
  const host = new URL(e.tokenUrl).hostname;
  if (new URL(e.tokenUrl).protocol === "http:" && (host === "127.0.0.1" || host === "localhost" || host === "[::1]")) {
    oidc.allowInsecureRequests(config);
  }
  if (fetchImpl) config[oidc.customFetch] = (url, options) => fetchImpl(url, options as RequestInit);
  return config;
}

/** openid-client's token response → a vault TokenSet (expiry in epoch ms). */
export function toTokenSet(t: oidc.TokenEndpointResponse, now: number): TokenSet {
  const set: TokenSet = { accessToken: t.access_token };
  if (t.refresh_token) set.refreshToken = t.refresh_token;
  if (typeof t.expires_in === "number") set.expiresAt = now + t.expires_in * 1000;
  if (t.scope) set.scope = t.scope;
  return set;
}

/**
 * Renews Tado tokens (grant_type=refresh_token). Throws FlowError `reconnect_required` without a
 * refresh token, else openid-client's error as is (`invalid_grant` = the refresh token is gone:
 * the account must be connected again).
 */
export async function refreshTadoTokens(config: oidc.Configuration, current: StoredTokens, now: number): Promise<TokenSet> {
  if (!current.refreshToken) throw new FlowError("reconnect_required", "Tado gave no refresh token: connect the Tado account again");
  const t = await oidc.refreshTokenGrant(config, current.refreshToken);
  return toTokenSet(t, now);
}

interface Pending {
  sessionId: string;
  device: oidc.DeviceAuthorizationResponse;
  expiresAt: number;
  interval: number;
  nextPollAt: number;
  homeId?: number;
  busy: boolean;
  finished?: { result: DevicePoll; at: number };
}

/** Plain words for the token endpoint's terminal errors. */
function terminal(error: string): DevicePoll | undefined {
  if (error === "expired_token") return { status: "expired", message: "The code expired before it was confirmed on Tado's page. Start again for a new code." };
  if (error === "access_denied") return { status: "denied", message: "Access was refused on Tado's page. Nothing was connected." };
  return undefined;
}

/** See the file comment. */
export function createTadoFlow(deps: FlowDeps): AccountFlow {
  const endpoints = tadoEndpoints(deps.settings);
  const config = tadoOAuthConfig(endpoints, deps.fetch);
  const api = createTadoApi({ baseUrl: endpoints.apiUrl, ...(deps.fetch ? { fetch: deps.fetch } : {}), now: deps.now });
  const flows = new Map<string, Pending>();

  const sweep = () => {
    const now = deps.now();
    for (const [id, f] of flows) {
      if ((f.finished && now - f.finished.at > FINISHED_TTL_MS) || (!f.finished && now > f.expiresAt + FINISHED_TTL_MS)) flows.delete(id);
    }
  };

  const own = (flowId: string, req: FlowRequest): Pending => {
    const f = flows.get(flowId);
    if (!f || f.sessionId !== req.sessionId) throw new FlowError("unknown_flow", "This Tado connection is not known (it expired or was started in another browser). Start again.");
    return f;
  };

  const finish = (f: Pending, result: DevicePoll): DevicePoll => {
    f.finished = { result, at: deps.now() };
    return result;
  };

  async function connect(f: Pending, tokens: TokenSet): Promise<DevicePoll> {
    let account: Account;
    try {
      const me = await api.me(tokens.accessToken);
      const home = (f.homeId !== undefined ? me.data.homes.find((h) => h.id === f.homeId) : undefined) ?? me.data.homes[0];
      if (!home) return { status: "error", message: "Your Tado account has no home. Add your home in the tado app, then connect again." };
      if (me.data.homes.length > 1) deps.log.info(`the Tado account has ${me.data.homes.length} homes; connecting "${home.name}"`);
      const detail = await api.home(tokens.accessToken, home.id);
      const generation = detail.data.generation ?? "unknown";
      account = saveConnectedAccount(
        deps,
        {
          id: `tado_${home.id}`,
          provider: "tado",
          label: detail.data.name || home.name,
          config: { homeId: home.id, homeName: detail.data.name || home.name, generation, connectCalls: TADO_CONNECT_CALLS },
        },
        tokens,
      );
      if (generation === TADO_X_GENERATION) {
        const why = tadoXNotSupported(account.label);
        deps.log.warn(why);
        account = changeAccountStatus(deps, account.id, "error", why) ?? account;
      }
    } catch (err) {
      const message =
        err instanceof TadoApiError
          ? `Signed in to Tado, but your home could not be read: ${err.message}. Try again later.`
          : `Signed in to Tado, but the account could not be saved (${(err as Error).message}).`;
      deps.log.warn(message);
      return { status: "error", message };
    }
    return { status: "connected", account };
  }

  async function pollOnce(f: Pending): Promise<DevicePoll> {
    try {
      const t = await oidc.genericGrantRequest(config, DEVICE_GRANT, { device_code: f.device.device_code });
      if (f.finished) return f.finished.result; // cancelled meanwhile: the tokens are dropped
      return await connect(f, toTokenSet(t, deps.now()));
    } catch (err) {
      const error = (err as { error?: unknown }).error;
      if (error === "authorization_pending") return { status: "pending", interval: f.interval };
      if (error === "slow_down") {
        f.interval += 5;
        f.nextPollAt = deps.now() + f.interval * 1000;
        return { status: "pending", interval: f.interval };
      }
      const end = typeof error === "string" ? terminal(error) : undefined;
      if (end) return end;
      const message = typeof error === "string" ? `Tado refused the connection (${error}).` : `Tado's sign-in service did not answer (${(err as Error).message}).`;
      deps.log.warn(`tado device flow: ${message}`);
      // A network failure is not final: the page keeps polling until the code expires.
      if (typeof error !== "string") return { status: "pending", interval: f.interval };
      return { status: "error", message };
    }
  }

  return {
    provider: "tado",

    async begin(input, req): Promise<FlowStart> {
      sweep();
      let device: oidc.DeviceAuthorizationResponse;
      try {
        device = await oidc.initiateDeviceAuthorization(config, { scope: TADO_SCOPE });
      } catch (err) {
        const error = (err as { error?: unknown }).error;
        throw new FlowError(
          "provider_unavailable",
          typeof error === "string" ? `Tado refused to start the sign-in (${error}).` : `Tado's sign-in service did not answer (${(err as Error).message}).`,
        );
      }
      const now = deps.now();
      const interval = Math.max(1, device.interval ?? 5);
      const flowId = randomUUID();
      const homeId = input.homeId && /^[0-9]+$/.test(input.homeId) ? Number(input.homeId) : undefined;
      flows.set(flowId, {
        sessionId: req.sessionId,
        device,
        expiresAt: now + device.expires_in * 1000,
        interval,
        nextPollAt: now + interval * 1000,
        busy: false,
        ...(homeId !== undefined ? { homeId } : {}),
      });
      deps.log.info("tado device flow started; waiting for the code to be confirmed on Tado's page");
      return {
        kind: "device",
        flowId,
        userCode: device.user_code,
        verificationUri: device.verification_uri,
        ...(device.verification_uri_complete ? { verificationUriComplete: device.verification_uri_complete } : {}),
        expiresAt: now + device.expires_in * 1000,
        interval,
      };
    },

    async poll(flowId, req): Promise<DevicePoll> {
      const f = own(flowId, req);
      if (f.finished) return f.finished.result;
      const now = deps.now();
      if (now >= f.expiresAt) return finish(f, terminal("expired_token")!);
      if (f.busy || now < f.nextPollAt) return { status: "pending", interval: f.interval };
      f.busy = true;
      try {
        const result = await pollOnce(f);
        f.nextPollAt = Math.max(f.nextPollAt, deps.now() + f.interval * 1000);
        return result.status === "pending" ? result : finish(f, result);
      } finally {
        f.busy = false;
      }
    },

    cancel(flowId, req) {
      const f = own(flowId, req);
      if (!f.finished) finish(f, { status: "cancelled", message: "Connection cancelled." });
    },

    async disconnect(account) {
      deps.vault.remove(account.id);
    },

    refresher(_account, current) {
      return refreshTadoTokens(config, current, deps.now());
    },
  };
}
