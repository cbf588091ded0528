/**
 * The sync server's own HTTP + WebSocket listener (fastify 5 + @fastify/websocket,
 * permessage-deflate on), on its own port — not ingress: a client instance has no ingress session.
 * Paths keep seed 002's `/api/home_assistant_sync/` prefix:
 *
 * | route | auth | does |
 * |---|---|---|
 * | `GET auth` | Bearer | `{valid, client_id, expires_at, server_id}` |
 * | `POST register_client` | pairing code or registration secret | `RegisterResult` (401 bad code, 429 locked out) |
 * | `POST rotate_token` | Bearer | a new token; the old one stays valid until the new one is used |
 * | `POST revoke_client` | Bearer | a client can revoke itself only (the owner revokes on the add-on page) |
 * | `GET clients` | Bearer | the caller's own record (the full list is on the owner's page only) |
 * | `GET entities` | Bearer | the states shared with the caller |
 * | `POST call_service` | Bearer | `{correlation_id, domain, service, entity_id, data}` → outcome, exactly once |
 * | `GET ws` | `auth` frame | the real-time protocol (`../protocol.ts`) |
 *
 * TLS when a certificate and key are given; DOCS.md says to use it (or a reverse proxy) off the LAN.
 */
import { readFileSync } from "node:fs";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import websocket from "@fastify/websocket";
import { API_PREFIX, MAX_FRAME_BYTES, httpCallBodySchema, registerBodySchema, type RegisterResult } from "../protocol.js";
import { ClientRegistry } from "./clients.js";
import { callChecked, SessionSet, type SessionDeps } from "./sessions.js";
import { TokenError, type TokenIdentity } from "./tokens.js";

/** Options of {@link startSyncHttp}. */
export interface SyncHttpOptions extends SessionDeps {
  host: string;
  port: number;
  tls?: { certPath: string; keyPath: string };
  /** Seed-compatible registration secret (not the signing key); absent = pairing codes only. */
  registrationSecret?: string;
  /** Lifetime of a new client's tokens, days. */
  defaultTokenDays: number;
}

/** A started listener. */
export interface SyncHttp {
  app: FastifyInstance;
  sessions: SessionSet;
  /** Actual port (when 0 was asked). */
  port: number;
  close(): Promise<void>;
}

/** Starts the listener (see the file comment). */
export async function startSyncHttp(o: SyncHttpOptions): Promise<SyncHttp> {
  const https = o.tls ? { cert: readFileSync(o.tls.certPath), key: readFileSync(o.tls.keyPath) } : null;
  const app: FastifyInstance = (https ? Fastify({ https, bodyLimit: 64 * 1024 }) : Fastify({ bodyLimit: 64 * 1024 })) as unknown as FastifyInstance;
  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: true } });
  const sessions = new SessionSet(o);

  const bearer = async (req: FastifyRequest, reply: FastifyReply): Promise<TokenIdentity | null> => {
    const h = req.headers.authorization;
    const token = h?.startsWith("Bearer ") ? h.slice(7).trim() : "";
    if (!token) {
      await reply.code(401).send({ error: "invalid", message: "missing Bearer token" });
      return null;
    }
    try {
      const id = await o.authority.verify(token);
      o.clients.touch(id.clientId, req.ip);
      return id;
    } catch (err) {
      const reason = err instanceof TokenError ? err.reason : "invalid";
      await reply.code(401).send({ error: reason, message: (err as Error).message });
      return null;
    }
  };

  const p = API_PREFIX;
  app.get(`${p}/auth`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    return { valid: true, client_id: id.clientId, expires_at: id.exp, server_id: o.serverId };
  });

  app.post(`${p}/register_client`, async (req, reply) => {
    const address = req.ip;
    if (o.clients.isLockedOut(address)) {
      return reply.code(429).send({ error: "locked_out", message: "too many failed registrations from this address; try again in 15 minutes" });
    }
    const body = registerBodySchema.safeParse(req.body);
    if (!body.success) {
      o.clients.recordFailure(address);
      return reply.code(400).send({ error: "bad_request", message: body.error.issues[0]?.message ?? "invalid body" });
    }
    const b = body.data;
    if (b.instance_id === o.serverId) {
      return reply.code(400).send({ error: "loop", message: "a client cannot register with its own server instance" });
    }
    let group: string | null = null;
    let ok = false;
    if (b.pairing_code !== undefined) {
      const r = o.clients.consumePairingCode(b.pairing_code);
      ok = r.ok;
      if (r.ok) group = r.group;
    } else if (b.registration_secret !== undefined) {
      ok = ClientRegistry.secretMatches(o.registrationSecret, b.registration_secret);
    }
    if (!ok) {
      o.clients.recordFailure(address);
      o.log.warn(`sync: failed client registration from ${address}`);
      return reply.code(401).send({ error: "invalid", message: "the pairing code or registration secret is not valid" });
    }
    const client = o.clients.add(b.name, b.instance_id, group, o.defaultTokenDays);
    const t = await o.authority.issue(client.id, client.tokenDays);
    o.log.info(`sync: client "${client.name}" registered from ${address}`);
    const result: RegisterResult = { client_id: client.id, token: t.token, expires_at: t.exp, server_id: o.serverId, server_name: o.serverName };
    return result;
  });

  app.post(`${p}/rotate_token`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    const client = o.clients.get(id.clientId)!;
    const t = await o.authority.issue(client.id, client.tokenDays, id.jti);
    const result: RegisterResult = { client_id: client.id, token: t.token, expires_at: t.exp, server_id: o.serverId, server_name: o.serverName };
    return result;
  });

  app.post(`${p}/revoke_client`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    const target = (req.body as { client_id?: unknown } | undefined)?.client_id;
    if (target !== id.clientId) {
      return reply.code(403).send({ error: "forbidden", message: "a client can only revoke itself; the server owner revokes others on the add-on page" });
    }
    o.clients.revoke(id.clientId);
    sessions.disconnectClient(id.clientId, "client revoked itself");
    return { revoked: true };
  });

  app.get(`${p}/clients`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    const c = o.clients.get(id.clientId)!;
    return [{ client_id: c.id, name: c.name, group: c.group, created_at: c.createdAt, last_seen_at: c.lastSeenAt }];
  });

  app.get(`${p}/entities`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    const c = o.clients.get(id.clientId)!;
    const allowed = o.exposure.allowedFor(c);
    return [...o.hub.states.values()].filter((s) => o.exposure.visible(s, allowed, c.instanceId));
  });

  app.post(`${p}/call_service`, async (req, reply) => {
    const id = await bearer(req, reply);
    if (!id) return reply;
    const body = httpCallBodySchema.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: "bad_request", message: body.error.issues[0]?.message ?? "invalid body" });
    const b = body.data;
    const c = o.clients.get(id.clientId)!;
    const out = await callChecked(o, c, c.instanceId, b.correlation_id, b.domain, b.service, b.entity_id, b.data);
    if (!out.success && out.error?.code === "not_found") return reply.code(404).send(out);
    if (!out.success && out.error?.code === "not_allowed") return reply.code(403).send(out);
    return out;
  });

  app.get(`${p}/ws`, { websocket: true }, (socket, req) => {
    sessions.accept(socket, req.ip);
  });

  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  return {
    app,
    sessions,
    port,
    async close() {
      sessions.stop();
      await app.close();
    },
  };
}
