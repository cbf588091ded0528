/**
 * One WebSocket session per connected client (server side): auth within `authTimeoutMs`, then the
 * chunked snapshot of what the client may see, live diffs, heartbeat answers and forwarded
 * service calls. Every frame after auth re-checks the token (revocation, expiry) before it is
 * handled; a 1 s sweep re-checks idle sessions too, so a revoked or expired client is cut off
 * within a second. Malformed or unknown frames get an `error` frame; a session that sends more
 * than {@link MAX_BAD_FRAMES} of them is closed (the server itself never stops).
 */
import type WebSocket from "ws";
import type { Logger } from "../../log.js";
import {
  clientMessageSchema,
  decodeFrame,
  encodeFrame,
  PROTOCOL_VERSION,
  snapshotFrames,
  type CallServiceMessage,
  type ServerMessage,
} from "../protocol.js";
import type { Exposure } from "./acl.js";
import { serviceRefusal } from "./acl.js";
import type { CallLedger } from "./calls.js";
import type { ClientRegistry, SyncClient } from "./clients.js";
import type { StateChange, StateHub } from "./states.js";
import { TokenError, type TokenAuthority, type TokenIdentity } from "./tokens.js";

/** Bad frames tolerated per session before it is closed. */
export const MAX_BAD_FRAMES = 1000;
/** Close code sent to a revoked / expired client. */
export const CLOSE_REVOKED = 4001;

/** What sessions need from the server. */
export interface SessionDeps {
  serverId: string;
  serverName: string;
  temperatureUnit: "C" | "F";
  authority: TokenAuthority;
  clients: ClientRegistry;
  exposure: Exposure;
  hub: StateHub;
  ledger: CallLedger;
  callService: (domain: string, service: string, entityId: string, data: Record<string, unknown>) => Promise<void>;
  log: Logger;
  authTimeoutMs: number;
  /** A session silent this long is closed (the client pings more often). */
  idleTimeoutMs: number;
  snapshotChunkBytes: number;
}

interface Session {
  socket: WebSocket;
  address: string;
  identity?: TokenIdentity;
  client?: SyncClient;
  instanceId?: string;
  allowed?: Set<string>;
  bad: number;
  lastFrameAt: number;
  /** Bytes sent to this session (bench). */
  sentBytes: number;
}

/** The set of live sessions with their fan-out. */
export class SessionSet {
  private readonly sessions = new Set<Session>();
  private readonly sweep: NodeJS.Timeout;
  private readonly offHub: () => void;

  constructor(private readonly deps: SessionDeps) {
    this.offHub = deps.hub.onChange((c) => this.broadcast(c));
    this.sweep = setInterval(() => this.sweepSessions(), 1000);
    this.sweep.unref();
  }

  /** Number of authenticated sessions per client id. */
  connectedClients(): Map<string, number> {
    const m = new Map<string, number>();
    for (const s of this.sessions) if (s.client) m.set(s.client.id, (m.get(s.client.id) ?? 0) + 1);
    return m;
  }

  /**
   * Bytes sent per client id over its live sessions: `payload` = JSON before permessage-deflate,
   * `wire` = bytes written to the TCP socket (compressed frames + framing).
   */
  bytesPerClient(): Map<string, { payload: number; wire: number }> {
    const m = new Map<string, { payload: number; wire: number }>();
    for (const s of this.sessions) {
      if (!s.client) continue;
      const cur = m.get(s.client.id) ?? { payload: 0, wire: 0 };
      const tcp = (s.socket as unknown as { _socket?: { bytesWritten?: number } })._socket;
      m.set(s.client.id, { payload: cur.payload + s.sentBytes, wire: cur.wire + (tcp?.bytesWritten ?? 0) });
    }
    return m;
  }

  /** Takes over a freshly upgraded socket. */
  accept(socket: WebSocket, address: string): void {
    const s: Session = { socket, address, bad: 0, lastFrameAt: Date.now(), sentBytes: 0 };
    this.sessions.add(s);
    const authTimer = setTimeout(() => {
      if (!s.identity) this.close(s, 4000, "no auth in time");
    }, this.deps.authTimeoutMs);
    socket.on("message", (data, isBinary) => {
      s.lastFrameAt = Date.now();
      void this.onFrame(s, isBinary ? data : data.toString()).catch((err) => {
        this.deps.log.warn(`sync session ${s.client?.name ?? s.address}: ${(err as Error).message}`);
      });
    });
    socket.on("close", () => {
      clearTimeout(authTimer);
      this.sessions.delete(s);
    });
    socket.on("error", () => undefined);
  }

  /** Cuts every session of `clientId` at once (after a revocation). */
  disconnectClient(clientId: string, reason = "access revoked"): void {
    for (const s of this.sessions) {
      if (s.client?.id === clientId) {
        this.send(s, { type: "auth_invalid", reason: "revoked", message: reason });
        this.close(s, CLOSE_REVOKED, reason);
      }
    }
  }

  /** Re-sends a snapshot to every session (after the exposure changed). */
  resnapshot(): void {
    for (const s of this.sessions) if (s.client) this.sendSnapshot(s);
  }

  /** Closes everything. */
  stop(): void {
    clearInterval(this.sweep);
    this.offHub();
    for (const s of this.sessions) this.close(s, 1001, "server stopping");
  }

  private send(s: Session, m: ServerMessage): void {
    this.sendRaw(s, encodeFrame(m));
  }

  private sendRaw(s: Session, text: string): void {
    if (s.socket.readyState !== s.socket.OPEN) return;
    s.sentBytes += Buffer.byteLength(text);
    s.socket.send(text);
  }

  private close(s: Session, code: number, reason: string): void {
    try {
      s.socket.close(code, reason);
    } catch {
      /* already closing */
    }
    const sock = s.socket;
    setTimeout(() => sock.terminate(), 500).unref();
    this.sessions.delete(s);
  }

  private bad(s: Session, code: string, message: string, ref?: string): void {
    this.send(s, { type: "error", code, message, ...(ref ? { ref } : {}) });
    if (++s.bad > MAX_BAD_FRAMES) this.close(s, 1008, "too many invalid frames");
  }

  /** Re-checks the token of an authenticated session; closes it and returns false when dead. */
  private live(s: Session): boolean {
    if (!s.identity) return false;
    try {
      this.deps.authority.checkLive(s.identity);
      return true;
    } catch (err) {
      const reason = err instanceof TokenError ? err.reason : "invalid";
      this.send(s, { type: "auth_invalid", reason: reason === "expired" ? "expired" : reason === "revoked" ? "revoked" : "invalid", message: (err as Error).message });
      this.close(s, CLOSE_REVOKED, (err as Error).message);
      return false;
    }
  }

  private sweepSessions(): void {
    const now = Date.now();
    for (const s of this.sessions) {
      if (!s.identity) continue;
      if (!this.live(s)) continue;
      if (now - s.lastFrameAt > this.deps.idleTimeoutMs) this.close(s, 4002, "silent client");
    }
  }

  private async onFrame(s: Session, data: unknown): Promise<void> {
    const d = decodeFrame(clientMessageSchema, data);
    if (!d.ok) {
      this.bad(s, d.code, d.message);
      return;
    }
    const m = d.message;
    if (!s.identity) {
      if (m.type !== "auth") {
        this.bad(s, "unauthorized", "send auth first");
        return;
      }
      await this.authenticate(s, m.token, m.instance_id, m.protocol);
      return;
    }
    if (!this.live(s)) return;
    switch (m.type) {
      case "auth":
        this.bad(s, "bad_message", "already authenticated");
        return;
      case "ping":
        this.send(s, { type: "pong", id: m.id });
        return;
      case "pong":
        return;
      case "call_service":
        await this.call(s, m);
        return;
    }
  }

  private async authenticate(s: Session, token: string, instanceId: string, protocol: number): Promise<void> {
    if (protocol !== PROTOCOL_VERSION) {
      this.send(s, { type: "auth_invalid", reason: "invalid", message: `protocol ${protocol} not supported (server speaks ${PROTOCOL_VERSION})` });
      this.close(s, 4000, "protocol");
      return;
    }
    let identity: TokenIdentity;
    try {
      identity = await this.deps.authority.verify(token);
    } catch (err) {
      const reason = err instanceof TokenError ? err.reason : "invalid";
      this.send(s, { type: "auth_invalid", reason, message: (err as Error).message });
      this.close(s, CLOSE_REVOKED, "auth_invalid");
      return;
    }
    if (instanceId === this.deps.serverId) {
      this.send(s, { type: "auth_invalid", reason: "loop", message: "a client cannot mirror its own server instance" });
      this.close(s, 4003, "loop");
      return;
    }
    const client = this.deps.clients.get(identity.clientId);
    if (!client) {
      this.send(s, { type: "auth_invalid", reason: "invalid", message: "unknown client" });
      this.close(s, CLOSE_REVOKED, "auth_invalid");
      return;
    }
    s.identity = identity;
    s.client = client;
    s.instanceId = instanceId;
    this.deps.clients.touch(client.id, s.address);
    this.send(s, {
      type: "auth_ok",
      server_id: this.deps.serverId,
      server_name: this.deps.serverName,
      client_id: client.id,
      temperature_unit: this.deps.temperatureUnit,
    });
    this.sendSnapshot(s);
  }

  private allowed(s: Session): Set<string> {
    // Re-read the client (group may have changed) and its allowed set (cached per version).
    const c = this.deps.clients.get(s.client!.id) ?? s.client!;
    s.client = c;
    return this.deps.exposure.allowedFor(c);
  }

  private sendSnapshot(s: Session): void {
    const allowed = this.allowed(s);
    const states = [...this.deps.hub.states.values()].filter((st) => this.deps.exposure.visible(st, allowed, s.instanceId!));
    for (const f of snapshotFrames(states, this.deps.snapshotChunkBytes)) this.send(s, f);
  }

  private broadcast(c: StateChange): void {
    for (const s of this.sessions) {
      if (!s.client || !s.instanceId) continue;
      if (!this.live(s)) continue;
      const allowed = this.allowed(s);
      const parts: string[] = [];
      c.changed.forEach((st, i) => {
        if (this.deps.exposure.visible(st, allowed, s.instanceId!)) parts.push(c.json[i]!);
      });
      const removed = c.removed.filter((id) => allowed.has(id));
      if (parts.length === 0 && removed.length === 0) continue;
      this.sendRaw(s, `{"type":"diff","changed":[${parts.join(",")}],"removed":${JSON.stringify(removed)}}`);
    }
  }

  private async call(s: Session, m: CallServiceMessage): Promise<void> {
    const outcome = await callChecked(this.deps, s.client!, s.instanceId!, m.id, m.domain, m.service, m.entity_id, m.data);
    this.send(s, { type: "call_result", id: m.id, ...outcome });
  }
}

/**
 * ACL + service check + exactly-once run of one forwarded call (shared by WS and HTTP).
 * An entity the client was not given answers `not_found` (indistinguishable from a missing one).
 */
export async function callChecked(
  deps: Pick<SessionDeps, "exposure" | "hub" | "ledger" | "callService">,
  client: SyncClient,
  clientInstance: string | null,
  correlationId: string,
  domain: string,
  service: string,
  entityId: string,
  data: Record<string, unknown>,
): Promise<{ success: boolean; error?: { code: string; message: string } }> {
  const state = deps.hub.states.get(entityId);
  const allowed = deps.exposure.allowedFor(client);
  const visible = state && (clientInstance ? deps.exposure.visible(state, allowed, clientInstance) : allowed.has(entityId) && (state.path.length === 1 || deps.exposure.reexportMirrored));
  if (!visible) return { success: false, error: { code: "not_found", message: `no entity ${entityId} is shared with this client` } };
  const refusal = serviceRefusal(domain, service, entityId, data);
  if (refusal) return { success: false, error: { code: "not_allowed", message: refusal } };
  return deps.ledger.run(client.id, correlationId, () => deps.callService(domain, service, entityId, data));
}
