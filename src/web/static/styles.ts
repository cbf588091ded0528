/** The page's stylesheet (served as static/app.css). Light by default, dark by prefers-color-scheme. */
export const APP_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1c1f24; --muted: #5d6570; --card: #ffffff; --border: #d9dde3;
  --accent: #03a9f4; --accent-fg: #ffffff; --ok: #1b7f3b; --warn: #a15c00; --bad: #b3261e;
  --code-bg: #eef2f6;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111318; --fg: #e4e6ea; --muted: #9aa3ae; --card: #1c1f26; --border: #30353e;
    --accent: #4fc3f7; --accent-fg: #0b1a22; --ok: #6fd08c; --warn: #f0b45a; --bad: #ff8a80;
    --code-bg: #262a33;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--border); }
header.top .brand { font-weight: 600; }
header.top nav ul { display: flex; gap: .8rem; list-style: none; margin: 0; padding: 0; }
header.top a { color: var(--accent); text-decoration: none; }
header.top a[aria-current="page"] { font-weight: 600; text-decoration: underline; }
header.top .lang { margin-left: auto; }
header.top form.logout { margin: 0; }
a { color: var(--accent); }
main { max-width: 52rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 8px; padding: 1rem; margin: 0 0 1rem; }
.card h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
.account { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .4rem 0; border-top: 1px solid var(--border); }
.account:first-of-type { border-top: 0; }
.account .label { font-weight: 500; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .85rem; border: 1px solid currentColor; }
.badge.connected { color: var(--ok); } .badge.expiring { color: var(--warn); }
.badge.revoked, .badge.error { color: var(--bad); } .badge.none { color: var(--muted); }
.detail { flex-basis: 100%; color: var(--muted); font-size: .9rem; }
form.connect { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-top: .6rem; }
form.connect label { display: flex; flex-direction: column; font-size: .9rem; gap: .2rem; }
input { font: inherit; padding: .35rem .5rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); min-width: 14rem; }
button { font: inherit; padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button:disabled { opacity: .6; cursor: progress; }
.flash { padding: .7rem 1rem; border-radius: 8px; margin: 0 0 1rem; border: 1px solid; }
.flash.ok { color: var(--ok); } .flash.bad { color: var(--bad); }
.device .code { font: 600 2rem/1.2 ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .15em; background: var(--code-bg); padding: .4rem .8rem; border-radius: 6px; display: inline-block; margin: .4rem 0; }
.device .countdown { font-variant-numeric: tabular-nums; }
details.card summary { cursor: pointer; font-weight: 500; }
.login form { display: flex; flex-direction: column; gap: .6rem; max-width: 22rem; }
`;
