/**
 * A real OAuth 2.0 / OpenID Connect authorization server for integration tests: `oidc-provider`
 * (in-memory adapter, development signing keys) on http://127.0.0.1:<free port>.
 *
 * Enabled: dynamic client registration (open, POST /reg), device authorization grant
 * (POST /device/auth), revocation, refresh tokens on every grant of a client allowed the
 * `refresh_token` grant type, always rotated (the old one is consumed; replaying it is
 * `invalid_grant` and revokes the whole grant), PKCE (S256) required for public clients.
 *
 * No browser: the login/consent interaction (`/interaction/:uid`) is answered by this harness
 * itself — it logs in `opts.accountId` and grants the requested scopes — so following the
 * redirects of an authorization URL with a cookie jar ({@link OAuthServer.authorize}) ends
 * at the client's redirect_uri with `code` and `state`. Device codes are approved or denied
 * programmatically from their user code.
 *
 * oidc-provider never answers `slow_down` itself: the harness does, on the token endpoint,
 * for a device code polled again less than `deviceInterval` seconds after its previous poll.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Options of {@link startOAuthServer}; every TTL is in seconds. */
export interface OAuthServerOptions {
  /** The account the interactions log in (`sub` of the tokens). Default "test-user". */
  accountId?: string;
  /** Access token TTL. Default 60. */
  accessTokenTtl?: number;
  /** Refresh token TTL. Default 600. */
  refreshTokenTtl?: number;
  /** Device code (and user code) TTL. Default 60. */
  deviceCodeTtl?: number;
  /** `interval` of device authorization responses, and the slow_down threshold. Default 1. */
  deviceInterval?: number;
  /** Clients known from the start (oidc-provider client metadata), besides registered ones. */
  clients?: Record<string, unknown>[];
}

/**
 * Client metadata of a public device-flow client (RFC 8628, no secret, no redirect), as Tado's
 * app is; `refresh` adds the refresh_token grant (default true).
 */
export function publicDeviceClient(clientId: string, opts: { refresh?: boolean } = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    token_endpoint_auth_method: "none",
    grant_types: ["urn:ietf:params:oauth:grant-type:device_code", ...(opts.refresh === false ? [] : ["refresh_token"])],
    response_types: [],
    redirect_uris: [],
  };
}

/** A running server; `close()` it in `afterAll`. */
export interface OAuthServer {
  /** e.g. "http://127.0.0.1:41234" (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  port: number;
  /** The account interactions and device approvals use. */
  accountId: string;
  /**
   * Follows the redirects of an authorization URL (login + consent done by the harness)
   * and returns the first URL outside the issuer: the redirect_uri with `code`/`state`
   * (or `error`).
   */
  authorize(authorizationUrl: URL | string): Promise<URL>;
  /** Approves a pending device code (user code as shown, dashes allowed) for `accountId`. */
  approveDeviceCode(userCode: string): Promise<void>;
  /** The user refuses: the next poll of that device code is `access_denied`. */
  denyDeviceCode(userCode: string): Promise<void>;
  close(): Promise<void>;
}

// oidc-provider ships no types: just what this file uses.
interface GrantLike {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}
interface DeviceCodeLike {
  clientId: string;
  params?: { scope?: string };
  accountId?: string;
  grantId?: string;
  scope?: string;
  authTime?: number;
  error?: string;
  errorDescription?: string;
  save(): Promise<string>;
}
interface InteractionDetails {
  uid: string;
  params: { client_id: string; scope?: string };
  prompt: { name: string };
}
interface ProviderLike {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: object, opts?: object): Promise<void>;
  Grant: new (fields: { accountId: string; clientId: string }) => GrantLike;
  DeviceCode: { findByUserCode(code: string, opts?: object): Promise<DeviceCodeLike | undefined> };
}
type ProviderCtor = new (issuer: string, configuration: object) => ProviderLike;

/** Starts the server on 127.0.0.1 with a free port. */
export async function startOAuthServer(opts: OAuthServerOptions = {}): Promise<OAuthServer> {
  const accountId = opts.accountId ?? "test-user";
  const deviceInterval = opts.deviceInterval ?? 1;
  // A non-literal specifier: the untyped module resolves to `any` instead of failing strict TS.
  const specifier = "oidc-provider";
  const { default: Provider } = (await import(specifier)) as { default: ProviderCtor };

  let provider: ProviderLike | undefined;
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const lastPoll = new Map<string, number>(); // device_code → ms of its last poll

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!provider || !handle) throw new Error("provider not started");
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path.startsWith("/interaction/")) {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope ?? "openid");
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === "POST" && path === "/token") {
      // Read the form here (oidc-provider then takes the pre-parsed `req.body`) to answer slow_down.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const form = new URLSearchParams(body);
      const deviceCode = form.get("device_code");
      if (form.get("grant_type") === "urn:ietf:params:oauth:grant-type:device_code" && deviceCode) {
        const now = Date.now();
        const last = lastPoll.get(deviceCode);
        lastPoll.set(deviceCode, now);
        if (last !== undefined && now - last < deviceInterval * 1000) {
          res.writeHead(400, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify({ error: "slow_down", error_description: "polled faster than the interval" }));
          return;
        }
      }
      (req as IncomingMessage & { body?: string }).body = body;
    }
    handle(req, res);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  provider = new Provider(issuer, {
    clients: opts.clients ?? [],
    cookies: { keys: ["energy-bridge-test-cookie-key"] },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === "none" },
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 60,
      AuthorizationCode: 60,
      IdToken: 60,
      RefreshToken: opts.refreshTokenTtl ?? 600,
      DeviceCode: opts.deviceCodeTtl ?? 60,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
    },
  });
  // The provider's own device authorization response carries no `interval` (clients assume 5 s).
  provider.on("device_authorization.success", (_ctx, body) => {
    (body as { interval?: number }).interval = deviceInterval;
  });
  handle = provider.callback();

  async function findDeviceCode(userCode: string): Promise<DeviceCodeLike> {
    const normalized = userCode.toUpperCase().replace(/\W/g, "");
    const code = await provider!.DeviceCode.findByUserCode(normalized, { ignoreExpiration: true });
    if (!code) throw new Error(`no device code for user code ${userCode}`);
    return code;
  }

  return {
    issuer,
    port,
    accountId,
    async authorize(authorizationUrl) {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 20; hop++) {
        if (url.origin !== issuer) return url;
        const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
        const res = await fetch(url, { redirect: "manual", headers: cookie ? { cookie } : {} });
        for (const set of res.headers.getSetCookie()) {
          const [pair = ""] = set.split(";");
          const eq = pair.indexOf("=");
          jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
        const location = res.headers.get("location");
        if (!location) throw new Error(`authorize: ${res.status} at ${url.pathname}: ${await res.text()}`);
        await res.body?.cancel();
        url = new URL(location, url);
      }
      throw new Error("authorize: too many redirects");
    },
    async approveDeviceCode(userCode) {
      const code = await findDeviceCode(userCode);
      const grant = new provider!.Grant({ accountId, clientId: code.clientId });
      const scope = code.params?.scope ?? "openid";
      grant.addOIDCScope(scope);
      Object.assign(code, { accountId, grantId: await grant.save(), scope, authTime: Math.floor(Date.now() / 1000) });
      await code.save();
    },
    async denyDeviceCode(userCode) {
      const code = await findDeviceCode(userCode);
      Object.assign(code, { error: "access_denied", errorDescription: "End-User denied the request" });
      await code.save();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
