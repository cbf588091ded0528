/**
 * The accounts JSON API (a fastify plugin the web module mounts at the add-on's base; paths are
 * relative to it; the page is static/accounts-client.ts of the web module):
 * - `GET api/accounts` → `{ accounts: [{ id, provider, label, status, detail, expiresAt }], providers: [{ provider, label, kind, inputs }] }`
 * - `POST api/accounts/connect` `{ provider, input, callbackUrl }` → FlowStart (auth/flow.ts)
 * - `GET callback/:provider?…` → 302 `../accounts?connected=<id>` or `../accounts?error=<code>&message=<plain>`
 * - `POST api/accounts/device/:flowId/poll` → DevicePoll; `POST api/accounts/device/:flowId/cancel` → `{ ok: true }`
 * - `POST api/accounts/:id/disconnect` → `{ ok: true }`
 * Errors: `{ error: code, message }` (400 bad input / FlowError, 404 unknown, 500 otherwise).
 * Bodies are validated with zod. Nothing from a query string or body is logged (callbacks carry
 * consent references and codes).
 */
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import { z } from "zod";
import { FlowError, type AccountFlow, type FlowRequest } from "../../auth/flow.js";
import type { Account } from "../../domain/types.js";
import type { Logger } from "../../log.js";
import { flowUi } from "./provider-catalog.js";
import "./fastify-session.js";

/** What the plugin needs from the accounts module. */
export interface AccountsApiDeps {
  flows: ReadonlyMap<string, AccountFlow>;
  /** Accounts as the page lists them. */
  list(): { account: Account; expiresAt: number | null }[];
  /** Disconnects (flow + vault + store + event); false when unknown. */
  disconnect(accountId: string): Promise<boolean>;
  log: Logger;
  /** Clock (UTC epoch ms) for the device-flow registry. */
  now: () => number;
}

const connectBody = z
  .object({
    provider: z.string().min(1).max(64),
    input: z.record(z.string().max(8192)).default({}),
    callbackUrl: z.string().url().max(2048),
  })
  .strict();

/** Device flow ids live this long after `begin` (ms); RFC 8628 codes last ≤ 30 min at Tado. */
const DEVICE_FLOW_TTL_MS = 60 * 60 * 1000;

function fail(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

function firstValues(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (query && typeof query === "object") {
    for (const [k, v] of Object.entries(query as Record<string, unknown>)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === "string") out[k] = first;
    }
  }
  return out;
}

/** The callback URL the page sent must be ours: http(s), path ending `/callback/<provider>`, no query. */
function checkCallbackUrl(url: string, provider: string): void {
  const u = new URL(url);
  if (!/^https?:$/.test(u.protocol) || u.search || u.hash || !u.pathname.endsWith(`/callback/${encodeURIComponent(provider)}`)) {
    throw new FlowError("invalid_input", "The page sent a callback address that is not this add-on's.");
  }
}

/** See the file comment. */
export function accountsApi(deps: AccountsApiDeps): FastifyPluginAsync {
  const deviceFlows = new Map<string, { provider: string; sessionId: string; at: number }>();
  const handleError = (reply: FastifyReply, err: unknown, what: string) => {
    if (err instanceof FlowError) return fail(reply, 400, err.code, err.message);
    deps.log.error(`${what} failed: ${(err as Error).name}: ${(err as Error).message}`);
    return fail(reply, 500, "internal", "Something went wrong on the add-on's side; its log has the details.");
  };

  return async (app) => {
    app.get("/api/accounts", async () => ({
      accounts: deps.list().map(({ account: a, expiresAt }) => ({ id: a.id, provider: a.provider, label: a.label, status: a.status, detail: a.detail, expiresAt })),
      providers: [...deps.flows.values()].map((f) => {
        const ui = flowUi(f);
        return { provider: f.provider, label: ui.label, kind: ui.kind, inputs: ui.inputs };
      }),
    }));

    app.post("/api/accounts/connect", async (request, reply) => {
      const parsed = connectBody.safeParse(request.body);
      if (!parsed.success) return fail(reply, 400, "invalid_request", "The request is incomplete: provider, input and callbackUrl are expected.");
      const { provider, input, callbackUrl } = parsed.data;
      const flow = deps.flows.get(provider);
      if (!flow) return fail(reply, 404, "unknown_provider", `No way to connect "${provider}" exists in this add-on.`);
      try {
        checkCallbackUrl(callbackUrl, provider);
        const req: FlowRequest = { sessionId: request.sessionId, callbackUrl };
        const start = await flow.begin(input, req);
        if (start.kind === "device") {
          const now = deps.now();
          for (const [id, f] of deviceFlows) if (now - f.at > DEVICE_FLOW_TTL_MS) deviceFlows.delete(id);
          deviceFlows.set(start.flowId, { provider, sessionId: request.sessionId, at: now });
        }
        return start;
      } catch (err) {
        return handleError(reply, err, `connecting ${provider}`);
      }
    });

    app.get<{ Params: { provider: string } }>("/callback/:provider", async (request, reply) => {
      const { provider } = request.params;
      const flow = deps.flows.get(provider);
      const back = (q: Record<string, string>) => reply.code(302).header("location", `../accounts?${new URLSearchParams(q).toString()}`).send();
      if (!flow?.callback) return back({ error: "unknown_provider", message: "This sign-in answer does not belong to any connection in progress." });
      // The redirect_uri the provider used: this very URL without its query.
      const host = request.headers.host ?? "localhost";
      const path = request.url.split("?")[0] ?? "";
      const callbackUrl = `${request.protocol}://${host}${path}`;
      try {
        const account = await flow.callback(firstValues(request.query), { sessionId: request.sessionId, callbackUrl });
        return back({ connected: account.id });
      } catch (err) {
        if (err instanceof FlowError) {
          deps.log.warn({ provider, code: err.code }, `connecting ${provider} failed: ${err.message}`);
          return back({ error: err.code, message: err.message });
        }
        deps.log.error(`the ${provider} callback failed: ${(err as Error).name}: ${(err as Error).message}`);
        return back({ error: "internal", message: "Something went wrong on the add-on's side; its log has the details." });
      }
    });

    const deviceFlow = (flowId: string, sessionId: string) => {
      const f = deviceFlows.get(flowId);
      if (!f || f.sessionId !== sessionId) return undefined;
      return deps.flows.get(f.provider);
    };

    app.post<{ Params: { flowId: string } }>("/api/accounts/device/:flowId/poll", async (request, reply) => {
      const flow = deviceFlow(request.params.flowId, request.sessionId);
      if (!flow?.poll) return fail(reply, 404, "unknown_flow", "This connection is not in progress any more. Start again.");
      try {
        const res = await flow.poll(request.params.flowId, { sessionId: request.sessionId, callbackUrl: "" });
        if (res.status !== "pending") deviceFlows.delete(request.params.flowId);
        return res;
      } catch (err) {
        return handleError(reply, err, `polling ${flow.provider}`);
      }
    });

    app.post<{ Params: { flowId: string } }>("/api/accounts/device/:flowId/cancel", async (request, reply) => {
      const flow = deviceFlow(request.params.flowId, request.sessionId);
      if (!flow) return fail(reply, 404, "unknown_flow", "This connection is not in progress any more.");
      flow.cancel?.(request.params.flowId, { sessionId: request.sessionId, callbackUrl: "" });
      deviceFlows.delete(request.params.flowId);
      return { ok: true };
    });

    app.post<{ Params: { id: string } }>("/api/accounts/:id/disconnect", async (request, reply) => {
      try {
        if (!(await deps.disconnect(request.params.id))) return fail(reply, 404, "unknown_account", "This account is not connected.");
        return { ok: true };
      } catch (err) {
        return handleError(reply, err, `disconnecting ${request.params.id}`);
      }
    });
  };
}
