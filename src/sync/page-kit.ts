/**
 * Tiny shared pieces of the two Mirror pages (server and client): language choice, escaping and
 * a page skeleton that follows `prefers-color-scheme`. Pages use relative URLs only (they are
 * served under an ingress prefix).
 */

/** Page language from `?lang=`, the `eb_lang` cookie, then Accept-Language; default English. */
export function pageLang(query: unknown, cookieHeader: string | undefined, acceptLanguage: string | undefined): "en" | "fr" {
  const q = (query as { lang?: unknown } | undefined)?.lang;
  if (q === "fr" || q === "en") return q;
  const c = /(?:^|;\s*)eb_lang=(en|fr)/.exec(cookieHeader ?? "")?.[1];
  if (c === "fr" || c === "en") return c;
  return /^\s*fr\b/i.test(acceptLanguage ?? "") ? "fr" : "en";
}

/** HTML-escapes text. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A whole page: `title`, `body` HTML, and a script run after load (gets `T`, the strings). */
export function pageHtml(lang: "en" | "fr", title: string, body: string, strings: Record<string, string>, script: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>
:root{color-scheme:light dark;--bg:#fff;--fg:#1c1c1c;--mut:#666;--line:#ddd;--acc:#03a9f4}
@media (prefers-color-scheme:dark){:root{--bg:#111;--fg:#eee;--mut:#aaa;--line:#333}}
body{font:15px system-ui,sans-serif;background:var(--bg);color:var(--fg);margin:1rem;max-width:60rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid var(--line);padding:.3rem;text-align:left}
.mut{color:var(--mut)}button{cursor:pointer}code{font-size:1.1em}.ok{color:#2e7d32}.bad{color:#c62828}
</style></head><body><h1>${esc(title)}</h1>${body}
<script>const T=${JSON.stringify(strings).replace(/</g, "\\u003c")};
const api=(p,b)=>fetch(p,b?{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify(b)}:{}).then(r=>r.json());
const esc=s=>String(s).replace(/[&<>"']/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"})[c]);
const when=t=>t?new Date(t).toLocaleString(document.documentElement.lang):"—";
${script}</script></body></html>`;
}
