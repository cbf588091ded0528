/**
 * A loopback TCP proxy for the mirror tests: sits between a sync client and its server so a test
 * can cut links, freeze them half-open (bytes accepted, nothing delivered either way — what a dead
 * NAT mapping or a hung peer looks like), or accept new connections and never answer (a hung
 * server). Real sockets, no mocks.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

/** How new connections are treated. */
export type ProxyMode = "pass" | "blackhole";

/** A running proxy. */
export interface TcpProxy {
  port: number;
  url: string;
  mode: ProxyMode;
  /** Connections currently open (client side). */
  open(): number;
  /** Destroys every current connection (both sides), like a network failure. */
  cutAll(): void;
  /**
   * Current connections stay open but stop delivering: `both` directions (default), or only
   * `down` (server → client: requests still arrive, answers are lost).
   */
  freezeAll(direction?: "both" | "down"): void;
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:targetPort` on a free port. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  type Conn = { down: Socket; up?: Socket; frozen: boolean; frozenDown: boolean };
  const conns = new Set<Conn>();
  const proxy: TcpProxy = {
    port: 0,
    url: "",
    mode: "pass",
    open: () => conns.size,
    cutAll() {
      for (const c of conns) {
        c.down.destroy();
        c.up?.destroy();
      }
      conns.clear();
    },
    freezeAll(direction = "both") {
      for (const c of conns) {
        c.frozenDown = true;
        if (direction === "both") c.frozen = true;
      }
    },
    close: () =>
      new Promise<void>((res) => {
        proxy.cutAll();
        server.close(() => res());
      }),
  };
  const server: Server = createServer((down) => {
    const c: Conn = { down, frozen: false, frozenDown: false };
    conns.add(c);
    down.on("error", () => undefined);
    down.on("close", () => {
      c.up?.destroy();
      conns.delete(c);
    });
    if (proxy.mode === "blackhole") {
      down.on("data", () => undefined); // accept, never answer
      return;
    }
    const up = connect(targetPort, "127.0.0.1");
    c.up = up;
    up.on("error", () => down.destroy());
    up.on("close", () => down.destroy());
    down.on("data", (d) => {
      if (!c.frozen) up.write(d);
    });
    up.on("data", (d) => {
      if (!c.frozenDown) down.write(d);
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const addr = server.address();
  proxy.port = typeof addr === "object" && addr ? addr.port : 0;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
