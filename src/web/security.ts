/**
 * Per-request security of the web server, as fastify hooks: the ingress address guard (add-on
 * mode), response headers, the session cookie (`request.sessionId`), and the standalone login
 * requirement. Installed by server.ts in that order, before any route's own hooks (so before the
 * rate limit, which is per session).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isAllowedAddress } from "./addresses.js";
import { cookiePath, relativeRoot } from "./base-path.js";
import { escapeHtml } from "./html.js";
import { LANG_COOKIE, pickLang, t } from "./i18n.js";
import { SESSION_COOKIE, type Session, type SessionStore } from "./sessions.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The session object behind `sessionId` (web module internal). */
    ebSession: Session | null;
    /** True when the request came with a valid session cookie (rate limit key: session, else address). */
    ebHadSession: boolean;
  }
}

/** Paths (without the leading `/`) a standalone visitor may open before logging in. */
const PUBLIC_PATHS = [/^login$/, /^static\/[A-Za-z0-9._-]+$/];

/** The path of a request URL relative to the root, without query: `/callback/x?code=…` → `callback/x`. */
export function routePath(url: string): string {
  return (url.split(/[?#]/, 1)[0] ?? "/").replace(/^\/+/, "");
}

/** Add-on mode: 403 (plain text) for any peer but the ingress proxy. */
export function ingressGuard(allowed: readonly string[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isAllowedAddress(request.socket.remoteAddress, allowed)) return;
    await reply
      .code(403)
      .header("content-type", "text/plain; charset=utf-8")
      .header("cache-control", "no-store")
      .send("Forbidden: this port only answers Home Assistant's ingress proxy (172.30.32.2).\n");
  };
}

/**
 * The CSP of the web module's own pages: scripts and styles from the app only (no inline code),
 * framing by the same origin only (Home Assistant's ingress panel is an iframe of the same origin).
 */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none'";

/**
 * Response headers for every answer: a baseline CSP (same-origin framing, no plugins, no foreign
 * `<base>`; other modules' pages may use inline code, so scripts are restricted only on the web
 * module's own pages, STRICT_CSP), no sniffing, no Referer (a callback URL carries an
 * authorization code; the ingress token is in every URL), no caching.
 */
export async function securityHeaders(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header("content-security-policy", "frame-ancestors 'self'; base-uri 'self'; object-src 'none'");
  reply.header("x-content-type-options", "nosniff");
  reply.header("referrer-policy", "no-referrer");
  reply.header("cache-control", "no-store");
}

/** True when the browser reached us over HTTPS (directly or as the proxy in front says). */
function secureRequest(request: FastifyRequest): boolean {
  const proto = request.headers["x-forwarded-proto"];
  return request.protocol === "https" || (typeof proto === "string" && proto.split(",")[0]?.trim() === "https");
}

/** Sets the session cookie on the reply (HttpOnly, SameSite=Strict, Path = the app's root, Secure over HTTPS). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: Session, ttlMs: number): void {
  reply.setCookie(SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: "strict",
    secure: secureRequest(request),
    path: cookiePath(request.headers["x-ingress-path"]),
    maxAge: Math.floor(ttlMs / 1000),
  });
}

/**
 * A browser coming back from a provider (a cross-site top-level navigation) sends no
 * `SameSite=Strict` cookie, so its callback would land in a new session and fail the `state`
 * check. Such a navigation without a session gets a tiny page that reloads the same URL from our
 * own origin, which then carries the cookie. Only for GET navigations marked `Sec-Fetch-Site:
 * cross-site`; the reload is same-origin, so it cannot loop.
 */
function needsSameSiteBounce(request: FastifyRequest): boolean {
  return (
    request.method === "GET" &&
    request.headers["sec-fetch-site"] === "cross-site" &&
    request.headers["sec-fetch-mode"] === "navigate"
  );
}

function bouncePage(request: FastifyRequest): string {
  // The same URL, relative: last path segment + query (the query is the provider's answer).
  const path = routePath(request.url);
  const last = path.split("/").pop() ?? "";
  const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "";
  const target = escapeHtml(`./${last}${query}`);
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><meta name="eb-bounce" content="1"><meta http-equiv="refresh" content="0;url=${target}"><link rel="icon" href="data:,"><title>Energy Bridge</title></head><body><p><a href="${target}">Continue</a></p></body></html>\n`;
}

/** Options of {@link sessionHook}. */
export interface SessionHookOptions {
  sessions: SessionStore;
  ttlMs: number;
  /** Standalone: a login is required for everything but PUBLIC_PATHS. */
  requireLogin: boolean;
}

/**
 * Gives every request `sessionId` (creating a session and its cookie when the browser has none)
 * and, standalone, sends visitors who are not logged in to the login page (pages: 303 to a
 * relative `login`; API: 401 JSON `{ error: "login_required" }`).
 */
export function sessionHook(opts: SessionHookOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const existing = opts.sessions.get(request.cookies[SESSION_COOKIE]);
    if (!existing && needsSameSiteBounce(request)) {
      await reply.code(200).header("content-type", "text/html; charset=utf-8").send(bouncePage(request));
      return;
    }
    const session = existing ?? opts.sessions.create(false);
    request.ebSession = session;
    request.ebHadSession = Boolean(existing);
    request.sessionId = session.id;
    setSessionCookie(request, reply, session, opts.ttlMs); // refreshes Max-Age (sliding expiry)
    if (!opts.requireLogin || session.authenticated) return;
    const path = routePath(request.url);
    if (PUBLIC_PATHS.some((p) => p.test(path))) return;
    const lang = pickLang(undefined, request.cookies[LANG_COOKIE], request.headers["accept-language"]);
    const wantsHtml = request.method === "GET" && (request.headers.accept ?? "").includes("text/html");
    if (wantsHtml) {
      await reply.code(303).header("location", `${relativeRoot(request.url)}login`).send();
      return;
    }
    await reply.code(401).send({ error: "login_required", message: t(lang, "login_required") });
  };
}
