/**
 * The web module: the add-on's page and JSON API over HTTP (server.ts). Started last, it mounts
 * every plugin the other modules added to the route registry (`ctx.web`), then listens:
 * - add-on: on the ingress port (8099, config.yaml's default) on all interfaces (`::`, dual-stack,
 *   falling back to 0.0.0.0 where the container has no IPv6), answering only 172.30.32.2;
 * - standalone: on `web_host`:`web_port` (default 127.0.0.1:8099) behind a login with `web_secret`.
 * `stop` closes the server (open connections included) within 2 s.
 */
import type { FastifyInstance } from "fastify";
import type { Module, ModuleContext, ModuleHealth } from "../modules/module.js";
import { INGRESS_PORT } from "./addresses.js";
import { buildWebServer, type WebServerOptions } from "./server.js";

/** Standalone defaults of the `web_host` / `web_port` options. */
export const STANDALONE_WEB = { host: "127.0.0.1", port: 8099 } as const;

/** Test knobs of {@link WebModule}. */
export interface WebModuleOptions {
  /** Override where to listen (tests: a free loopback port). */
  listen?: { host: string; port: number };
  /** Add-on mode: peers allowed instead of 172.30.32.2 (tests). */
  allowedAddresses?: readonly string[];
  /** Passed to buildWebServer (rate limit, lockout, session lifetime in tests). */
  server?: Pick<WebServerOptions, "rateLimit" | "lockout" | "sessionTtlMs">;
}

const STOP_BOUND_MS = 2000;

/** See the file comment. */
export class WebModule implements Module {
  readonly name = "web";
  private app: FastifyInstance | undefined;
  /** Where the server listens once started (`http://host:port/`), for logs and tests. */
  url: string | undefined;

  constructor(private readonly opts: WebModuleOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    const addon = ctx.settings.mode === "addon";
    const app = await buildWebServer({
      mode: ctx.settings.mode,
      log: ctx.log,
      plugins: ctx.web.take(),
      pages: ctx.web.pages(),
      ...(ctx.settings.web?.secret ? { secret: ctx.settings.web.secret } : {}),
      ...(this.opts.allowedAddresses ? { allowedAddresses: this.opts.allowedAddresses } : {}),
      now: ctx.now,
      ...this.opts.server,
    });
    const target = this.opts.listen ??
      (addon
        ? { host: "::", port: INGRESS_PORT }
        : { host: ctx.settings.web?.host ?? STANDALONE_WEB.host, port: ctx.settings.web?.port ?? STANDALONE_WEB.port });
    try {
      await listen(app, target);
    } catch (err) {
      await app.close();
      throw new Error(`cannot listen on ${target.host}:${target.port}: ${(err as Error).message}`);
    }
    this.app = app;
    const addr = app.server.address();
    const port = typeof addr === "object" && addr ? addr.port : target.port;
    const host = typeof addr === "object" && addr ? addr.address : target.host;
    this.url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
    ctx.log.info(
      addon
        ? `web: the add-on's page is served to Home Assistant's ingress on port ${port}`
        : `web: the page is on ${this.url} (log in with the web_secret option)`,
    );
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    if (!app) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([app.close(), new Promise<void>((r) => (timer = setTimeout(r, STOP_BOUND_MS)))]).finally(() => clearTimeout(timer));
    app.server.closeAllConnections?.();
  }

  health(): ModuleHealth {
    return this.app ? { status: "ok", detail: null } : { status: "failed", detail: "the web server is not listening" };
  }
}

/** Listens on `host`; `::` falls back to `0.0.0.0` when the host has no IPv6 (EAFNOSUPPORT/EADDRNOTAVAIL). */
async function listen(app: FastifyInstance, target: { host: string; port: number }): Promise<void> {
  try {
    await app.listen({ host: target.host, port: target.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (target.host !== "::" || (code !== "EAFNOSUPPORT" && code !== "EADDRNOTAVAIL")) throw err;
    await app.listen({ host: "0.0.0.0", port: target.port });
  }
}
