/**
 * The client's link to one sync server: WebSocket (`ws`, permessage-deflate) to
 * `<url>/api/home_assistant_sync/ws`, auth, chunked snapshot, diffs, heartbeat and forwarded calls.
 *
 * Watchdog: every stage has its own timeout — connect (TCP + upgrade), auth (`auth_ok`), snapshot
 * (last chunk), heartbeat (a `pong` or any frame within `heartbeatTimeoutMs` of each ping) — and
 * any miss terminates the socket and reconnects, so a half-open link (accepts TCP, never
 * answers) is detected. Reconnects back off 1, 2, 4, 8, 16, 30, 30… s (±20 % jitter), reset after
 * a complete snapshot; they never stop, except on `auth_invalid` (revoked, expired, loop), which
 * is reported and ends the link until the module restarts it.
 *
 * Calls: each carries a correlation id; unanswered calls are re-sent with the same id after a
 * reconnect (the server runs an id at most once) until `callTimeoutMs`.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import {
  API_PREFIX,
  decodeFrame,
  encodeFrame,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  serverMessageSchema,
  type ClientMessage,
  type EntityState,
  type ServerMessage,
} from "../protocol.js";

/** Link status as the page shows it. */
export type LinkStatus = "connecting" | "authenticating" | "syncing" | "connected" | "disconnected" | "refused";

/** Timeouts (ms) and knobs; defaults in {@link DEFAULT_LINK_TIMING}. */
export interface LinkTiming {
  connectTimeoutMs: number;
  authTimeoutMs: number;
  snapshotTimeoutMs: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  maxBackoffMs: number;
  callTimeoutMs: number;
}

export const DEFAULT_LINK_TIMING: LinkTiming = {
  connectTimeoutMs: 10_000,
  authTimeoutMs: 10_000,
  snapshotTimeoutMs: 30_000,
  heartbeatMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  maxBackoffMs: 30_000,
  callTimeoutMs: 30_000,
};

/** What the link reports. */
export interface LinkEvents {
  /** A complete snapshot (all chunks) after each (re)connect. */
  onSnapshot(states: EntityState[], server: { id: string; name: string; temperatureUnit: "C" | "F" }): void;
  onDiff(changed: EntityState[], removed: string[]): void;
  onStatus(status: LinkStatus, detail: string | null): void;
  /** The server refused the token (`revoked`, `expired`, `invalid`) or detected a loop. */
  onRefused?(reason: string, message: string): void;
}

/** Outcome of a forwarded call. */
export interface CallResult {
  success: boolean;
  error?: { code: string; message: string };
}

interface Pending {
  frame: ClientMessage;
  resolve(r: CallResult): void;
  timer: NodeJS.Timeout;
}

/** See the file comment. */
export class ServerLink {
  status: LinkStatus = "disconnected";
  detail: string | null = null;
  /** Reconnects since start (tests, page). */
  connects = 0;
  private socket?: WebSocket;
  private stopped = false;
  private attempt = 0;
  private stageTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private pingId = 0;
  private lastFrameAt = 0;
  private chunks: EntityState[] = [];
  private server?: { id: string; name: string; temperatureUnit: "C" | "F" };
  private ready = false;
  private readonly pending = new Map<string, Pending>();
  private readonly timing: LinkTiming;

  constructor(
    readonly url: string,
    private readonly token: () => string,
    private readonly instanceId: string,
    private readonly events: LinkEvents,
    timing: Partial<LinkTiming> = {},
  ) {
    this.timing = { ...DEFAULT_LINK_TIMING, ...timing };
  }

  /** The WebSocket URL of a server base URL (`http://h:p` → `ws://h:p/api/home_assistant_sync/ws`). */
  static wsUrl(url: string): string {
    return `${url.replace(/^http/, "ws").replace(/\/+$/, "")}${API_PREFIX}/ws`;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.teardown("stopped");
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ success: false, error: { code: "stopped", message: "the mirror link stopped" } });
      this.pending.delete(id);
    }
  }

  /** Forwards a service call; resolves with the server's outcome (or a timeout error). */
  call(domain: string, service: string, entityId: string, data: Record<string, unknown>, id: string = randomUUID()): Promise<CallResult> {
    return new Promise((resolve) => {
      const frame: ClientMessage = { type: "call_service", id, domain, service, entity_id: entityId, data };
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ success: false, error: { code: "timeout", message: `no answer from the server within ${this.timing.callTimeoutMs} ms` } });
      }, this.timing.callTimeoutMs);
      timer.unref();
      this.pending.set(id, { frame, resolve, timer });
      if (this.ready) this.send(frame);
    });
  }

  /** Drops the current socket as if the network failed (tests). */
  dropForTest(): void {
    this.socket?.terminate();
  }

  private setStatus(s: LinkStatus, detail: string | null = null): void {
    this.status = s;
    this.detail = detail;
    this.events.onStatus(s, detail);
  }

  private stage(ms: number, what: string): void {
    clearTimeout(this.stageTimer);
    this.stageTimer = setTimeout(() => this.fail(`watchdog: no ${what} within ${ms} ms`), ms);
  }

  private send(m: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(encodeFrame(m));
  }

  private connect(): void {
    if (this.stopped) return;
    this.connects++;
    this.ready = false;
    this.chunks = [];
    this.setStatus("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(ServerLink.wsUrl(this.url), { handshakeTimeout: this.timing.connectTimeoutMs, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: true });
    } catch (err) {
      this.fail(`cannot connect: ${(err as Error).message}`);
      return;
    }
    this.socket = ws;
    this.stage(this.timing.connectTimeoutMs, "connection");
    ws.on("open", () => {
      if (ws !== this.socket) return;
      this.setStatus("authenticating");
      this.stage(this.timing.authTimeoutMs, "auth_ok");
      this.send({ type: "auth", token: this.token(), instance_id: this.instanceId, protocol: PROTOCOL_VERSION });
    });
    ws.on("message", (data, isBinary) => {
      if (ws !== this.socket) return;
      this.lastFrameAt = Date.now();
      const d = decodeFrame(serverMessageSchema, isBinary ? data : data.toString());
      if (!d.ok) return; // a server bug; nothing to answer (servers do not take error frames)
      this.onMessage(d.message);
    });
    ws.on("close", (code, reason) => {
      if (ws !== this.socket) return;
      this.fail(`connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`);
    });
    ws.on("error", (err) => {
      if (ws !== this.socket) return;
      this.fail(err.message || "socket error");
    });
  }

  private onMessage(m: ServerMessage): void {
    switch (m.type) {
      case "auth_ok":
        this.server = { id: m.server_id, name: m.server_name, temperatureUnit: m.temperature_unit };
        this.setStatus("syncing");
        this.stage(this.timing.snapshotTimeoutMs, "snapshot");
        return;
      case "auth_invalid":
        this.stopped = true;
        this.teardown(m.reason);
        this.setStatus("refused", `${m.reason}: ${m.message}`);
        this.events.onRefused?.(m.reason, m.message);
        return;
      case "snapshot":
        if (!this.server) return;
        this.chunks.push(...m.entities);
        if (!m.last) {
          this.stage(this.timing.snapshotTimeoutMs, "snapshot");
          return;
        }
        clearTimeout(this.stageTimer);
        this.attempt = 0;
        this.events.onSnapshot(this.chunks, this.server);
        this.chunks = [];
        if (!this.ready) {
          this.ready = true;
          this.setStatus("connected");
          this.startHeartbeat();
          for (const p of this.pending.values()) this.send(p.frame);
        }
        return;
      case "diff":
        if (this.ready) this.events.onDiff(m.changed, m.removed);
        return;
      case "ping":
        this.send({ type: "pong", id: m.id });
        return;
      case "pong":
        return;
      case "call_result": {
        const p = this.pending.get(m.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(m.id);
        p.resolve({ success: m.success, ...(m.error ? { error: m.error } : {}) });
        return;
      }
      case "error":
        return;
    }
  }

  private startHeartbeat(): void {
    clearInterval(this.pingTimer);
    let awaiting: number | null = null;
    this.pingTimer = setInterval(() => {
      this.send({ type: "ping", id: ++this.pingId });
      // One deadline per unanswered window: later pings never push it back.
      if (awaiting !== null && this.lastFrameAt < awaiting) return;
      const since = Date.now();
      awaiting = since;
      clearTimeout(this.stageTimer);
      this.stageTimer = setTimeout(() => {
        if (this.lastFrameAt < since) this.fail(`watchdog: no heartbeat answer within ${this.timing.heartbeatTimeoutMs} ms`);
      }, this.timing.heartbeatTimeoutMs);
    }, this.timing.heartbeatMs);
  }

  private teardown(why: string): void {
    clearTimeout(this.stageTimer);
    clearInterval(this.pingTimer);
    const s = this.socket;
    this.socket = undefined;
    this.ready = false;
    if (s) {
      s.removeAllListeners();
      s.on("error", () => undefined);
      s.terminate();
    }
    void why;
  }

  private fail(detail: string): void {
    if (this.stopped) return;
    this.teardown(detail);
    this.setStatus("disconnected", detail);
    const base = Math.min(1000 * 2 ** this.attempt, this.timing.maxBackoffMs);
    this.attempt++;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), Math.min(delay, this.timing.maxBackoffMs));
  }
}
