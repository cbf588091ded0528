/**
 * A small stand-in for the accounts module's JSON API (the contract the page script uses), as a
 * fastify plugin for the web module's route registry. It keeps accounts in memory and binds
 * OAuth `state` to `request.sessionId` like the real flows, so page tests exercise the session
 * cookie for real. Redirect provider: `connect` answers `{kind:"redirect", url}` to
 * `<authorizeUrl>?state=…&redirect_uri=<callbackUrl>`; the browser comes back to
 * `callback/fake_oauth?code=…&state=…`, answered with a relative 302 to `../accounts?connected=<id>`.
 * Device provider: `connect` answers a device start; `poll` is pending until `approveDevice()`.
 */
import { randomBytes } from "node:crypto";
import type { FastifyPluginAsync } from "fastify";

/** The account shape of GET api/accounts. */
export interface FakeAccount {
  id: string;
  provider: string;
  label: string;
  status: "connected" | "expiring" | "revoked" | "error";
  detail: string | null;
  expiresAt: number | null;
}

/** Handle on the fake API's state. */
export interface FakeAccountsApi {
  plugin: FastifyPluginAsync;
  accounts: FakeAccount[];
  /** Device flows started, by flow id. */
  deviceFlows: Map<string, { sessionId: string; approved: boolean; cancelled: boolean; expiresAt: number }>;
  /** Marks the (only or given) pending device flow approved. */
  approveDevice(flowId?: string): void;
  /** Every request the plugin saw: method, route pattern, sessionId. */
  seen: { method: string; route: string; sessionId: string }[];
  /** The device start's links (change them to test what the page does with a hostile provider). */
  deviceLinks: { verificationUri: string; verificationUriComplete?: string };
}

/** Options of {@link fakeAccountsApi}. */
export interface FakeAccountsOptions {
  /** The fake provider's authorize page (absolute URL) the redirect flow sends the browser to. */
  authorizeUrl?: string;
  /** Device flow lifetime, s (default 600) and poll interval, s (default 1). */
  deviceExpiresIn?: number;
  deviceInterval?: number;
  initial?: FakeAccount[];
}

/** See the file comment. */
export function fakeAccountsApi(opts: FakeAccountsOptions = {}): FakeAccountsApi {
  const accounts: FakeAccount[] = [...(opts.initial ?? [])];
  const states = new Map<string, { sessionId: string; callbackUrl: string; instance: string }>();
  const deviceFlows: FakeAccountsApi["deviceFlows"] = new Map();
  const seen: FakeAccountsApi["seen"] = [];
  const providers = [
    { provider: "fake_oauth", label: "Fake Cozy", kind: "redirect", inputs: [{ name: "instance", label: { en: "Cozy address", fr: "Adresse Cozy" }, type: "text" }] },
    { provider: "tado", label: "Tado", kind: "device", inputs: [] },
    { provider: "conso_api", label: "Conso API", kind: "token", inputs: [{ name: "token", label: { en: "Token", fr: "Jeton" }, type: "password" }] },
  ];

  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook("onRequest", async (request) => {
      seen.push({ method: request.method, route: request.routeOptions.url ?? "", sessionId: request.sessionId });
    });
    app.get("/api/accounts", async () => ({ accounts, providers }));
    app.post<{ Body: { provider: string; input: Record<string, string>; callbackUrl: string } }>("/api/accounts/connect", async (request, reply) => {
      const { provider, input, callbackUrl } = request.body;
      if (provider === "fake_oauth") {
        if (!input.instance) return reply.code(400).send({ error: "invalid_input", message: "the Cozy address is empty" });
        const state = randomBytes(16).toString("base64url");
        states.set(state, { sessionId: request.sessionId, callbackUrl, instance: input.instance });
        const url = new URL(opts.authorizeUrl ?? "http://127.0.0.1:9/authorize");
        url.searchParams.set("state", state);
        url.searchParams.set("redirect_uri", callbackUrl);
        return { kind: "redirect", url: url.href };
      }
      if (provider === "tado") {
        const flowId = randomBytes(8).toString("hex");
        const expiresAt = Date.now() + (opts.deviceExpiresIn ?? 600) * 1000;
        deviceFlows.set(flowId, { sessionId: request.sessionId, approved: false, cancelled: false, expiresAt });
        return {
          kind: "device",
          flowId,
          userCode: "WDJB-MJHT",
          ...handle.deviceLinks,
          expiresAt,
          interval: opts.deviceInterval ?? 1,
        };
      }
      if (provider === "conso_api") {
        const account: FakeAccount = { id: "conso_api_1", provider, label: "Conso API", status: "connected", detail: null, expiresAt: null };
        accounts.push(account);
        return { kind: "done", account };
      }
      return reply.code(400).send({ error: "unknown_provider", message: `no provider ${provider}` });
    });
    app.get<{ Params: { provider: string }; Querystring: Record<string, string> }>("/callback/:provider", async (request, reply) => {
      const s = states.get(request.query.state ?? "");
      states.delete(request.query.state ?? "");
      if (s && request.query.error) {
        return reply.code(302).header("location", `../accounts?error=${encodeURIComponent(request.query.error)}&message=${encodeURIComponent("Your Cozy did not give access (access_denied). Nothing was connected.")}`).send();
      }
      if (!s || s.sessionId !== request.sessionId) {
        return reply.code(302).header("location", `../accounts?error=state_mismatch&message=${encodeURIComponent("state does not match this session")}`).send();
      }
      const account: FakeAccount = { id: `fake_oauth_${s.instance}`, provider: "fake_oauth", label: s.instance, status: "connected", detail: null, expiresAt: Date.now() + 3600_000 };
      accounts.push(account);
      return reply.code(302).header("location", `../accounts?connected=${encodeURIComponent(account.id)}`).send();
    });
    app.post<{ Params: { flowId: string } }>("/api/accounts/device/:flowId/poll", async (request, reply) => {
      const f = deviceFlows.get(request.params.flowId);
      if (!f || f.sessionId !== request.sessionId) return reply.code(404).send({ error: "unknown_flow", message: "no such device flow" });
      if (f.cancelled) return { status: "cancelled", message: "cancelled" };
      if (Date.now() > f.expiresAt) return { status: "expired", message: "the code expired" };
      if (!f.approved) return { status: "pending", interval: opts.deviceInterval ?? 1 };
      deviceFlows.delete(request.params.flowId);
      const account: FakeAccount = { id: "tado_1", provider: "tado", label: "Tado home", status: "connected", detail: null, expiresAt: null };
      accounts.push(account);
      return { status: "connected", account };
    });
    app.post<{ Params: { flowId: string } }>("/api/accounts/device/:flowId/cancel", async (request) => {
      const f = deviceFlows.get(request.params.flowId);
      if (f) f.cancelled = true;
      return { ok: true };
    });
    app.post<{ Params: { id: string } }>("/api/accounts/:id/disconnect", async (request, reply) => {
      const i = accounts.findIndex((a) => a.id === request.params.id);
      if (i < 0) return reply.code(404).send({ error: "unknown_account", message: "no such account" });
      accounts.splice(i, 1);
      return { ok: true };
    });
  };

  const handle: FakeAccountsApi = {
    plugin,
    deviceLinks: { verificationUri: "https://login.tado.example/device", verificationUriComplete: "https://login.tado.example/device?user_code=WDJB-MJHT" },
    accounts,
    deviceFlows,
    seen,
    approveDevice(flowId) {
      for (const [id, f] of deviceFlows) if (!flowId || id === flowId) f.approved = true;
    },
  };
  return handle;
}
