/**
 * The standalone login: `GET login` (form), `POST login` (field `secret`, form-encoded or JSON),
 * `POST logout`. The secret is the `web_secret` option, compared in constant time (SHA-256 of both
 * sides, then timingSafeEqual). A success replaces the session by a new authenticated one (no
 * session fixation). Failures count per socket address (lockout.ts): the 5th locks it 15 minutes,
 * answered 429 with Retry-After and the time left in words.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebPage } from "../modules/web-routes.js";
import { normalizeAddress } from "./addresses.js";
import { baseHref, cookiePath } from "./base-path.js";
import { escapeHtml } from "./html.js";
import { LANG_COOKIE, pickLang, t, type Lang } from "./i18n.js";
import type { LoginLockout } from "./lockout.js";
import { setSessionCookie, STRICT_CSP } from "./security.js";
import { SESSION_COOKIE, type SessionStore } from "./sessions.js";
import { requestLang } from "./pages.js";
import { renderPage } from "./shell.js";

/** Options of {@link loginRoutes}. */
export interface LoginOptions {
  secret: string;
  sessions: SessionStore;
  ttlMs: number;
  lockout: LoginLockout;
  nav: readonly WebPage[];
}

/** True when `given` equals `secret`, in time independent of where they differ. */
export function secretMatches(given: string, secret: string): boolean {
  const a = createHash("sha256").update(given, "utf8").digest();
  const b = createHash("sha256").update(secret, "utf8").digest();
  return timingSafeEqual(a, b);
}

function langOf(request: FastifyRequest): Lang {
  const q = (request.query as Record<string, unknown> | undefined)?.lang;
  return pickLang(q, request.cookies[LANG_COOKIE], request.headers["accept-language"]);
}

function loginPage(request: FastifyRequest, lang: Lang, nav: readonly WebPage[], message: string | null): string {
  const msg = message ? `<div class="flash bad" role="alert">${escapeHtml(message)}</div>` : "";
  return renderPage({
    lang,
    base: baseHref(request.url, request.headers["x-ingress-path"]),
    path: "login",
    title: t(lang, "login_title"),
    nav,
    body: `${msg}<section class="card login"><p>${escapeHtml(t(lang, "login_intro"))}</p>
<form method="post" action="login"><label>${escapeHtml(t(lang, "login_secret"))} <input type="password" name="secret" autocomplete="current-password" required autofocus></label>
<button type="submit">${escapeHtml(t(lang, "login_submit"))}</button></form></section>`,
  });
}

function sendHtml(reply: FastifyReply, code: number, html: string): FastifyReply {
  return reply.code(code).header("content-type", "text/html; charset=utf-8").header("content-security-policy", STRICT_CSP).send(html);
}

/** Registers the login routes (standalone only). */
export async function loginRoutes(app: FastifyInstance, opts: LoginOptions): Promise<void> {
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get("/login", async (request, reply) => {
    if (request.ebSession?.authenticated) return reply.code(303).header("location", "./").send();
    return sendHtml(reply, 200, loginPage(request, requestLang(request, reply), [], null));
  });

  app.post("/login", async (request, reply) => {
    const lang = langOf(request);
    const address = normalizeAddress(request.socket.remoteAddress);
    const locked = opts.lockout.lockedFor(address);
    if (locked > 0) return lockedReply(request, reply, lang, locked);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const given = typeof body.secret === "string" ? body.secret : "";
    if (!secretMatches(given, opts.secret)) {
      const r = opts.lockout.fail(address);
      if (r.lockedForMs > 0) return lockedReply(request, reply, lang, r.lockedForMs);
      return sendHtml(reply, 401, loginPage(request, lang, [], t(lang, "login_wrong", { n: r.triesLeft })));
    }
    opts.lockout.succeed(address);
    opts.sessions.destroy(request.sessionId);
    const session = opts.sessions.create(true);
    setSessionCookie(request, reply, session, opts.ttlMs);
    return reply.code(303).header("location", "./").send();
  });

  app.post("/logout", async (request, reply) => {
    opts.sessions.destroy(request.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: cookiePath(request.headers["x-ingress-path"]) });
    return reply.code(303).header("location", "login").send();
  });

  function lockedReply(request: FastifyRequest, reply: FastifyReply, lang: Lang, ms: number): FastifyReply {
    const minutes = Math.max(1, Math.ceil(ms / 60_000));
    reply.header("retry-after", String(Math.ceil(ms / 1000)));
    return sendHtml(reply, 429, loginPage(request, lang, [], t(lang, "login_locked", { minutes })));
  }
}
