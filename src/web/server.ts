/**
 * Builds the add-on's HTTP server (fastify) without listening: security hooks (security.ts),
 * session cookie, standalone login, rate limit, the module plugins of the route registry, the
 * web module's own pages. Fastify's own logger is off (it would log URLs with callback query
 * strings, which carry authorization codes); lines go through the service logger, naming the
 * route pattern only, never a query string, cookie or header.
 */
import cookie from "@fastify/cookie";
import rateLimit from "@fastify/rate-limit";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import type { Logger } from "../log.js";
import type { WebPage, WebPlugin } from "../modules/web-routes.js";
import { INGRESS_ADDRESSES, normalizeAddress } from "./addresses.js";
import { LANG_COOKIE, pickLang, t } from "./i18n.js";
import { LoginLockout } from "./lockout.js";
import { loginRoutes } from "./login.js";
import { ACCOUNTS_PAGE, pageRoutes } from "./pages.js";
import { ingressGuard, routePath, securityHeaders, sessionHook } from "./security.js";
import { SessionStore } from "./sessions.js";

/** Options of {@link buildWebServer}. Durations in ms. */
export interface WebServerOptions {
  mode: "addon" | "standalone";
  log: Logger;
  /** The route registry's plugins (WebRoutes.take()), mounted at the root. */
  plugins: readonly WebPlugin[];
  /** The registry's navigation entries (WebRoutes.pages()); the accounts page always comes first. */
  pages: readonly WebPage[];
  /** Standalone: the login secret (the `web_secret` option). Required standalone. */
  secret?: string;
  /** Add-on mode: the peers allowed (default the Supervisor's ingress proxy, INGRESS_ADDRESSES). */
  allowedAddresses?: readonly string[];
  /** Clock of sessions and lockout, epoch ms (default Date.now). */
  now?: () => number;
  /** Idle session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Requests per window per session (default 5 per 1000 ms, seed 003). */
  rateLimit?: { max: number; windowMs: number };
  /** Failed logins before the lock, and its length (default 5, 15 min, seed 003). */
  lockout?: { maxFailures: number; lockMs: number };
}

/** GET paths not counted by the rate limit: files with a static extension. */
const STATIC_FILE = /\.(?:js|mjs|css|map|png|svg|ico|woff2?)$/;

/**
 * Defaults of seed 003 ("Rate limiting 5 req/s par utilisateur", "Blocage après 5 échecs"). The
 * rate is 5 requests/s averaged over a 5 s window (25 per 5 s): a one-second window answered the
 * page's own loads with 429 whenever a busy machine (a Raspberry Pi during a backfill, CI) delayed
 * and then released its requests together.
 */
export const WEB_DEFAULTS = {
  sessionTtlMs: 12 * 3600_000,
  maxSessions: 5000,
  rateLimit: { max: 25, windowMs: 5000 },
  lockout: { maxFailures: 5, lockMs: 15 * 60_000 },
} as const;

/** The navigation: the accounts page first, then every registered page once. */
export function navigation(pages: readonly WebPage[]): WebPage[] {
  const out: WebPage[] = [ACCOUNTS_PAGE];
  for (const p of pages) if (!out.some((o) => o.path === p.path)) out.push(p);
  return out;
}

/**
 * A ready fastify instance (call `listen`, or `inject` in tests).
 * @throws Error when standalone without a secret.
 */
export async function buildWebServer(opts: WebServerOptions): Promise<FastifyInstance> {
  const standalone = opts.mode === "standalone";
  if (standalone && !opts.secret) throw new Error("the web page needs the web_secret option when Energy Bridge runs standalone (it protects the page with a login)");
  const now = opts.now ?? Date.now;
  const ttlMs = opts.sessionTtlMs ?? WEB_DEFAULTS.sessionTtlMs;
  const limit = opts.rateLimit ?? WEB_DEFAULTS.rateLimit;
  const log = opts.log;
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 64 * 1024, trustProxy: false });

  app.decorateRequest("sessionId", "");
  app.decorateRequest("ebSession", null);
  app.decorateRequest("ebHadSession", false);

  if (!standalone) app.addHook("onRequest", ingressGuard(opts.allowedAddresses ?? INGRESS_ADDRESSES));
  app.addHook("onRequest", securityHeaders);
  await app.register(cookie);
  const sessions = new SessionStore({ ttlMs, max: WEB_DEFAULTS.maxSessions, now });
  app.addHook("onRequest", sessionHook({ sessions, ttlMs, requireLogin: standalone }));

  // Per session (a browser without a valid session cookie counts by address). Route-level hook,
  // so it runs after the session hook above. 429 + Retry-After (seconds).
  await app.register(rateLimit, {
    global: true,
    max: limit.max,
    timeWindow: limit.windowMs,
    // Static files (the web module's and other modules' .js/.css/…) are cheap and a page loads
    // several at once: they are not counted.
    allowList: (request) => request.method === "GET" && STATIC_FILE.test(routePath(request.url)),
    keyGenerator: (request) => (request.ebHadSession ? `s:${request.sessionId}` : `a:${normalizeAddress(request.socket.remoteAddress)}`),
    errorResponseBuilder: (request, context) => {
      const lang = pickLang(undefined, request.cookies?.[LANG_COOKIE], request.headers["accept-language"]);
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return Object.assign(new Error(t(lang, "rate_limited", { seconds })), { statusCode: context.statusCode, code: "rate_limited" });
    },
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    const route = request.routeOptions.url ?? "(no route)";
    if (status >= 500) log.error(`web: ${request.method} ${route} failed: ${error.message}`);
    const code = status === 429 ? "rate_limited" : status >= 500 ? "internal_error" : (error.code ?? "bad_request").toLowerCase();
    return reply.code(status).send({ error: code, message: status >= 500 ? "internal error (see the add-on log)" : error.message });
  });

  app.addHook("onResponse", async (request, reply) => {
    log.debug(`web: ${request.method} ${request.routeOptions.url ?? "(no route)"} ${reply.statusCode}`);
  });

  const nav = navigation(opts.pages);
  if (standalone) {
    await app.register(loginRoutes, {
      secret: opts.secret!,
      sessions,
      ttlMs,
      lockout: new LoginLockout({ ...(opts.lockout ?? WEB_DEFAULTS.lockout), now }),
      nav,
    });
  }
  await app.register(pageRoutes, { nav, logout: standalone });

  for (const p of opts.plugins) {
    await app.register(async (child) => {
      try {
        await p.plugin(child, {});
      } catch (err) {
        log.error(`web: the ${p.module} module's routes failed to load: ${(err as Error).message}`);
      }
    });
  }
  await app.ready();
  return app;
}
