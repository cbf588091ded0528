/**
 * The dashboard page (fastify plugin): `dashboard` (HTML, en/fr by `?lang=` or Accept-Language),
 * `dashboard/app.js`, `dashboard/app.css`, and uPlot's own dist files served from node_modules
 * (`dashboard/uplot.js`, `dashboard/uplot.css`). Every URL in the page is relative, so it works
 * under the ingress prefix; no inline script or style (a strict CSP allows it).
 *
 * Charting library: uPlot (MIT, ~51 kB minified, Canvas 2D, no dependencies) rather than seed 001's
 * Chart.js (~200 kB minified): it draws tens of thousands of half-hour points without lag, which a
 * three-year load curve needs, and it is actively kept (leeoniya/uPlot).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import { PAGE_SCRIPT } from "./page-script.js";
import { PAGE_STYLE } from "./page-style.js";
import { STRINGS, type Lang } from "./page-i18n.js";

const require = createRequire(import.meta.url);

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page language: `?lang=en|fr`, else the first of Accept-Language, else English. */
export function pageLang(req: FastifyRequest): Lang {
  const q = (req.query as { lang?: string }).lang;
  if (q === "fr" || q === "en") return q;
  const al = String(req.headers["accept-language"] ?? "").toLowerCase();
  return al.startsWith("fr") ? "fr" : "en";
}

/** The HTML document. */
export function dashboardHtml(lang: Lang): string {
  const t = STRINGS[lang];
  const periods = (["day", "week", "month", "year"] as const)
    .map((p, i) => `<button type="button" class="period" data-period="${p}" aria-pressed="${i === 2}">${esc(t.periods[p])}</button>`)
    .join("");
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(t.title)}</title>
<link rel="stylesheet" href="dashboard/uplot.css">
<link rel="stylesheet" href="dashboard/app.css">
<script type="application/json" id="eb-strings">${JSON.stringify(t).replace(/</g, "\\u003c")}</script>
<script src="dashboard/uplot.js" defer></script>
<script src="dashboard/app.js" defer></script>
</head>
<body>
<header>
  <h1>${esc(t.title)}</h1>
  <nav class="no-print"><a href="dashboard?lang=${lang === "en" ? "fr" : "en"}">${lang === "en" ? "Français" : "English"}</a> · <a href="accounts">${esc(t.accounts)}</a></nav>
</header>
<main>
  <div class="toolbar no-print" role="group" aria-label="${esc(t.period)}">${periods}
    <button type="button" id="print">${esc(t.print)}</button>
  </div>
  <section id="progress" aria-labelledby="progress-h"><h2 id="progress-h">${esc(t.backfill)}</h2><div id="progress-list"></div></section>
  <section id="accounts" aria-labelledby="accounts-h"><h2 id="accounts-h">${esc(t.accounts)}</h2><div id="account-list"></div></section>
  <div id="meters"><p class="muted">${esc(t.loading)}</p></div>
</main>
</body>
</html>
`;
}

/** See the file comment. */
export function dashboardPage(): FastifyPluginAsync {
  const uplotJs = readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"));
  const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"));
  return async (app: FastifyInstance) => {
    const asset = (url: string, type: string, body: string | Buffer) =>
      app.get(url, (_req, reply) => reply.header("content-type", type).header("cache-control", "no-cache").send(body));
    app.get("/dashboard", (req, reply) => reply.header("content-type", "text/html; charset=utf-8").send(dashboardHtml(pageLang(req))));
    asset("/dashboard/app.js", "text/javascript; charset=utf-8", PAGE_SCRIPT);
    asset("/dashboard/app.css", "text/css; charset=utf-8", PAGE_STYLE);
    asset("/dashboard/uplot.js", "text/javascript; charset=utf-8", uplotJs);
    asset("/dashboard/uplot.css", "text/css; charset=utf-8", uplotCss);
  };
}
