import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import {
  connectHomeAssistant,
  haVersionAtLeast,
  HomeAssistantConnectionError,
  websocketUrlFromHttp,
  type HaLink,
} from "../../../src/homeassistant/connection.js";

describe("haVersionAtLeast", () => {
  it.each([
    ["2025.4.4", 2025, 4, true],
    ["2025.4.4", 2025, 5, false],
    ["2025.11.0.dev202510070234", 2025, 11, true],
    ["2025.11.0.dev202510070234", 2025, 12, false],
    ["2026.1.0b1", 2025, 11, true],
    ["2026.1.0b1", 2026, 2, false],
    ["2024.12.5", 2025, 1, false],
    ["garbage", 2000, 1, false],
  ])("%s >= %d.%d is %s", (v, y, m, want) => {
    expect(haVersionAtLeast(v, y, m)).toBe(want);
  });
});

describe("websocketUrlFromHttp", () => {
  it("maps http/https to ws/wss and appends /api/websocket", () => {
    expect(websocketUrlFromHttp("http://127.0.0.1:8123")).toBe("ws://127.0.0.1:8123/api/websocket");
    expect(websocketUrlFromHttp("https://ha.example/")).toBe("wss://ha.example/api/websocket");
    expect(websocketUrlFromHttp("http://h:1/prefix/")).toBe("ws://h:1/prefix/api/websocket");
  });
});

/** A tiny fake HA for handshake edge cases only (real-HA behaviour is in test/integration). */
function fakeHa(onAuth: (ws: WebSocket, token: string) => void) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const received: unknown[] = [];
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ type: "auth_required", ha_version: "2025.4.4" }));
    ws.on("message", (d) => {
      const msg = JSON.parse(d.toString()) as { type: string; access_token?: string; id?: number };
      received.push(msg);
      if (msg.type === "auth") onAuth(ws, msg.access_token ?? "");
      else if (msg.type === "ping") ws.send(JSON.stringify({ id: msg.id, type: "pong" }));
    });
  });
  const port = () => (wss.address() as { port: number }).port;
  return { wss, received, url: () => `ws://127.0.0.1:${port()}/api/websocket` };
}

describe("connectHomeAssistant (fake server)", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("resolves on auth_ok with haVersion, sends supported_features, and pings", async () => {
    const ha = fakeHa((ws, token) =>
      ws.send(JSON.stringify(token === "good" ? { type: "auth_ok", ha_version: "2025.4.4" } : { type: "auth_invalid" })),
    );
    await new Promise((r) => ha.wss.once("listening", r));
    cleanups.push(() => ha.wss.close());
    let ready = 0;
    const protocolErrors: string[] = [];
    const link: HaLink = await connectHomeAssistant({
      wsUrl: ha.url(),
      token: "good",
      onReady: () => ready++,
      onProtocolError: (e) => protocolErrors.push(e.message),
    });
    cleanups.push(() => link.close());
    expect(link.haVersion).toBe("2025.4.4");
    expect(link.connection.haVersion).toBe("2025.4.4");
    expect(ready).toBe(1);
    await link.connection.ping();
    expect(ha.received).toEqual([
      { type: "auth", access_token: "good" },
      { type: "supported_features", id: 1, features: { coalesce_messages: 1 } },
      { type: "ping", id: expect.any(Number) },
    ]);
    // Ids after supported_features (id 1) must be greater (HA: strictly increasing per connection).
    expect((ha.received[2] as { id: number }).id).toBeGreaterThan(1);
    // Handshake listeners are gone; one error listener stays, so a socket error after auth is
    // reported instead of crashing the process (an EventEmitter 'error' without listener throws).
    const socket = link.connection.socket as unknown as import("ws").WebSocket;
    expect(socket.listenerCount("error")).toBe(1);
    expect(() => socket.emit("error", new Error("Invalid WebSocket frame: RSV1 must be clear"))).not.toThrow();
    expect(protocolErrors).toEqual(["Invalid WebSocket frame: RSV1 must be clear"]);
  });

  it("rejects at once with invalid_auth on auth_invalid", async () => {
    let attempts = 0;
    const ha = fakeHa((ws) => {
      attempts++;
      ws.send(JSON.stringify({ type: "auth_invalid", message: "Invalid access token or password" }));
      ws.close();
    });
    await new Promise((r) => ha.wss.once("listening", r));
    cleanups.push(() => ha.wss.close());
    const err = await connectHomeAssistant({ wsUrl: ha.url(), token: "bad", initialRetries: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeAssistantConnectionError);
    expect((err as HomeAssistantConnectionError).code).toBe("invalid_auth");
    expect((err as Error).message).toContain("Home Assistant rejected the access token (auth_invalid)");
    expect(attempts).toBe(1);
  });

  it("retries the initial connect, then fails with cannot_connect", async () => {
    const t0 = Date.now();
    const err = await connectHomeAssistant({ wsUrl: "ws://127.0.0.1:1/api/websocket", token: "x", initialRetries: 1 }).catch(
      (e: unknown) => e,
    );
    expect((err as HomeAssistantConnectionError).code).toBe("cannot_connect");
    expect((err as Error).message).toMatch(/^cannot reach Home Assistant at ws:\/\/127\.0\.0\.1:1\/api\/websocket: .*ECONNREFUSED/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900); // one 1 s backoff
  });

  it("connects once a late server comes up (HA still starting)", async () => {
    // Reserve a port, close it, and start the fake HA there after 1.5 s.
    const probe = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((r) => probe.once("listening", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    setTimeout(() => {
      const wss = new WebSocketServer({ host: "127.0.0.1", port });
      cleanups.push(() => wss.close());
      wss.on("connection", (ws) => {
        ws.send(JSON.stringify({ type: "auth_required", ha_version: "2026.1.0b1" }));
        ws.on("message", () => ws.send(JSON.stringify({ type: "auth_ok", ha_version: "2026.1.0b1" })));
      });
    }, 1500);
    const link = await connectHomeAssistant({ wsUrl: `ws://127.0.0.1:${port}/api/websocket`, token: "t", initialRetries: 5 });
    cleanups.push(() => link.close());
    expect(link.haVersion).toBe("2026.1.0b1");
  });
});
