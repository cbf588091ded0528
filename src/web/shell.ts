/**
 * The page shell every page shares: `<base href>` at the app's root (see base-path.ts), so every
 * other URL in the page is relative to it; the navigation built from the route registry's pages;
 * the language switch; light/dark from `prefers-color-scheme` (static/styles.ts). Page data for
 * the page script goes in a JSON block (not executed, so the strict CSP allows it).
 */
import type { WebPage } from "../modules/web-routes.js";
import { escapeHtml, jsonForScript } from "./html.js";
import { t, type Lang } from "./i18n.js";
import { ASSET_VERSION } from "./static/assets.js";

/** What {@link renderPage} needs. */
export interface PageShell {
  lang: Lang;
  /** `<base href>` (baseHref() of base-path.ts). */
  base: string;
  /** The page's own path relative to the root (`accounts`, `login`), for the language switch. */
  path: string;
  title: string;
  /** Navigation entries; the one whose path equals `path` is marked current. */
  nav: readonly WebPage[];
  /** Inner HTML of `<main>` (already escaped by the caller). */
  body: string;
  /** Scripts (relative to the root), loaded as deferred modules. */
  scripts?: readonly string[];
  /** JSON handed to the scripts in `<script type="application/json" id="eb-data">`. */
  data?: unknown;
  /** Shows the standalone "Log out" button. */
  logout?: boolean;
}

/** A whole HTML document. */
export function renderPage(p: PageShell): string {
  const other: Lang = p.lang === "en" ? "fr" : "en";
  const nav = p.nav
    .map((n) => {
      const current = n.path === p.path || (p.path === "" && n.path === "accounts");
      return `<li><a href="${escapeHtml(n.path)}"${current ? ' aria-current="page"' : ""}>${escapeHtml(n.label[p.lang])}</a></li>`;
    })
    .join("");
  const scripts = (p.scripts ?? []).map((s) => `<script type="module" src="${escapeHtml(s)}?v=${ASSET_VERSION}"></script>`).join("");
  const data = p.data === undefined ? "" : `<script type="application/json" id="eb-data">${jsonForScript(p.data)}</script>`;
  const logout = p.logout
    ? `<form method="post" action="logout" class="logout"><button type="submit">${escapeHtml(t(p.lang, "logout"))}</button></form>`
    : "";
  return `<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<base href="${escapeHtml(p.base)}">
<title>${escapeHtml(p.title)} · ${escapeHtml(t(p.lang, "app_name"))}</title>
<link rel="stylesheet" href="static/app.css?v=${ASSET_VERSION}">
<link rel="icon" href="data:,">
${data}${scripts}
</head>
<body>
<header class="top">
<span class="brand">${escapeHtml(t(p.lang, "app_name"))}</span>
<nav aria-label="${escapeHtml(t(p.lang, "nav_label"))}"><ul>${nav}</ul></nav>
<a class="lang" href="${escapeHtml(p.path)}?lang=${other}" hreflang="${other}" lang="${other}">${escapeHtml(t(p.lang, "switch_lang"))}</a>
${logout}
</header>
<main>
<h1>${escapeHtml(p.title)}</h1>
${p.body}
</main>
</body>
</html>
`;
}
