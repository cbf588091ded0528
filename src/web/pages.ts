/**
 * The web module's own routes: the accounts page (`accounts`, also the index), the static assets
 * (`static/*`) and the not-found page. The account list itself comes from the accounts module's
 * JSON API (`api/accounts`), fetched by the page script (static/accounts-client.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebPage } from "../modules/web-routes.js";
import { baseHref, cookiePath, ingressPrefix } from "./base-path.js";
import { escapeHtml } from "./html.js";
import { LANG_COOKIE, messages, pickLang, t, type Lang } from "./i18n.js";
import { STRICT_CSP } from "./security.js";
import { renderPage } from "./shell.js";
import { ASSETS } from "./static/assets.js";

/** The accounts page's navigation entry (first in the navigation). */
export const ACCOUNTS_PAGE: WebPage = { path: "accounts", label: { en: "Accounts", fr: "Comptes" } };

/** Options of {@link pageRoutes}. */
export interface PageOptions {
  /** Navigation entries (ACCOUNTS_PAGE first, then the registry's pages). */
  nav: readonly WebPage[];
  /** Shows the log-out button (standalone). */
  logout: boolean;
}

/**
 * The language of a request; a `?lang=` switch is remembered in a cookie (path = the app's
 * root, as the session cookie).
 */
export function requestLang(request: FastifyRequest, reply: FastifyReply): Lang {
  const q = (request.query as Record<string, unknown> | undefined)?.lang;
  const lang = pickLang(q, request.cookies[LANG_COOKIE], request.headers["accept-language"]);
  if (q === "en" || q === "fr") reply.setCookie(LANG_COOKIE, q, { path: cookiePath(request.headers["x-ingress-path"]), sameSite: "lax", maxAge: 365 * 86400 });
  return lang;
}

/** The flow result the accounts page shows once: `?connected=<id>` or `?error=<code>&message=<text>`. */
function flashOf(query: Record<string, unknown>): { kind: "connected"; id: string } | { kind: "error"; code: string; message: string } | null {
  const str = (v: unknown) => (typeof v === "string" ? v.slice(0, 500) : "");
  if (str(query.connected)) return { kind: "connected", id: str(query.connected) };
  if (str(query.error)) return { kind: "error", code: str(query.error).replace(/[^a-z0-9_]/gi, ""), message: str(query.message) };
  return null;
}

/** Registers the page, asset and not-found routes. */
export async function pageRoutes(app: FastifyInstance, opts: PageOptions): Promise<void> {
  const accounts = async (request: FastifyRequest, reply: FastifyReply) => {
    const lang = requestLang(request, reply);
    const path = request.url.startsWith("/accounts") ? "accounts" : "";
    const html = renderPage({
      lang,
      base: baseHref(request.url, request.headers["x-ingress-path"]),
      path,
      title: t(lang, "accounts_title"),
      nav: opts.nav,
      logout: opts.logout,
      body: `<p class="muted">${escapeHtml(t(lang, "accounts_intro"))}</p>
<div id="flash" aria-live="polite"></div>
<div id="device" hidden></div>
<div id="accounts" aria-busy="true"><p class="muted">${escapeHtml(t(lang, "loading"))}</p></div>
<details id="paste" class="card"><summary>${escapeHtml(t(lang, "paste_title"))}</summary>
<p class="muted">${escapeHtml(t(lang, "paste_help"))}</p>
<form class="connect"><label>${escapeHtml(t(lang, "paste_label"))} <input name="url" type="url" required autocomplete="off"></label>
<button type="submit">${escapeHtml(t(lang, "paste_submit"))}</button></form></details>
<noscript><p class="flash bad">${escapeHtml(t(lang, "no_js"))}</p></noscript>`,
      scripts: ["static/accounts.js"],
      data: { lang, ingress: ingressPrefix(request.headers["x-ingress-path"]) !== null, strings: messages(lang), flash: flashOf((request.query ?? {}) as Record<string, unknown>) },
    });
    return reply.header("content-type", "text/html; charset=utf-8").header("content-security-policy", STRICT_CSP).send(html);
  };
  app.get("/", accounts);
  app.get("/accounts", accounts);

  app.get<{ Params: { name: string } }>("/static/:name", { config: { rateLimit: false } }, async (request, reply) => {
    const asset = Object.hasOwn(ASSETS, request.params.name) ? ASSETS[request.params.name] : undefined;
    if (!asset) return reply.code(404).header("content-type", "text/plain; charset=utf-8").send("not found\n");
    return reply
      .header("content-type", asset.contentType)
      .header("cache-control", "private, max-age=86400") // URLs carry ?v=<content hash>; private: the reply may set the session cookie
      .send(asset.body);
  });

  app.setNotFoundHandler(async (request, reply) => {
    const lang = requestLang(request, reply);
    if (!(request.headers.accept ?? "").includes("text/html")) {
      return reply.code(404).send({ error: "not_found", message: t(lang, "not_found") });
    }
    return reply
      .code(404)
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", STRICT_CSP)
      .send(
        renderPage({
          lang,
          base: baseHref(request.url, request.headers["x-ingress-path"]),
          path: "accounts",
          title: t(lang, "not_found"),
          nav: opts.nav,
          logout: opts.logout,
          body: `<p><a href="accounts">${escapeHtml(t(lang, "back"))}</a></p>`,
        }),
      );
  });
}
