/**
 * The WebSocket link to Home Assistant: home-assistant-js-websocket over the `ws` package (Node 20
 * has no global WebSocket).
 *
 * Protocol (HA core `websocket_api/http.py`, `auth.py`; developers.home-assistant `docs/api/websocket.md`):
 * ← `{"type":"auth_required","ha_version":"…"}`, → `{"type":"auth","access_token":"…"}` within 10 s,
 * ← `{"type":"auth_ok","ha_version":"…"}` or `{"type":"auth_invalid","message":"…"}` followed by a close.
 *
 * Our `createSocket` stands in for the library's own `lib/socket.ts` only because that one needs a
 * global `WebSocket` (absent in Node 20), has no per-attempt timeout (a half-open TCP connect
 * would hang the first start) and leaves no error listener after auth; it mirrors it otherwise: it resolves only on `auth_ok`, sets
 * `socket.haVersion` (required by `subscribeEntities` → `atLeastHaVersion`), sends
 * `supported_features` (id 1, message coalescing) on HA ≥ 2022.9 exactly like the library
 * (whose `Connection` starts its ids at 2 and accepts arrays of messages), removes its handshake
 * listeners, and rejects with the library's numeric codes `ERR_INVALID_AUTH` / `ERR_CANNOT_CONNECT`
 * so the library's reconnect loop (`lib/connection.ts::_handleClose`: 0,1,2,3,4,5,5… s, stops on
 * `ERR_INVALID_AUTH` with a `reconnect-error` event) keeps working.
 *
 * The WebSocket URL is explicit because under the Supervisor it is `ws://supervisor/core/websocket`,
 * which `createLongLivedTokenAuth` cannot derive (it appends `/api/websocket`); standalone it is
 * `<HA_URL>/api/websocket` (see {@link websocketUrlFromHttp}).
 */
import WebSocket from "ws";
import {
  createConnection,
  createLongLivedTokenAuth,
  ERR_CANNOT_CONNECT,
  ERR_INVALID_AUTH,
  type Connection,
  type ConnectionOptions,
  type HaWebSocket,
} from "home-assistant-js-websocket";

/** Options of {@link connectHomeAssistant}. */
export interface ConnectOptions {
  /** Full WebSocket URL, e.g. `ws://supervisor/core/websocket` or `ws://127.0.0.1:8123/api/websocket`. */
  wsUrl: string;
  /** Long-lived access token, or `SUPERVISOR_TOKEN` under the Supervisor. */
  token: string;
  /**
   * Extra attempts after the first failed INITIAL connect (refused, timed out, closed before
   * `auth_ok`), with backoff 1 s, 2 s, 4 s, then 5 s each. Default 5. `-1` retries forever.
   * Never applies to `auth_invalid`, which fails at once.
   */
  initialRetries?: number;
  /** Fired after the first successful auth and again after every automatic reconnect. */
  onReady?: () => void;
  /** Fired when an established link drops (HA restarting, network); reconnects follow by themselves. */
  onDisconnected?: () => void;
  /**
   * Fired when a reconnect is refused with `auth_invalid` (token revoked); the link then stops
   * reconnecting for good.
   */
  onReconnectError?: (error: HomeAssistantConnectionError) => void;
  /**
   * Fired for a socket error after `auth_ok` (a protocol error, a reset): logged by the caller,
   * never thrown — the library notices the close and reconnects. Without it errors are swallowed.
   */
  onProtocolError?: (error: Error) => void;
  /** Time allowed for TCP/WS open plus the auth phase of one attempt, in ms. Default 15000. */
  attemptTimeoutMs?: number;
  /**
   * Interval of application-level `ping`s while connected, in ms; an unanswered ping (10 s) forces a
   * reconnect, so a silently dead link is noticed. Default 30000; 0 disables.
   */
  keepAliveMs?: number;
}

/** An authenticated link to Home Assistant. */
export interface HaLink {
  /** The js-websocket connection: `sendMessagePromise`, `subscribeMessage`, `subscribeEvents`, … */
  connection: Connection;
  /** Version reported in the last `auth_ok` (updates after a reconnect to an upgraded HA). */
  readonly haVersion: string;
  /** Closes the link for good (no reconnect). */
  close(): void;
}

/** Failure kinds of {@link connectHomeAssistant}. */
export type HomeAssistantConnectionErrorCode = "invalid_auth" | "cannot_connect";

/**
 * Error thrown by {@link connectHomeAssistant}: `invalid_auth` when HA answered `auth_invalid`
 * ("Home Assistant rejected the access token (auth_invalid)…"), `cannot_connect` when no attempt
 * reached `auth_ok` ("cannot reach Home Assistant at ws://…: <last cause>").
 */
export class HomeAssistantConnectionError extends Error {
  override readonly name = "HomeAssistantConnectionError";
  constructor(
    readonly code: HomeAssistantConnectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const DEFAULT_INITIAL_RETRIES = 5;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 15_000;
const DEFAULT_KEEPALIVE_MS = 30_000;
const PING_TIMEOUT_MS = 10_000;

/** Backoff before initial-connect retry number `n` (1-based): 1 s, 2 s, 4 s, then 5 s. */
function backoffMs(n: number): number {
  return Math.min(1000 * 2 ** (n - 1), 5000);
}

interface AttemptFailure {
  code: typeof ERR_INVALID_AUTH | typeof ERR_CANNOT_CONNECT;
  detail: string;
}

/**
 * One connect + auth attempt on a `ws` socket. Resolves with the socket (as `HaWebSocket`, with
 * `haVersion` set) on `auth_ok`; rejects with an {@link AttemptFailure}.
 */
function attempt(wsUrl: string, token: string, timeoutMs: number, onProtocolError?: (error: Error) => void): Promise<HaWebSocket> {
  return new Promise<HaWebSocket>((resolve, reject) => {
    let settled = false;
    let socket: WebSocket;
    try {
      socket = new WebSocket(wsUrl, { handshakeTimeout: timeoutMs });
    } catch (err) {
      reject({ code: ERR_CANNOT_CONNECT, detail: String((err as Error).message ?? err) } satisfies AttemptFailure);
      return;
    }
    let lastError = "connection closed before auth_ok";

    const cleanup = () => {
      clearTimeout(timer);
      socket.off("message", onMessage);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("unexpected-response", onUnexpected);
    };
    const fail = (failure: AttemptFailure) => {
      if (settled) return;
      settled = true;
      cleanup();
      // Swallow errors of a socket we abandon.
      socket.on("error", () => undefined);
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.terminate();
      }
      reject(failure);
    };
    const onError = (err: Error) => {
      lastError = err.message || String(err);
      fail({ code: ERR_CANNOT_CONNECT, detail: lastError });
    };
    const onClose = (code: number) => {
      fail({ code: ERR_CANNOT_CONNECT, detail: `${lastError} (close code ${code})` });
    };
    const onUnexpected = (_req: unknown, res: { statusCode?: number }) => {
      fail({ code: ERR_CANNOT_CONNECT, detail: `unexpected HTTP ${res.statusCode ?? "?"} on WebSocket upgrade` });
    };
    const onMessage = (data: WebSocket.RawData) => {
      let msg: { type?: string; ha_version?: string; message?: string };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        fail({ code: ERR_CANNOT_CONNECT, detail: "non-JSON message during the auth phase" });
        return;
      }
      switch (msg.type) {
        case "auth_required":
          socket.send(JSON.stringify({ type: "auth", access_token: token }));
          break;
        case "auth_ok": {
          if (settled) return;
          settled = true;
          cleanup();
          // The library listens for message/close only: without an error listener a `ws` error
          // (protocol error, ECONNRESET) after auth would be an uncaught exception.
          socket.on("error", (err: Error) => onProtocolError?.(err));
          const ha = socket as unknown as HaWebSocket;
          ha.haVersion = msg.ha_version ?? "0.0.0";
          if (haVersionAtLeast(ha.haVersion, 2022, 9)) {
            // Same as the library's createSocket: enable coalescing; Connection's ids start at 2.
            socket.send(JSON.stringify({ type: "supported_features", id: 1, features: { coalesce_messages: 1 } }));
          }
          resolve(ha);
          break;
        }
        case "auth_invalid":
          fail({ code: ERR_INVALID_AUTH, detail: msg.message ?? "auth_invalid" });
          break;
        default:
          break;
      }
    };
    const timer = setTimeout(
      () => fail({ code: ERR_CANNOT_CONNECT, detail: `no auth_ok within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on("message", onMessage);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("unexpected-response", onUnexpected);
  });
}

function isAttemptFailure(e: unknown): e is AttemptFailure {
  return typeof e === "object" && e !== null && "code" in e && "detail" in e;
}

/**
 * Connects and authenticates to Home Assistant's WebSocket API.
 *
 * Resolves once HA answered `auth_ok`. The returned link reconnects by itself when HA restarts
 * (library loop, subscriptions re-sent); `onReady` fires then, so callers can re-publish entities.
 *
 * @throws {HomeAssistantConnectionError} `invalid_auth` on `auth_invalid` (no retry);
 *   `cannot_connect` when `initialRetries` more attempts also failed.
 */
export async function connectHomeAssistant(opts: ConnectOptions): Promise<HaLink> {
  const { wsUrl, token } = opts;
  const initialRetries = opts.initialRetries ?? DEFAULT_INITIAL_RETRIES;
  const timeoutMs = opts.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  let lastDetail = "";

  // `setupRetry` is `initialRetries` for the first connect and 0 for each step of the library's
  // own reconnect loop (it copies the options with setupRetry: 0).
  const createSocket = async (options: ConnectionOptions): Promise<HaWebSocket> => {
    const accessToken = options.auth?.accessToken ?? token;
    let triesLeft = options.setupRetry;
    for (let n = 1; ; n++) {
      try {
        return await attempt(wsUrl, accessToken, timeoutMs, opts.onProtocolError);
      } catch (err) {
        const failure: AttemptFailure = isAttemptFailure(err)
          ? err
          : { code: ERR_CANNOT_CONNECT, detail: String(err) };
        lastDetail = failure.detail;
        if (failure.code === ERR_INVALID_AUTH || triesLeft === 0) throw failure.code;
        if (triesLeft > 0) triesLeft--;
        await new Promise((r) => setTimeout(r, backoffMs(n)));
      }
    }
  };

  let connection: Connection;
  try {
    connection = await createConnection({
      // Only carries the token: our createSocket uses the explicit wsUrl, never auth.wsUrl.
      auth: createLongLivedTokenAuth(httpUrlFromWebsocket(wsUrl), token),
      createSocket,
      setupRetry: initialRetries,
    });
  } catch (err) {
    throw toConnectionError(err, wsUrl, lastDetail);
  }

  let keepAlive: NodeJS.Timeout | undefined;
  const keepAliveMs = opts.keepAliveMs ?? DEFAULT_KEEPALIVE_MS;
  if (keepAliveMs > 0) {
    let pinging = false;
    keepAlive = setInterval(() => {
      if (pinging || !connection.connected) return;
      pinging = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((r) => {
        timer = setTimeout(() => r("timeout"), PING_TIMEOUT_MS);
      });
      Promise.race([connection.ping().then(() => "pong" as const), timeout])
        .then((res) => {
          if (res === "timeout" && connection.connected) connection.reconnect(true);
        })
        .catch(() => undefined) // connection lost while pinging: the library reconnects
        .finally(() => {
          clearTimeout(timer);
          pinging = false;
        });
    }, keepAliveMs);
    keepAlive.unref();
  }

  if (opts.onDisconnected) {
    const cb = opts.onDisconnected;
    connection.addEventListener("disconnected", () => cb());
  }
  if (opts.onReconnectError) {
    const cb = opts.onReconnectError;
    connection.addEventListener("reconnect-error", (_c, err) => cb(toConnectionError(err, wsUrl, lastDetail)));
  }
  // The library fires "ready" inside the constructor (before we can listen), so call onReady once
  // for the initial connect and subscribe for later reconnects.
  if (opts.onReady) {
    const cb = opts.onReady;
    connection.addEventListener("ready", () => cb());
    cb();
  }

  return {
    connection,
    get haVersion() {
      return connection.haVersion;
    },
    close() {
      if (keepAlive) clearInterval(keepAlive);
      connection.close();
    },
  };
}

function toConnectionError(err: unknown, wsUrl: string, detail: string): HomeAssistantConnectionError {
  if (err === ERR_INVALID_AUTH) {
    return new HomeAssistantConnectionError(
      "invalid_auth",
      `Home Assistant rejected the access token (auth_invalid) at ${wsUrl}${detail ? `: ${detail}` : ""}`,
    );
  }
  return new HomeAssistantConnectionError(
    "cannot_connect",
    `cannot reach Home Assistant at ${wsUrl}${detail ? `: ${detail}` : ""}`,
    { cause: err },
  );
}

/** `ws://h:p/x` → `http://h:p` (and wss → https); only used to build the library's `Auth`. */
function httpUrlFromWebsocket(wsUrl: string): string {
  const u = new URL(wsUrl);
  return `${u.protocol === "wss:" ? "https:" : "http:"}//${u.host}`;
}

/**
 * WebSocket URL of a standalone HA from its base URL: `http://ha:8123` → `ws://ha:8123/api/websocket`,
 * `https://…` → `wss://…` (a path prefix is kept). Under the Supervisor use
 * `ws://supervisor/core/websocket` instead.
 */
export function websocketUrlFromHttp(httpUrl: string): string {
  const u = new URL(httpUrl);
  const scheme = u.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${u.host}${u.pathname.replace(/\/+$/, "")}/api/websocket`;
}

/**
 * True when an HA version string is at least `year.month`. Accepts releases ("2025.4.4"),
 * dev builds ("2025.11.0.dev202510070234", counted as their month) and betas ("2026.1.0b1").
 * Returns false for strings that do not start with `<year>.<month>`.
 */
export function haVersionAtLeast(version: string, year: number, month: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  return y > year || (y === year && mo >= month);
}
